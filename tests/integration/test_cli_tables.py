"""Every table the command line prints is readable at 80 columns: no id, party name or header word is
cut across lines (a table too wide for the terminal becomes one record per block), and no line is
wider than the terminal. `--json` is unchanged."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from deconflict.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [
    str(ROOT / "examples" / "ru-vks-2015-09-30.json"),
    str(ROOT / "examples" / "coalition-and-sites-2015-09-30.json"),
]
PERIOD = ["--since", "2015-09-29T00:00:00Z", "--until", "2015-10-01T00:00:00Z"]
LONG_NAME = "un-humanitarian-observers"

HEADERS = {
    "conflicts": ("conflict", "min", "dist", "altitude", "(m)", "window", "(UTC)"),
    "notices": ("id", "party", "kind", "version", "state", "received", "starts", "lead", "time"),
    "party list": ("name", "role", "coalition", "status"),
    "disclosure list": ("viewer", "subject", "level"),
}


@pytest.fixture(scope="module")
def theater(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A store with the demo theater, a party with a long name and a disclosure rule; the demo's
    first output at 80 columns."""
    tmp = tmp_path_factory.mktemp("tables")
    db = f"sqlite:///{tmp / 'demo.sqlite'}"
    env = {"COLUMNS": "80", "DECONFLICT_KEY_FILE": str(tmp / "broker.key"), "DECONFLICT_CONFIG": ""}
    first = runner.invoke(app, ["demo", "--once", "--db", db], env=env)
    assert first.exit_code == 0, first.output
    assert runner.invoke(app, ["party", "add", LONG_NAME, "--role", "observer", "--db", db], env=env).exit_code == 0
    assert runner.invoke(app, ["disclosure", "set", LONG_NAME, "ru-vks", "full", "--db", db], env=env).exit_code == 0
    return db, first.stdout


def run(db: str | None, *args: str, columns: int = 80) -> str:
    r = runner.invoke(
        app, [*args, *(["--db", db] if db else [])], env={"COLUMNS": str(columns), "DECONFLICT_CONFIG": ""}
    )
    assert r.exit_code in (0, 1), r.output
    return r.stdout


def names(db: str) -> set[str]:
    """Every notice id and party name in the store, from the JSON output."""
    out = {
        c[side][k]
        for c in json.loads(run(db, "conflicts", "--all", "--json"))
        for side in "ab"
        for k in ("notice", "party")
    }
    out |= {p["name"] for p in json.loads(run(db, "party", "list", "--json"))}
    return out


def assert_readable(text: str, words: set[str] | tuple[str, ...], width: int = 80) -> None:
    lines = text.splitlines()
    assert lines, "nothing printed"
    for line in lines:
        assert cell_len(line) <= width, line
    for w in words:
        assert any(re.search(rf"(?<![\w:-]){re.escape(w)}(?![\w-])", line) for line in lines), f"{w!r} is cut:\n{text}"


def test_demo_at_80_columns(theater: tuple[str, str]) -> None:
    db, first = theater
    assert "LATE" in first
    # the conflicts it found, after the filings (whose lines name the notices too)
    found = first[first.index("open conflict(s)") :]
    shown = {c[s]["notice"] for c in json.loads(run(db, "conflicts", "--json")) for s in "ab"}
    assert_readable(found, shown)


def test_demo_filing_lines_are_not_wrapped_at_80_columns(theater: tuple[str, str]) -> None:
    # Seen: "lead time 39.0" at the end of one line and "h, 0 conflict(s)" at the start of the next.
    _, first = theater
    text = first[first.index("filed ") : first.index("open conflict(s)")]
    filings = text.splitlines()[:-1]  # the last line is the conflicts' title
    assert filings and all(cell_len(line) < 80 for line in filings), "\n".join(filings)
    for line in filings:
        assert line.startswith(("filed ", "  lead time ", "  would clear if ")), line


def test_conflicts_at_80_columns(theater: tuple[str, str]) -> None:
    db, _ = theater
    shown = {c["a"]["notice"] for c in json.loads(run(db, "conflicts", "--json"))}
    assert shown
    assert_readable(run(db, "conflicts"), shown)
    assert_readable(run(db, "conflicts", "--all"), shown)


def test_check_at_80_columns() -> None:
    doc = json.loads(run(None, "check", *EXAMPLES, "--json"))
    assert doc
    words = {c[s][k] for c in doc for s in "ab" for k in ("notice", "party")}
    assert_readable(run(None, "check", *EXAMPLES), words)


def test_notices_at_80_columns(theater: tuple[str, str]) -> None:
    db, _ = theater
    text = run(db, "notices")
    ids = set(re.findall(r"\b[a-z-]+:[A-Za-z0-9-]+\b", text))
    assert len(ids) == 13 and "sy-gcaa:A0291-15" in ids
    assert_readable(text, ids)


def test_report_at_80_columns(theater: tuple[str, str]) -> None:
    db, _ = theater
    doc = json.loads(run(db, "report", *PERIOD, "--format", "json"))
    parties = {p["party"] for p in doc["report"]["parties"]}
    text = run(db, "report", *PERIOD)
    assert_readable(text, parties | {"notices", "conflicts", "acknowledged", "nonconformance", "incursion"})
    assert "no/ti" not in text


@pytest.mark.parametrize("command", ["party list", "disclosure list"])
def test_admin_lists_at_80_columns(theater: tuple[str, str], command: str) -> None:
    db, _ = theater
    text = run(db, *command.split())
    assert_readable(text, {LONG_NAME, "ru-vks", *HEADERS[command]})


@pytest.mark.parametrize("command", ["conflicts", "notices", "party list", "disclosure list"])
def test_tables_on_a_wide_terminal_stay_tables(theater: tuple[str, str], command: str) -> None:
    db, _ = theater
    text = run(db, *command.split(), columns=200)
    header = next(line for line in text.splitlines() if line.startswith("┃"))
    assert all(word in header for word in HEADERS[command]), header
    assert_readable(text, HEADERS[command], width=200)
