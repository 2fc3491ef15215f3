"""The demo theater files the coalition's day from its ACO and the civil aviation authority's
site from its NOTAM, through the same readers as ``deconflict import``; a theater of one's own
may do the same with files beside it, and a bad one is refused naming the file's line."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.demo.theater import load_theater_doc, theater_acknowledgements, theater_filings, with_import_texts
from deconflict.domain.errors import ValidationError
from deconflict.domain.notice_json import parse_notice
from deconflict.domain.times import parse_time
from deconflict.formats.aco import DESCRIPTION

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


def test_the_coalition_s_aco_and_the_authority_s_notam_are_filed_at_their_files_times() -> None:
    by_id = {f.notice.id: f for f in theater_filings()}
    raqqa = by_id["coalition-raqqa"]
    assert raqqa.filed_at == parse_time("2015-09-29T18:00:00Z", "t")
    assert raqqa.notice.extra.get(DESCRIPTION) == "COALITION AIR ACTIVITY AROUND RAQQA"  # the ACO's AMPN
    notam = by_id["A0291-15"]
    assert notam.notice.party == "sy-gcaa" and notam.notice.protected
    assert notam.filed_at == parse_time("2015-09-29T12:00:00Z", "t")
    assert by_id["coalition-isr-west"].filed_at == parse_time("2015-09-29T20:00:00Z", "t")  # filed later, as JSON


def test_the_aco_gives_the_notices_the_theater_once_gave_as_json() -> None:
    """The ACO's measures are the same volumes as the theater's JSON of them (kept in examples/)."""
    json_notices = {
        n["id"]: parse_notice(n) for n in json.loads((EXAMPLES / "coalition-and-sites-2015-09-30.json").read_text())
    }
    for f in theater_filings():
        if f.notice.party == "coalition" and f.notice.id != "coalition-isr-west":
            for got, want in zip(f.notice.volumes, json_notices[str(f.notice.id)].volumes, strict=True):
                assert (got.altitude, got.time_start, got.time_end) == (want.altitude, want.time_start, want.time_end)
                assert got.shape.kind is want.shape.kind and got.shape.buffer_m == want.shape.buffer_m
                flat = [c for p in got.shape.points for c in p]
                assert flat == pytest.approx([c for p in want.shape.points for c in p], abs=1e-9)  # DMS to decimal
            assert f.notice.kind == json_notices[str(f.notice.id)].kind


def test_acknowledgements_know_the_owner_of_every_notice_they_name() -> None:
    """The theater names conflicts by the ids the parties chose; the owners of those filed from a
    file come from the file (an ACO's measures are the coalition's)."""
    notices = set().union(*(a.notices for a in theater_acknowledgements()))
    filed = {f"{f.notice.party}:{f.notice.id}" for f in theater_filings()}
    assert notices and notices <= filed


def _theater_beside(tmp_path: Path, aco: str) -> Path:
    doc = copy.deepcopy(load_theater_doc())
    for imp in doc["imports"]:
        text = imp.pop("text")
        (tmp_path / imp["file"]).write_text(aco if imp["format"] == "aco" else text)
    path = tmp_path / "theater.json"
    path.write_text(json.dumps(doc))
    return path


def test_a_theater_of_one_s_own_reads_its_files_beside_it_and_refuses_a_bad_line(tmp_path: Path) -> None:
    aco = load_theater_doc()["imports"][1]["text"]
    path = _theater_beside(tmp_path, aco.replace("EFFLEVEL/FLFL:FL250-FL350", "EFFLEVEL/FLFL:FL350-FL250"))
    r = runner.invoke(app, ["demo", "--theater", str(path), "--port", "0"])
    assert r.exit_code == 2, r.output
    line = 1 + aco.split("\n").index("EFFLEVEL/FLFL:FL250-FL350//")
    assert f"imports[1].file: coalition-2015-09-30.aco: line {line}, set EFFLEVEL" in r.output, r.output


def test_an_import_without_its_file_or_in_an_unknown_format_is_refused_by_name(tmp_path: Path) -> None:
    doc = {
        "filings": [],
        "imports": [{"filed_at": "2015-09-29T18:00:00Z", "format": "aco", "party": "c", "file": "gone.aco"}],
    }
    with pytest.raises(ValidationError, match=r"imports\[0\]\.file: 'gone.aco' cannot be read"):
        with_import_texts(doc, lambda name: (tmp_path / name).read_text())
    doc["imports"][0] |= {"format": "kml", "text": ""}
    with pytest.raises(ValidationError, match=r"imports\[0\]\.format: 'kml': use one of aco, notam"):
        theater_filings(None, doc)
