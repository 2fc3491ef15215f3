"""Track states at the edge, velocity from positions, volumes hit by predicted paths, alert
reconciliation, and what each party sees of an alert."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from deconflict.domain.alerts import Alert, AlertKind, Finding, alert_json, reconcile, separation_key
from deconflict.domain.conformance import move, volume_hits
from deconflict.domain.disclosure import Disclosure
from deconflict.domain.disclosure_policy import DisclosurePolicy, Level
from deconflict.domain.errors import ValidationError
from deconflict.domain.parties import Party, Role
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.domain.tactical import States
from deconflict.domain.tracks import EARTH_RADIUS_M, TrackState, derive_velocity, parse_state
from deconflict.domain.volumes import AltitudeBand, AltitudeReference, Volume4D

NOW = 1_000_000.0


def circle(
    lat: float, lon: float, radius_m: float, t0: float, t1: float, lo: float = 0.0, hi: float = 3000.0
) -> Volume4D:
    return Volume4D(
        make_shape(ShapeKind.CIRCLE, [(lat, lon)], radius_m), AltitudeBand(lo, hi, AltitudeReference.W84), t0, t1
    )


GOOD = {
    "aircraft": "a1",
    "time": NOW,
    "lat": 35.0,
    "lon": 36.0,
    "alt_m": 6000.0,
    "alt_ref": "W84",
    "gs_mps": 200.0,
    "trk_deg": 90.0,
}


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"lat": math.nan}, "s.lat", "must be finite"),
        ({"lat": 95}, "s.lat", "within ±90°"),
        ({"lon": -181}, "s.lon", "within ±180°"),
        ({"alt_m": 40_000}, "s.alt_m", "between -500 and 30000 m"),
        ({"gs_mps": 1500}, "s.gs_mps", "between 0 and 1000 m/s"),
        ({"gs_mps": -1}, "s.gs_mps", "between 0 and 1000 m/s"),
        ({"vs_mps": 400}, "s.vs_mps", "within ±300 m/s"),
        ({"trk_deg": 400}, "s.trk_deg", "in [0, 360)"),
        ({"time": NOW + 10}, "s.time", "ahead of the broker's clock"),
        ({"time": NOW - 120}, "s.time", "older than the track timeout"),
        ({"time": "yesterday"}, "s.time", ""),
        ({"aircraft": ""}, "s.aircraft", "an id of 1 to 64"),
        ({"aircraft": 7}, "s.aircraft", "an id of 1 to 64"),
        ({"alt_ref": "AGL"}, "s.alt_ref", "W84, AMSL or STD"),
        ({"lat": True}, "s.lat", "must be a number"),
        ({"lat": None}, "s.lat", "is required"),
    ],
)
def test_a_state_that_cannot_be_true_is_refused_with_its_field(change: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(ValidationError) as e:
        parse_state({**GOOD, **change}, NOW, 60.0, "s")
    assert e.value.errors[0].path == field and reason in e.value.errors[0].reason


def test_states_parse_rfc3339_times_and_optional_velocity() -> None:
    s = parse_state({**GOOD, "time": "1970-01-12T13:46:40Z", "gs_mps": None, "trk_deg": None}, NOW, 60.0)
    assert s.time == NOW and not s.has_velocity and s.alt_ref.value == "W84"


def test_velocity_is_derived_from_the_previous_position() -> None:
    a = TrackState("x", NOW, 35.0, 36.0, 6000.0)
    # 2 km north-east in 10 s, 100 m up
    d = 2000 / math.sqrt(2)
    b = TrackState(
        "x",
        NOW + 10,
        35.0 + math.degrees(d / EARTH_RADIUS_M),
        36.0 + math.degrees(d / (EARTH_RADIUS_M * math.cos(math.radians(35.0)))),
        6100.0,
    )
    v = derive_velocity(a, b)
    assert v.gs_mps == pytest.approx(200, rel=1e-3) and v.trk_deg == pytest.approx(45, abs=0.05)
    assert v.vs_mps == pytest.approx(10)
    assert derive_velocity(a, TrackState("x", NOW + 100, 35.1, 36.0, 6000.0)).gs_mps is None  # too far apart in time
    assert derive_velocity(a, TrackState("x", NOW + 1, 40.0, 36.0, 6000.0)).gs_mps is None  # a jump, not a flight


def test_move_follows_the_track() -> None:
    lat, lon = move(np.array([35.0]), np.array([179.99]), np.array([250.0]), np.array([90.0]), 60.0)
    assert lat[0] == pytest.approx(35.0) and -180 < lon[0] < -179.8  # across the antimeridian


def aircraft(*rows: tuple[float, float, float, float, float]) -> States:
    a = np.array(rows, dtype=float).reshape(-1, 5)
    return States.from_arrays(
        lat=a[:, 0], lon=a[:, 1], alt_m=a[:, 2], gs_mps=a[:, 3], trk_deg=a[:, 4], vs_mps=np.zeros(len(a))
    )


def test_volume_hits_now_and_predicted_within_the_lookahead() -> None:
    vol = circle(34.0, 36.0, 10_000.0, t0=NOW - 3600, t1=NOW + 3600, lo=0.0, hi=10_000.0)
    dlon_46km = math.degrees(45_700 / (EARTH_RADIUS_M * math.cos(math.radians(34.0))))
    ac = aircraft(
        (34.0, 36.0, 5000, 200, 90),  # inside now
        (34.0, 36.0 - dlon_46km, 5000, 200, 90),  # 35.7 km to the edge at 200 m/s: enters at ~180 s
        (34.0, 36.0 - dlon_46km, 5000, 200, 270),  # flying away
        (34.0, 36.0 - dlon_46km, 12_000, 200, 90),  # above the band
        (34.0, 36.0 - dlon_46km, 5000, 50, 90),  # too slow to arrive within 300 s
    )
    hits = volume_hits(ac, NOW, vol, 300.0)
    assert hits.index.tolist() == [0, 1]
    assert hits.entry_s[0] == 0.0 and hits.entry_s[1] == pytest.approx(180, abs=5)
    later = circle(34.0, 36.0, 10_000.0, t0=NOW + 3600, t1=NOW + 7200)
    assert len(volume_hits(ac, NOW, later, 300.0).index) == 0  # not in force in the look-ahead


def finding(key: str, severity: str) -> Finding:
    return Finding(key, AlertKind.SEPARATION, severity, ("a", "b"), {"sides": [], "geometry": {}})


def test_reconcile_creates_updates_on_severity_and_clears() -> None:
    k1 = separation_key(("a", "1"), ("b", "2"))
    k2 = separation_key(("a", "3"), ("b", "4"))
    first = reconcile({}, [finding(k1, "low"), finding(k2, "high")], NOW)
    assert [a.key for a in first.created] == [k1, k2] and not first.updated and not first.cleared
    open_ = {a.key: a for a in first.created}
    same = reconcile(open_, [finding(k1, "low"), finding(k2, "high")], NOW + 1)
    assert not same  # geometry moves every second; the alert changes only with its severity
    worse = reconcile(open_, [finding(k1, "medium")], NOW + 2)
    assert [(a.key, a.severity, a.id) for a in worse.updated] == [(k1, "medium", open_[k1].id)]
    assert [(a.key, a.state, a.cleared_at) for a in worse.cleared] == [(k2, "cleared", NOW + 2)]


def alert(kind: str, sides: list[dict[str, Any]], volume: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"sides": sides, "geometry": {"tcpa_s": 100.0, "dcpa_m": 5.5}}
    if volume is not None:
        body["volume"] = volume
    a = Alert("id1", "k", AlertKind(kind), "medium", tuple(sorted({s["party"] for s in sides})), body, "open", NOW, NOW)
    return alert_json(a)


def side(party: str, aircraft: str) -> dict[str, Any]:
    return {
        "party": party,
        "aircraft": aircraft,
        "callsign": aircraft.upper(),
        "lat": 35.123456,
        "lon": 36.654321,
        "alt_m": 6123.4,
        "gs_mps": 201.2,
        "trk_deg": 91.5,
        "vs_mps": 0.0,
    }


PARTIES = {
    "us": Party("us", Role.PARTY, "coal"),
    "uk": Party("uk", Role.PARTY, "coal"),
    "ru": Party("ru", Role.PARTY),
    "tr": Party("tr", Role.PARTY),
    "obs": Party("obs", Role.OBSERVER),
    "root": Party("root", Role.ADMIN),
}
POLICY = DisclosurePolicy().with_pair("ru", "tr", Level.EXISTENCE).with_grant("obs", "ru", Level.CONFLICTS_ONLY)
D = Disclosure(POLICY, PARTIES)


def test_a_separation_alert_always_shows_where_the_other_aircraft_is_but_names_it_only_by_policy() -> None:
    a = alert("separation", [side("ru", "ru-SECRET"), side("tr", "tr-SECRET")])
    for viewer, hidden in (("ru", "tr-SECRET"), ("tr", "ru-SECRET")):
        v = D.alert_view(PARTIES[viewer], a)
        assert v is not None and v["disclosure"] == "existence" and v["geometry"] == a["geometry"]
        text = json.dumps(v)
        assert hidden not in text and hidden.upper() not in text and '"parties"' not in text
        other = next(s for s in v["sides"] if s.get("hidden"))
        assert other["lat"] == 35.123456 and other["gs_mps"] == 201.2
    assert D.alert_view(PARTIES["us"], a) is None  # neither aircraft is its own
    obs = D.alert_view(PARTIES["obs"], a)
    assert obs is not None and "ru-SECRET" in json.dumps(obs) and "tr-SECRET" not in json.dumps(obs)
    # the geometry would place tr's aircraft relative to ru's: not for an observer without a grant on tr
    assert "geometry" not in obs and obs["sides"][1] == {"hidden": True}
    assert D.alert_view(PARTIES["root"], a) == a
    named = D.alert_view(PARTIES["us"], alert("separation", [side("us", "u1"), side("ru", "r1")]))
    assert named is not None and named["disclosure"] == "conflicts-only"
    assert {s["aircraft"] for s in named["sides"]} == {"u1", "r1"}


def test_an_incursion_names_the_volume_and_the_aircraft_by_policy_and_sites_are_public() -> None:
    vol = {"party": "tr", "notice": "tr:range-SECRET", "volume": 0, "protected_site": False}
    a = alert("incursion", [side("ru", "ru-SECRET")], vol)
    ru = D.alert_view(PARTIES["ru"], a)
    tr = D.alert_view(PARTIES["tr"], a)
    assert ru is not None and ru["volume"] == {"hidden": True} and "range-SECRET" not in json.dumps(ru)
    assert tr is not None and tr["volume"]["notice"] == "tr:range-SECRET" and "ru-SECRET" not in json.dumps(tr)
    assert tr["sides"][0]["hidden"] and tr["sides"][0]["alt_m"] == 6123.4
    site = {"party": "tr", "notice": "tr:school", "volume": 0, "protected_site": True}
    ru_site = D.alert_view(PARTIES["ru"], alert("incursion", [side("ru", "r1")], site))
    assert ru_site is not None and ru_site["volume"] == site
    assert D.alert_view(PARTIES["us"], a) is None


def test_nonconformance_concerns_the_party_alone() -> None:
    a = alert("nonconformance", [side("ru", "r1")])
    assert D.alert_view(PARTIES["ru"], a) is not None
    assert D.alert_view(PARTIES["us"], a) is None and D.alert_view(PARTIES["tr"], a) is None
    assert D.alert_view(PARTIES["obs"], a) is not None  # granted conflicts-only on ru
    assert D.event_view(PARTIES["us"], "alert.created", {"alert": a}) is None
    assert D.event_view(PARTIES["ru"], "alert.cleared", {"alert": a}) == {"alert": D.alert_view(PARTIES["ru"], a)}
