"""The live picture under load, on SQLite and PostgreSQL: per-party limits on aircraft and report
rate (429, nothing kept), and a flood of one party's alerts that cannot hold back another pair's."""

from __future__ import annotations

import json
import math
import threading
import time
from typing import Any

import httpx
from api_support import Api, broker_config, circle_notice, parse_sse, start_api
from test_api_tactical import AROUND_T0, report, state

from deconflict.domain.tactical import EARTH_RADIUS_M


def post(api: Api, party: str, *states: dict[str, Any]) -> httpx.Response:
    return api.as_(party).post("/v1/tracks", json={"states": list(states)})


def held(api: Api, party: str) -> dict[str, float]:
    """The party's live aircraft and the time of each one's report as the broker holds it."""
    r = api.as_(party).get("/v1/tracks")
    assert r.status_code == 200
    return {a["aircraft"]: a["time"] for a in r.json()}


def test_a_report_beyond_the_party_s_aircraft_limit_is_refused_whole(db_url: str) -> None:
    api = start_api(db_url, broker_config(max_aircraft_per_party=3))
    try:
        t = api.clock.t
        policy = api.as_("ru-vks").get("/v1/policy").json()["tactical"]
        assert policy["max_aircraft_per_party"] == 3 and policy["states_per_s"] == 10_000
        assert post(api, "ru-vks", *(state(f"a{i}", 35.0, 36.0 + i, 90, t) for i in range(3))).status_code == 200
        before = held(api, "ru-vks")
        api.clock.t = t + 1
        r = post(api, "ru-vks", state("a0", 35.0, 36.0, 90, t + 1), state("a3", 35.0, 40.0, 90, t + 1))
        assert r.status_code == 429 and "Retry-After" not in r.headers
        [err] = r.json()["detail"]
        assert err["field"] == "tactical.max_aircraft_per_party"
        assert "3 live aircraft" in err["reason"] and "adds 1" in err["reason"] and "limit of 3" in err["reason"]
        assert held(api, "ru-vks") == before  # nothing kept: not even a0's newer report
        # the party's own aircraft go on, and another party's limit is its own
        assert post(api, "ru-vks", *(state(f"a{i}", 35.0, 36.0 + i, 90, t + 1) for i in range(3))).status_code == 200
        assert post(api, "us-af", *(state(f"u{i}", 30.0, 36.0 + i, 90, t + 1) for i in range(3))).status_code == 200
        # once an aircraft has aged out, its place is free
        api.clock.t = t + 1 + api.tactical.settings.track_timeout_s + 1
        api.tactical.cycle()
        assert post(api, "ru-vks", state("a3", 35.0, 40.0, 90, api.clock.t)).status_code == 200
    finally:
        api.close()


def test_a_report_beyond_the_party_s_rate_is_refused_whole_with_retry_after(db_url: str) -> None:
    api = start_api(db_url, broker_config(states_per_s=1, states_burst=5))
    try:
        t = api.clock.t
        assert post(api, "ru-vks", *(state(f"a{i}", 35.0, 36.0 + i, 90, t) for i in range(5))).status_code == 200
        r = post(api, "ru-vks", state("a5", 35.0, 41.0, 90, t), state("a6", 35.0, 42.0, 90, t))
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        [err] = r.json()["detail"]
        assert err["field"] == "tactical.states_per_s" and "nothing of it was kept" in err["reason"]
        assert sorted(held(api, "ru-vks")) == [f"a{i}" for i in range(5)]
        too_big = post(api, "us-af", *(state(f"u{i}", 30.0, 36.0, 90, t) for i in range(6)))
        assert too_big.status_code == 429 and "Retry-After" not in too_big.headers  # never fits at once
        assert post(api, "us-af", state("u0", 30.0, 36.0, 90, t)).status_code == 200  # its own budget
    finally:
        api.close()


def move(lat: float, lon: float, bearing_deg: float, dist_m: float) -> tuple[float, float]:
    """A point ``dist_m`` from (lat, lon) along ``bearing_deg`` (flat-earth, fine for tens of km)."""
    b = math.radians(bearing_deg)
    dlat = math.degrees(dist_m * math.cos(b) / EARTH_RADIUS_M)
    dlon = math.degrees(dist_m * math.sin(b) / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lat + dlat, lon + dlon


def test_a_flood_of_one_party_s_alerts_does_not_hold_back_another_pair_s(db_url: str) -> None:
    """ru-vks reports 5 000 made-up aircraft headed into us-af's area (5 000 incursion alerts in
    one cycle) while uk-raf and tr-af have one real encounter: that alert is written in the
    cycle's first transaction, before any of the flood's, and reaches tr-af's stream at once."""
    api = start_api(db_url)
    try:
        t = api.clock.t
        area = circle_notice(lat=30.0, lon=30.0, radius_km=100, lower_m=0, upper_m=15000, id="area", **AROUND_T0)
        assert api.as_("us-af").post("/v1/notices", json=area).status_code == 201
        flood = []
        for i in range(5000):  # a ring 120-150 km out, every aircraft heading for the centre
            bearing = i * 360 / 5000
            lat, lon = move(30.0, 30.0, bearing, 120_000 + (i % 7) * 5_000)
            flood.append(state(f"f{i}", lat, lon, (bearing + 180) % 360, t, alt=1000 + (i % 40) * 300))
        assert report(api, "ru-vks", *flood)["accepted"] == 5000
        # the encounter, far away: head-on at the same level, 40 km apart
        report(api, "uk-raf", state("uk1", 40.0, 20.0, 90, t))
        report(api, "tr-af", state("tr1", 40.0, 20.0 + math.degrees(40_000 / (EARTH_RADIUS_M * 0.766)), 270, t))
        start = api.broker.last_seq()

        lines: list[str] = []
        caught_up, got = threading.Event(), threading.Event()
        arrived: list[float] = []

        def listen() -> None:  # tr-af's stream, open and caught up before the cycle
            headers = {"Authorization": f"Bearer {api.tokens['tr-af']}"}
            with (
                httpx.Client(base_url=api.url, timeout=httpx.Timeout(30, read=60)) as c,
                c.stream("GET", "/v1/events", params={"after": start}, headers=headers) as r,
            ):
                for line in r.iter_lines():
                    lines.append(line)
                    if line == ": caught up":
                        caught_up.set()
                    elif line.startswith("data:") and '"alert.created"' in line:
                        arrived.append(time.monotonic())
                        got.set()
                        return

        threading.Thread(target=listen, daemon=True).start()
        assert caught_up.wait(30)
        began = time.monotonic()
        changes = api.tactical.cycle()
        ended = time.monotonic()
        assert got.wait(30), "tr-af never heard of its encounter"
        incursions = [a for a in changes.created if a.kind.value == "incursion"]
        [real] = [a for a in changes.created if a.kind.value == "separation"]
        assert len(incursions) == 5000 and real.parties == ("tr-af", "uk-raf")

        # written first: the encounter's alert.created comes before every flood alert's in the log
        seqs = {e.payload["alert"]["id"]: e.seq for e in api.broker.log_events() if e.type == "alert.created"}
        assert seqs[real.id] < min(seqs[a.id] for a in incursions)
        [e] = list(parse_sse(iter([*lines[lines.index(": caught up") + 1 :], ""])))
        assert e["data"]["data"]["alert"]["id"] == real.id
        # and it arrived within a second of the cycle's start, or at least while the flood was still
        # being written (a loaded machine may take longer over the cycle's reading and detection)
        took, at = ended - began, arrived[0] - began
        assert at < 1.0 or arrived[0] < ended, f"arrived {at:.2f} s after the cycle began, which took {took:.2f} s"
    finally:
        api.close()


def test_a_large_report_is_parsed_as_strictly_as_a_small_one(api: Api) -> None:
    """Bodies of 64 KiB and more are parsed off the event loop, and without escapes without a second
    pass: a lone surrogate or a NUL written as an escape is still refused, and nothing is kept."""
    t = api.clock.t
    states = [state(f"a{i}", 35.0, 30.0 + i * 0.01, 90, t) for i in range(600)]
    text = json.dumps({"states": states})
    assert len(text) > 64 * 1024 and "\\u" not in text
    for bad in ("\\ud800", "\\u0000"):
        body = text.replace('"callsign": "A599"', f'"callsign": "A599{bad}"')
        assert body != text
        r = api.as_("ru-vks").post("/v1/tracks", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body", r.text
    assert held(api, "ru-vks") == {}
    r = api.as_("ru-vks").post("/v1/tracks", content=text, headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json()["accepted"] == 600


def test_the_cycle_sees_alerts_changed_by_another_process(api: Api) -> None:
    """The cycle keeps the open alerts it wrote; when the store's open alerts differ from them
    (another process cleared one), it reads them again instead of trusting its own record."""
    from dataclasses import replace

    from deconflict.domain.alerts import AlertState, Changes

    t = api.clock.t
    report(api, "ru-vks", state("vks1", 35.0, 36.0, 90, t))
    report(api, "us-af", state("us1", 35.0, 36.5, 270, t))
    [created] = [a for a in api.tactical.cycle().created if a.kind.value == "separation"]
    cleared = replace(created, state=AlertState.CLEARED, cleared_at=t, updated_at=t)
    list(api.broker.record_alerts(Changes([], [], [cleared])))  # as another process would
    api.clock.t = t + 1
    again = [a for a in api.tactical.cycle().created if a.kind.value == "separation"]
    assert len(again) == 1 and again[0].id != created.id and again[0].key == created.key
    assert [a.id for a in api.broker.open_alerts() if a.kind.value == "separation"] == [again[0].id]
