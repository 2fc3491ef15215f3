"""Need-to-know over the tactical picture: ``/v1/tracks``, ``/v1/alerts`` and the ``alert.*`` events,
for every viewer of the cast in ``api_support``, against tables written out by hand from
docs/disclosure.md and docs/alerts.md (never computed by the product's disclosure code); and the
alert events in the audit export.

Every party flies in its own altitude band over one wide area (so its aircraft conform), and
aircraft stand still in pairs 1.8 km and 200–250 m apart (in loss of separation, every cycle):

=====  ==========================================  ===============================================
key    alert                                       why it is interesting
=====  ==========================================  ===============================================
A      separation r1 (ru-vks) × u1 (us-af)         default ``conflicts-only``; un-obs sees r1 only
B      separation r2 (ru-vks) × t1 (tr-af)         ``existence`` both ways; un-obs sees r2 only
C      separation u2 (us-af) × k1 (uk-raf)         coalition partners: still two parties
N      nonconformance of r3 (ru-vks)               above ru-vks's band; ru-vks and un-obs only
I      incursion of t2 (tr-af) into sy-gcaa's site  a site is public; tr-af and sy-gcaa
=====  ==========================================  ===============================================
"""

from __future__ import annotations

import json
from typing import Any

from api_support import T0, Api, circle_notice

from deconflict.domain.audit import verify_export
from deconflict.domain.times import format_time

AROUND_T0 = {"start": format_time(T0 - 3600), "end": format_time(T0 + 3 * 3600)}
BANDS = {"ru-vks": (4000, 5100), "us-af": (5200, 5600), "uk-raf": (5700, 6100), "tr-af": (3000, 3900)}

AIRCRAFT = {  # id: (party, lat, lon, alt_m)
    "r1-secret": ("ru-vks", 35.00, 38.00, 5000),
    "u1-secret": ("us-af", 35.00, 38.02, 5250),
    "r2-secret": ("ru-vks", 35.30, 38.00, 4050),
    "t1-secret": ("tr-af", 35.30, 38.02, 3850),
    "u2-secret": ("us-af", 34.70, 38.00, 5550),
    "k1-secret": ("uk-raf", 34.70, 38.02, 5750),
    "r3-secret": ("ru-vks", 35.00, 38.60, 8000),
    "t2-secret": ("tr-af", 34.70, 38.60, 3500),
}
SITE = {"lat": 34.70, "lon": 38.60, "radius_km": 3, "lower_m": 0, "upper_m": 4000}

ALERT_AIRCRAFT = {
    "A": ("r1-secret", "u1-secret"),
    "B": ("r2-secret", "t1-secret"),
    "C": ("u2-secret", "k1-secret"),
    "N": ("r3-secret",),
    "I": ("t2-secret",),
}

SHOWN, STATE_ONLY, NOTHING = "shown", "state only", "nothing"
SEES: dict[str, dict[str, dict[str, str]]] = {
    # viewer: alert: aircraft: what of it the viewer sees
    "ru-vks": {
        "A": {"r1-secret": SHOWN, "u1-secret": SHOWN},
        "B": {"r2-secret": SHOWN, "t1-secret": STATE_ONLY},
        "N": {"r3-secret": SHOWN},
    },
    "us-af": {
        "A": {"r1-secret": SHOWN, "u1-secret": SHOWN},
        "C": {"u2-secret": SHOWN, "k1-secret": SHOWN},
    },
    "uk-raf": {"C": {"u2-secret": SHOWN, "k1-secret": SHOWN}},
    "tr-af": {
        "B": {"r2-secret": STATE_ONLY, "t1-secret": SHOWN},
        "I": {"t2-secret": SHOWN},
    },
    "sy-gcaa": {"I": {"t2-secret": SHOWN}},
    "un-obs": {
        "A": {"r1-secret": SHOWN, "u1-secret": NOTHING},
        "B": {"r2-secret": SHOWN, "t1-secret": NOTHING},
        "N": {"r3-secret": SHOWN},
    },
    "root": {k: dict.fromkeys(v, SHOWN) for k, v in ALERT_AIRCRAFT.items()},
}
GEOMETRY = {v: {k for k, sides in seen.items() if NOTHING not in sides.values()} for v, seen in SEES.items()}
"""The alerts whose geometry a viewer gets: all where it sees every side at least as a state."""
TRACKS = {
    "ru-vks": {"r1-secret", "r2-secret", "r3-secret"},
    "us-af": {"u1-secret", "u2-secret"},
    "uk-raf": {"k1-secret"},
    "tr-af": {"t1-secret", "t2-secret"},
    "sy-gcaa": set(),
    "un-obs": set(),
    "root": set(AIRCRAFT),
}
"""``GET /v1/tracks``: one's own live aircraft; the admin every one."""


def fly(api: Api, t: float) -> None:
    for party in BANDS:
        states = [
            {"aircraft": a, "callsign": a.upper(), "time": t, "lat": lat, "lon": lon, "alt_m": alt}
            | {"alt_ref": "AMSL", "gs_mps": 0.0, "trk_deg": 0.0, "vs_mps": 0.0}
            for a, (p, lat, lon, alt) in AIRCRAFT.items()
            if p == party
        ]
        r = api.as_(party).post("/v1/tracks", json={"states": states})
        assert r.status_code == 200 and r.json()["accepted"] == len(states), r.text


def scenario(api: Api) -> dict[str, str]:
    """File the areas and the site, fly two cycles 31 s apart; the alert id of each key."""
    for party, (lower, upper) in BANDS.items():
        body = circle_notice(lat=35.0, lon=38.3, radius_km=150, lower_m=lower, upper_m=upper, id="area", **AROUND_T0)
        assert api.as_(party).post("/v1/notices", json=body).status_code == 201
    site = circle_notice(id="clinic", **SITE, **AROUND_T0)
    assert api.as_("sy-gcaa").post("/v1/protected-sites", json=site).status_code == 201
    t = api.clock.t
    fly(api, t)
    api.tactical.cycle()
    api.clock.t = t + 31  # past the conformance grace: r3 becomes nonconforming
    fly(api, t + 31)
    api.tactical.cycle()
    ids: dict[str, str] = {}
    for a in api.as_("root").get("/v1/alerts").json():
        aircraft = tuple(sorted(s["aircraft"] for s in a["sides"]))
        [key] = [k for k, v in ALERT_AIRCRAFT.items() if tuple(sorted(v)) == aircraft]
        ids[key] = a["id"]
    assert sorted(ids) == sorted(ALERT_AIRCRAFT), ids
    return ids


def check_alert(viewer: str, key: str, alert: dict[str, Any]) -> None:
    expected = SEES[viewer][key]
    assert len(alert["sides"]) == len(expected), (viewer, key)
    for side, aircraft in zip(alert["sides"], ALERT_AIRCRAFT[key], strict=True):
        party, lat, lon, alt = AIRCRAFT[aircraft]
        what = expected[aircraft]
        if what == SHOWN:
            assert (side["aircraft"], side["party"], side["callsign"]) == (aircraft, party, aircraft.upper())
            assert (side["lat"], side["lon"], side["alt_m"]) == (lat, lon, alt), (viewer, key, side)
        elif what == STATE_ONLY:  # where it is, to stay clear of it; not whose it is
            assert side["hidden"] is True and "aircraft" not in side and "party" not in side, (viewer, key, side)
            assert (side["lat"], side["lon"], side["alt_m"]) == (lat, lon, alt), (viewer, key, side)
        else:
            assert side == {"hidden": True}, (viewer, key, side)
    assert ("geometry" in alert) == (key in GEOMETRY[viewer]), (viewer, key)
    if key == "I":
        assert alert["volume"] == {"party": "sy-gcaa", "notice": "sy-gcaa:clinic", "volume": 0, "protected_site": True}


def sides_in_order(key: str, alert: dict[str, Any], admin_alert: dict[str, Any]) -> dict[str, Any]:
    """The alert with its sides in ALERT_AIRCRAFT's order (the order the admin's view gives them)."""
    order = [s["aircraft"] for s in admin_alert["sides"]]
    if order == list(ALERT_AIRCRAFT[key]):
        return alert
    return {**alert, "sides": list(reversed(alert["sides"]))}


def secrets_not_shown(viewer: str) -> set[str]:
    known = set(TRACKS[viewer])
    for sides in SEES[viewer].values():
        known |= {a for a, what in sides.items() if what == SHOWN}
    return set(AIRCRAFT) - known


def test_each_viewer_gets_exactly_its_alerts_tracks_and_events_cut_to_what_it_may_know(api: Api) -> None:
    ids = scenario(api)
    key_of = {v: k for k, v in ids.items()}
    admin = {a["id"]: a for a in api.as_("root").get("/v1/alerts").json()}
    for viewer in SEES:
        alerts = api.as_(viewer).get("/v1/alerts").json()
        assert sorted(key_of[a["id"]] for a in alerts) == sorted(SEES[viewer]), viewer
        for a in alerts:
            key = key_of[a["id"]]
            check_alert(viewer, key, sides_in_order(key, a, admin[a["id"]]))
        tracks = api.as_(viewer).get("/v1/tracks").json()
        assert {t["aircraft"] for t in tracks} == TRACKS[viewer], viewer
        # the replay from 0 comes page by page: on a loaded CI machine a page can take longer than
        # the default 0.6 s of quiet that ends the read (seen once: no alert event read at all)
        events = [e for e in api.events(viewer, idle_s=3.0) if e["event"].startswith("alert.")]
        assert sorted(key_of[e["data"]["data"]["alert"]["id"]] for e in events) == sorted(SEES[viewer]), viewer
        for e in events:
            a = e["data"]["data"]["alert"]
            key = key_of[a["id"]]
            check_alert(viewer, key, sides_in_order(key, a, admin[a["id"]]))
        # nothing anywhere in what the viewer got names an aircraft it may not know
        text = json.dumps([alerts, tracks, api.events(viewer)]).lower()
        assert [s for s in secrets_not_shown(viewer) if s in text] == [], viewer


def test_alert_events_are_in_the_audit_export_whole_for_the_admin_as_stubs_for_parties_and_verify(api: Api) -> None:
    ids = scenario(api)
    key = api.as_("root").get("/v1/audit/key").json()["public_key"]
    admin = api.as_("root").get("/v1/audit/export").json()
    assert verify_export(admin, key).ok
    created = {e["payload"]["alert"]["id"] for e in admin["events"] if e.get("type") == "alert.created"}
    assert created == set(ids.values())
    alert_seqs = {e["seq"] for e in admin["events"] if e.get("type", "").startswith("alert.")}
    for viewer in ("ru-vks", "tr-af", "un-obs"):
        doc = api.as_(viewer).get("/v1/audit/export").json()
        assert verify_export(doc, key).ok, viewer
        mine = {e["seq"]: e for e in doc["events"]}
        assert all(mine[s].get("stub") for s in alert_seqs), viewer  # the other side is in them whole
        assert not any(s in json.dumps(doc).lower() for s in secrets_not_shown(viewer)), viewer
