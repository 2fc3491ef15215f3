"""The layers of docs/architecture.md, held by reading every import in ``src/``.

The domain core imports nothing of the layers above it; the services only the domain, the pure
format readers and writers, and each other (the store, the web and the clock reach them through
``services/ports.py``); nothing below the edges imports the API or the command line; and no web,
SQL or terminal library is imported by the domain or the services. Imports inside functions count
too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "deconflict"

EDGE_LIBRARIES = frozenset(
    {"alembic", "fastapi", "httpx", "psycopg", "pydantic", "rich", "sqlalchemy", "starlette", "typer", "uvicorn"}
)
"""Libraries of the edges (web, SQL, terminal): the domain and the services import none of them."""


def layer_of(module: str) -> str:
    """The layer a ``deconflict.…`` module belongs to: its package under ``deconflict`` (``domain``,
    ``services``, ``adapters``, ``api``, ``feeding``, ``formats``, ``demo``), ``cli`` for the command
    line (``cli*.py`` and the party's client ``client*.py``), else its own name (``bootstrap``,
    ``config``, ``render``, ``report_html``).

    >>> layer_of("deconflict.services.ports"), layer_of("deconflict.cli.client_feed")
    ('services', 'cli')
    """
    parts = module.split(".")
    if len(parts) < 2:
        return "package"
    top = parts[1]
    return "cli" if top == "__main__" else top


ALLOWED: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "services": frozenset({"domain", "formats"}),  # formats are pure readers and writers over the domain
    "adapters": frozenset({"domain", "services"}),  # they implement the ports
    "formats": frozenset({"domain"}),
    "clients": frozenset({"domain", "adapters"}),
    "demo": frozenset({"domain", "services", "formats"}),  # a theater may hold an ACO and NOTAMs
}
"""For each inner layer, the other layers it may import (its own is always allowed). The edges
(``api``, ``cli``) and the composition (``bootstrap``, ``config``) may import anything below them;
``FORBIDDEN_EVERYWHERE_BUT_EDGES`` keeps the edges out of everything else."""

EDGES = frozenset({"api", "cli"})
EDGE_USERS = frozenset({"api", "cli", "package"})
"""Only these import the API or the command line (the CLI serves the API; ``deconflict`` the CLI)."""


def imports(path: Path) -> list[tuple[int, str]]:
    """Every absolute import in ``path``: (line, module); ``from deconflict import cli`` gives
    ``deconflict.cli`` (the package's modules are named in the import list)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == "deconflict" and node.level == 0:
            out += [(node.lineno, f"deconflict.{a.name}") for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return out


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(["deconflict", *parts])


def violations() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        here = layer_of(module_name(path))
        for line, target in imports(path):
            where = f"{path.relative_to(SRC.parent)}:{line} imports {target}"
            if not target.startswith("deconflict."):
                if here in ("domain", "services") and target.split(".")[0] in EDGE_LIBRARIES:
                    found.append(f"{where}: the {here} layer uses no web, SQL or terminal library")
                continue
            there = layer_of(target)
            if there in ("package", here) or target == "deconflict.__version__":
                continue
            if here in ALLOWED and there not in ALLOWED[here]:
                found.append(f"{where}: {here} may import only {sorted(ALLOWED[here]) or 'itself'}")
            elif there in EDGES and here not in EDGE_USERS:
                found.append(f"{where}: only the edges import the {there} layer")
    return found


def test_every_import_keeps_to_the_layers() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("module", "source", "reason"),
    [
        ("domain/x.py", "from deconflict.services.ports import Clock\n", "domain may import only itself"),
        ("domain/x.py", "import sqlalchemy\n", "uses no web, SQL or terminal library"),
        (
            "services/x.py",
            "from deconflict.adapters.sql import store\n",
            "services may import only ['domain', 'formats']",
        ),
        ("services/x.py", "def f():\n    from fastapi import Request\n", "uses no web, SQL or terminal library"),
        ("adapters/x.py", "from deconflict.api.errors import problem\n", "adapters may import only"),
        ("formats/x.py", "from deconflict.cli import common\n", "formats may import only ['domain']"),
        ("clients/x.py", "from deconflict.cli.render import row_json\n", "clients may import only"),
        ("report_html.py", "from deconflict.cli import main\n", "only the edges import the cli layer"),
    ],
)
def test_the_check_finds_a_broken_rule(
    module: str, source: str, reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check itself: a module that breaks each rule is named, with the rule."""
    fake = tmp_path / "deconflict"
    (fake / module).parent.mkdir(parents=True, exist_ok=True)
    (fake / module).write_text(source, encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.SRC", fake)
    found = violations()
    assert len(found) == 1 and reason in found[0], found
