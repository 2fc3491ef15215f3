"""``deconflict import aixm`` and ``export aixm`` on both stores, as an authority's operator runs
them: the golden activation file filed as sites, exported and read back, a bad file refused whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.formats.aixm import read_aixm

runner = CliRunner()
FIXTURE = Path(__file__).parent.parent / "fixtures" / "formats" / "activation.aixm.xml"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DECONFLICT_DB", "DECONFLICT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DECONFLICT_KEY_FILE", str(tmp_path / "broker.key"))


def test_import_files_the_activations_and_the_export_reads_back(db_url: str, tmp_path: Path) -> None:
    r = runner.invoke(app, ["import", "aixm", str(FIXTURE), "--party", "syria-caa", "--site", "--db", db_url, "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [(x["notice"], x["lines"]) for x in rows] == [("syria-caa:HMEIMIM-TSA", [39]), ("syria-caa:OSP12", [89])]
    assert any("SFC" in s for s in rows[1]["rules_applied"])
    out = tmp_path / "back.xml"
    r = runner.invoke(app, ["export", "aixm", "--party", "syria-caa", "--db", db_url, "--out", str(out)])
    assert r.exit_code == 0, r.output
    back, problems = read_aixm(out.read_text(), "syria-caa", "protected-site")
    original, _ = read_aixm(FIXTURE.read_text(), "syria-caa", "protected-site")
    assert problems == [] and [b.notice.id for b in back] == ["HMEIMIM-TSA", "OSP12"]
    assert [b.notice.volumes for b in back] == [o.notice.volumes for o in original]
    one = runner.invoke(app, ["export", "aixm", "--notice", "syria-caa:OSP12", "--db", db_url])
    assert one.exit_code == 0 and one.stdout.count("<aixm:Airspace ") == 1 and "OSP12" in one.stdout

    again = runner.invoke(app, ["import", "aixm", str(FIXTURE), "--party", "syria-caa", "--site", "--db", db_url])
    assert again.exit_code == 2 and "line 39: id: " in again.stderr and "(nothing filed)" in again.stderr


def test_a_bad_file_files_nothing_unless_keep_good(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(FIXTURE.read_text().replace("</gml:exterior>", "</gml:exterior><gml:interior/>", 1))
    r = runner.invoke(app, ["import", "aixm", str(path), "--party", "syria-caa", "--db", db_url])
    assert r.exit_code == 2
    first = r.stderr.splitlines()[0]
    assert first.startswith(f"{path}: line ") and "PolygonPatch/interior: a hole is not supported" in first
    assert "nothing filed" in r.stderr
    r = runner.invoke(app, ["import", "aixm", str(path), "--party", "syria-caa", "--db", db_url, "--keep-good"])
    assert r.exit_code == 0, r.output
    assert "syria-caa:OSP12 v1 (syria-caa)" in r.stdout and "rule applied: lowerLimit SFC" in r.stdout


def test_what_has_no_aixm_form_is_refused_naming_the_notice(db_url: str, tmp_path: Path) -> None:
    notice = {
        "party": "raf",
        "id": "orbit-1",
        "volumes": [
            {
                "volume": {
                    "outline_orbit": {
                        "points": [{"lat": 35.0, "lng": 36.0}, {"lat": 35.1, "lng": 36.1}],
                        "width": {"value": 4000, "units": "M"},
                    },
                    "altitude_lower": {"value": 1000, "reference": "AMSL", "units": "M"},
                    "altitude_upper": {"value": 2000, "reference": "AMSL", "units": "M"},
                },
                "time_start": {"value": "2030-09-30T06:00:00Z", "format": "RFC3339"},
                "time_end": {"value": "2030-09-30T08:00:00Z", "format": "RFC3339"},
            }
        ],
    }
    path = tmp_path / "orbit.json"
    path.write_text(json.dumps(notice))
    r = runner.invoke(app, ["file", str(path), "--db", db_url])
    assert r.exit_code in (0, 1), r.output
    r = runner.invoke(app, ["export", "aixm", "--db", db_url])
    assert r.exit_code == 2 and "raf:orbit-1: volumes[0]: orbit: no AIXM surface" in r.stderr
    assert r.stdout == ""
