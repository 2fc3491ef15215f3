"""``deconflict import aco`` and ``export aco`` as a user runs them, on SQLite and PostgreSQL:
importing is filing (same conflicts, log events and receipts as the JSON), a bad message files
nothing, and what is exported imports back."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.cli.common import open_existing
from deconflict.config import load_config
from deconflict.domain.volumes import Notice

runner = CliRunner()
EXAMPLES = Path(__file__).parents[2] / "examples"


def _later(text: str) -> str:
    """The theater's day moved 20 years on: the command line files at the real time, and a
    notice that has ended is refused."""
    return text.replace("SEP2015", "SEP2035").replace("2015-09-30", "2035-09-30").replace("2015-10-01", "2035-10-01")


def _theater(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(the coalition's ACO, everyone else's notices, the whole theater as JSON), moved on."""
    aco = tmp_path / "coalition.aco"
    aco.write_text(_later((EXAMPLES / "coalition-2015-09-30.aco").read_text()))
    doc = json.loads(_later((EXAMPLES / "coalition-and-sites-2015-09-30.json").read_text()))
    doc += json.loads(_later((EXAMPLES / "ru-vks-2015-09-30.json").read_text()))
    others, whole = tmp_path / "others.json", tmp_path / "whole.json"
    others.write_text(json.dumps([n for n in doc if n["party"] != "coalition"]))
    whole.write_text(json.dumps(doc))
    return aco, others, whole


def _pairs(db: str) -> set[frozenset[str]]:
    r = runner.invoke(app, ["conflicts", "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    return {frozenset((c["a"]["notice"], c["b"]["notice"])) for c in json.loads(r.stdout)}


def _stored(db: str, party: str = "coalition") -> dict[str, Notice]:
    broker = open_existing(load_config(None, db=db))
    with broker.store.begin(write=False) as repo:
        return {str(n.id): n for n in repo.list_notices(party=party)}


def test_the_coalition_aco_files_like_its_json_with_the_same_conflicts(db_url: str, tmp_path: Path) -> None:
    aco, others, whole = _theater(tmp_path)
    assert runner.invoke(app, ["file", str(others), "--db", db_url]).exit_code in (0, 1)
    r = runner.invoke(app, ["import", "aco", str(aco), "--party", "coalition", "--db", db_url, "--json"])
    assert r.exit_code == 1, r.output  # conflicts found
    out = json.loads(r.stdout)
    assert [f["notice"] for f in out["filed"]] == [
        "coalition:coalition-raqqa",
        "coalition:coalition-deir-ez-zor",
        "coalition:coalition-transit-north",
        "coalition:coalition-isr-west",
    ]
    assert out["skipped"] == []
    from_json = f"sqlite:///{tmp_path / 'json.sqlite'}"
    assert runner.invoke(app, ["file", str(whole), "--db", from_json]).exit_code == 1
    pairs = _pairs(db_url)
    assert frozenset(("ru-vks:vks-latamneh", "coalition:coalition-isr-west")) in pairs
    assert pairs == _pairs(from_json)
    stored = _stored(db_url)
    broker = open_existing(load_config(None, db=db_url))
    with broker.store.begin(write=False) as repo:
        filed = [e for e in repo.events_after(0, 1000) if e.type == "notice.filed"]
        receipts = {x.notice_id for x in repo.receipts("coalition")}
    assert {e.payload["notice"]["id"] for e in filed} >= set(stored)
    assert receipts == set(stored)
    isr = stored["coalition:coalition-isr-west"]
    assert isr.extra["description"].startswith("ISR ORBIT WEST OF HAMA")


def test_a_bad_message_files_nothing_and_names_each_problem(db_url: str, tmp_path: Path) -> None:
    aco, others, _ = _theater(tmp_path)
    runner.invoke(app, ["file", str(others), "--db", db_url])
    bad = tmp_path / "bad.aco"
    text = aco.read_text().replace("RADIUS:30KM", "RADIUS:30").replace("FL220-FL280", "FL280-FL220")
    bad.write_text(text)
    r = runner.invoke(app, ["import", "aco", str(bad), "--party", "coalition", "--db", db_url])
    assert r.exit_code == 2
    assert f"{bad}: line 9, set CIRCLE, field 2 (RADIUS): '30' is not a distance" in r.stderr
    assert f"{bad}: line 22, set EFFLEVEL, field 1 (FLFL):" in r.stderr
    assert "2 problem(s); nothing filed" in r.stderr
    assert _stored(db_url) == {}
    r = runner.invoke(app, ["import", "aco", str(bad), "--party", "coalition", "--db", db_url, "--keep-good"])
    assert r.exit_code in (0, 1), r.output
    assert set(_stored(db_url)) == {"coalition:coalition-deir-ez-zor", "coalition:coalition-transit-north"}
    again = runner.invoke(app, ["import", "aco", str(aco), "--party", "coalition", "--db", db_url])
    assert again.exit_code == 2 and "already filed: coalition-deir-ez-zor, coalition-transit-north" in again.stderr
    assert len(_stored(db_url)) == 2


def test_a_message_without_a_sound_header_is_refused_even_with_keep_good(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.sqlite'}"
    bad = tmp_path / "ed50.aco"
    aco = _theater(tmp_path)[0]
    bad.write_text(aco.read_text().replace("GEODATUM/WGE", "GEODATUM/EUR"))
    r = runner.invoke(app, ["import", "aco", str(bad), "--party", "coalition", "--db", db, "--keep-good"])
    assert r.exit_code == 2 and "line 4, set GEODATUM, field 1: 'EUR' is not WGS84" in r.stderr
    assert "the header is wrong" in r.stderr
    check = runner.invoke(app, ["import", "aco", str(aco), "--party", "coalition", "--db", db, "--check"])
    assert check.exit_code == 0 and "4 of 4 measure(s) read; nothing filed" in check.stdout
    assert not (tmp_path / "x.sqlite").exists()


def test_what_is_exported_imports_back_as_the_same_notices(db_url: str, tmp_path: Path) -> None:
    runner.invoke(app, ["import", "aco", str(_theater(tmp_path)[0]), "--party", "coalition", "--db", db_url])
    out = tmp_path / "out.aco"
    r = runner.invoke(app, ["export", "aco", "--party", "coalition", "--db", db_url, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_text().startswith("OPER/DECONFLICT//\nMSGID/ACO/coalition//")
    other = f"sqlite:///{tmp_path / 'back.sqlite'}"
    r = runner.invoke(app, ["import", "aco", str(out), "--party", "coalition", "--db", other])
    assert r.exit_code in (0, 1), r.output
    first, back = _stored(db_url), _stored(other)
    assert set(first) == set(back)
    for nid, n in first.items():
        assert back[nid].volumes == n.volumes
        assert back[nid].kind == n.kind and back[nid].extra == n.extra


def test_a_notice_an_aco_cannot_carry_is_named(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'w84.sqlite'}"
    notice = {
        "party": "coalition",
        "id": "w84",
        "volumes": [
            {
                "volume": {
                    "outline_circle": {"center": {"lat": 35.9, "lng": 39.0}, "radius": {"value": 5, "units": "KM"}},
                    "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
                    "altitude_upper": {"value": 3000, "reference": "W84", "units": "M"},
                },
                "time_start": "2035-09-30T06:00:00Z",
                "time_end": "2035-09-30T08:00:00Z",
            }
        ],
    }
    path = tmp_path / "w84.json"
    path.write_text(json.dumps(notice))
    runner.invoke(app, ["file", str(path), "--db", db])
    r = runner.invoke(app, ["export", "aco", "--party", "coalition", "--db", db])
    assert r.exit_code == 2 and "notice 'coalition:w84': its band is W84" in r.stderr
    r = runner.invoke(app, ["export", "aco", "--party", "nobody", "--db", db])
    assert r.exit_code == 2 and "--party nobody: no live notices" in r.stderr


def test_a_conflict_resolution_is_drafted_as_an_acmreq(db_url: str, tmp_path: Path) -> None:
    aco, others, _ = _theater(tmp_path)
    runner.invoke(app, ["file", str(others), "--db", db_url])
    runner.invoke(app, ["import", "aco", str(aco), "--party", "coalition", "--db", db_url])
    r = runner.invoke(app, ["conflicts", "--db", db_url, "--json"])
    isr = "coalition:coalition-isr-west"
    conflict = next(c for c in json.loads(r.stdout) if isr in (c["a"]["notice"], c["b"]["notice"]))
    draft = runner.invoke(app, ["export", "acmreq", conflict["id"], "--party", "coalition", "--db", db_url])
    assert draft.exit_code == 0, draft.output
    assert draft.stdout.startswith("OPER/DECONFLICT//\nMSGID/ACMREQ/coalition//")
    assert "ACMID/ACM:ROZ/NAME:coalition-isr-west/AORBIT/USE:RECONNAISSANCE//" in draft.stdout
    assert f"TO CLEAR DECONFLICT CONFLICT {conflict['id']}" in draft.stdout
    site = next(
        c for c in json.loads(r.stdout) if "un-humanitarian:site-homs-hospital" in (c["a"]["notice"], c["b"]["notice"])
    )
    for args, says in (
        ([site["id"], "--party", "un-humanitarian"], "is a protected site, which does not move"),
        (["nope", "--party", "coalition"], "conflict 'nope': no such conflict"),
        ([conflict["id"], "--party", "sy-gcaa"], f"--party sy-gcaa: not a side of conflict {conflict['id']}"),
        ([conflict["id"], "--party", "coalition", "--shift", "sideways"], "use one of later, earlier, up, down"),
    ):
        r = runner.invoke(app, ["export", "acmreq", *args, "--db", db_url])
        assert r.exit_code == 2 and says in r.stderr, r.output


def test_a_message_with_no_measure_read_whole_files_nothing_even_with_keep_good(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'none.sqlite'}"
    bad = tmp_path / "none.aco"
    bad.write_text(_theater(tmp_path)[0].read_text().replace("EFFLEVEL/FLFL:FL", "EFFLEVEL/FLFL:XX"))
    r = runner.invoke(app, ["import", "aco", str(bad), "--party", "coalition", "--db", db, "--keep-good"])
    assert r.exit_code == 2 and "no measure read whole; nothing filed" in r.stderr
    assert r.stderr.count("set EFFLEVEL, field 1 (FLFL): the lower bound 'XX200' is not a flight level") == 2
    assert not (tmp_path / "none.sqlite").exists()


def test_a_measure_the_broker_refuses_late_in_the_message_leaves_nothing_filed(db_url: str, tmp_path: Path) -> None:
    aco, _, _ = _theater(tmp_path)
    text = aco.read_text().replace(
        "APERIOD/DISCRETE/300600ZSEP2035/301200ZSEP2035//", "APERIOD/DISCRETE/300600ZSEP2015/301200ZSEP2015//"
    )
    assert "300600ZSEP2015" in text  # the last measure, coalition-isr-west, has ended: the broker refuses it
    aco.write_text(text)
    r = runner.invoke(app, ["import", "aco", str(aco), "--party", "coalition", "--db", db_url])
    assert r.exit_code == 2, r.output
    assert "measure coalition-isr-west" in r.output and "nothing filed" in r.output, r.output
    assert _stored(db_url) == {}  # the three measures before it were not filed either


RECURRING = """OPER/INHERENT RESOLVE//
MSGID/ACO/CAOC//
ACOID/SYRIA/01A//
GEODATUM/WGE//
ACMID/ACM:ROZ/NAME:TRAINING-NORTH/CIRCLE/USE:TRAINING//
CIRCLE/LATM:3557N03901E/RADIUS:10NM//
EFFLEVEL/FLFL:FL100-FL200//
APERIOD/INTERVAL/010800ZOCT2035/UFN/WKDAY/8HR//
"""
"""Weekdays 0800Z-1600Z from Monday 1 October 2035 until further notice."""


def _other(tmp_path: Path, name: str, start: str, end: str) -> Path:
    doc = {
        "party": "ru-vks",
        "id": name,
        "volumes": [
            {
                "volume": {
                    "outline_circle": {"center": {"lat": 35.95, "lng": 39.0}, "radius": {"value": 5, "units": "KM"}},
                    "altitude_lower": {"value": 150, "units": "FL"},
                    "altitude_upper": {"value": 160, "units": "FL"},
                },
                "time_start": start,
                "time_end": end,
            }
        ],
    }
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc))
    return path


def test_a_recurring_measure_conflicts_only_with_what_meets_its_occurrences(db_url: str, tmp_path: Path) -> None:
    """A weekday schedule until further notice is one stored volume: a Saturday sortie under it is
    clear, a Tuesday-evening one five minutes after its window conflicts (the slice names that
    occurrence), and the export writes the schedule back."""
    aco = tmp_path / "recurring.aco"
    aco.write_text(RECURRING)
    r = runner.invoke(app, ["import", "aco", str(aco), "--party", "coalition", "--db", db_url, "--json"])
    assert r.exit_code == 0, r.output
    (v,) = _stored(db_url)["coalition:TRAINING-NORTH"].volumes
    assert v.schedule is not None and v.time_end - v.time_start == 31 * 86400
    saturday = _other(tmp_path, "saturday", "2035-10-06T08:00:00Z", "2035-10-06T16:00:00Z")
    assert runner.invoke(app, ["file", str(saturday), "--db", db_url]).exit_code == 0
    assert _pairs(db_url) == set()
    tuesday = _other(tmp_path, "tuesday", "2035-10-02T16:05:00Z", "2035-10-02T18:00:00Z")
    assert runner.invoke(app, ["file", str(tuesday), "--db", db_url]).exit_code == 1
    assert _pairs(db_url) == {frozenset(("coalition:TRAINING-NORTH", "ru-vks:tuesday"))}
    r = runner.invoke(app, ["conflicts", "--db", db_url, "--json"])
    (c,) = json.loads(r.stdout)
    # the first occurrence within the minimum: Tuesday's, which ends at 16:00, five minutes before
    assert c["time_gap_s"] == 300
    assert c["time_window"] == {"start": "2035-10-02T16:02:30Z", "end": "2035-10-02T16:02:30Z"}
    out = tmp_path / "out.aco"
    r = runner.invoke(app, ["export", "aco", "--party", "coalition", "--db", db_url, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "APERIOD/INTERVAL/010800ZOCT2035/" in out.read_text() and "/MON,TUE,WED,THU,FRI/8HR//" in out.read_text()
    other = f"sqlite:///{tmp_path / 'back.sqlite'}"
    assert runner.invoke(app, ["import", "aco", str(out), "--party", "coalition", "--db", other]).exit_code == 0
    assert _stored(other)["coalition:TRAINING-NORTH"].volumes == (v,)
