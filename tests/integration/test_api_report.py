"""The compliance report over HTTP on both stores: a scenario driven on the broker's clock whose
every figure is worked out by hand below, who may read which rows, the hash in the log, errors.

Default policy: minimum notice 3 h (a lead time under 10 800 s is late); a conflict starting more
than 6 h ahead is acknowledged within 3600 s; a tactical alert within 60 s; an aircraft outside its
party's notices is nonconforming after 30 s.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection
from typing import Any

import pytest
from api_support import T0, Api, broker_config, circle_notice

from deconflict.adapters.sql.store import SqlStore
from deconflict.config import theater_policy
from deconflict.domain.audit import BrokerKey, Event, verify_export
from deconflict.domain.compliance import compliance_report, report_json
from deconflict.domain.disclosure_policy import Level
from deconflict.domain.times import format_time
from deconflict.services.broker import Broker
from deconflict.services.commands import parse_file_notice, parse_report_tracks
from deconflict.services.reports import (
    SPAN_EVENTS,
    ack_facts,
    alert_spans,
    compliance,
    conflict_facts,
    filed_notices,
    report_hash,
)
from deconflict.services.tactical import TacticalService

H = 3600.0


def at(api: Api, t: float) -> None:
    api.clock.t = T0 + t


def file(api: Api, party: str, start: float, end: float, **shape: Any) -> None:
    body = circle_notice(start=format_time(T0 + start), end=format_time(T0 + end), **shape)
    r = api.as_(party).post("/v1/notices", json=body)
    assert r.status_code == 201, r.text


def inbox(api: Api, party: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = api.as_(party).get("/v1/messages", params={"box": "inbox"}).json()
    return out


def ack(api: Api, party: str, message_id: str) -> None:
    r = api.as_(party).post(f"/v1/messages/{message_id}/ack", json={"state": "received"})
    assert r.status_code == 201, r.text


def send(api: Api, sender: str, to: str, **extra: Any) -> str:
    r = api.as_(sender).post("/v1/messages", json={"to": [to], "subject": "s", "text": "t", **extra})
    assert r.status_code == 201, r.text
    mid: str = r.json()["id"]
    return mid


def auto_thread(api: Api, party: str, about: str) -> str:
    """The one thread the broker opened for ``party`` whose subject names ``about``."""
    [m] = [m for m in inbox(api, party) if m["auto"] and about in m["subject"]]
    mid: str = m["id"]
    return mid


def still(t: float, lat: float, lon: float) -> dict[str, Any]:
    """ru-vks's aircraft vks1 at ``T0 + t``, standing still (no predicted entry anywhere)."""
    return {
        "aircraft": "vks1",
        "time": T0 + t,
        "lat": lat,
        "lon": lon,
        "alt_m": 5000.0,
        "alt_ref": "AMSL",
        "gs_mps": 0.0,
        "trk_deg": 90.0,
        "vs_mps": 0.0,
    }


def vks1(api: Api, t: float, lat: float, lon: float) -> None:
    """vks1 reports through the API."""
    r = api.as_("ru-vks").post("/v1/tracks", json={"states": [still(t, lat, lon)]})
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text


def scenario(api: Api) -> None:
    """Every step at its own time (seconds after T0); the expected figures are derived in the test."""
    at(api, 0)  # us-af: the range, 03:00–06:00, filed 3 h ahead: exactly the minimum, not late
    file(api, "us-af", 3 * H, 6 * H, lat=34.0, lon=36.0, radius_km=10, lower_m=0, upper_m=10000)
    at(api, 600)  # us-af: starts 2 h after filing: late
    file(api, "us-af", 600 + 2 * H, 9 * H, lat=35.32, lon=36.62)
    at(api, 1200)  # ru-vks: same place from 07:30, 7 h 10 min ahead; conflicts with the one above
    file(api, "ru-vks", 1200 + 25800, 10.5 * H, lat=35.32, lon=36.62)
    conflict_msg = auto_thread(api, "us-af", "Conflict")
    at(api, 1500)  # us-af answers the conflict's thread after 300 s (deadline 1200 + 3600): on time
    ack(api, "us-af", conflict_msg)  # ru-vks never does: missing once 4800 has passed
    at(api, 1800)
    to_ru = send(api, "us-af", "ru-vks", ack_within_s=600)  # due at 2400
    at(api, 2000)
    send(api, "ru-vks", "us-af")  # no deadline: no duty, not counted
    at(api, 3000)
    ack(api, "ru-vks", to_ru)  # 1200 s after sending, 600 s past the deadline: late
    # 03:00: vks1 sits inside us-af's range (incursion, severity loss) and in none of ru-vks's
    # notices; it reports, and a cycle runs, every 30 s until 11 100
    for t in range(int(3 * H), int(3 * H) + 301, 30):
        at(api, t)
        vks1(api, t, 34.0, 36.0)
        api.tactical.cycle()  # 10 800: the incursion opens (thread to both, due at 10 860)
        if t == 3 * H + 30:  # 30 s outside its own notices: nonconformance opens (due at 10 890)
            ack(api, "us-af", auto_thread(api, "us-af", "incursion"))  # 30 s after the incursion: on time
        if t == 3 * H + 120:
            ack(api, "ru-vks", auto_thread(api, "ru-vks", "nonconformance"))  # 90 s after it opened: late
    # then it has left the range (46 km east of it): the alert clears after three cycles in a row
    # without it (services.tactical.CLEAR_AFTER), and its span ends at the last cycle that found
    # it inside, 11 100
    for t in (3 * H + 301, 3 * H + 302, 3 * H + 303):
        at(api, t)
        vks1(api, t, 34.0, 36.5)
        api.tactical.cycle()  # still nonconforming: that alert stays open to the end of the period
    at(api, 14000)
    send(api, "ru-vks", "us-af", ack_within_s=3600)  # due at 17 600, after the period: pending
    at(api, 4 * H)


def report(api: Api, viewer: str, **params: str) -> dict[str, Any]:
    r = api.as_(viewer).get("/v1/reports/compliance", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def acks(
    on_time: int = 0, late: int = 0, missing: int = 0, pending: int = 0, median_s: float | None = None
) -> dict[str, Any]:
    """A row's ``acknowledgements``, the counts not named zero."""
    return {"on_time": on_time, "late": late, "missing": missing, "pending": pending, "median_time_to_ack_s": median_s}


def row(body: dict[str, Any], party: str) -> dict[str, Any]:
    [r] = [r for r in body["report"]["parties"] if r["party"] == party]
    return r


def test_the_figures_of_a_scenario_worked_out_by_hand(api: Api) -> None:
    scenario(api)
    body = report(api, "root", since=format_time(T0), until=format_time(T0 + 4 * H))
    assert [r["party"] for r in body["report"]["parties"]] == ["ru-vks", "sy-gcaa", "tr-af", "uk-raf", "us-af"]
    us = row(body, "us-af")
    # lead times 10 800 (not late: the minimum itself) and 7 200 (late); median (7200 + 10800) / 2,
    # 10th percentile 7200 + 0.1 × 3600
    assert us["notices_filed"] == 2 and us["lead_times_s"] == [7200.0, 10800.0] and us["late_notices"] == 1
    assert us["lead_time_median_s"] == 9000.0 and us["lead_time_p10_s"] == 7560.0
    assert us["conflicts"] == 1
    # duties: the conflict thread (300 s, on time), the incursion thread (30 s, on time), the message
    # due at 17 600 (pending); ru-vks's message without a deadline is none. Median (30 + 300) / 2.
    assert us["acknowledgements"] == acks(on_time=2, pending=1, median_s=165.0)
    assert us["ack_latencies_s"] == [30.0, 300.0]
    assert us["nonconformance_s"] == 0.0 and us["incursion_s"] == 0.0
    ru = row(body, "ru-vks")
    assert ru["notices_filed"] == 1 and ru["lead_times_s"] == [25800.0] and ru["late_notices"] == 0
    assert ru["lead_time_median_s"] == 25800.0 and ru["lead_time_p10_s"] == 25800.0
    assert ru["conflicts"] == 1
    # duties: conflict thread (never: missing), us-af's message (1200 s: late), incursion thread
    # (never: missing), nonconformance thread (90 s: late). Median (90 + 1200) / 2.
    assert ru["acknowledgements"] == acks(late=2, missing=2, median_s=645.0)
    # inside the range 10 800 → 11 100; nonconforming 10 830 → the end of the period, 14 400
    assert ru["incursion_s"] == 300.0 and ru["incursion_minutes"] == 5.0
    assert ru["nonconformance_s"] == 3570.0 and ru["nonconformance_minutes"] == 59.5
    for quiet in ("uk-raf", "tr-af", "sy-gcaa"):
        q = row(body, quiet)
        assert q["notices_filed"] == 0 and q["conflicts"] == 0 and q["lead_time_median_s"] is None
        assert q["acknowledgements"] == acks()
        assert q["nonconformance_s"] == q["incursion_s"] == 0.0


def test_the_period_is_half_open_and_drawn_up_as_of_its_end(api: Api) -> None:
    scenario(api)
    body = report(api, "root", since=format_time(T0 + 1000), until=format_time(T0 + 4000))
    us, ru = row(body, "us-af"), row(body, "ru-vks")
    assert us["notices_filed"] == 0 and ru["notices_filed"] == 1  # us-af filed at 0 and 600
    assert us["conflicts"] == ru["conflicts"] == 1
    # as of 4000 the conflict thread's deadline (4800) has not passed: ru-vks's answer is pending
    assert us["acknowledgements"]["on_time"] == 1
    assert ru["acknowledgements"] == acks(late=1, pending=1, median_s=1200.0)
    # alerts opened before the period count from its start: inside the range 10 860 → 11 100,
    # nonconforming 10 860 → 14 400
    body = report(api, "root", since=format_time(T0 + 3 * H + 60), until=format_time(T0 + 4 * H))
    assert row(body, "ru-vks")["incursion_s"] == 240.0 and row(body, "ru-vks")["nonconformance_s"] == 3540.0
    # and a period that ends before the aircraft left counts to its end: 10 800 → 11 000
    body = report(api, "root", since=format_time(T0 + 3 * H - 60), until=format_time(T0 + 3 * H + 200))
    assert row(body, "ru-vks")["incursion_s"] == 200.0 and row(body, "ru-vks")["nonconformance_s"] == 170.0
    # a period that ends exactly at a filing leaves it to the next one
    body = report(api, "root", since=format_time(T0), until=format_time(T0 + 600))
    assert row(body, "us-af")["notices_filed"] == 1


def test_each_reader_gets_only_the_rows_it_may_see(api: Api) -> None:
    """A row tells how many notices a party filed and when, and how it answered private messages:
    only a reader that sees the party whole (``full``) gets it."""
    scenario(api)
    period = {"since": format_time(T0), "until": format_time(T0 + 4 * H)}
    readers = [v for v in api.tokens if v != "un-obs"]
    rows = {v: [r["party"] for r in report(api, v, **period)["report"]["parties"]] for v in readers}
    assert rows["us-af"] == ["uk-raf", "us-af"]  # its coalition, seen whole
    assert rows["uk-raf"] == ["uk-raf", "us-af"]
    assert rows["ru-vks"] == ["ru-vks"]  # us-af at the default conflicts-only, tr-af at existence
    assert rows["tr-af"] == ["tr-af"]
    assert rows["sy-gcaa"] == ["sy-gcaa"]
    # an observer granted conflicts-only sees ru-vks's conflicts, not its figures
    r = api.as_("un-obs").get("/v1/reports/compliance", params=period)
    assert r.status_code == 403 and "grant" in r.text
    api.broker.set_disclosure("un-obs", "ru-vks", Level.FULL)
    assert [r["party"] for r in report(api, "un-obs", **period)["report"]["parties"]] == ["ru-vks"]
    # the same figures whoever reads them
    assert row(report(api, "un-obs", **period), "ru-vks") == row(report(api, "root", **period), "ru-vks")
    assert row(report(api, "uk-raf", **period), "us-af") == row(report(api, "root", **period), "us-af")


def test_every_report_records_its_hash_in_the_log(api: Api) -> None:
    scenario(api)
    before = api.broker.last_seq()
    body = report(api, "ru-vks", since=format_time(T0), until=format_time(T0 + 4 * H))
    assert body["report_sha256"] == report_hash(body["report"])
    ev = api.broker.log_events()[-1]
    assert ev.seq == body["log"]["seq"] == before + 1 and ev.hash == body["log"]["hash"]
    assert ev.type == "report.compliance" and ev.actor == "ru-vks"
    assert ev.payload["report_sha256"] == body["report_sha256"] and ev.payload["parties"] == ["ru-vks"]
    assert ev.payload["as_of_seq"] == body["log"]["as_of_seq"] == before
    # the requester sees it on its stream; nobody else but the admin does
    assert [e["event"] for e in api.events("ru-vks", after=before)] == ["report.compliance"]
    assert api.events("us-af", after=before) == []
    # the same period again: the same figures, the same hash, a new entry
    again = report(api, "ru-vks", since=format_time(T0), until=format_time(T0 + 4 * H))
    assert again["report_sha256"] == body["report_sha256"] and again["log"]["seq"] == before + 2


def test_an_admin_export_alone_recomputes_the_report_and_its_hash(api: Api) -> None:
    """The facts come from the log: the admin's export, verified, gives the same report and hash
    with no access to the store, the minimum notice taken from the policy the log recorded."""
    at(api, 0)
    api.broker.record_policy(theater_policy(broker_config()))
    scenario(api)
    since, until = T0, T0 + 4 * H
    body = report(api, "root", since=format_time(since), until=format_time(until))
    doc = api.as_("root").get("/v1/audit/export").json()
    assert verify_export(doc).ok
    events = [Event.from_json(e) for e in doc["events"]]
    [logged] = [e for e in events if e.type == "report.compliance"]

    def of(types: Collection[str], start: float | None, end: float) -> list[Event]:
        return [
            e
            for e in events
            if e.type in types
            and (start is None or e.time >= start)
            and e.time < end
            and e.seq <= logged.payload["as_of_seq"]
        ]

    [policy] = [e for e in events if e.type == "policy.recorded" and e.seq < logged.seq]
    recomputed = compliance_report(
        logged.payload["parties"],
        since,
        until,
        filed_notices(of({"notice.filed"}, since, until)),
        conflict_facts(of({"conflict.created"}, since, until)),
        ack_facts(
            of({"message.sent"}, since, until), of({"message.acknowledged"}, since, math.nextafter(until, math.inf))
        ),
        alert_spans(of(SPAN_EVENTS, None, until)),
        policy.payload["policy"]["notice"]["min_notice_s"],
    )
    assert report_json(recomputed) == body["report"]
    assert report_hash(report_json(recomputed)) == body["report_sha256"] == logged.payload["report_sha256"]
    # and the acknowledgement figures are in it: a recomputation that missed them would differ
    assert row(body, "ru-vks")["acknowledgements"]["late"] == 2


def test_a_report_does_not_hold_up_filings_and_is_drawn_up_as_of_the_log_it_read(api: Api) -> None:
    """A filing made while the report reads its facts goes through at once (the read takes no
    lock); the report records the last entry it read, and what came after is not in it."""
    scenario(api)
    us_af = api.broker.party("us-af")
    during: list[int] = []

    def file_meanwhile() -> None:
        # from another thread, as a party would: were the read under the filing lock, the filing
        # would wait for it, and the join below would time out
        def filing() -> None:
            body = circle_notice(start=format_time(T0 + 6 * H), end=format_time(T0 + 7 * H))
            api.broker.file(parse_file_notice(us_af, body, api.broker.limits))
            during.append(api.broker.last_seq())

        filer = threading.Thread(target=filing, daemon=True)
        filer.start()
        filer.join(10)
        assert not filer.is_alive(), "the filing waited for the report's read"

    before = api.broker.last_seq()
    r = compliance(api.broker, api.broker.party("root"), format_time(T0), None, while_reading=file_meanwhile)
    [after_filing] = during
    assert r.as_of_seq == before < after_filing < r.log_seq
    [ev] = [e for e in api.broker.log_events() if e.seq == r.log_seq]
    assert ev.payload["as_of_seq"] == before
    # the notice filed meanwhile, at the report's until, is not counted; a new report counts it
    assert row(r.to_json(), "us-af")["notices_filed"] == 2
    at(api, 4 * H + 1)
    assert (
        row(report(api, "root", since=format_time(T0), until=format_time(T0 + 4 * H + 1)), "us-af")["notices_filed"]
        == 3
    )


def test_the_time_no_broker_watched_is_not_counted_in_alert_minutes(api: Api) -> None:
    """The broker stops 120 s after vks1 entered us-af's range and starts again 20 min later on
    the same store: the start is logged with the last cycle before it, and the spans leave the
    time between out, whether the restarted broker finds the aircraft again or not."""
    at(api, 0)
    file(api, "us-af", 3 * H, 6 * H, lat=34.0, lon=36.0, radius_km=10, lower_m=0, upper_m=10000)
    for t in range(int(3 * H), int(3 * H) + 121, 30):  # inside from 10 800; nonconforming from 10 830
        at(api, t)
        vks1(api, t, 34.0, 36.0)
        api.tactical.cycle()
    at(api, 3 * H + 1200)  # the first broker has stopped; a second starts on the same store
    store2 = SqlStore(api.store.url, clock=api.clock)
    try:
        broker2 = Broker(store2, api.clock, BrokerKey.generate(), disclosure=api.broker.policy)
        broker2.record_start("test")
        [started] = [e for e in broker2.log_events() if e.type == "broker.started"]
        assert started.payload["previous_cycle_at"] == format_time(T0 + 3 * H + 120)
        tactical2 = TacticalService(broker2, broker_config().tactical)
        vks = broker2.party("ru-vks")
        for t in range(int(3 * H) + 1200, int(3 * H) + 1261, 30):  # still inside, to 12 060
            at(api, t)
            states = {"states": [still(t, 34.0, 36.0)]}
            tactical2.ingest(parse_report_tracks(vks, states, tactical2.clock(), tactical2.settings.track_timeout_s))
            tactical2.cycle()
        for t in (3 * H + 1261, 3 * H + 1262, 3 * H + 1263):  # gone east: cleared after three cycles
            at(api, t)
            states = {"states": [still(t, 34.0, 36.5)]}
            tactical2.ingest(parse_report_tracks(vks, states, tactical2.clock(), tactical2.settings.track_timeout_s))
            tactical2.cycle()
    finally:
        store2.close()
    at(api, 3 * H + 1800)
    ru = row(report(api, "root", since=format_time(T0), until=format_time(T0 + 3 * H + 1800)), "ru-vks")
    # inside 10 800 → 10 920 and 12 000 → 12 060, not 10 800 → 12 060 (1260 s)
    assert ru["incursion_s"] == 120.0 + 60.0
    # nonconforming 10 830 → 10 920 and 12 000 → the end, 12 600 (still reported outside its notices)
    assert ru["nonconformance_s"] == 90.0 + 600.0


def test_the_html_report_carries_its_charts_and_its_hash(api: Api) -> None:
    scenario(api)
    r = api.as_("root").get("/v1/reports/compliance", params={"format": "html", "since": format_time(T0)})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    seq = api.broker.last_seq()
    ev = api.broker.log_events()[-1]
    assert ev.payload["report_sha256"] in r.text and f"sequence <b>{seq}</b>" in r.text
    assert r.text.count("<svg") == 2 and "ru-vks" in r.text


def test_an_incursion_counts_from_the_cycle_that_finds_the_aircraft_inside_not_from_the_prediction(api: Api) -> None:
    """ru-vks's aircraft heads east at 200 m/s for us-af's range (10 km radius), 30.5 km from its
    centre: predicted to enter at about 102 s (alert at severity medium), first found inside by the
    cycle at 110 s, still inside at the end of the period, 150 s."""
    t0 = api.clock.t
    around = {"start": format_time(t0 - H), "end": format_time(t0 + 3 * H)}
    r = api.as_("us-af").post(
        "/v1/notices", json=circle_notice(lat=34.0, lon=36.0, radius_km=10, lower_m=0, upper_m=9000, **around)
    )
    assert r.status_code == 201, r.text
    deg_per_m = 1 / 92_390.0  # of longitude at 34° N (WGS84)
    severities = []
    for k in range(16):  # a report and a cycle every 10 s, 0 … 150 s
        t = t0 + 10 * k
        api.clock.t = t
        lon = 36.0 - (30_500 - 200 * 10 * k) * deg_per_m
        state = {"aircraft": "vks9", "time": t, "lat": 34.0, "lon": lon, "alt_m": 5000.0, "alt_ref": "AMSL"}
        state |= {"gs_mps": 200.0, "trk_deg": 90.0, "vs_mps": 0.0}
        assert api.as_("ru-vks").post("/v1/tracks", json={"states": [state]}).json()["accepted"] == 1
        changes = api.tactical.cycle()
        severities += [(10 * k, a.severity) for a in changes.created + changes.updated if a.kind.value == "incursion"]
    assert severities[0] == (0, "medium") and (110, "loss") in severities, severities
    body = report(api, "root", since=format_time(t0 + 20), until=format_time(t0 + 150))
    assert row(body, "ru-vks")["incursion_s"] == 40.0  # 110 → 150, not from the alert's opening


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({"until": format_time(T0 + 60)}, "until", "must not be after"),
        ({"since": format_time(T0), "until": format_time(T0 - 60)}, "since", "must be before until"),
        ({"since": "yesterday"}, "since", "RFC 3339"),
        ({"format": "pdf"}, "query.format", "html"),
        ({"since": format_time(T0 - 32 * 86400)}, "since", "at most 31 days"),
    ],
)
def test_bad_periods_are_refused_naming_the_field_and_log_nothing(
    api: Api, params: dict[str, str], field: str, reason: str
) -> None:
    before = api.broker.last_seq()
    r = api.as_("root").get("/v1/reports/compliance", params=params)
    assert r.status_code == 422, r.text
    assert field in [d["field"] for d in r.json()["detail"]] and reason in r.text
    assert api.broker.last_seq() == before
