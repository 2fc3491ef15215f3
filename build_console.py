"""Builds the operator's console (console/, TypeScript and npm) into src/deconflict/console_dist/.

Run by the package build (setup.py's build_py, so ``pip install .`` and ``pip install -e .`` both
do it) and by the browser tests. It does nothing when the built files are newer than every input;
otherwise it runs ``npm ci`` (when node_modules is missing or older than the lock file) and
``npm run build``. When Node or npm is missing or fails, it raises ConsoleBuildError with npm's
output, so the install fails loudly instead of shipping a page that cannot load.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SOURCE = ROOT / "console"
DIST = ROOT / "src" / "deconflict" / "console_dist"
OUTPUTS = ("index.html", "console.js", "console.css", "countries-50m.json")


class ConsoleBuildError(RuntimeError):
    pass


def _inputs(source: Path) -> list[Path]:
    fixed = [source / n for n in ("package.json", "package-lock.json", "build.mjs", "tsconfig.json")]
    return fixed + sorted(p for d in ("src", "static") for p in (source / d).rglob("*") if p.is_file())


def _newest(paths: list[Path]) -> float:
    return max((p.stat().st_mtime for p in paths if p.exists()), default=0.0)


def is_stale(source: Path = SOURCE, dist: Path = DIST) -> bool:
    outputs = [dist / n for n in OUTPUTS]
    if not all(p.is_file() for p in outputs):
        return True
    return _newest(_inputs(source)) > min(p.stat().st_mtime for p in outputs)


def _npm(args: list[str], source: Path) -> None:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise ConsoleBuildError(
            "building the console needs Node 20 and npm on the PATH (https://nodejs.org): node or npm was not found"
        )
    done = subprocess.run([npm, *args], cwd=source, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ConsoleBuildError(
            f"building the console failed: 'npm {' '.join(args)}' in {source} exited with {done.returncode}:\n"
            f"{done.stdout[-4000:]}{done.stderr[-4000:]}"
        )


def ensure_built(source: Path = SOURCE, dist: Path = DIST) -> bool:
    """Builds the console if its output is missing or older than its inputs; True if it built."""
    if not (source / "package.json").is_file():
        if all((dist / n).is_file() for n in OUTPUTS):
            return False  # an sdist or tree without the sources, but with the built console
        raise ConsoleBuildError(f"the console is neither built ({dist}) nor buildable (no {source / 'package.json'})")
    if not is_stale(source, dist):
        return False
    modules = source / "node_modules"
    if not modules.is_dir() or modules.stat().st_mtime < (source / "package-lock.json").stat().st_mtime:
        _npm(["ci", "--no-audit", "--no-fund", "--loglevel=error"], source)
        modules.touch()
    _npm(["run", "--silent", "build"], source)
    return True


if __name__ == "__main__":
    print("built" if ensure_built() else "up to date")
