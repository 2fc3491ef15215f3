"""The operator's console (console/, served at /) in real headless Chromium, against a real broker.

Chromium is Debian's (``/usr/bin/chromium``, never ``playwright install``), as in
test_report_browser.py: without it the browser tests fail; ``DECONFLICT_SKIP_BROWSER=1`` skips them
deliberately. Every request outside loopback is blocked and counted and any console error fails the
test. Screenshots of each step go to the test's tmp dir (and /tmp/console-*.png).

The type check of the console's own code (``tsc --noEmit``) is here too: it needs Node, not Chromium.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deconflict.api import console
from e2e.console_support import Pages, built_console, console_pages, file, running_api
from e2e.test_report_browser import distinct_colours
from integration.api_support import Api, circle_notice

# ru-vks's notice, with a marker id and numbers found nowhere else (as in test_api_disclosure.py)
SECRET = "ru-vks-SECRET-B1"
SECRET_NUMBERS = ("33.813713", "38.117131", "2113.79", "6217.31")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from running_api(tmp_path)


@pytest.fixture
def pages(api: Api, tmp_path: Path) -> Iterator[Pages]:
    yield from console_pages(api, tmp_path)


def test_the_console_loads_logs_in_and_draws_the_map(api: Api, pages: Pages) -> None:
    file(api, "us-af", circle_notice(id="us-af-mine"))
    page = pages.open("us-af", api.tokens["us-af"])
    assert page.locator("#who").inner_text() == "us-af · party · coalition"
    assert page.locator("#login").is_hidden()
    # Natural Earth's countries and borders, from the broker
    assert len(page.locator("#map path.countries").get_attribute("d") or "") > 10_000
    assert len(page.locator("#map path.borders").get_attribute("d") or "") > 1_000
    notice = page.locator('#map path.notice[data-notice-id="us-af:us-af-mine"]')
    notice.wait_for(state="visible", timeout=30_000)
    notice.dispatch_event("click")
    popup = page.locator("#popup")
    popup.wait_for(state="visible", timeout=30_000)
    text = popup.inner_text()
    assert "altitude 3000–8000 m (FL098–FL262)" in text, text
    assert "time 2015-09-30 07:30Z → 2015-09-30 10:30Z" in text, text
    assert "lead time 7 h 30 min" in text and "LATE" not in text, text
    # filed an hour before it starts, under the 3 h minimum notice (/v1/policy): late
    late = file(api, "us-af", circle_notice(lat=34.9, id="us-af-late", start="2015-09-30T01:00:00Z"))
    assert late["late"] and late["lead_time_s"] == 3600
    late_shape = page.locator('#map path.notice[data-notice-id="us-af:us-af-late"]')
    late_shape.wait_for(state="visible", timeout=30_000)
    assert late_shape.get_attribute("data-late") == "true" and notice.get_attribute("data-late") == "false"
    late_shape.dispatch_event("click")
    text = popup.inner_text()
    assert "lead time 1 h 00 min" in text and "LATE: under the theater's minimum notice of 3 h 00 min" in text, text
    shot = pages.shot(page, "1-logged-in")
    assert distinct_colours(shot.read_bytes()) > 50  # a map, not a blank page
    # the token is kept for this tab only
    assert page.evaluate("sessionStorage.length") == 1 and page.evaluate("localStorage.length") == 0


def test_a_conflict_filed_through_the_api_appears_on_both_parties_maps(api: Api, pages: Pages) -> None:
    ru = pages.open("ru-vks", api.tokens["ru-vks"])
    us = pages.open("us-af", api.tokens["us-af"])
    file(api, "ru-vks", circle_notice(id="ru-a1"))
    filed_at = time.monotonic()
    conflicts = file(api, "us-af", circle_notice(lat=35.35, id="us-b1"))["conflicts"]
    assert len(conflicts) == 1
    selector = f'#map path.slice[data-conflict-id="{conflicts[0]["id"]}"]'
    seen: dict[str, float] = {}
    for name, page in (("ru-vks", ru), ("us-af", us)):
        page.locator(selector).wait_for(state="visible", timeout=30_000)
        seen[name] = time.monotonic() - filed_at
    print(f"slice on the maps after the filing returned: {seen}")  # the target: within a second
    pages.shot(ru, "2-conflict-ru-vks")
    pages.shot(us, "2-conflict-us-af")

    us.locator(selector).dispatch_event("click")
    text = us.locator("#popup").inner_text()
    assert "overlap altitude" in text and "FL" in text and "overlap time 2015-09-30" in text, text
    assert "us-af: us-af:us-b1" in text and "ru-vks: ru-vks:ru-a1" in text, text

    # the hour: outside the window the slice goes, at 08:00 it is there, "All hours" shows everything
    us.click("#now")  # the broker's clock (the test's: 2015-09-30 00:00Z), not the browser's
    us.locator(selector).wait_for(state="detached", timeout=30_000)
    us.wait_for_function("document.getElementById('hour-label').textContent === '2015-09-30 00:00Z'")
    us.eval_on_selector(
        "#hour",
        "(el) => { el.value = String(Date.parse('2015-09-30T08:00:00Z') / 1000);"
        " el.dispatchEvent(new Event('input')); }",
    )
    us.locator(selector).wait_for(state="visible", timeout=30_000)
    assert us.locator("#hour-label").inner_text() == "2015-09-30 08:00Z"
    pages.shot(us, "3-at-0800")
    us.click("#now")
    us.locator(selector).wait_for(state="detached", timeout=30_000)
    us.click("#all-hours")
    us.locator(selector).wait_for(state="visible", timeout=30_000)


def test_an_outsider_page_never_shows_what_its_grant_withholds(api: Api, pages: Pages) -> None:
    tr = pages.open("tr-af", api.tokens["tr-af"])  # sees that a conflict with ru-vks exists, nothing more
    uk = pages.open("uk-raf", api.tokens["uk-raf"])  # sees nothing of ru-vks
    body = circle_notice(lat=33.813713, lon=38.117131, lower_m=2113.79, upper_m=6217.31, id=SECRET)
    body["volumes"][0]["volume"]["outline_circle"]["radius"] = {"value": 5417.293, "units": "M"}
    file(api, "ru-vks", body)
    conflict = file(api, "tr-af", circle_notice(lat=33.847171, lon=38.151517, id="tr-b2"))["conflicts"][0]
    file(api, "uk-raf", circle_notice(lat=30.5, lon=40.5, id="uk-later"))  # filed after the secret

    area = tr.locator(f'#map path.area[data-conflict-id="{conflict["id"]}"]')
    area.wait_for(state="visible", timeout=30_000)
    uk.locator('#map path.notice[data-notice-id="uk-raf:uk-later"]').wait_for(state="visible", timeout=30_000)
    # on the timeline the coarse day of an `existence` conflict is drawn within tr-af's notices' span
    mark = tr.locator(f'#timeline rect.conflict-mark[data-conflict-id="{conflict["id"]}"]')
    mark.wait_for(state="attached", timeout=30_000)
    # both boxes in one script: the timeline is made anew on each reload, and a box read from an
    # element replaced between two calls would be empty
    m, bar = tr.evaluate(
        """(id) => [`rect.conflict-mark[data-conflict-id="${id}"]`, 'rect.bar[data-notice-id="tr-af:tr-b2"]']
             .map((s) => document.querySelector(`#timeline ${s}`).getBBox()).map((b) => [b.x, b.x + b.width])""",
        conflict["id"],
    )
    assert bar[0] - 1 <= m[0] < m[1] <= bar[1] + 1, (m, bar)
    pages.shot(tr, "4-outsider-tr-af")
    pages.shot(uk, "4-outsider-uk-raf")

    for name, page in (("tr-af", tr), ("uk-raf", uk)):
        # the page's markup, less the drawn outlines' path data (projected pixels: with thousands of
        # decimals in the coastlines alone, one matches a marker's digits by chance)
        texts = [
            page.evaluate(
                "() => { const c = document.documentElement.cloneNode(true);"
                " c.querySelectorAll('path').forEach(p => p.removeAttribute('d')); return c.outerHTML; }"
            )
        ]
        # and what the canvases hold (the notices there when there are many, the aircraft)
        texts.append(page.evaluate("() => JSON.stringify(document.getElementById('map').drawn)"))
        shapes = page.locator("#map g.shapes path")
        for i in range(shapes.count()):  # every popup the page can show
            shapes.nth(i).dispatch_event("click")
            texts.append(page.locator("#popup").inner_text())
        for marker in ("SECRET", *SECRET_NUMBERS):
            assert all(marker not in t for t in texts), f"{name}'s page shows {marker!r}"
    area.dispatch_event("click")
    assert "only its existence is disclosed" in tr.locator("#popup").inner_text()
    assert uk.locator("#map g.shapes path.area, #map g.shapes path.slice").count() == 0


def track(api: Api, party: str, aircraft: str, lon: float, trk_deg: float) -> None:
    """One state of an aircraft at 35° N, 6000 m, 200 m/s, reported now on the broker's clock."""
    st = {"aircraft": aircraft, "time": api.clock.t, "lat": 35.0, "lon": lon, "alt_m": 6000.0, "alt_ref": "AMSL"}
    st |= {"gs_mps": 200.0, "trk_deg": trk_deg, "vs_mps": 0.0, "callsign": aircraft.upper()}
    r = api.as_(party).post("/v1/tracks", json={"states": [st]})
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text


def test_a_predicted_loss_of_separation_rings_both_aircraft_on_both_parties_maps(api: Api, pages: Pages) -> None:
    ru = pages.open("ru-vks", api.tokens["ru-vks"])
    us = pages.open("us-af", api.tokens["us-af"])
    # head-on at the same level, 45.6 km apart, closing at 400 m/s (as in test_api_tactical.py)
    track(api, "ru-vks", "vks1", 36.0, 90)
    track(api, "us-af", "us1", 36.5, 270)
    [alert] = [a for a in api.tactical.cycle().created if a.kind.value == "separation"]
    rings = f'#map path.alert[data-alert-id="{alert.id}"]'
    for page in (ru, us):
        page.locator(rings).first.wait_for(state="visible", timeout=30_000)
        assert page.locator(rings).count() == 2  # one ring on each aircraft
    pages.shot(us, "6-alert-us-af")
    us.locator(rings).first.dispatch_event("click")
    text = us.locator("#popup").inner_text()
    assert "separation alert, medium" in text and "VKS1" in text and "US1" in text and "FL197" in text, text


def test_your_aircraft_move_on_the_map_with_trails_and_labels(api: Api, pages: Pages) -> None:
    """From /v1/tracks/live, pushed after each tactical cycle: never another party's aircraft. The
    aircraft are drawn on a canvas; the map tells what it drew (`drawn`, console/src/map.ts)."""
    us = pages.open("us-af", api.tokens["us-af"])
    track(api, "ru-vks", "vks1", 40.0, 270)  # far away: no alert, and never a track on us-af's map
    drawn = "() => document.getElementById('map').drawn.aircraft"
    xs = []
    for i in range(4):  # 200 m/s east, a report every 50 s: 10 km, 0.11° of longitude at 35° N
        if i:
            api.clock.t += 50
        track(api, "us-af", "us1", 36.0 + 0.11 * i, 90)
        api.tactical.cycle()
        us.wait_for_function(f"() => ({drawn})().some((a) => a.aircraft === 'us1' && a.trail === {i + 1})")
        [us1] = [a for a in us.evaluate(drawn) if a["aircraft"] == "us1"]
        xs.append(us1["x"])
    assert xs == sorted(xs) and xs[-1] - xs[0] > 20, xs  # moving east on the screen
    aircraft = us.evaluate(drawn)
    assert [a["aircraft"] for a in aircraft] == ["us1"]  # vks1 is ru-vks's: not on us-af's live picture
    assert aircraft[0]["label"] == "US1 FL197"  # one aircraft: its label clutters nothing
    assert us.locator("#map canvas.aircraft-layer").get_attribute("data-aircraft") == "1"
    # its popup: a click on the dot (the canvas is picked by position)
    box = us.locator("#map").bounding_box()
    assert box is not None
    us.mouse.click(box["x"] + us1["x"], box["y"] + us1["y"])
    text = us.locator("#popup").inner_text()
    assert "US1 (us-af: us1)" in text and "FL197" in text, text
    pages.shot(us, "13-live-tracks")


def test_a_thousand_notices_are_all_drawn_on_the_canvas_and_picked_by_a_click(api: Api, pages: Pages) -> None:
    """More points than a spread call takes (Math.min(...xs) overflowed the stack at 1000 circles);
    more notices than the map draws as SVG (CANVAS_FROM, console/src/map.ts): on the canvas, and a
    click on one still opens its popup. The timeline makes only the rows in view."""
    for i in range(1000):  # one party, 25 km apart: no conflicts, no probe budget spent
        body = circle_notice(lat=20 + (i % 100) * 0.25, lon=30 + (i // 100) * 0.25, radius_km=3, id=f"n{i}")
        assert api.as_("us-af").post("/v1/notices", json=body).status_code == 201
    started = time.monotonic()
    page = pages.open("us-af", api.tokens["us-af"])
    page.locator('#map[data-notices="1000"]').wait_for(state="attached", timeout=60_000)
    print(f"login to 1000 notices drawn: {time.monotonic() - started:.2f} s")
    assert page.locator("#counts").inner_text().startswith("1000 notices")
    assert page.locator("#map path.notice").count() == 0  # none as SVG
    shapes = page.evaluate("() => document.getElementById('map').drawn.shapes")
    assert len(shapes) == 1000 and {s["data"]["party"] for s in shapes} == {"us-af"}
    assert {s["data"]["noticeId"] for s in shapes} == {f"us-af:n{i}" for i in range(1000)}
    # a click at the middle of one's drawn box: that notice's popup, and it is selected
    [n500] = [s for s in shapes if s["data"]["noticeId"] == "us-af:n500"]
    x0, y0, x1, y1 = n500["box"]
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + (x0 + x1) / 2, box["y"] + (y0 + y1) / 2)
    page.locator("#popup").filter(has_text="notice us-af:n500").wait_for(state="visible", timeout=10_000)
    page.wait_for_function(
        "() => document.getElementById('map').drawn.shapes.filter((s) => s.kind === 'notice selected')"
        ".map((s) => s.data.noticeId).join() === 'us-af:n500'"
    )
    # the map's corner, away from every notice: nothing is picked, the popup goes
    page.mouse.click(box["x"] + 5, box["y"] + 5)
    page.locator("#popup").wait_for(state="hidden", timeout=10_000)
    # the timeline: the rows in view and a few more, all of them there as the scroll reaches them
    bars = page.locator("#timeline rect.bar")
    assert 0 < bars.count() < 100, bars.count()
    page.locator("#timeline").evaluate("(t) => { t.scrollTop = t.scrollHeight; }")
    page.locator('#timeline rect.bar[data-notice-id="us-af:n999"]').wait_for(state="attached", timeout=30_000)
    assert bars.count() < 100
    pages.shot(page, "7-thousand-notices")


def test_a_banner_says_when_the_live_stream_drops_and_resumes(api: Api, pages: Pages) -> None:
    page = pages.open("us-af", api.tokens["us-af"])
    banner = page.locator("#stream-banner")
    assert banner.is_hidden()
    # the broker ends every event stream, as when it shuts down (nothing awaits this flag: flipping it
    # from here only changes what the stream loops read)
    stopping = api.server.server.config.app.state.stopping
    stopping.set()
    page.locator("#stream-banner.lost").wait_for(state="visible", timeout=30_000)
    assert banner.inner_text() == "Live stream lost: reconnecting…"
    pages.shot(page, "5-stream-lost")
    stopping.clear()
    page.locator("#stream-banner.resumed").wait_for(state="visible", timeout=30_000)
    page.locator("body[data-stream=up]").wait_for(state="attached", timeout=30_000)
    # and the resumed stream carries what happens next
    file(api, "us-af", circle_notice(id="us-af-after"))
    page.locator('#map path.notice[data-notice-id="us-af:us-af-after"]').wait_for(state="visible", timeout=30_000)
    page.locator("#stream-banner.resumed").wait_for(state="visible", timeout=30_000)
    pages.shot(page, "5-stream-resumed")


def test_the_console_type_checks_and_lints() -> None:
    """``tsc --noEmit`` over console/src (strict) and ESLint (console/eslint.config.mjs, no warning
    allowed): our frontend code is typed and linted, not just transpiled."""
    source = built_console()  # npm ci has put TypeScript and ESLint in node_modules
    for script in ("typecheck", "lint"):
        done = subprocess.run(
            ["npm", "run", "--silent", script], cwd=source, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, f"npm run {script} found errors:\n{done.stdout}{done.stderr}"


def test_the_console_files_are_only_the_built_ones_and_a_missing_build_says_how(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built_console()
    with httpx.Client(base_url=api.url, timeout=30) as c:
        for name in ("console.js", "console.css", "countries-50m.json"):
            r = c.get(f"/console/{name}")
            assert r.status_code == 200 and len(r.content) > 1000, name
        r = c.get("/console/BUILT")  # in the folder, but not a console file
        assert r.status_code == 404 and r.json()["message"] == "no console file named 'BUILT'"
        assert c.get("/console/..%2Fapp.py").status_code == 404
        monkeypatch.setattr(console, "dist_dir", lambda: tmp_path / "never-built")
        for url in ("/", "/console/console.js"):
            r = c.get(url)
            assert r.status_code == 503 and r.json()["error"] == "console-not-built", url
            assert "npm ci && npm run build" in r.json()["message"]
