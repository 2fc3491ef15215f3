"""``deconflict import openair`` and ``export openair`` on both stores, as a user runs them: a file
is filed whole or not at all, every bad record is named, and the conflicts are those of JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.cli.common import open_existing
from deconflict.config import load_config
from deconflict.domain.notice_json import notice_to_json
from deconflict.formats.openair import read_openair

runner = CliRunner()
WINDOW = ["--start", "2030-09-30T00:00Z", "--end", "2030-10-01T00:00Z"]
FIXTURE = Path(__file__).parent.parent / "fixtures" / "formats" / "theater.openair"
GOOD = "AC R\nAN GOOD\nAI G1\nAL SFC\nAH FL100\nV X=35:24:00 N 035:57:00 E\nDC 5\n"
BAD = "AC R\nAN BAD\nAI B1\nAL 500ft AGL\nAH FL100\nV X=35:99:00 N 035:57:00 E\nDC 5\n"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DECONFLICT_DB", "DECONFLICT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DECONFLICT_KEY_FILE", str(tmp_path / "broker.key"))


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def stored_ids(db: str) -> list[str]:
    r = runner.invoke(app, ["export", "openair", "--db", db])
    assert r.exit_code == 0, r.output
    return sorted(line[3:] for line in r.stdout.splitlines() if line.startswith("AI "))


def test_import_files_the_sites_and_export_gives_them_back(db_url: str, tmp_path: Path) -> None:
    r = runner.invoke(
        app,
        ["import", "openair", str(FIXTURE), "--party", "syria-caa", "--site", *WINDOW, "--db", db_url, "--json"],
    )
    # The fixture's OSL-R2 has AA windows of 2015: the broker refuses ended activity, nothing filed.
    assert r.exit_code == 2 and "line 23: time_end:" in r.stderr and "(nothing filed)" in r.stderr
    text = FIXTURE.read_text().replace("2015-09-30", "2030-09-30")
    path = write(tmp_path, "t.txt", text)
    args = ["import", "openair", path, "--party", "syria-caa", "--site", *WINDOW, "--db", db_url, "--json"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [(x["notice"], x["lines"]) for x in rows] == [
        ("syria-caa:OSL-D1", [2]),
        ("syria-caa:OSL-CTR", [15]),
        ("syria-caa:OSL-R2", [23, 23]),
    ]
    assert any("SFC" in s for s in rows[0]["rules_applied"])
    broker = open_existing(load_config(None, db=db_url))
    with broker.store.begin(write=False) as repo:  # logged like any filing, the refused try not at all
        filed = [e.payload["notice"]["id"] for e in repo.events_after(0) if e.type == "notice.filed"]
    assert filed == ["syria-caa:OSL-D1", "syria-caa:OSL-CTR", "syria-caa:OSL-R2"]
    out = tmp_path / "back.openair"
    r = runner.invoke(app, ["export", "openair", "--db", db_url, "--out", str(out)])
    assert r.exit_code == 0, r.output
    again, problems = read_openair(out.read_text(), "syria-caa", "protected-site", None)
    assert problems == []
    first, _ = read_openair(text, "syria-caa", "protected-site", (1_916_956_800.0, 1_917_043_200.0))
    assert [i.notice.id for i in again] == [i.notice.id for i in first]
    for a, b in zip(first, again, strict=True):
        assert len(a.notice.volumes) == len(b.notice.volumes)
        for va, vb in zip(a.notice.volumes, b.notice.volumes, strict=True):
            assert va.shape.kind is vb.shape.kind and len(va.shape.points) == len(vb.shape.points)
            assert (va.time_start, va.time_end) == (vb.time_start, vb.time_end)


def test_a_bad_file_files_nothing_and_names_every_bad_record(db_url: str, tmp_path: Path) -> None:
    assert runner.invoke(app, ["import", "openair", write(tmp_path, "g.txt", GOOD), "--party", "a", *WINDOW,
                               "--db", db_url]).exit_code == 0  # fmt: skip
    bad = write(tmp_path, "b.txt", GOOD.replace("G1", "G2") + BAD)
    r = runner.invoke(app, ["import", "openair", bad, "--party", "a", *WINDOW, "--db", db_url])
    assert r.exit_code == 2
    lines = r.stderr.splitlines()
    assert [line.split("b.txt: ", 1)[1] for line in lines[:3]] == [
        "line 11: AL: '500ft AGL': a height above ground needs terrain data the broker does not have",
        "line 13: V: '35:99:00 N 035:57:00 E': minutes and seconds must be below 60",
        "line 14: DC: no centre: give V X= in this airspace before its arc or circle",
    ]
    assert "3 record(s) cannot be read; nothing filed (--keep-good files the 1 notice(s) that can)" in lines[3]
    assert stored_ids(db_url) == ["G1"]

    r = runner.invoke(
        app, ["import", "openair", str(tmp_path / "b.txt"), "--party", "a", *WINDOW, "--db", db_url, "--keep-good"]
    )
    assert r.exit_code == 0, r.output
    assert "line 11: AL:" in r.stderr and "a:G2 v1" in r.stdout
    assert stored_ids(db_url) == ["G1", "G2"]


def test_options_and_files_that_cannot_be_read_are_exit_2(tmp_path: Path) -> None:
    db = str(tmp_path / "x.sqlite")
    good = write(tmp_path, "g.txt", GOOD)
    cases = [
        (["import", "openair", str(tmp_path / "nope"), "--party", "a", *WINDOW], "nope: no such file"),
        (["import", "openair", good, "--party", "a", "--start", "2030-09-30T00:00Z"], "--start and --end go together"),
        (["import", "openair", good, "--party", "a", "--start", "soon", "--end", "2030-09-30T00:00Z"], "--start:"),
        (["import", "openair", good, "--party", "a", "--start", "2030-09-30T02:00Z", "--end", "2030-09-30T01:00Z"],
         "--end: must be after --start"),
        (["import", "openair", good, "--party", "a"], "line 1: AA: no activation time"),
        (["import", "openair", write(tmp_path, "e.txt", "* nothing\n"), "--party", "a", *WINDOW], "no airspace"),
    ]  # fmt: skip
    for args, words in cases:
        r = runner.invoke(app, [*args, "--db", db])
        assert r.exit_code == 2 and words in r.stderr, (args, r.output)
    assert not (tmp_path / "x.sqlite").exists()  # nothing was even opened


def test_an_imported_file_conflicts_as_the_same_notices_filed_as_json(tmp_path: Path) -> None:
    site = GOOD.replace("AI G1", "AI hospital").replace("DC 5", "DC 2")
    activity = (
        "AC Q\nAN STRIKE BOX\nAI box-1\nAL FL50\nAH FL120\nDP 35:20:00 N 035:50:00 E\nDP 35:30:00 N 035:50:00 E\n"
        "DP 35:30:00 N 036:05:00 E\nDP 35:20:00 N 036:05:00 E\n"
    )
    outs = []
    for way in ("openair", "json"):
        db = str(tmp_path / f"{way}.sqlite")
        for party, text, site_flag in (("un", site, ["--site"]), ("ru-vks", activity, [])):
            if way == "openair":
                args = [
                    "import",
                    "openair",
                    write(tmp_path, f"{party}.txt", text),
                    "--party",
                    party,
                    *WINDOW,
                    *site_flag,
                ]
            else:
                kind = "protected-site" if site_flag else "activity"
                window = (1_916_956_800.0, 1_917_043_200.0)
                notices = [notice_to_json(i.notice) for i in read_openair(text, party, kind, window)[0]]
                args = ["file", write(tmp_path, f"{party}.json", json.dumps(notices))]
            assert runner.invoke(app, [*args, "--db", db]).exit_code in (0, 1)
        r = runner.invoke(app, ["conflicts", "--db", db, "--json"])
        outs.append([(c["a"]["notice"], c["b"]["notice"], c.get("area")) for c in json.loads(r.stdout)])
    assert outs[0] == outs[1] and len(outs[0]) == 1
