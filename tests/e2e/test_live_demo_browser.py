"""A person opens a login link that ``deconflict demo`` printed: headless Chromium (every request
outside loopback blocked and counted, any console error failing the test) shows the theater, the
conflicts, moving aircraft, an alert and the hotline, and the token leaves the address bar."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.console_support import Pages, built_console
from e2e.live_demo_support import LiveDemo, start_demo, wait_for
from e2e.test_report_browser import _browser_or_fail


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[LiveDemo]:
    built_console()
    d = start_demo(tmp_path, "--speed", "60")
    try:
        yield d
    finally:
        rc, err = d.stop()
        assert rc == 0 and "Traceback" not in err, err


@pytest.fixture
def pages(demo: LiveDemo, tmp_path: Path) -> Iterator[Pages]:
    chromium = _browser_or_fail()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True)
        p = Pages(browser, demo.url, tmp_path)
        try:
            yield p
        finally:
            browser.close()
    assert p.outside == [], f"the console tried to reach outside the broker: {p.outside}"
    assert p.errors == [], f"console errors: {p.errors}"


def open_link(pages: Pages, party: str, link: str) -> Any:
    context = pages.browser.new_context(viewport={"width": 1400, "height": 900})
    context.route("**/*", pages._gate)
    page = context.new_page()
    page.on("console", lambda m: pages.errors.append(f"{party}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: pages.errors.append(f"{party}: {e}"))
    page.goto(link)
    page.locator("#who").filter(has_text=party).wait_for(state="visible", timeout=60_000)
    page.locator("body[data-stream=up]").wait_for(state="attached", timeout=60_000)
    return page


def test_a_printed_login_link_shows_the_theater_alive(demo: LiveDemo, pages: Pages) -> None:
    token = demo.tokens["coalition"]
    page = open_link(pages, "coalition", demo.links["coalition"])
    # The token was taken from the fragment, kept for this tab, and removed from the address bar.
    assert "#" not in page.url and token not in page.url
    assert page.evaluate("() => Object.values(sessionStorage)").count(token) == 1
    assert page.locator("#login").is_hidden()

    # The theater: the coalition's notices, the protected sites, and the conflicts' slices in red.
    for sel, least in (("#map path.notice", 4), ("#map path.site", 4), ("#map path.slice", 1)):
        page.locator(sel).nth(least - 1).wait_for(state="attached", timeout=60_000)
    page.locator('#map path.notice[data-notice-id="coalition:coalition-isr-west"]').wait_for(state="attached")

    # Moving aircraft: a track's dot moves and its trail grows (on the aircraft canvas: what it drew).
    raqqa = "document.getElementById('map').drawn.aircraft.find((a) => a.aircraft === 'c-raqqa-1')"
    page.wait_for_function(f"() => {raqqa}", timeout=60_000)
    first = page.evaluate(f"() => {raqqa}")
    page.wait_for_function(
        f"([x, y]) => {{ const a = {raqqa}; return a && (a.x !== x || a.y !== y); }}",
        arg=[first["x"], first["y"]],
        timeout=60_000,
    )
    page.wait_for_function(f"() => ({raqqa})?.trail >= 3", timeout=60_000)
    assert page.evaluate("() => document.getElementById('map').drawn.aircraft.length") >= 3
    pages.shot(page, "demo-1-theater-coalition")

    # An alert: the aircraft leaving its own volume is ringed.
    ring = page.locator("#map path.alert").first
    ring.wait_for(state="visible", timeout=90_000)
    ring.dispatch_event("click")
    page.locator("#popup").filter(has_text="nonconformance").wait_for(state="visible", timeout=10_000)
    pages.shot(page, "demo-2-alert-coalition")

    # The hotline: the broker's threads about the conflicts, one overdue.
    page.locator("#tab-hotline").click()
    page.locator("#panel-hotline article").first.wait_for(state="visible", timeout=60_000)
    page.locator("#panel-hotline article.overdue").first.wait_for(state="visible", timeout=90_000)
    assert "OVERDUE" in page.locator("#panel-hotline").inner_text()
    pages.shot(page, "demo-3-hotline-coalition")

    # The Russian side sees the predicted loss of separation with the coalition's stray aircraft.
    ru = open_link(pages, "ru-vks", demo.links["ru-vks"])
    api = demo.as_("ru-vks")
    [alert, *_] = wait_for(
        "separation alert", lambda: [a for a in api.get("/v1/alerts").json() if a["kind"] == "separation"]
    )
    rings = ru.locator(f'#map path.alert[data-alert-id="{alert["id"]}"]')
    rings.first.wait_for(state="visible", timeout=60_000)
    rings.first.dispatch_event("click")
    ru.locator("#popup").filter(has_text="separation alert").wait_for(state="visible", timeout=10_000)
    pages.shot(ru, "demo-4-separation-ru-vks")
