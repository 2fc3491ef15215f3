"""The console's side panels and timeline in real headless Chromium, against a real broker: the
hotline, the Gantt timeline, the vertical view of a conflict, the compliance tab and the exports.

As in test_console_browser.py: every request outside loopback is blocked and counted and any console
error fails the test; screenshots of each step go to the test's tmp dir (and /tmp/console-*.png).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
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
    late = send(api, "us-af", {"to": ["ru-vks"], "subject": "Tanker orbit", "text": "Orbit moved north.", "ack_within_s": 60})
    api.clock.t += 120  # a minute past its deadline on the broker's clock
    assert api.hotline.tick() is not None
    soon = send(api, "us-af", {"to": ["ru-vks"], "subject": "Sortie moved", "text": "Starts 08:30Z.", "ack_within_s": 900})
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


def test_a_reply_without_text_says_so_and_sends_nothing(api: Api, pages: Pages) -> None:
    ru = pages.open("ru-vks", api.tokens["ru-vks"])
    m = send(api, "us-af", {"to": ["ru-vks"], "subject": "Check", "text": "Radio check."})
    article(ru, m["id"]).locator("button.reply").click()
    ru.locator("#panel-hotline .error").filter(has_text="a reply needs some text").wait_for(timeout=30_000)
    assert api.as_("us-af").get("/v1/messages?box=inbox").json() == []
