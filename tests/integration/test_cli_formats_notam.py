"""``deconflict import notam`` and ``export notam`` on both stores, as an authority's operator runs
them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.formats.notam import read_notams

runner = CliRunner()
FIXTURE = Path(__file__).parent.parent / "fixtures" / "formats" / "authority.notam"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DECONFLICT_DB", "DECONFLICT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DECONFLICT_KEY_FILE", str(tmp_path / "broker.key"))


def test_import_files_the_authoritys_sites_and_a_draft_reads_back(db_url: str, tmp_path: Path) -> None:
    r = runner.invoke(
        app, ["import", "notam", str(FIXTURE), "--party", "syria-caa", "--site", "--db", db_url, "--json"]
    )
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [(x["notice"], x["lines"]) for x in rows] == [
        ("syria-caa:A0412-30", [1]),
        ("syria-caa:A0413-30", [7]),
        ("syria-caa:A0414-30", [17]),
    ]
    out = tmp_path / "drafts.txt"
    r = runner.invoke(
        app,
        ["export", "notam", "--fir", "OSTT", "--notice", "syria-caa:A0413-30", "--db", db_url, "--out", str(out)],
    )
    assert r.exit_code == 0, r.output
    draft = out.read_text()
    assert draft.startswith("(NOTAMN\nQ) OSTT/QRPCA/IV/BO/W/000/") and "HOSPITAL" not in draft
    back, problems = read_notams(draft.replace("(NOTAMN", "(A0001/30 NOTAMN"), "x", "activity")
    assert problems == [] and len(back) == 1

    again = runner.invoke(app, ["import", "notam", str(FIXTURE), "--party", "syria-caa", "--site", "--db", db_url])
    assert again.exit_code == 2 and "line 1: id: " in again.stderr and "(nothing filed)" in again.stderr


def test_a_bad_notam_files_nothing_unless_keep_good(db_url: str, tmp_path: Path) -> None:
    text = FIXTURE.read_text().replace("C) 3009301800", "C) PERM")
    path = tmp_path / "bad.notam"
    path.write_text(text)
    r = runner.invoke(app, ["import", "notam", str(path), "--party", "syria-caa", "--db", db_url])
    assert r.exit_code == 2
    assert r.stderr.splitlines()[0] == f"{path}: line 3: C): PERM has no end: give the date the activity ends"
    r = runner.invoke(app, ["import", "notam", str(path), "--party", "syria-caa", "--db", db_url, "--keep-good"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["export", "notam", "--fir", "OSTT", "--db", db_url])
    assert r.exit_code == 0 and r.stdout.count("(NOTAMN") == 2


def test_export_options_are_checked(tmp_path: Path) -> None:
    db = str(tmp_path / "x.sqlite")
    assert runner.invoke(app, ["import", "notam", str(FIXTURE), "--party", "p", "--db", db]).exit_code == 0
    r = runner.invoke(app, ["export", "notam", "--fir", "ostt", "--db", db])
    assert r.exit_code == 2 and "--fir ostt: must be 4 capital letters" in r.stderr
    r = runner.invoke(app, ["export", "notam", "--fir", "OSTT", "--notice", "p:nope", "--db", db])
    assert r.exit_code == 2 and "--notice p:nope: no live notice" in r.stderr


def test_a_notamr_updates_and_a_notamc_ends_the_notice_of_the_notam_they_name(db_url: str, tmp_path: Path) -> None:
    site = ["--party", "syria-caa", "--site", "--db", db_url]
    assert runner.invoke(app, ["import", "notam", str(FIXTURE), *site]).exit_code == 0
    changes = tmp_path / "changes.notam"
    changes.write_text(
        "(A0420/30 NOTAMR A0412/30\nQ) OSTT/QRTCA/IV/BO/W/000/150/3524N03557E008\n"
        "A) OSTT B) 3009300600 C) 3009301800\nE) AREA WIDENED.)\n"
        "(A0421/30 NOTAMC A0413/30\nQ) OSTT/QRPCA/IV/BO/W/000/050/3444N03643E003\nA) OSTT B) 3009300500\nE) CNL.)\n"
    )
    r = runner.invoke(app, ["import", "notam", str(changes), *site])
    assert r.exit_code == 2 and "must be registered" in r.stderr, r.output  # changes are made as the party
    assert runner.invoke(app, ["party", "add", "syria-caa", "--role", "authority", "--db", db_url]).exit_code == 0
    r = runner.invoke(app, ["import", "notam", str(changes), *site, "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [(x["notice"], x["version"], x["change"], x["line"]) for x in rows] == [
        ("syria-caa:A0412-30", 2, "updated", 1),
        ("syria-caa:A0413-30", 2, "ended", 5),
    ]
    # a change naming a NOTAM never imported: named, and nothing of the file is applied
    bad = tmp_path / "bad.notam"
    bad.write_text(changes.read_text().replace("NOTAMR A0412/30", "NOTAMR A0999/30").replace("A0413/30", "A0414/30"))
    r = runner.invoke(app, ["import", "notam", str(bad), *site])
    assert r.exit_code == 2
    assert f"{bad}: line 1: header: A0999/30 was never imported" in r.stderr and "(nothing filed)" in r.stderr
    r = runner.invoke(app, ["export", "notam", "--fir", "OSTT", "--party", "syria-caa", "--db", db_url])
    assert r.stdout.count("NOTAMN") == 2, "A0413 ended; A0412 (updated) and A0414 still live"
