"""The demo theater answers some of the broker's conflict threads on time, some late and leaves
some unanswered, as parties did, so that ``deconflict report`` over the demo shows every case.

Run as a user would: ``deconflict demo`` into a new SQLite store, then ``deconflict report`` over
the demo period, then the audit export: each acknowledgement is the party's own, logged by the
broker's real acknowledgement services at the broker-clock time the theater names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.demo.theater import theater_acknowledgements
from deconflict.domain.audit import verify_export

runner = CliRunner()
SINCE, UNTIL = "2015-09-29T00:00:00Z", "2015-10-01T00:00:00Z"


def _run(*args: str) -> Any:
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return r


def _report(db: str) -> dict[str, dict[str, Any]]:
    """Each party's row: its conflicts and acknowledgement figures (``acks_on_time`` …)."""
    doc = json.loads(_run("report", "--since", SINCE, "--until", UNTIL, "--format", "json", "--db", db).stdout)
    return {
        row["party"]: {"conflicts": row["conflicts"], **{f"acks_{k}": v for k, v in row["acknowledgements"].items()}}
        for row in doc["report"]["parties"]
    }


def test_the_demo_report_shows_on_time_late_and_missing_acknowledgements(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    _run("demo", "--once", "--db", db)
    rows = _report(db)

    # Every case is there, over the whole theater ...
    totals = {k: sum(r[k] for r in rows.values()) for k in ("acks_on_time", "acks_late", "acks_missing")}
    assert all(v > 0 for v in totals.values()), totals
    assert sum(r["acks_pending"] for r in rows.values()) == 0  # every deadline passed long before until
    # ... and per party, as the theater has them: the Russian side answers one thread on time, one
    # late and not the third; the coalition late; the humanitarian agency one on time, one not.
    got = {p: (r["acks_on_time"], r["acks_late"], r["acks_missing"]) for p, r in rows.items() if r["conflicts"]}
    assert got == {"ru-vks": (1, 1, 1), "coalition": (0, 1, 0), "un-humanitarian": (1, 0, 1)}

    # The acknowledgements are the parties' own, logged at the theater's times, in a log that verifies.
    doc = json.loads(_run("audit", "export", "--db", db).stdout)
    assert verify_export(doc).ok
    acked = [e for e in doc["events"] if e["type"] == "message.acknowledged"]
    planned = theater_acknowledgements()
    assert len(acked) == len(planned)
    assert sorted((e["actor"], float(e["time"])) for e in acked) == sorted((a.party, a.at) for a in planned)
    assert {e["actor"] for e in acked} == {"ru-vks", "coalition", "un-humanitarian"}  # never the operator
    conflict_acks = [e for e in doc["events"] if e["type"] == "conflict.acknowledged"]
    assert conflict_acks and all(e["payload"]["ack"] == "received-and-understood" for e in conflict_acks)
    times = [float(e["time"]) for e in doc["events"]]
    assert times == sorted(times)  # the demo's broker clock never runs backwards

    # Running the demo again changes nothing: the same report, no new event.
    _run("demo", "--once", "--db", db)
    again = json.loads(_run("audit", "export", "--db", db).stdout)
    assert [e["type"] for e in again["events"]][: len(doc["events"])] == [e["type"] for e in doc["events"]]
    new = [e["type"] for e in again["events"][len(doc["events"]) :]]
    assert new == ["report.compliance"] * len(new)  # only the reports read in between
    assert {p: (r["acks_on_time"], r["acks_late"], r["acks_missing"]) for p, r in _report(db).items()} == {
        p: (r["acks_on_time"], r["acks_late"], r["acks_missing"]) for p, r in rows.items()
    }
