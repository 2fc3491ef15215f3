"""The tactical picture over HTTP, on SQLite and PostgreSQL: tracks in, alerts on both parties'
streams (cut down by disclosure), incursions, nonconformance, clearing, metrics."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import T0, Api, broker_config, circle_notice, start_api

from deconflict.domain.alerts import Alert
from deconflict.domain.times import format_time

AROUND_T0 = {"start": format_time(T0 - 3600), "end": format_time(T0 + 3 * 3600)}


def state(
    aircraft: str, lat: float, lon: float, trk: float, t: float, alt: float = 6000.0, gs: float = 200.0
) -> dict[str, Any]:
    return {
        "aircraft": aircraft,
        "time": t,
        "lat": lat,
        "lon": lon,
        "alt_m": alt,
        "alt_ref": "AMSL",
        "gs_mps": gs,
        "trk_deg": trk,
        "vs_mps": 0.0,
        "callsign": aircraft.upper(),
    }


def report(api: Api, party: str, *states: dict[str, Any]) -> dict[str, Any]:
    r = api.as_(party).post("/v1/tracks", json={"states": list(states)})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def own_volume(api: Api, party: str, lat: float, lon: float) -> None:
    """A notice around the party's aircraft, so that they conform."""
    r = api.as_(party).post(
        "/v1/notices",
        json=circle_notice(lat=lat, lon=lon, radius_km=80, lower_m=0, upper_m=12000, id=f"{party}-area", **AROUND_T0),
    )
    assert r.status_code == 201, r.text


def alert_events(api: Api, party: str, after: int, kind: str = "separation") -> list[dict[str, Any]]:
    return [
        e["data"]
        for e in api.events(party, after=after)
        if e["event"].startswith("alert.") and e["data"]["data"]["alert"]["kind"] == kind
    ]


def of_kind(alerts: list[Alert], kind: str) -> list[Alert]:
    return [a for a in alerts if a.kind.value == kind]


def test_bad_states_are_refused_one_by_one_and_counted(api: Api) -> None:
    t = api.clock.t
    good = state("a1", 35.0, 36.0, 90, t)
    body = report(
        api,
        "ru-vks",
        good,
        {**good, "lat": 91},
        {**good, "gs_mps": 3000},
        {**good, "time": t + 60},
        {**good, "time": t - 3600},
        {**good, "alt_ref": "AGL"},
        {**good, "trk_deg": None},
        "not a state",
    )
    assert body["accepted"] == 1
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [
        (1, "states[1].lat"),
        (2, "states[2].gs_mps"),
        (3, "states[3].time"),
        (4, "states[4].time"),
        (5, "states[5].alt_ref"),
        (6, "states[6].trk_deg"),
        (7, "states[7]"),
    ]
    assert "ahead of the broker's clock" in body["rejected"][2]["reason"]
    r = api.as_("ru-vks").post("/v1/tracks", content=b'{"states": [{"aircraft": "x", "lat": NaN}]}')
    assert r.status_code == 422  # NaN is not JSON: the whole body is refused at the edge
    assert api.as_("un-obs").post("/v1/tracks", json={"states": [good]}).status_code == 403
    assert api.as_("ru-vks").post("/v1/tracks", json={"states": "x"}).status_code == 422
    assert [a["aircraft"] for a in api.as_("ru-vks").get("/v1/tracks").json()] == ["a1"]
    assert api.as_("us-af").get("/v1/tracks").json() == []  # not yours
    text = api.as_("root").get("/v1/metrics").text
    assert "deconflict_track_states_accepted_total 1" in text
    assert 'deconflict_track_states_rejected_total{field="time"} 2' in text
    assert api.as_("ru-vks").get("/v1/metrics").status_code == 403
    assert api.as_("root").get("/metrics").text == text  # where Prometheus looks by default
    assert api.as_("nobody").get("/metrics").status_code == 401


def test_a_predicted_loss_of_separation_alerts_both_parties_and_clears(api: Api) -> None:
    t = api.clock.t
    own_volume(api, "ru-vks", 35.0, 36.0)
    own_volume(api, "us-af", 35.0, 36.5)
    start = api.broker.last_seq()
    # head-on at the same level, 45.6 km apart, closing at 400 m/s: entry in about 91 s, CPA at 114 s
    report(api, "ru-vks", state("vks1", 35.0, 36.0, 90, t))
    report(api, "us-af", state("us1", 35.0, 36.5, 270, t))
    changes = api.tactical.cycle()
    assert len(of_kind(changes.created, "separation")) == 1
    for party, other in (("ru-vks", "us1"), ("us-af", "vks1")):
        [e] = alert_events(api, party, start)
        alert = e["data"]["alert"]
        assert e["type"] == "alert.created" and alert["kind"] == "separation" and alert["severity"] == "medium"
        g = alert["geometry"]
        assert g["tcpa_s"] == pytest.approx(114, abs=2) and g["dcpa_m"] < 100 and g["tin_s"] == pytest.approx(91, abs=2)
        assert other in {s["aircraft"] for s in alert["sides"]}  # conflicts-only: the other aircraft is named
    assert api.as_("uk-raf").get("/v1/alerts").json() == []  # not its aircraft
    assert "separation" in [a["kind"] for a in api.as_("us-af").get("/v1/alerts").json()]
    # a minute later, still closing: now within 60 s of loss of separation
    api.clock.t = t + 40
    report(api, "ru-vks", state("vks1", 35.0, 36.0 + 8000 / 91000, 90, t + 40))
    report(api, "us-af", state("us1", 35.0, 36.5 - 8000 / 91000, 270, t + 40))
    changes = api.tactical.cycle()
    assert [a.severity for a in of_kind(changes.updated, "separation")] == ["high"]
    # us-af turns away and climbs well clear: the alert clears
    api.clock.t = t + 45
    report(api, "us-af", state("us1", 35.0, 36.41, 0, t + 45, alt=9000))
    # cleared after three cycles in a row without it (a grazing path must not make it flap)
    assert not of_kind(api.tactical.cycle().cleared, "separation")
    assert not of_kind(api.tactical.cycle().cleared, "separation")
    changes = api.tactical.cycle()
    assert len(of_kind(changes.cleared, "separation")) == 1
    assert "separation" not in [a["kind"] for a in api.as_("us-af").get("/v1/alerts").json()]
    every = api.as_("us-af").get("/v1/alerts", params={"state": "all"}).json()
    assert [a["state"] for a in every if a["kind"] == "separation"] == ["cleared"]
    types = [e["type"] for e in alert_events(api, "ru-vks", start, "separation")]
    assert types == ["alert.created", "alert.updated", "alert.cleared"]


def test_at_existence_the_other_aircraft_is_shown_where_it_is_but_not_who_it_is(api: Api) -> None:
    t = api.clock.t
    own_volume(api, "ru-vks", 35.0, 36.0)
    own_volume(api, "tr-af", 35.0, 36.5)
    start = api.broker.last_seq()
    report(api, "ru-vks", state("vks-secret-7", 35.0, 36.0, 90, t))
    report(api, "tr-af", state("tr-secret-9", 35.0, 36.5, 270, t))
    api.tactical.cycle()
    for party, hidden in (("ru-vks", "tr-secret-9"), ("tr-af", "vks-secret-7")):
        events = api.events(party, after=start)
        text = str(events)
        assert hidden not in text and hidden.upper() not in text
        [alert] = [
            e["data"]["data"]["alert"]
            for e in events
            if e["event"] == "alert.created" and e["data"]["data"]["alert"]["kind"] == "separation"
        ]
        other = next(s for s in alert["sides"] if s.get("hidden"))
        assert set(other) == {
            "hidden",
            "lat",
            "lon",
            "alt_m",
            "alt_ref",
            "gs_mps",
            "trk_deg",
            "vs_mps",
            "velocity_known",
        }
        assert other["alt_ref"] == "AMSL" and other["velocity_known"] is True
        assert alert["disclosure"] == "existence" and alert["geometry"]["dcpa_m"] < 100
        assert "parties" not in alert
    # the observer granted conflicts-only on ru-vks sees ru-vks's aircraft, not tr-af's
    [seen] = [a for a in api.as_("un-obs").get("/v1/alerts").json() if a["kind"] == "separation"]
    assert "vks-secret-7" in str(seen) and "tr-secret-9" not in str(seen)


def test_incursion_into_another_party_s_volume_and_nonconformance(api: Api) -> None:
    t = api.clock.t
    r = api.as_("us-af").post(
        "/v1/notices",
        json=circle_notice(lat=34.0, lon=36.0, radius_km=10, lower_m=0, upper_m=10000, id="range", **AROUND_T0),
    )
    assert r.status_code == 201
    start = api.broker.last_seq()
    # ru-vks's aircraft, 45.7 km west of the range's centre, heading for it at 200 m/s: enters in ~180 s
    report(api, "ru-vks", state("vks1", 34.0, 35.5, 90, t, alt=5000))
    changes = api.tactical.cycle()
    [inc] = [a for a in changes.created if a.kind.value == "incursion"]
    # 46.2 km from the centre (WGS84 at 34° N), 36.2 km to the edge: 181 s (sampled every second)
    assert inc.body["geometry"]["entry_s"] == 181 and inc.severity == "low"
    owner = [e["data"]["alert"] for e in alert_events(api, "us-af", start, "incursion")]
    assert owner[0]["sides"][0]["aircraft"] == "vks1" and owner[0]["volume"]["notice"] == "us-af:range"
    mine = [e["data"]["alert"] for e in alert_events(api, "ru-vks", start, "incursion")]
    assert mine[0]["volume"] == {"party": "us-af", "notice": "us-af:range", "volume": 0, "protected_site": False}
    # ru-vks declared nothing here: after the grace period its aircraft is nonconforming (to it alone)
    api.clock.t = t + 31
    report(api, "ru-vks", state("vks1", 34.0, 35.5 + 6200 / 91000, 90, t + 31, alt=5000))
    changes = api.tactical.cycle()
    [nc] = [a for a in changes.created if a.kind.value == "nonconformance"]
    assert nc.parties == ("ru-vks",)
    assert [a["kind"] for a in api.as_("us-af").get("/v1/alerts").json()] == ["incursion"]
    assert sorted(a["kind"] for a in api.as_("ru-vks").get("/v1/alerts").json()) == ["incursion", "nonconformance"]


def test_tracks_age_out_and_their_alerts_clear(api: Api) -> None:
    t = api.clock.t
    own_volume(api, "ru-vks", 35.0, 36.0)
    own_volume(api, "us-af", 35.0, 36.5)
    report(api, "ru-vks", state("vks1", 35.0, 36.0, 90, t))
    report(api, "us-af", state("us1", 35.0, 36.5, 270, t))
    assert len(of_kind(api.tactical.cycle().created, "separation")) == 1
    api.clock.t = t + 61  # no reports for longer than the track timeout
    changes = api.tactical.cycle()
    assert len(changes.cleared) >= 1 and not api.tactical.cycle()
    assert api.as_("root").get("/v1/alerts").json() == []
    assert "deconflict_aircraft 0" in api.as_("root").get("/v1/metrics").text


def test_a_restarted_broker_keeps_open_alerts_until_it_has_heard_from_their_aircraft(api: Api) -> None:
    from deconflict.services.tactical import TacticalService

    t = api.clock.t
    report(api, "ru-vks", state("vks1", 35.0, 36.0, 90, t))
    report(api, "us-af", state("us1", 35.0, 36.5, 270, t))
    [created] = of_kind(api.tactical.cycle().created, "separation")
    restarted = TacticalService(api.broker, api.tactical.settings)  # an empty picture
    api.clock.t = t + 5
    assert not restarted.cycle()  # nothing cleared: it has not heard from vks1 and us1 yet
    api.clock.t = t + 5 + 61  # the warm-up is over and they never came back: aged out
    assert [a.id for a in restarted.cycle().cleared] == [created.id]


def test_position_only_reports_and_missing_vertical_rates_are_derived(api: Api) -> None:
    t = api.clock.t

    def pos(aircraft: str, lat: float, lon: float, at: float, alt: float = 6000.0) -> dict[str, Any]:
        return {"aircraft": aircraft, "time": at, "lat": lat, "lon": lon, "alt_m": alt, "alt_ref": "AMSL"}

    # head-on, positions only, 40 s apart: 200 m/s each from the move between reports
    report(api, "ru-vks", pos("vks1", 35.0, 36.0 - 8000 / 91000, t - 40))
    report(api, "us-af", pos("us1", 35.0, 36.5 + 8000 / 91000, t - 40))
    report(api, "ru-vks", pos("vks1", 35.0, 36.0, t))
    report(api, "us-af", pos("us1", 35.0, 36.5, t))
    [sep] = of_kind(api.tactical.cycle().created, "separation")
    assert all(s["velocity_known"] and s["gs_mps"] == pytest.approx(200, rel=0.02) for s in sep.body["sides"])
    # ground speed and track given, vertical rate left out: derived from the change of altitude
    report(api, "tr-af", state("tr1", 40.0, 30.0, 90, t - 10, alt=5000.0) | {"vs_mps": None})
    report(api, "tr-af", state("tr1", 40.0, 30.02, 90, t, alt=5100.0) | {"vs_mps": None})
    [mine] = api.as_("tr-af").get("/v1/tracks").json()
    assert mine["vs_mps"] == pytest.approx(10.0)


def test_reports_out_of_order_are_refused_and_said_so(api: Api) -> None:
    t = api.clock.t
    report(api, "ru-vks", state("vks1", 35.0, 36.0, 90, t))
    body = report(api, "ru-vks", state("vks1", 35.0, 35.9, 90, t - 5))
    assert body["accepted"] == 0 and body["rejected"][0]["field"] == "states[0].time"
    assert "older than the report held" in body["rejected"][0]["reason"]


def test_aircraft_ids_that_look_like_keys_do_not_collide(api: Api) -> None:
    t = api.clock.t
    # ru-vks "B|us-af/A" with uk-raf "C", and ru-vks "B" with us-af "A|uk-raf/C": two pairs
    report(api, "ru-vks", state("B|us-af/A", 35.0, 36.0, 90, t), state("B", 45.0, 36.0, 90, t))
    report(api, "uk-raf", state("C", 35.0, 36.5, 270, t))
    report(api, "us-af", state("A|uk-raf/C", 45.0, 36.5, 270, t))
    assert len(of_kind(api.tactical.cycle().created, "separation")) == 2


@pytest.mark.parametrize("overhead_m", [0.0, 3000.0])
def test_an_aircraft_over_a_protected_site_is_an_incursion_told_to_its_party_and_the_authority(
    db_url: str, overhead_m: float
) -> None:
    """A site is public and every party's aircraft is kept off it; ``[tactical] overhead_m`` widens
    the site by that distance (within its altitude band)."""
    api = start_api(db_url, broker_config(overhead_m=overhead_m))
    try:
        t = api.clock.t
        site = circle_notice(lat=34.5, lon=37.0, radius_km=2, lower_m=0, upper_m=4000, id="hospital", **AROUND_T0)
        assert api.as_("sy-gcaa").post("/v1/protected-sites", json=site).status_code == 201
        own_volume(api, "ru-vks", 34.5, 37.0)  # ru-vks declared the area: no nonconformance here
        start = api.broker.last_seq()
        # one aircraft over the site, one 4 km north of its centre (2 km outside its outline), both still
        report(
            api,
            "ru-vks",
            state("over", 34.5, 37.0, 0, t, alt=3000, gs=0.0),
            state("near", 34.5 + 4.0 / 110.9, 37.0, 0, t, alt=3000, gs=0.0),
        )
        created = of_kind(api.tactical.cycle().created, "incursion")
        expected = ["near", "over"] if overhead_m >= 2000 else ["over"]
        assert sorted(a.body["sides"][0]["aircraft"] for a in created) == expected
        for a in created:
            assert a.severity == "loss" and a.body["geometry"]["inside"] is True
            assert a.parties == ("ru-vks", "sy-gcaa") and a.body["volume"]["protected_site"] is True
        for viewer in ("ru-vks", "sy-gcaa"):  # the aircraft's party and the site's authority
            seen = alert_events(api, viewer, start, "incursion")
            assert sorted(e["data"]["alert"]["sides"][0]["aircraft"] for e in seen) == expected
        assert alert_events(api, "us-af", start, "incursion") == []  # not its aircraft, not its site
        assert [a["kind"] for a in api.as_("us-af").get("/v1/alerts").json()] == []
    finally:
        api.close()


def test_a_scheduled_notice_is_there_only_in_its_windows(api: Api) -> None:
    """us-af's drill area is active daily 00:10-00:20 (an envelope of four hours around T0, which
    is midnight). ru-vks's aircraft waiting inside it is no incursion until the window is within
    the look-ahead, is inside once it opens, and clears once it closes; us-af's own aircraft there
    is nonconformant outside the window (its only volume is not active) and conforms inside it."""
    t = api.clock.t
    assert t % 86400 == 0
    body = circle_notice(lat=34.0, lon=36.0, radius_km=10, lower_m=0, upper_m=10000, id="drill", **AROUND_T0)
    body["volumes"][0]["schedule"] = {"windows": [{"start": "00:10", "end": "00:20"}]}
    r = api.as_("us-af").post("/v1/notices", json=body)
    assert r.status_code == 201, r.text

    def at(dt: float, cycles: int = 1) -> tuple[list[Alert], list[Alert], list[Alert]]:
        created: list[Alert] = []
        updated: list[Alert] = []
        cleared: list[Alert] = []
        for k in range(cycles):
            api.clock.t = t + dt + k
            report(api, "ru-vks", state("vks1", 34.0, 36.0, 90, t + dt + k, alt=5000, gs=0.0))
            report(api, "us-af", state("us1", 34.01, 36.0, 90, t + dt + k, alt=4000, gs=0.0))
            c = api.tactical.cycle()
            created, updated, cleared = created + c.created, updated + c.updated, cleared + c.cleared
        return created, updated, cleared

    def kinds(alerts: list[Alert], party: str) -> list[str]:
        return [a.kind.value for a in alerts if a.parties == (party,) or a.kind.value == "incursion"]

    created, _, _ = at(0)
    assert "incursion" not in kinds(created, "us-af")  # the window opens in 600 s, past the look-ahead
    created, _, _ = at(31)
    assert kinds(created, "us-af") == ["nonconformance"]  # us1 in its own area, 569 s before it is active
    [nc] = [a for a in created if a.parties == ("us-af",)]
    assert nc.body["sides"][0]["aircraft"] == "us1"
    created, _, _ = at(400)  # the window opens in 200 s
    [inc] = of_kind(created, "incursion")
    assert inc.body["sides"][0]["aircraft"] == "vks1" and inc.body["volume"]["notice"] == "us-af:drill"
    assert inc.body["geometry"] == {"inside": False, "entry_s": 200.0} and inc.severity == "low"
    created, updated, cleared = at(700, cycles=3)  # inside the window
    assert [(a.kind.value, a.severity) for a in updated] == [("incursion", "loss")]
    assert [a.id for a in cleared] == [nc.id]  # us1 conforms while its area is active
    assert not created
    created, _, cleared = at(1300, cycles=3)  # the window closed at 00:20
    assert [a.id for a in cleared] == [inc.id]
    assert not of_kind(created, "incursion")
    created, _, _ = at(1331)
    assert [a.parties for a in of_kind(created, "nonconformance")] == [("us-af",)]  # outside again
