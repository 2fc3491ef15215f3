"""Notices and the broker's clock, on both stores (issue 10 §2): a notice that has already ended is
refused, notices whose time has passed move to ``ended`` on the broker's clock, lists show what is
current or to come by default, and a protected site gets no hint to move."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from api_support import Api, circle_notice
from test_api_strict import rows

from deconflict.domain.disclosure_policy import Level
from deconflict.domain.times import parse_time
from deconflict.domain.volumes import NoticeState
from deconflict.services.broker import SITE_STAYS


def at(text: str) -> float:
    return parse_time(text, "t")


def test_a_notice_that_has_ended_is_refused_and_nothing_is_written(api: Api) -> None:
    # Seen on main: 201, "late", lead time -86 400 s.
    api.clock.t = at("2015-09-30T12:00:00Z")
    before = rows(api)
    body = circle_notice(start="2015-09-29T07:30:00Z", end="2015-09-29T10:30:00Z")
    r = api.as_("us-af").post("/v1/notices", json=body)
    assert r.status_code == 422, r.text
    [d] = r.json()["detail"]
    assert d["field"] == "volumes[0].time_end"
    assert "2015-09-29T10:30:00Z has passed" in d["reason"] and "25.5 h before" in d["reason"]
    # ending exactly now is over too
    r = api.as_("us-af").post(
        "/v1/notices", json=circle_notice(start="2015-09-30T10:00:00Z", end="2015-09-30T12:00:00Z")
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "volumes[0].time_end"
    assert rows(api) == before


def test_a_notice_with_one_volume_still_to_come_is_accepted(api: Api) -> None:
    api.clock.t = at("2015-09-30T12:00:00Z")
    body = circle_notice(start="2015-09-30T07:30:00Z", end="2015-09-30T10:30:00Z")
    later = circle_notice(start="2015-09-30T11:00:00Z", end="2015-09-30T13:00:00Z")
    body["volumes"] += later["volumes"]
    r = api.as_("us-af").post("/v1/notices", json=body | {"id": "two"})
    assert r.status_code == 201, r.text
    # and an update cannot turn it into one that has ended
    past = circle_notice(start="2015-09-30T07:30:00Z", end="2015-09-30T10:30:00Z")
    r = api.as_("us-af").put("/v1/notices/us-af:two", json=past | {"replaces_version": 1})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "volumes[0].time_end"


def test_past_notices_end_on_the_broker_s_clock_and_their_conflicts_resolve(api: Api) -> None:
    ru = api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks", end="2015-09-30T09:00:00Z"))
    us = api.as_("us-af").post("/v1/notices", json=circle_notice(id="us", lat=35.40, end="2015-09-30T10:30:00Z"))
    assert ru.status_code == us.status_code == 201
    [conflict] = us.json()["conflicts"]
    end = at("2015-09-30T09:00:00Z")
    api.clock.t = end + 299  # within the separation time minimum (300 s) the conflict can still matter
    assert api.broker.end_past_notices() == 0
    api.clock.t = end + 301
    assert api.broker.end_past_notices() == 1
    assert api.broker.end_past_notices() == 0  # once
    assert api.as_("ru-vks").get("/v1/notices/ru-vks:vks").json()["state"] == "ended"
    assert api.as_("us-af").get("/v1/notices/us-af:us").json()["state"] == "accepted"
    c = api.as_("us-af").get(f"/v1/conflicts/{conflict['id']}").json()
    assert c["state"] == "resolved"
    ended = [e for e in api.events("ru-vks") if e["event"] == "notice.ended"]
    assert [e["data"]["data"]["notice"]["id"] for e in ended] == ["ru-vks:vks"]
    # the broker did it, on the record, and the log still verifies
    admin = api.as_("root").get("/v1/audit/export").json()
    [entry] = [e for e in admin["events"] if e["type"] == "notice.ended"]
    assert entry["actor"] == "broker"
    api.clock.t = at("2015-09-30T10:36:00Z")
    assert api.broker.end_past_notices() == 1
    assert api.as_("us-af").get("/v1/notices/us-af:us").json()["state"] == "ended"


def test_the_broker_ends_past_notices_by_itself(api: Api) -> None:
    api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks", end="2015-09-30T09:00:00Z"))
    stop = threading.Event()
    runner = threading.Thread(target=api.broker.run_expiry, args=(stop, 0.05), daemon=True)
    runner.start()
    try:
        api.clock.t = at("2015-09-30T09:10:00Z")
        deadline = time.monotonic() + 30
        while api.as_("ru-vks").get("/v1/notices/ru-vks:vks").json()["state"] != NoticeState.ENDED.value:
            assert time.monotonic() < deadline, "the notice did not end"
            time.sleep(0.05)
    finally:
        stop.set()
        runner.join(10)


def test_lists_show_what_is_current_or_to_come_by_default(api: Api) -> None:
    api.as_("us-af").post("/v1/notices", json=circle_notice(id="early", end="2015-09-30T08:00:00Z"))
    api.as_("us-af").post("/v1/notices", json=circle_notice(id="late", lat=30, end="2015-09-30T12:00:00Z"))
    api.clock.t = at("2015-09-30T09:00:00Z")

    def ids(**params: str) -> list[str]:
        return [n["id"] for n in api.as_("us-af").get("/v1/notices", params=params).json()]

    assert ids() == ["us-af:late"]
    assert ids(start="1970-01-01T00:00:00Z") == ["us-af:early", "us-af:late"]
    assert ids(state="accepted") == ["us-af:early", "us-af:late"]


def test_a_protected_site_gets_no_hint_to_move(api: Api) -> None:
    # Seen on main: a hospital filed after a notice was told to move 3 h earlier or later.
    week = {"start": "2015-09-29T00:00:00Z", "end": "2015-10-06T00:00:00Z"}
    api.broker.set_disclosure("sy-gcaa", "uk-raf", Level.FULL)  # so the site sees the notice whole
    api.as_("uk-raf").post("/v1/notices", json=circle_notice(id="uk"))
    site = api.as_("sy-gcaa").post("/v1/protected-sites", json=circle_notice(id="hospital", radius_km=2, **week))
    assert site.status_code == 201 and len(site.json()["conflicts"]) == 1
    assert site.json()["hints"] is None and site.json()["hints_withheld"] == SITE_STAYS
    # the notice that conflicts with the site still gets its hints
    us = api.as_("us-af").post("/v1/notices", json=circle_notice(id="us"))
    assert us.json()["hints"] is not None


def test_a_notice_that_cannot_be_ended_holds_up_no_other(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="stuck", end="2015-09-30T08:00:00Z"))
    api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="free", lat=30, end="2015-09-30T09:00:00Z"))
    real = api.broker.notices.set_state_in

    def failing(repo: Any, notice_id: str, *args: Any, **kwargs: Any) -> Any:
        if notice_id == "ru-vks:stuck":
            raise RuntimeError("a notice the store cannot change")
        return real(repo, notice_id, *args, **kwargs)

    monkeypatch.setattr(api.broker.notices, "set_state_in", failing)
    api.clock.t = at("2015-09-30T09:10:00Z")
    assert api.broker.end_past_notices() == 1
    assert api.broker.end_past_notices() == 0
    assert api.as_("ru-vks").get("/v1/notices/ru-vks:free").json()["state"] == "ended"
    assert api.as_("ru-vks").get("/v1/notices/ru-vks:stuck").json()["state"] == "accepted"
    assert sum("ru-vks:stuck" in r.getMessage() for r in caplog.records) == 1  # logged once, not every sweep
    monkeypatch.setattr(api.broker.notices, "set_state_in", real)
    assert api.broker.end_past_notices() == 1  # and ended once it can be
