"""``deconflict import geozones`` and ``export geozones`` on both stores, as a user runs them: an
ED-269 document is checked against our schema, filed whole as protected sites or not at all, every
fault named by its JSON path, and what is exported imports back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.cli.common import open_existing
from deconflict.config import load_config

runner = CliRunner()
FIXTURE = Path(__file__).parent.parent / "fixtures" / "formats" / "geozones.json"
WINDOW = ["--start", "2035-09-30T00:00Z", "--end", "2035-10-01T00:00Z"]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DECONFLICT_DB", "DECONFLICT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DECONFLICT_KEY_FILE", str(tmp_path / "broker.key"))


def later(tmp_path: Path, text: str) -> str:
    """The golden document moved 20 years on: the command line files at the real time."""
    path = tmp_path / "zones.json"
    path.write_text(text.replace("2015-09-30", "2035-09-30"))
    return str(path)


def sites(db: str) -> dict[str, int]:
    broker = open_existing(load_config(None, db=db))
    with broker.store.begin(write=False) as repo:
        return {str(n.id): len(n.volumes) for n in repo.list_notices(party="sy-gcaa") if n.protected}


def test_zones_file_as_protected_sites_and_export_back(db_url: str, tmp_path: Path) -> None:
    path = later(tmp_path, FIXTURE.read_text())
    r = runner.invoke(app, ["import", "geozones", path, "--party", "sy-gcaa", *WINDOW, "--db", db_url, "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [(x["notice"], x["zone"]) for x in rows] == [
        ("sy-gcaa:OSH001", "features[0]"),
        ("sy-gcaa:OSH002", "features[1]"),
        ("sy-gcaa:OSH003", "features[2]"),
    ]
    assert any("0 AGL" in said for said in rows[0]["rules_applied"])
    assert sites(db_url) == {"sy-gcaa:OSH001": 1, "sy-gcaa:OSH002": 2, "sy-gcaa:OSH003": 1}
    out = tmp_path / "back.json"
    r = runner.invoke(
        app, ["export", "geozones", "--country", "SYR", "--party", "sy-gcaa", "--out", str(out), "--db", db_url]
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert [f["identifier"] for f in doc["features"]] == ["OSH001", "OSH002", "OSH003"]
    assert doc["features"][0]["name"] == "HMEIMIM AIR BASE"
    # imported again under another authority: the same volumes
    r = runner.invoke(app, ["import", "geozones", str(out), "--party", "sy-gcaa-2", "--db", db_url])
    assert r.exit_code == 0, r.output


def test_a_bad_document_files_nothing_and_names_each_fault(db_url: str, tmp_path: Path) -> None:
    doc = json.loads(FIXTURE.read_text())
    doc["features"][0]["country"] = "sy"
    doc["features"][1]["geometry"][0]["uomDimensions"] = "NM"
    r = runner.invoke(
        app, ["import", "geozones", later(tmp_path, json.dumps(doc)), "--party", "sy-gcaa", "--db", db_url]
    )
    assert r.exit_code == 2
    assert "features[0].country:" in r.stderr and "features[1].geometry[0].uomDimensions:" in r.stderr
    assert "nothing filed" in r.stderr
    # a guessed key for the daily periods: refused by name; --keep-good files the other zones
    doc = json.loads(FIXTURE.read_text())
    doc["features"][1]["applicability"][0]["dailyPeriod"] = [{"day": ["MON"], "startTime": "08:00", "endTime": "10:00"}]
    path = later(tmp_path, json.dumps(doc))
    r = runner.invoke(app, ["import", "geozones", path, "--party", "sy-gcaa", *WINDOW, "--db", db_url])
    assert r.exit_code == 2 and "features[1].applicability[0].dailyPeriod: is not a key" in r.stderr
    r = runner.invoke(app, ["import", "geozones", path, "--party", "sy-gcaa", *WINDOW, "--keep-good", "--db", db_url])
    assert r.exit_code == 0, r.output
    assert sorted(sites(db_url)) == ["sy-gcaa:OSH001", "sy-gcaa:OSH003"]


def test_a_refusal_by_the_broker_files_none_and_names_the_zone(db_url: str, tmp_path: Path) -> None:
    # The golden document's own 2015 windows have ended: the broker refuses them, nothing is filed.
    args = ["import", "geozones", str(FIXTURE), "--party", "sy-gcaa", *WINDOW, "--db", db_url]
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    assert "features[0].applicability[0].endDateTime: " in r.stderr and "(nothing filed)" in r.stderr
    assert (
        runner.invoke(app, ["export", "geozones", "--country", "SYR", "--db", db_url]).stdout.count("identifier") == 0
    )


ED318 = FIXTURE.parent / "geozones.ed318.json"


def test_an_ed318_document_files_as_protected_sites_and_exports_back_as_ed269(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "zones.ed318.json"
    path.write_text(ED318.read_text().replace("2015-", "2035-"))
    args = ["import", "geozones", str(path), "--party", "sy-gcaa", *WINDOW, "--db", db_url, "--json"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [(x["notice"], x["zone"]) for x in rows] == [(f"sy-gcaa:OSH00{i + 1}", f"features[{i}]") for i in range(4)]
    assert any("geometry.layer.lower 0 AGL" in said for said in rows[0]["rules_applied"])
    assert sites(db_url) == {"sy-gcaa:OSH001": 1, "sy-gcaa:OSH002": 2, "sy-gcaa:OSH003": 1, "sy-gcaa:OSH004": 4}
    out = tmp_path / "back.json"
    r = runner.invoke(
        app, ["export", "geozones", "--country", "SYR", "--party", "sy-gcaa", "--out", str(out), "--db", db_url]
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert [f["restriction"] for f in doc["features"]] == [
        "PROHIBITED",
        "REQ_AUTHORISATION",
        "PROHIBITED",
        "CONDITIONAL",
    ]
    assert [sum(len(a.get("schedule", [])) for a in f["applicability"]) for f in doc["features"]] == [0, 0, 0, 2]
    r = runner.invoke(app, ["import", "geozones", str(out), "--party", "sy-gcaa-2", "--db", db_url])
    assert r.exit_code == 0, r.output


def test_a_bad_ed318_document_files_nothing_and_a_document_of_neither_shape_is_named(
    db_url: str, tmp_path: Path
) -> None:
    doc = json.loads(ED318.read_text().replace("2015-", "2035-"))
    doc["features"][0]["properties"]["country"] = "sy"
    doc["features"][3]["geometry"]["geometries"][1]["layer"]["uom"] = "NM"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    r = runner.invoke(app, ["import", "geozones", str(path), "--party", "sy-gcaa", *WINDOW, "--db", db_url])
    assert r.exit_code == 2
    assert "features[0].properties.country:" in r.stderr
    assert "features[3].geometry.geometries[1].layer.uom:" in r.stderr and "nothing filed" in r.stderr
    path.write_text('{"zones": []}')
    r = runner.invoke(app, ["import", "geozones", str(path), "--party", "sy-gcaa", "--db", db_url])
    assert r.exit_code == 2 and "document: is neither an ED-269 document" in r.stderr
