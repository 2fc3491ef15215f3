"""The commands that use the store, run as a user would, on a SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from builders import circle_notice_of
from deconflict.cli import app
from deconflict.domain.notice_json import notice_to_json

runner = CliRunner()


def test_demo_files_the_theater_and_reports_its_conflicts(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    r = runner.invoke(app, ["demo", "--once", "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["filed"] == 13  # nine notices as JSON, three from the coalition's ACO, one NOTAM
    pairs = {frozenset((c["a"]["notice"], c["b"]["notice"])) for c in out["conflicts"]}
    assert frozenset(("ru-vks:vks-homs-north", "un-humanitarian:site-homs-hospital")) in pairs
    for c in out["conflicts"]:  # each side says whether it is a protected site
        for side in (c["a"], c["b"]):
            assert side["protected_site"] == side["notice"].split(":", 1)[1].startswith("site-")
    assert frozenset(("ru-vks:vks-latamneh", "coalition:coalition-isr-west")) in pairs
    assert all(c["state"] == "open" for c in out["conflicts"])
    # Running it again re-uses what is there: nothing filed twice, the same conflicts.
    again = json.loads(runner.invoke(app, ["demo", "--once", "--db", db, "--json"]).stdout)
    assert again["filed"] == 0 and len(again["conflicts"]) == len(out["conflicts"])


def test_a_store_with_bare_ids_from_an_earlier_version_gets_no_second_copy(tmp_path: Path) -> None:
    """Before ids were kept as party:id, demo and file stored the bare id: filing the same notice
    again must not make a second one under the new form (and a second conflict and thread)."""
    from deconflict.cli.common import open_broker
    from deconflict.config import load_config
    from deconflict.demo.theater import theater_filings

    db = f"sqlite:///{tmp_path / 'old.sqlite'}"
    first = theater_filings()[0]
    broker = open_broker(load_config(None, db=db), clock=lambda: first.filed_at)
    broker.notices.file(first.notice)  # as the earlier version stored it: the bare id
    out = json.loads(runner.invoke(app, ["demo", "--once", "--db", db, "--json"]).stdout)
    assert out["filed"] == len(theater_filings()) - 1
    with broker.store.begin(write=False) as repo:
        assert [n.id for n in repo.list_notices() if first.notice.id in str(n.id)] == [first.notice.id]
    path = tmp_path / "again.json"
    path.write_text(json.dumps({**notice_to_json(first.notice)}))
    r = runner.invoke(app, ["file", str(path), "--db", db])
    assert r.exit_code == 2 and r.stderr.startswith(f"{first.notice.party}:{first.notice.id}: id: ")
    assert "already exists" in r.stderr


def test_demo_table_shows_late_russian_notices(tmp_path: Path) -> None:
    r = runner.invoke(app, ["demo", "--once", "--db", str(tmp_path / "d.sqlite")], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    late = [lines[i - 1] for i, line in enumerate(lines) if "LATE" in line]  # each filing's first line
    assert late and all(line.startswith("filed ru-vks:") for line in late), late
    assert "filed coalition:coalition-raqqa v1 (coalition)\n  lead time 10.0 h, 0 conflict(s)\n" in r.stdout
    assert "un-humanitarian:site-homs-hospital vol 0 (protected site)" in r.stdout


def test_file_then_list_conflicts(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'f.sqlite'}"
    a = tmp_path / "a.json"
    a.write_text(
        json.dumps(circle_notice_of("ru", "a", 34.84, 36.73, start="2030-01-01T07:00:00Z", end="2030-01-01T09:00:00Z"))
    )
    b = tmp_path / "b.json"
    b.write_text(
        json.dumps(circle_notice_of("us", "b", 34.93, 36.73, start="2030-01-01T07:00:00Z", end="2030-01-01T09:00:00Z"))
    )
    assert runner.invoke(app, ["file", str(a), "--db", db]).exit_code == 0
    r = runner.invoke(app, ["file", str(b), "--db", db, "--json"])
    assert r.exit_code == 1
    (filed,) = json.loads(r.stdout)
    assert filed["notice"] == "us:b" and not filed["late"] and len(filed["conflicts"]) == 1
    listed = json.loads(runner.invoke(app, ["conflicts", "--db", db, "--json"]).stdout)
    assert [c["id"] for c in listed] == [filed["conflicts"][0]["id"]]
    # filing the same id again is refused with the field, and nothing is written
    r = runner.invoke(app, ["file", str(b), "--db", db])
    assert r.exit_code == 2 and "id:" in r.stderr
    assert len(json.loads(runner.invoke(app, ["conflicts", "--db", db, "--json"]).stdout)) == 1


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'u.sqlite'}"
    for _ in range(2):
        r = runner.invoke(app, ["db", "upgrade", "--db", db])
        assert r.exit_code == 0 and "schema up to date" in r.stdout


def test_filings_from_the_command_line_are_logged_and_receipted(tmp_path: Path) -> None:
    """`demo` and `file` go through the broker: the event log misses nothing filed on the host."""
    from deconflict.domain.audit import verify_export

    db = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    assert runner.invoke(app, ["demo", "--once", "--db", db]).exit_code == 0
    assert (tmp_path / "deconflict-broker.key").exists()  # the key lives beside its store
    r = runner.invoke(app, ["audit", "export", "--db", db])
    doc = json.loads(r.stdout)
    filed = [e for e in doc["events"] if e["type"] == "notice.filed"]
    assert len(filed) == 13 and {e["actor"] for e in filed} == {"admin"}
    assert len(doc["receipts"]) == 13
    assert len([e for e in doc["events"] if e["type"] == "conflict.created"]) == 3
    assert verify_export(doc).ok
