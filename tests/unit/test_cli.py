"""`deconflict check`: exit status, table, JSON, and clear errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from builders import circle_notice_of
from deconflict.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def write(tmp_path: Path, name: str, doc: Any) -> str:
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return str(p)


def test_conflicts_give_exit_1_and_a_json_list_naming_both_sides(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", circle_notice_of("ru", "a", 34.84, 36.73))
    b = write(tmp_path, "b.json", [circle_notice_of("us", "b", 34.93, 36.73), circle_notice_of("us", "c", 40.0, 30.0)])
    r = runner.invoke(app, ["check", a, b, "--json"])
    assert r.exit_code == 1, r.output
    (item,) = json.loads(r.stdout)
    assert {item["a"]["notice"], item["b"]["notice"]} == {"ru:a", "us:b"}  # the broker's one form: party:id
    assert {item["a"]["party"], item["b"]["party"]} == {"ru", "us"}
    assert item["min_distance_m"] == 0.0
    assert item["overlap"]["type"] == "Polygon"
    assert item["altitude"]["lower_m"] < item["altitude"]["upper_m"]
    assert item["time_window"]["start"] < item["time_window"]["end"]


def test_no_conflicts_exit_0_and_table(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", circle_notice_of("ru", "a", 34.84, 36.73))
    b = write(tmp_path, "b.json", circle_notice_of("us", "b", 36.0, 36.73))
    r = runner.invoke(app, ["check", a, b])
    assert r.exit_code == 0, r.output
    assert "0 conflict(s) among 2 notice(s)" in r.stdout


def test_policy_options_change_the_outcome(tmp_path: Path) -> None:
    # circles 20 km apart centre to centre, 5 km radii: 10 km gap
    a = write(tmp_path, "a.json", circle_notice_of("ru", "a", 34.84, 36.73))
    b = write(tmp_path, "b.json", circle_notice_of("us", "b", 34.84 + 20000 / 110940, 36.73))
    assert runner.invoke(app, ["check", a, b]).exit_code == 0
    assert runner.invoke(app, ["check", a, b, "--horizontal-m", "11000"]).exit_code == 1
    far_in_time = write(
        tmp_path,
        "c.json",
        circle_notice_of("us", "c", 34.84, 36.73, start="2015-09-30T09:10:00Z", end="2015-09-30T10:00:00Z"),
    )
    assert runner.invoke(app, ["check", a, far_in_time]).exit_code == 0
    assert runner.invoke(app, ["check", a, far_in_time, "--time-s", "600"]).exit_code == 1


def test_bad_input_exit_2_with_file_field_and_reason(tmp_path: Path) -> None:
    bad = circle_notice_of("ru", "a", 34.84, 36.73)
    bad["volumes"][0]["time_end"] = bad["volumes"][0]["time_start"]
    p = write(tmp_path, "bad.json", bad)
    r = runner.invoke(app, ["check", p])
    assert r.exit_code == 2
    assert "bad.json: volumes[0].time_end: must be after time_start" in r.stderr
    assert r.stdout == ""


def test_a_misspelt_unit_is_exit_2_not_a_miss_in_metres(tmp_path: Path) -> None:
    # Seen on main: "unit" (not "units") read the radius as 10 m and reported a real conflict as a miss.
    a = circle_notice_of("ru", "a", 34.84, 36.73)
    b = circle_notice_of("us", "b", 34.84, 36.90)
    b["volumes"][0]["volume"]["outline_circle"]["radius"] = {"value": 10, "unit": "NM"}
    r = runner.invoke(app, ["check", write(tmp_path, "a.json", a), write(tmp_path, "b.json", b)])
    assert r.exit_code == 2
    where = "b.json: volumes[0].volume.outline_circle.radius.unit"
    assert r.stderr.endswith(f'{where}: unknown key; did you mean "units"?\n')
    assert r.stderr.count("\n") == 1
    assert r.stdout == ""


def test_missing_file_and_broken_json_exit_2(tmp_path: Path) -> None:
    r = runner.invoke(app, ["check", str(tmp_path / "nope.json")])
    assert r.exit_code == 2 and "no such file" in r.stderr
    p = tmp_path / "broken.json"
    p.write_text("{not json")
    r = runner.invoke(app, ["check", str(p)])
    assert r.exit_code == 2 and "not valid JSON" in r.stderr


def test_negative_policy_option_is_refused(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", circle_notice_of("ru", "a", 34.84, 36.73))
    r = runner.invoke(app, ["check", a, "--vertical-m", "-5"])
    assert r.exit_code == 2 and "vertical-m" in r.stderr


def test_examples_shipped_in_the_repo_conflict(tmp_path: Path) -> None:
    ex = ROOT / "examples"
    r = runner.invoke(
        app, ["check", str(ex / "ru-vks-2015-09-30.json"), str(ex / "coalition-and-sites-2015-09-30.json"), "--json"]
    )
    assert r.exit_code == 1
    pairs = {frozenset((i["a"]["notice"], i["b"]["notice"])) for i in json.loads(r.stdout)}
    assert frozenset(("ru-vks:vks-homs-north", "un-humanitarian:site-homs-hospital")) in pairs
    assert frozenset(("ru-vks:vks-latamneh", "coalition:coalition-isr-west")) in pairs
    r = runner.invoke(app, ["check", str(ex / "homs.geojson"), "--json"])
    assert r.exit_code == 1
    (item,) = json.loads(r.stdout)
    assert item["a"]["protected_site"] or item["b"]["protected_site"]


def test_help_explains_every_command() -> None:
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    for cmd in ("check", "demo", "file", "notices", "conflicts", "db"):
        assert cmd in r.stdout
    r = runner.invoke(app, ["check", "--help"])
    assert "Exit status" in r.stdout and "--horizontal-m" in r.stdout
