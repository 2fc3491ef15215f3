"""The console's side panels and timeline in real headless Chromium, against a real broker: the
hotline, the Gantt timeline, the vertical view of a conflict, the compliance tab and the exports.

As in test_console_browser.py: every request outside loopback is blocked and counted and any console
error fails the test; screenshots of each step go to the test's tmp dir (and /tmp/console-*.png).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from e2e.console_support import Pages, console_pages, file, running_api
from integration.api_support import Api, circle_notice


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from running_api(tmp_path)


@pytest.fixture
def pages(api: Api, tmp_path: Path) -> Iterator[Pages]:
    yield from console_pages(api, tmp_path)


def send(api: Api, party: str, body: dict[str, Any]) -> dict[str, Any]:
    r = api.as_(party).post("/v1/messages", json=body)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def article(page: Any, message_id: str) -> Any:
    return page.locator(f'#panel-hotline article[data-message-id="{message_id}"]')


def test_the_hotline_panel_acknowledges_and_replies_and_the_sender_sees_it_live(api: Api, pages: Pages) -> None:
    ru = pages.open("ru-vks", api.tokens["ru-vks"])
    us = pages.open("us-af", api.tokens["us-af"])
    late = send(
        api, "us-af", {"to": ["ru-vks"], "subject": "Tanker orbit", "text": "Orbit moved north.", "ack_within_s": 60}
    )
    api.clock.t += 120  # a minute past its deadline on the broker's clock
    assert api.hotline.tick() == 1  # one message.overdue event, to us-af and ru-vks
    soon = send(
        api, "us-af", {"to": ["ru-vks"], "subject": "Sortie moved", "text": "Starts 08:30Z.", "ack_within_s": 900}
    )
    fyi = send(api, "us-af", {"to": ["ru-vks"], "subject": "For information", "text": "No reply needed."})
    for m in (late, soon, fyi):
        article(ru, m["id"]).wait_for(state="visible", timeout=30_000)
    # the overdue one is marked, once the escalation's message.overdue event reloaded the panel
    ru.locator(f'#panel-hotline article.overdue[data-message-id="{late["id"]}"]').wait_for(timeout=30_000)
    assert re.fullmatch(r"OVERDUE by \d:\d\d", article(ru, late["id"]).locator(".countdown").inner_text())
    assert article(ru, late["id"]).get_attribute("data-standing") == "overdue"
    countdown = article(ru, soon["id"]).locator(".countdown").inner_text()
    assert re.fullmatch(r"answer within 1[45]:\d\d", countdown), countdown
    assert "overdue" not in (article(ru, soon["id"]).get_attribute("class") or "")
    # unanswered first, by deadline; then the rest
    order = ru.locator("#panel-hotline article").evaluate_all("els => els.map(e => e.dataset.messageId)")
    assert order == [late["id"], soon["id"], fyi["id"]], order
    assert ru.locator("#tab-hotline").inner_text() == "Hotline (3)"
    panel = ru.locator("#panel-hotline").inner_text().lower()
    assert "received" in panel and "understood" in panel and "approv" not in panel
    pages.shot(ru, "8-hotline-ru-vks")

    # the sender's page shows the recipient pending, then understood once ru-vks clicks
    line = article(us, soon["id"]).locator('li[data-party="ru-vks"]')
    line.wait_for(timeout=30_000)
    assert line.get_attribute("data-state") == "pending"
    article(ru, soon["id"]).locator("button.ack-understood").click()
    article(us, soon["id"]).locator('li[data-party="ru-vks"][data-state="understood"]').wait_for(timeout=30_000)
    assert "ru-vks: understood (on-time)" in article(us, soon["id"]).inner_text()
    ru.locator(f'#panel-hotline article[data-message-id="{soon["id"]}"][data-state="understood"]').wait_for()
    assert ru.locator("#tab-hotline").inner_text() == "Hotline (2)"
    # "received" on the overdue one: late, and the sender sees that too
    article(ru, late["id"]).locator("button.ack-received").click()
    article(us, late["id"]).locator('li[data-party="ru-vks"][data-state="received"]').wait_for(timeout=30_000)
    assert "ru-vks: received (late)" in article(us, late["id"]).inner_text()

    # a reply from the page reaches the sender's page in the thread (once ru-vks's page has reloaded
    # after its acknowledgement: the list reorders, and a click aimed before lands elsewhere)
    ru.locator(f'#panel-hotline article[data-message-id="{late["id"]}"][data-state="received"]').wait_for()
    article(ru, soon["id"]).locator("textarea.reply-text").fill("Copied, we hold south of 35N until 09:00Z.")
    article(ru, soon["id"]).locator("button.reply").click()
    reply = us.locator("#panel-hotline article").filter(has_text="we hold south of 35N")
    reply.wait_for(timeout=30_000)
    assert "Re: Sortie moved" in reply.inner_text() and reply.get_attribute("data-state") == "pending"
    [stored] = [m for m in api.as_("us-af").get("/v1/messages?box=inbox").json() if m["from"] == "ru-vks"]
    assert stored["in_reply_to"] == soon["id"] and stored["thread_id"] == soon["id"]
    pages.shot(us, "8-hotline-us-af-acknowledged")


def test_a_deadline_passing_turns_the_countdown_overdue_without_any_event(api: Api, pages: Pages) -> None:
    ru = pages.open("ru-vks", api.tokens["ru-vks"])
    m = send(api, "us-af", {"to": ["ru-vks"], "subject": "Quick", "text": "Answer fast.", "ack_within_s": 3})
    countdown = article(ru, m["id"]).locator(".countdown")
    countdown.wait_for(timeout=30_000)
    # the broker's clock stands still here and nothing escalates it: the page counts down by itself
    # from the broker's time it read, and marks the message when the deadline passes
    ru.locator(f'#panel-hotline article.overdue[data-message-id="{m["id"]}"]').wait_for(timeout=30_000)
    assert countdown.inner_text().startswith("OVERDUE by 0:0")
    assert article(ru, m["id"]).get_attribute("data-standing") == "open"  # as the API last said


def test_a_reply_without_text_says_so_and_sends_nothing(api: Api, pages: Pages) -> None:
    ru = pages.open("ru-vks", api.tokens["ru-vks"])
    m = send(api, "us-af", {"to": ["ru-vks"], "subject": "Check", "text": "Radio check."})
    article(ru, m["id"]).locator("button.reply").click()
    ru.locator("#panel-hotline .error").filter(has_text="a reply needs some text").wait_for(timeout=30_000)
    assert api.as_("us-af").get("/v1/messages?box=inbox").json() == []


def box(locator: Any) -> tuple[float, float, float, float]:
    """x, y, width, height of an SVG element, in its own coordinates."""
    b = locator.evaluate("e => { const b = e.getBBox(); return [b.x, b.y, b.width, b.height]; }")
    return (b[0], b[1], b[2], b[3])


def boxes(page: Any, *selectors: str) -> list[tuple[float, float, float, float]]:
    """The boxes (:func:`box`) of every element under ``#timeline`` matching each selector in turn,
    read in one go: the same drawing, whatever the page draws next."""
    got = page.evaluate(
        """(sels) => sels.flatMap((s) => [...document.querySelectorAll(`#timeline ${s}`)].map((e) => {
            const b = e.getBBox(); return [b.x, b.y, b.width, b.height]; }))""",
        list(selectors),
    )
    return [(b[0], b[1], b[2], b[3]) for b in got]


def file_pair(api: Api) -> dict[str, Any]:
    """uk-raf 3000–6000 m 07:30–10:30, us-af 5000–9000 m 09:00–12:00, overlapping: one conflict that
    us-af sees whole (same coalition), its slice 09:00–10:30."""
    file(api, "uk-raf", circle_notice(id="uk-a1", upper_m=6000))
    body = circle_notice(lat=35.35, id="us-b1", lower_m=5000, upper_m=9000)
    body["volumes"][0]["time_start"]["value"] = "2015-09-30T09:00:00Z"
    body["volumes"][0]["time_end"]["value"] = "2015-09-30T12:00:00Z"
    [conflict] = file(api, "us-af", body)["conflicts"]
    return conflict


def set_hour(page: Any, iso: str) -> None:
    page.eval_on_selector(
        "#hour", f"(el) => {{ el.value = String(Date.parse('{iso}') / 1000); el.dispatchEvent(new Event('input')); }}"
    )


def test_the_timeline_marks_conflicts_and_the_hour_and_selects_on_the_map(api: Api, pages: Pages) -> None:
    us = pages.open("us-af", api.tokens["us-af"])
    conflict = file_pair(api)
    uk_bar = us.locator('#timeline rect.bar[data-notice-id="uk-raf:uk-a1"]')
    us_bar = us.locator('#timeline rect.bar[data-notice-id="us-af:us-b1"]')
    uk_bar.wait_for(timeout=30_000)
    us_bar.wait_for(timeout=30_000)
    marks = us.locator(f'#timeline rect.conflict-mark[data-conflict-id="{conflict["id"]}"]')
    # on both notices' rows (the list of conflicts may arrive a redraw after the notices')
    marks.nth(1).wait_for(state="attached", timeout=30_000)
    assert marks.count() == 2
    # the bars and the marks measured at once: each event from the broker redraws the timeline
    uk, ub, *mark_boxes = boxes(us, 'rect.bar[data-notice-id="uk-raf:uk-a1"]', 'rect.bar[data-notice-id="us-af:us-b1"]',
                                f'rect.conflict-mark[data-conflict-id="{conflict["id"]}"]')  # fmt: skip
    assert ub[0] > uk[0] + 10 and ub[1] > uk[1]  # us-b1 starts later (09:00 v 07:30); rows sorted by start
    # the slice's time window (09:00–10:30 widened by the time minimum), on uk-a1's scale (07:30–10:30)
    window = conflict["slice"]["time_window"]
    t0, hours3 = datetime.fromisoformat("2015-09-30T07:30:00+00:00").timestamp(), 3 * 3600
    x = [uk[0] + (datetime.fromisoformat(window[k]).timestamp() - t0) / hours3 * uk[2] for k in ("start", "end")]
    assert len(mark_boxes) == 2
    for m in mark_boxes:
        assert abs(m[0] - x[0]) < 1 and abs(m[0] + m[2] - x[1]) < 1, (m, x)
    # a redraw (the next event) keeps the timeline's elements: one held across it still has its box
    held = us.locator("#timeline rect.conflict-mark").first.element_handle()
    us.click("#all-hours")  # a redraw with nothing changed
    assert held.evaluate("e => e.isConnected") and box(held)[0] == mark_boxes[0][0]
    assert us.locator("#timeline line.instant").count() == 0  # all hours: no instant
    set_hour(us, "2015-09-30T08:00:00Z")
    instant = us.locator("#timeline line.instant")
    instant.wait_for(state="attached", timeout=30_000)
    assert instant.get_attribute("data-time") == "2015-09-30T08:00:00.000Z"
    at = float(instant.get_attribute("x1") or "nan")
    assert abs(at - (uk[0] + uk[2] / 6)) < 1  # half an hour into uk-a1's three
    # a bar selects its notice on the map (us-b1 is not on the 08:00 map: show all hours first)
    us.click("#all-hours")
    us_bar.dispatch_event("click")
    us.locator('#map path.notice.selected[data-notice-id="us-af:us-b1"]').wait_for(timeout=30_000)
    assert us.locator("#map path.notice.selected").count() == 1
    assert "selected" in (us.locator('#timeline rect.bar[data-notice-id="us-af:us-b1"]').get_attribute("class") or "")
    pages.shot(us, "9-timeline-selected")


def test_the_vertical_view_shows_both_bands_the_slice_and_the_minima(api: Api, pages: Pages) -> None:
    us = pages.open("us-af", api.tokens["us-af"])
    conflict = file_pair(api)
    assert us.locator("#panel-vertical").is_hidden()
    mark = us.locator(f'#timeline rect.conflict-mark[data-conflict-id="{conflict["id"]}"]').first
    mark.wait_for(timeout=30_000)
    mark.dispatch_event("click")
    view = us.locator(f'#panel-vertical svg.vertical[data-conflict-id="{conflict["id"]}"]')
    view.wait_for(timeout=30_000)
    assert "active" in (us.locator("#tab-vertical").get_attribute("class") or "")
    bands = us.locator("#panel-vertical rect.band")
    assert bands.count() == 2 and us.locator("#panel-vertical rect.minimum").count() == 2
    # the overlap lies inside both bands widened by the minima (dashed), in time and altitude
    overlap = box(us.locator("#panel-vertical rect.overlap"))
    for i in range(2):
        b = box(us.locator("#panel-vertical rect.minimum").nth(i))
        assert b[0] - 1 <= overlap[0] and overlap[0] + overlap[2] <= b[0] + b[2] + 1, (overlap, b)
        assert b[1] - 1 <= overlap[1] and overlap[1] + overlap[3] <= b[1] + b[3] + 1, (overlap, b)
    text = us.locator("#panel-vertical").inner_text()
    assert "uk-raf: uk-raf:uk-a1 volume 0: 3000–6000 m (FL098–FL197)" in text, text
    assert "us-af: us-af:us-b1 volume 0: 5000–9000 m (FL164–FL295)" in text, text
    s = conflict["slice"]["altitude"]
    assert f"overlap (red): {round(s['lower_m'])}–{round(s['upper_m'])} m" in text, text
    minima = api.as_("us-af").get("/v1/policy").json()["separation"]
    v = minima["vertical_m"]
    assert f"vertical {round(v)} m ({round(v / 0.3048)} ft, FL{round(v / 0.3048 / 100):03d})" in text, text
    assert f"horizontal {round(minima['horizontal_m'])} m" in text, text
    # how far the first side would move to clear the other by the vertical minimum
    bands_m = {"uk-raf:uk-a1": (3000, 6000), "us-af:us-b1": (5000, 9000)}
    a, b = (bands_m[side["notice"]] for side in conflict["sides"])
    assert f"would move up {round(b[1] + v - a[0])} m or down {round(a[1] - (b[0] - v))} m" in text, text
    pages.shot(us, "10-vertical-view")


def test_the_compliance_tab_shows_the_report_for_the_parties_this_token_sees(api: Api, pages: Pages) -> None:
    file_pair(api)
    api.clock.t += 60  # the filings inside the report's period, which ends now
    us = pages.open("us-af", api.tokens["us-af"])
    us.click("#tab-compliance")
    table = us.locator("#panel-compliance table.compliance")
    table.wait_for(timeout=30_000)
    parties = table.locator("thead th[data-party]").evaluate_all("hs => hs.map(h => h.dataset.party)")
    assert sorted(parties) == ["uk-raf", "us-af"], parties  # its coalition, not ru-vks

    def cell(party: str, figure: str) -> str:
        text: str = table.locator(f'td[data-party="{party}"][data-figure="{figure}"]').inner_text()
        return text

    # as the API's report has it: one notice each, one conflict each, us-af's filed 9 h ahead
    assert [cell(p, "notices") for p in ("us-af", "uk-raf")] == ["1", "1"]
    assert cell("us-af", "conflicts") == "1" and cell("us-af", "lead time median") == "9 h 00 min"
    assert cell("uk-raf", "lead time median") == "7 h 30 min" and cell("uk-raf", "late") == "0"
    text = us.locator("#panel-compliance").inner_text()
    assert "report SHA-256" in text
    # drawn up once (every report is a logged, rate-limited request), again only on Refresh
    us.click("#tab-hotline")
    us.click("#tab-compliance")
    assert us.locator("#panel-compliance").inner_text() == text
    api.clock.t += 60
    us.click("#compliance-refresh")
    us.locator("#panel-compliance p").filter(has_text="→ 2015-09-30 00:02Z").wait_for(timeout=30_000)
    assert us.locator("#panel-compliance").inner_text() != text
    pages.shot(us, "11-compliance")
    obs = pages.open("un-obs", api.tokens["un-obs"])  # sees no party whole
    obs.click("#tab-compliance")
    error = obs.locator("#panel-compliance .error")
    error.wait_for(timeout=30_000)
    assert "sees no party's figures whole" in error.inner_text() and "403" in error.inner_text()
    # Chromium logs every refused request as an error; this one is the API's answer the test asks for
    refused = "un-obs: Failed to load resource: the server responded with a status of 403 (Forbidden)"
    assert pages.errors == [refused]
    pages.errors.clear()


def download(page: Any, button: str) -> str:
    with page.expect_download(timeout=30_000) as d:
        page.click(button)
    text: str = Path(d.value.path()).read_text(encoding="utf-8")
    return text


def counter_clockwise(ring: list[list[float]]) -> bool:
    return sum((b[0] - a[0]) * (b[1] + a[1]) for a, b in itertools.pairwise(ring)) < 0


def test_the_exports_hold_what_the_map_shows_at_the_hour_picked(api: Api, pages: Pages) -> None:
    import xml.etree.ElementTree as ET

    us = pages.open("us-af", api.tokens["us-af"])
    conflict = file_pair(api)
    us.locator(f'#map path.slice[data-conflict-id="{conflict["id"]}"]').wait_for(timeout=30_000)
    geo = json.loads(download(us, "#export-geojson"))
    assert geo["type"] == "FeatureCollection"
    kinds = sorted((f["properties"]["type"], f["properties"]["id"]) for f in geo["features"])
    assert kinds == [("conflict-slice", conflict["id"]), ("notice", "uk-raf:uk-a1"), ("notice", "us-af:us-b1")]
    [uk] = [f for f in geo["features"] if f["properties"]["id"] == "uk-raf:uk-a1"]
    assert {"party": "uk-raf", "altitude_lower_m": 3000, "altitude_upper_m": 6000}.items() <= uk["properties"].items()
    assert uk["properties"]["time_start"] == "2015-09-30T07:30:00Z"
    ring = uk["geometry"]["coordinates"][0]
    assert uk["geometry"]["type"] == "Polygon" and counter_clockwise(ring)  # RFC 7946's winding
    lngs, lats = [p[0] for p in ring], [p[1] for p in ring]
    assert abs((min(lats) + max(lats)) / 2 - 35.32) < 0.01 and abs((min(lngs) + max(lngs)) / 2 - 36.62) < 0.01
    assert 0.14 < max(lats) - min(lats) < 0.15  # an 8 km radius: 0.1439° of latitude across

    set_hour(us, "2015-09-30T08:00:00Z")  # uk-a1 only: us-b1 and the slice start at 09:00
    us.locator('#map path.notice[data-notice-id="us-af:us-b1"]').wait_for(state="detached", timeout=30_000)
    geo = json.loads(download(us, "#export-geojson"))
    assert [f["properties"]["id"] for f in geo["features"]] == ["uk-raf:uk-a1"]
    kml = ET.fromstring(download(us, "#export-kml"))
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    marks = kml.findall(".//k:Placemark", ns)
    assert [m.findtext("k:name", namespaces=ns) for m in marks] == ["uk-raf:uk-a1"]
    assert marks[0].findtext("k:TimeSpan/k:begin", namespaces=ns) == "2015-09-30T07:30:00Z"
    data = {d.get("name"): d.findtext("k:value", namespaces=ns) for d in marks[0].iterfind(".//k:Data", ns)}
    assert data["altitude_upper_m"] == "6000" and data["party"] == "uk-raf"
    text = marks[0].findtext(".//k:outerBoundaryIs/k:LinearRing/k:coordinates", namespaces=ns) or ""
    points = [[float(v) for v in p.split(",")] for p in text.split()]
    assert len(points) > 20 and points[0] == points[-1] and counter_clockwise(points)
    pages.shot(us, "12-export-at-0800")


def test_the_broker_clock_route_needs_a_token_and_gives_the_broker_time(api: Api) -> None:
    assert api.as_("nobody").get("/console/now").status_code == 401
    api.clock.t += 90.5
    assert api.as_("us-af").get("/console/now").json() == {"now": "2015-09-30T00:01:30.500000Z", "rate": 1.0}
