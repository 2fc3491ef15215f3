"""Only the console's build step: everything else is in pyproject.toml."""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_console import ensure_built  # noqa: E402


class BuildPyWithConsole(build_py):
    """Builds console/ into src/deconflict/console_dist/ before the package's files are collected."""

    def run(self) -> None:
        ensure_built()
        super().run()


setup(cmdclass={"build_py": BuildPyWithConsole})
