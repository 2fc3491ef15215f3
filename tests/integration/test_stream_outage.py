"""The live stream when the store stops answering mid-stream, on both stores, with a real outage
(PostgreSQL behind a TCP proxy that is cut; an SQLite file that becomes unreadable): the broker
ends the stream cleanly with a word of why and no traceback, answers 503 with ``Retry-After``
while the store is down, and the party's client reconnects by itself from its last event once the
store answers again, missing nothing and repeating nothing."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from api_support import Api, circle_notice, free_port, start_api
from tcp_proxy import TcpProxy

from deconflict.clients.party import BrokerClient
from deconflict.clients.responses import Event

WAIT_S = 90.0


class Outage:
    """Cut and restore the store behind ``api``."""

    def __init__(self, db_url: str, tmp_path: Path) -> None:
        self.proxy: TcpProxy | None = None
        self.file: Path | None = None
        if db_url.startswith("sqlite"):
            self.file = Path(sa.make_url(db_url).database or "")
            self.url = db_url
        else:
            url = sa.make_url(db_url)
            self.proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432), free_port())
            self.url = url.set(host="127.0.0.1", port=self.proxy.port).render_as_string(hide_password=False)
        self.aside = tmp_path / "aside.sqlite"
        self.down = False

    def cut(self, api: Api) -> None:
        self.down = True
        if self.proxy is not None:
            self.proxy.cut()
        else:
            assert self.file is not None
            api.store.engine.dispose()  # no open connection keeps the old file alive
            self.file.rename(self.aside)
            self.file.mkdir()  # a directory where the database was: unreadable, whoever runs the test

    def restore(self) -> None:
        self.down = False
        if self.proxy is not None:
            self.proxy.restore()
        else:
            assert self.file is not None
            self.file.rmdir()
            self.aside.rename(self.file)


@pytest.fixture
def outage(db_url: str, tmp_path: Path) -> Iterator[tuple[Api, Outage]]:
    o = Outage(db_url, tmp_path)
    api = start_api(o.url)
    try:
        yield api, o
    finally:
        if o.down:
            o.restore()
        api.close()
        if o.proxy is not None:
            o.proxy.cut()  # its listener and threads end


def test_a_stream_ends_cleanly_when_the_store_stops_answering(
    outage: tuple[Api, Outage], caplog: pytest.LogCaptureFixture
) -> None:
    api, o = outage
    caplog.set_level(logging.INFO)
    assert api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-1")).status_code == 201
    headers = {"Authorization": f"Bearer {api.tokens['ru-vks']}"}
    with httpx.stream("GET", f"{api.url}/v1/events?after=0", headers=headers, timeout=WAIT_S) as r:
        assert r.status_code == 200
        lines = r.iter_lines()
        seen = []
        for line in lines:
            seen.append(line)
            if line.startswith("event: notice.filed"):
                break
        o.cut(api)
        seen += list(lines)  # ends: the broker closes the stream
    assert ": the store does not answer; reconnect with Last-Event-ID" in seen, seen
    again = httpx.get(f"{api.url}/v1/events", headers=headers, timeout=WAIT_S)
    assert again.status_code == 503 and again.json()["error"] == "unavailable"
    assert again.headers["retry-after"].isdigit()
    assert not [rec for rec in caplog.records if rec.exc_info], "a traceback was logged"
    assert any("/v1/events" in rec.getMessage() and "does not answer" in rec.getMessage() for rec in caplog.records)


def test_the_client_rides_out_the_outage_and_misses_nothing(outage: tuple[Api, Outage]) -> None:
    api, o = outage
    assert api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-1")).status_code == 201
    got: queue.Queue[Event | str] = queue.Queue()
    client = BrokerClient(api.url, api.tokens["ru-vks"])

    def watch() -> None:
        try:
            for e in client.events(after=0, on_reconnect=lambda why, last, delay: got.put(f"reconnect: {why}")):
                got.put(e)
        except Exception as e:  # the test fails on it below
            got.put(f"raised: {e}")

    threading.Thread(target=watch, daemon=True).start()

    def wait_for(match: str) -> list[Event | str]:
        items: list[Event | str] = []
        deadline = time.monotonic() + WAIT_S
        while True:
            item = got.get(timeout=max(0.0, deadline - time.monotonic()))
            items.append(item)
            assert not (isinstance(item, str) and item.startswith("raised")), items
            if match in (item if isinstance(item, str) else f"{item.type} {item.id}"):
                return items

    before = wait_for("notice.filed")
    o.cut(api)
    during = wait_for("reconnect: the broker answers 503")  # the stream ended, the reconnection refused
    o.restore()
    assert api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-2")).status_code == 201
    after = wait_for("notice.filed")
    ids = [e.id for e in before + during + after if isinstance(e, Event)]
    assert ids == sorted(set(ids)), ids  # in order, none twice
    assert ids == [int(e["id"]) for e in api.events("ru-vks", after=0)], ids  # none missed
