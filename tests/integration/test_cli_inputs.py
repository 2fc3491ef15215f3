"""Every command that reads (or writes) a file the user names refuses a directory, a missing file, a
file that is not UTF-8 and a document it cannot parse with one line on stderr naming the file and
the reason, and exit status 2: never a traceback, never exit 1 (which means "conflicts found")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from builders import circle_notice_of
from deconflict.cli import app

runner = CliRunner()

NOT_UTF8 = b'{"id": "\xff\xfe"}\n'


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DECONFLICT_DB", "DECONFLICT_CONFIG", "DECONFLICT_TOKEN", "DECONFLICT_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")


def bad_file(tmp_path: Path, kind: str, suffix: str) -> Path:
    """A path of the given kind: ``directory``, ``missing``, ``not-utf8`` or ``unparsable``."""
    p = tmp_path / f"input-{kind}{suffix}"
    if kind == "directory":
        p.mkdir()
    elif kind == "not-utf8":
        p.write_bytes(NOT_UTF8)
    elif kind == "unparsable":
        p.write_text("{not json\n" if suffix == ".json" else "key = \n")
    return p


REASON = {
    "directory": "is a directory",
    "missing": "no such file",
    "not-utf8": "not UTF-8",
    "unparsable": "not valid",
}


def assert_one_line_error(r: Result, path: Path, reason: str) -> None:
    assert r.exit_code == 2, (r.exit_code, r.output, r.exception)
    assert isinstance(r.exception, SystemExit), r.exception  # handled, not a crash
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert str(path) in lines[0] and reason in lines[0], lines[0]
    assert "Traceback" not in r.output


def notice_file(tmp_path: Path) -> Path:
    p = tmp_path / "good.json"
    p.write_text(json.dumps(circle_notice_of("ru", "a", 34.84, 36.73)))
    return p


def export_file(tmp_path: Path) -> Path:
    p = tmp_path / "export.json"
    p.write_text("{}")
    return p


def store(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path / 'made.sqlite'}"
    assert runner.invoke(app, ["db", "upgrade", "--db", db]).exit_code == 0
    return db


Args = Callable[[Path, Path], list[str]]

READERS: list[tuple[str, str, Args, tuple[str, ...]]] = [
    ("check", ".json", lambda f, t: ["check", str(f)], ("directory", "missing", "not-utf8", "unparsable")),
    (
        "check --config",
        ".toml",
        lambda f, t: ["check", str(notice_file(t)), "--config", str(f)],
        ("directory", "missing", "not-utf8", "unparsable"),
    ),
    (
        "file",
        ".json",
        lambda f, t: ["file", str(f), "--db", str(t / "never.sqlite")],
        ("directory", "missing", "not-utf8", "unparsable"),
    ),
    (
        "audit verify",
        ".json",
        lambda f, t: ["audit", "verify", str(f)],
        ("directory", "missing", "not-utf8", "unparsable"),
    ),
    (
        "audit verify --key",
        ".pub",
        lambda f, t: ["audit", "verify", str(export_file(t)), "--key", str(f)],
        ("directory", "not-utf8"),
    ),
    ("detect", ".csv", lambda f, t: ["detect", str(f)], ("directory", "missing", "not-utf8")),
    (
        "replay",
        ".json",
        lambda f, t: ["replay", str(f), "--party", "ru", "--token", "dcf_ru", "--url", "http://127.0.0.1:9"],
        ("directory", "missing", "not-utf8", "unparsable"),
    ),
    (
        "replay (csv)",
        ".csv",
        lambda f, t: ["replay", str(f), "--party", "ru", "--token", "dcf_ru", "--url", "http://127.0.0.1:9"],
        ("directory", "missing", "not-utf8"),
    ),
    (
        "notices --config",
        ".toml",
        lambda f, t: ["notices", "--config", str(f)],
        ("directory", "missing", "not-utf8", "unparsable"),
    ),
]


@pytest.mark.parametrize(
    ("command", "suffix", "args", "kind"),
    [pytest.param(c, s, a, k, id=f"{c}-{k}") for c, s, a, kinds in READERS for k in kinds],
)
def test_a_file_that_cannot_be_read_is_one_line_and_exit_2(
    tmp_path: Path, command: str, suffix: str, args: Args, kind: str
) -> None:
    path = bad_file(tmp_path, kind, suffix)
    r = runner.invoke(app, args(path, tmp_path))
    # the recording readers word these two their own way: "not (gzipped) UTF-8 JSON", "not JSON"
    replay_reason = {"not-utf8": "UTF-8", "unparsable": "not JSON"}
    assert_one_line_error(
        r, path, replay_reason[kind] if command == "replay" and kind in replay_reason else REASON[kind]
    )
    assert not (tmp_path / "never.sqlite").exists()  # `file` opens the store only once its files are read


def test_a_key_that_is_neither_a_file_nor_a_key_names_both(tmp_path: Path) -> None:
    r = runner.invoke(app, ["audit", "verify", str(export_file(tmp_path)), "--key", "nowhere/broker.pub"])
    assert_one_line_error(r, Path("nowhere/broker.pub"), "no such file")
    assert "--key" in r.stderr


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["report", "--format", "json", "--out", "{dir}"], "{dir}"),
        (["report", "--format", "json", "--out", "{missing}/r.json"], "{missing}/r.json"),
        (["audit", "export", "--out", "{dir}"], "{dir}"),
        (["audit", "export", "--out", "{missing}/log.json"], "{missing}/log.json"),
    ],
)
def test_an_output_file_that_cannot_be_written_is_one_line_and_exit_2(
    tmp_path: Path, args: list[str], where: str
) -> None:
    db = store(tmp_path)
    (tmp_path / "adir").mkdir()
    names = {"dir": str(tmp_path / "adir"), "missing": str(tmp_path / "nofolder")}
    r = runner.invoke(app, [*(a.format(**names) for a in args), "--db", db])
    assert_one_line_error(r, Path(where.format(**names)), "cannot write")


def test_detect_pairs_out_to_a_directory_is_one_line_and_exit_2(tmp_path: Path) -> None:
    states = tmp_path / "s.csv"
    states.write_text("id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps\na,1,1,1000,100,0,0\n")
    r = runner.invoke(app, ["detect", str(states), "--pairs-out", str(tmp_path)])
    assert_one_line_error(r, tmp_path, "is a directory")


@pytest.mark.parametrize("kind", ["directory", "not-a-database"])
def test_a_store_that_is_not_a_sqlite_file_is_one_line_and_exit_2(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "store.sqlite"
    if kind == "directory":
        path.mkdir()
    else:
        path.write_text("these are my notes, not a database\n" * 100)
    for args in (
        ["notices"],
        ["file", str(notice_file(tmp_path))],
        ["party", "add", "ru", "--role", "party"],
        ["db", "upgrade"],
    ):
        r = runner.invoke(app, [*args, "--db", str(path)])
        assert_one_line_error(r, path, "is a directory" if kind == "directory" else "not a SQLite database")


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    """As a user runs it: `deconflict check /tmp` (a directory) is exit 2 and one line."""
    exe = Path(sys.executable).with_name("deconflict")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DECONFLICT_")}
    p = subprocess.run([str(exe), "check", str(tmp_path)], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip() == f"{tmp_path}: is a directory, not a file"
    assert p.stdout == ""


def test_an_unreachable_database_is_one_line_and_exit_2() -> None:
    url = "postgresql+psycopg://broker@127.0.0.1:1/deconflict"  # nothing listens on port 1
    for args in (["notices"], ["party", "add", "ru", "--role", "party"], ["db", "upgrade"]):
        r = runner.invoke(app, [*args, "--db", url])
        assert r.exit_code == 2, (args, r.output, r.exception)
        (line,) = r.stderr.strip().splitlines()
        assert line.startswith(f"store {url}: cannot open it ("), line
