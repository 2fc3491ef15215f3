"""The live demo's flights: positions between waypoints, loops, and the theater file's errors, each
naming its field; the command's options that do not go together."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.demo.flights import parse_flight, positions
from deconflict.demo.live import live_theater
from deconflict.demo.theater import load_theater_doc
from deconflict.domain.errors import ValidationError
from deconflict.domain.times import parse_time

runner = CliRunner()
T0 = parse_time("2015-09-30T06:00:00Z", "t")


def flight(**over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "party": "p",
        "aircraft": "a1",
        "callsign": "ONE",
        "alt_m": 7000,
        "alt_ref": "AMSL",
        "waypoints": [
            {"at": "2015-09-30T06:00:00Z", "lat": 35.0, "lng": 36.0},
            {"at": "2015-09-30T06:10:00Z", "lat": 35.0, "lng": 37.0},
            {"at": "2015-09-30T06:20:00Z", "lat": 35.0, "lng": 36.0},
        ],
    }
    raw.update(over)
    return raw


def test_a_flight_moves_in_straight_lines_between_its_waypoints() -> None:
    f = parse_flight(flight(), {"p"}, "f")
    assert f.state(T0 - 1) is None and f.state(T0 + 1200) is None  # before and after it flies
    s = f.state(T0 + 300)
    assert s is not None
    assert (s["lat"], s["lon"], s["alt_m"], s["callsign"]) == (35.0, 36.5, 7000, "ONE")
    assert s["trk_deg"] == pytest.approx(90, abs=0.5)  # eastward
    assert s["gs_mps"] == pytest.approx(91_100 / 600, rel=0.01)  # one degree of longitude at 35 N in 10 min
    back = f.state(T0 + 900)
    assert back is not None and back["lon"] == 36.5 and back["trk_deg"] == pytest.approx(270, abs=0.5)


def test_a_looping_flight_repeats_its_waypoints_until_loop_until() -> None:
    f = parse_flight(flight(loop_until="2015-09-30T07:00:00Z"), {"p"}, "f")
    a, b = f.state(T0 + 300), f.state(T0 + 300 + 2 * 1200)
    assert a is not None and b is not None and (a["lat"], a["lon"]) == (b["lat"], b["lon"])
    assert f.state(T0 + 3600) is None


def test_an_aircraft_with_several_flights_is_placed_by_the_one_in_progress() -> None:
    later = [
        {"at": "2015-09-30T06:20:00Z", "lat": 35.0, "lng": 36.0},
        {"at": "2015-09-30T06:30:00Z", "lat": 36.0, "lng": 36.0},
    ]
    flights = [parse_flight(flight(), {"p"}, "a"), parse_flight(flight(waypoints=later), {"p"}, "b")]
    [s] = positions(flights, T0 + 1500)["p"]
    assert (s["lat"], s["lon"]) == (35.5, 36.0)
    assert positions(flights, T0 - 60) == {}


@pytest.mark.parametrize(
    ("over", "field", "reason"),
    [
        ({"party": "q"}, "f.party", "not one of the theater's parties"),
        ({"alt_ref": "QNH"}, "f.alt_ref", "use W84, AMSL, STD"),
        ({"alt_m": "high"}, "f.alt_m", "must be a number"),
        ({"speed": 3}, "f.speed", "unknown key"),
        ({"waypoints": [{"at": "2015-09-30T06:00:00Z", "lat": 35, "lng": 36}]}, "f.waypoints", "at least two"),
        ({"loop_until": "2015-09-30T06:05:00Z"}, "f.loop_until", "before the last waypoint"),
    ],
)
def test_a_bad_flight_is_refused_naming_its_field(over: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(ValidationError) as e:
        parse_flight(flight(**over), {"p"}, "f")
    assert e.value.errors[0].path == field and reason in e.value.errors[0].reason


def test_a_bad_waypoint_is_refused_naming_it() -> None:
    raw = flight()
    raw["waypoints"][1]["lat"] = 95
    with pytest.raises(ValidationError, match=r"f\.waypoints\[1\]\.lat"):
        parse_flight(raw, {"p"}, "f")
    raw = flight()
    raw["waypoints"][2]["at"] = "2015-09-30T06:05:00Z"
    with pytest.raises(ValidationError, match=r"f\.waypoints\[2\]\.at.*before the waypoint before it"):
        parse_flight(raw, {"p"}, "f")


def test_the_built_in_theater_has_a_live_section() -> None:
    live = live_theater(load_theater_doc())
    assert live.speed == 10 and len(live.flights) >= 5
    assert {f.party for f in live.flights} == {"coalition", "ru-vks"}
    with pytest.raises(ValidationError, match="--speed"):
        live_theater(load_theater_doc(), speed=0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--db", "x.sqlite"], "--db: only with --once"),
        (["--json"], "--json: only with --once"),
        (["--once", "--speed", "5"], "--speed: only for the live demo"),
        (["--speed", "0"], "--speed"),
        (["--start", "yesterday"], "--start"),
    ],
)
def test_the_demos_options_that_do_not_go_together_exit_2(args: list[str], message: str) -> None:
    r = runner.invoke(app, ["demo", *args])
    assert r.exit_code == 2 and message in r.output, r.output


def test_a_theater_file_with_a_bad_flight_exits_2_naming_it(tmp_path: Path) -> None:
    doc = copy.deepcopy(load_theater_doc())
    doc["live"]["flights"][1]["waypoints"][0]["lng"] = "east"
    path = tmp_path / "theater.json"
    path.write_text(json.dumps(doc))
    r = runner.invoke(app, ["demo", "--theater", str(path)])
    assert r.exit_code == 2 and "live.flights[1].waypoints[0].lng" in r.output, r.output
