"""Webhook delivery against a real HTTP receiver (a threaded ``http.server`` on 127.0.0.1) and an
in-memory store; time is an injected clock, so backoff is never waited for."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import httpx
import pytest

from clocks import SetClock
from deconflict.adapters.webhooks import (
    OutgoingEvent,
    Webhook,
    WebhookDeliverer,
    backoff_s,
    event_body,
    signature,
    verify_signature,
)

T0 = 1_700_000_000.0
SECRET = "whsec-test"


# --- the receiver ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def event_id(self) -> int:
        return int(self.headers["x-deconflict-event-id"])


Action = int | tuple[str, threading.Event]
"""A status to answer, or ``("wait", event)``: block until ``event`` is set (or the test ends), then 200."""


class Receiver:
    """Records every request; answers each path from its script, then 200."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.scripts: dict[str, list[Action]] = {}
        self.arrived: dict[str, threading.Event] = {}
        self.done = threading.Event()  # set at teardown: releases every waiting handler
        self.lock = threading.Lock()
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path: str, *actions: Action) -> None:
        with self.lock:
            self.scripts.setdefault(path, []).extend(actions)

    def hang(self) -> Action:
        """Block until the test ends (past any client timeout)."""
        return ("wait", self.done)

    def arrival(self, path: str) -> threading.Event:
        """Set when a request for ``path`` arrives."""
        with self.lock:
            return self.arrived.setdefault(path, threading.Event())

    def ids(self, path: str) -> list[int]:
        with self.lock:
            return [r.event_id for r in self.requests if r.path == path]

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.requests.append(Received(path, headers, body))
            self.arrived.setdefault(path, threading.Event()).set()
            script = self.scripts.get(path, [])
            action: Action = script.pop(0) if script else 200
        if isinstance(action, tuple):
            action[1].wait(10)
            return 200
        return action


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = rec.handle(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the client gave up (timeout): nothing to answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True  # a handler still waiting must not hold up teardown
    rec.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        rec.done.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- the store ------------------------------------------------------------------------------------


@dataclass
class StoredEvent:
    seq: int
    type: str
    time: float
    data: dict[str, Any]
    audience: frozenset[str] | None  # None: every party may see it


@dataclass
class FakeStore:
    """The ``WebhookStore`` port in memory, recording the calls made to it."""

    events: list[StoredEvent] = field(default_factory=list)
    hooks: dict[str, Webhook] = field(default_factory=dict)
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def add(self, type: str = "notice.filed", data: dict[str, Any] | None = None, to: set[str] | None = None) -> int:
        seq = len(self.events) + 1
        audience = None if to is None else frozenset(to)
        self.events.append(StoredEvent(seq, type, T0 + seq, data if data is not None else {"n": seq}, audience))
        return seq

    def register(self, party: str, url: str, secret: str = SECRET) -> None:
        self.hooks[party] = Webhook(party, url, secret, cursor=0, failures=0, next_attempt_at=0.0)

    def due_webhooks(self, now: float) -> list[Webhook]:
        return [h for h in self.hooks.values() if h.next_attempt_at <= now]

    def visible_events(self, party: str, after_seq: int, limit: int) -> tuple[list[OutgoingEvent], int]:
        out: list[OutgoingEvent] = []
        scanned = after_seq
        for e in self.events:
            if e.seq <= after_seq:
                continue
            if len(out) == limit:
                break
            scanned = e.seq
            if e.audience is None or party in e.audience:
                out.append(OutgoingEvent(e.seq, e.type, e.time, dict(e.data)))
        return out, scanned

    def delivered(self, party: str, cursor: int) -> None:
        self.calls.append(("delivered", party, cursor))
        self.hooks[party] = replace(self.hooks[party], cursor=cursor, failures=0, next_attempt_at=0.0)

    def failed(self, party: str, failures: int, next_attempt_at: float, error: str) -> None:
        self.calls.append(("failed", party, failures, next_attempt_at, error))
        h = self.hooks[party]
        self.hooks[party] = replace(h, failures=failures, next_attempt_at=next_attempt_at, last_error=error)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(trust_env=False)  # no proxy from the environment between us and 127.0.0.1


async def one_pass(store: FakeStore, clock: SetClock, **kwargs: Any) -> int:
    async with client() as c:
        return await WebhookDeliverer(store, clock, c, **kwargs).deliver_due()


# --- signing --------------------------------------------------------------------------------------


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"123.body", hashlib.sha256).hexdigest()
    assert signature("k", "123", b"body") == "sha256=" + expected


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "header", "now"),
    [
        ("wrong", "1700000000", b"{}", None, T0),
        (SECRET, "1700000000", b"{ }", None, T0),  # body altered
        (SECRET, "1700000001", b"{}", None, T0),  # timestamp altered
        (SECRET, "1700000000", b"{}", None, T0 + 301),  # stale
        (SECRET, "1700000000", b"{}", None, T0 - 301),  # from the future
        (SECRET, "1700000000", b"{}", "sha256=00", T0),
        (SECRET, "1700000000", b"{}", "sha256=é", T0),  # non-ASCII header: False, not TypeError
        (SECRET, "17e8", b"{}", None, T0),
        (SECRET, " 1700000000", b"{}", None, T0),
    ],
)
def test_verify_signature_rejects(secret: str, timestamp: str, body: bytes, header: str | None, now: float) -> None:
    good = signature(SECRET, "1700000000", b"{}")
    assert verify_signature(SECRET, "1700000000", b"{}", good, now=T0)
    assert not verify_signature(secret, timestamp, body, header if header is not None else good, now=now)


def test_verify_signature_tolerance_is_adjustable() -> None:
    sig = signature(SECRET, "1700000000", b"{}")
    assert verify_signature(SECRET, "1700000000", b"{}", sig, now=T0 + 300)
    assert not verify_signature(SECRET, "1700000000", b"{}", sig, now=T0 + 31, tolerance_s=30)


# --- backoff --------------------------------------------------------------------------------------


def test_backoff_doubles_from_one_second_and_is_capped() -> None:
    assert [backoff_s(n) for n in range(0, 12)] == [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert backoff_s(10**9) == 300.0
    assert [backoff_s(n, base_s=0.5, cap_s=3) for n in range(1, 6)] == [0.5, 1, 2, 3, 3]


# --- delivery -------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_events_are_posted_in_order_signed_with_canonical_body(receiver: Receiver) -> None:
    store, clock = FakeStore(), SetClock(T0 + 0.75)
    store.register("ru-vks", receiver.url("/hook"))
    store.add("notice.filed", {"notice": "vks-1", "note": "Latamneh – é"})
    store.add("conflict.opened", {"b": [1, 2], "a": None})
    store.add("notice.withdrawn", {})

    assert await one_pass(store, clock) == 3

    assert receiver.ids("/hook") == [1, 2, 3]
    first = receiver.requests[0]
    expected = (
        '{"data":{"note":"Latamneh – é","notice":"vks-1"},"id":1,"time":"2023-11-14T22:13:21Z","type":"notice.filed"}'
    )
    assert first.body == expected.encode()
    assert json.loads(receiver.requests[1].body) == {
        "id": 2,
        "type": "conflict.opened",
        "time": "2023-11-14T22:13:22Z",
        "data": {"a": None, "b": [1, 2]},
    }
    for r, type in zip(receiver.requests, ["notice.filed", "conflict.opened", "notice.withdrawn"], strict=True):
        h = r.headers
        assert h["content-type"] == "application/json"
        assert h["user-agent"] == "deconflict-webhooks/1"
        assert h["x-deconflict-event-type"] == type
        assert h["x-deconflict-timestamp"] == "1700000000"  # whole seconds of the clock
        assert h["x-deconflict-signature"].startswith("sha256=")
        ts, sig = h["x-deconflict-timestamp"], h["x-deconflict-signature"]
        assert verify_signature(SECRET, ts, r.body, sig, now=clock())
        assert not verify_signature("not-the-secret", ts, r.body, sig, now=clock())
        assert not verify_signature(SECRET, ts, r.body + b" ", sig, now=clock())
        assert not verify_signature(SECRET, str(int(ts) + 1), r.body, sig, now=clock())
        assert not verify_signature(SECRET, ts, r.body, sig, now=clock() + 301)

    hook = store.hooks["ru-vks"]
    assert (hook.cursor, hook.failures, hook.next_attempt_at) == (3, 0, 0.0)
    assert [c for c in store.calls if c[0] == "delivered"] == [("delivered", "ru-vks", s) for s in (1, 2, 3)]

    assert await one_pass(store, clock) == 0  # nothing new: nothing sent
    assert receiver.ids("/hook") == [1, 2, 3]


def test_event_body_is_canonical_json() -> None:
    body = event_body(OutgoingEvent(5, "x", T0 + 0.25, {"z": 1, "a": {"y": "ü", "b": 2}}))
    expected = '{"data":{"a":{"b":2,"y":"ü"},"z":1},"id":5,"time":"2023-11-14T22:13:20.250000Z","type":"x"}'
    assert body == expected.encode()


@pytest.mark.anyio
async def test_invisible_events_advance_the_cursor_without_requests(receiver: Receiver) -> None:
    store, clock = FakeStore(), SetClock(T0)
    store.register("ru-vks", receiver.url("/ru"))
    for _ in range(4):
        store.add(to={"us-centcom"})

    assert await one_pass(store, clock) == 0
    assert receiver.requests == []
    assert store.hooks["ru-vks"].cursor == 4
    assert store.calls == [("delivered", "ru-vks", 4)]

    store.add(to={"us-centcom"})
    store.add(to={"ru-vks"})
    store.add(to={"us-centcom"})
    assert await one_pass(store, clock) == 1
    assert receiver.ids("/ru") == [6]
    assert store.hooks["ru-vks"].cursor == 7  # past the invisible event after the last visible one


@pytest.mark.anyio
async def test_a_batch_at_a_time_and_every_event_once(receiver: Receiver) -> None:
    store, clock = FakeStore(), SetClock(T0)
    store.register("p", receiver.url("/p"))
    for _ in range(5):
        store.add()

    assert await one_pass(store, clock, batch=2) == 2
    assert store.hooks["p"].cursor == 2
    assert await one_pass(store, clock, batch=2) == 2
    assert await one_pass(store, clock, batch=2) == 1
    assert await one_pass(store, clock, batch=2) == 0
    assert receiver.ids("/p") == [1, 2, 3, 4, 5]


@pytest.mark.anyio
async def test_500_twice_then_200_backs_off_1_then_2_seconds_then_delivers_everything(receiver: Receiver) -> None:
    store, clock = FakeStore(), SetClock(T0)
    store.register("p", receiver.url("/p"))
    for _ in range(3):
        store.add()
    receiver.script("/p", 500, 500)

    assert await one_pass(store, clock) == 0
    hook = store.hooks["p"]
    assert (hook.cursor, hook.failures, hook.next_attempt_at) == (0, 1, T0 + 1)
    assert hook.last_error is not None and "500" in hook.last_error
    assert receiver.ids("/p") == [1]  # stopped at the first failure: 2 is never sent before 1

    clock.t = T0 + 0.999
    assert await one_pass(store, clock) == 0
    assert receiver.ids("/p") == [1]  # not due yet: no request at all

    clock.t = T0 + 1
    assert await one_pass(store, clock) == 0
    hook = store.hooks["p"]
    assert (hook.cursor, hook.failures, hook.next_attempt_at) == (0, 2, T0 + 1 + 2)

    clock.t = T0 + 2.5
    assert await one_pass(store, clock) == 0
    assert receiver.ids("/p") == [1, 1]

    clock.t = T0 + 3
    assert await one_pass(store, clock) == 3
    assert receiver.ids("/p") == [1, 1, 1, 2, 3]
    hook = store.hooks["p"]
    assert (hook.cursor, hook.failures, hook.next_attempt_at) == (3, 0, 0.0)

    assert await one_pass(store, clock) == 0
    assert receiver.ids("/p") == [1, 1, 1, 2, 3]  # nothing duplicated after the 2xx
    assert [c[2] for c in store.calls if c[0] == "failed"] == [1, 2]


@pytest.mark.anyio
async def test_a_success_resets_the_failure_count(receiver: Receiver) -> None:
    store, clock = FakeStore(), SetClock(T0)
    store.register("p", receiver.url("/p"))
    for _ in range(3):
        store.add()
    receiver.script("/p", 503, 200, 503)

    assert await one_pass(store, clock) == 0
    clock.t = T0 + 1
    assert await one_pass(store, clock) == 1  # 1 delivered, then 2 fails: a first failure again
    hook = store.hooks["p"]
    assert (hook.cursor, hook.failures, hook.next_attempt_at) == (1, 1, T0 + 1 + 1)
    assert receiver.ids("/p") == [1, 1, 2]


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "ok"), [(200, True), (202, True), (204, True), (302, False), (404, False)])
async def test_any_2xx_is_success_and_nothing_else(receiver: Receiver, status: int, ok: bool) -> None:
    store, clock = FakeStore(), SetClock(T0)
    store.register("p", receiver.url("/p"))
    store.add()
    receiver.script("/p", status)
    assert await one_pass(store, clock) == (1 if ok else 0)
    hook = store.hooks["p"]
    assert hook.cursor == (1 if ok else 0)
    if not ok:
        assert hook.last_error is not None and str(status) in hook.last_error


@pytest.mark.anyio
async def test_a_timeout_is_a_failure_naming_it(receiver: Receiver) -> None:
    store, clock = FakeStore(), SetClock(T0)
    store.register("p", receiver.url("/p"))
    store.add()
    receiver.script("/p", receiver.hang())

    assert await one_pass(store, clock, timeout_s=0.3) == 0
    hook = store.hooks["p"]
    assert (hook.cursor, hook.failures, hook.next_attempt_at) == (0, 1, T0 + 1)
    assert hook.last_error is not None and "timeout" in hook.last_error.lower()


@pytest.mark.anyio
async def test_connection_refused_is_a_failure() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    store, clock = FakeStore(), SetClock(T0)
    store.register("p", f"http://127.0.0.1:{port}/hook")
    store.add()

    assert await one_pass(store, clock) == 0
    hook = store.hooks["p"]
    assert (hook.cursor, hook.failures) == (0, 1)
    assert hook.last_error is not None and "ConnectError" in hook.last_error


@pytest.mark.anyio
async def test_one_failing_webhook_does_not_stop_another_partys(receiver: Receiver) -> None:
    store, clock = FakeStore(), SetClock(T0)
    store.register("bad", receiver.url("/bad"))
    store.register("gone", "http://127.0.0.1:1/nothing-listens")
    store.register("unknown-scheme", "ftp://example.invalid/x")
    store.register("good", receiver.url("/good"))
    receiver.script("/bad", 500)
    for _ in range(3):
        store.add()

    assert await one_pass(store, clock) == 3
    assert receiver.ids("/good") == [1, 2, 3]
    assert receiver.ids("/bad") == [1]
    assert {p: h.failures for p, h in store.hooks.items()} == {"bad": 1, "gone": 1, "unknown-scheme": 1, "good": 0}


@pytest.mark.anyio
async def test_an_unencodable_event_fails_only_its_own_webhook(receiver: Receiver) -> None:
    store, clock = FakeStore(), SetClock(T0)
    store.register("a", receiver.url("/a"))
    store.register("b", receiver.url("/b"))
    store.add(data={"x": float("nan")}, to={"a"})
    store.add()

    assert await one_pass(store, clock) == 1
    assert receiver.ids("/b") == [2]
    assert receiver.ids("/a") == []
    a = store.hooks["a"]
    assert (a.cursor, a.failures) == (0, 1)
    assert a.last_error is not None and "ValueError" in a.last_error


@pytest.mark.anyio
async def test_webhooks_are_served_concurrently(receiver: Receiver) -> None:
    # The slow receiver answers only once the other party's request has arrived. Delivered one
    # webhook after the other, the slow one would time out first; concurrently both succeed.
    store, clock = FakeStore(), SetClock(T0)
    store.register("slow", receiver.url("/slow"))
    store.register("fast", receiver.url("/fast"))
    receiver.script("/slow", ("wait", receiver.arrival("/fast")))
    store.add()

    assert await one_pass(store, clock, timeout_s=3.0) == 2
    assert store.hooks["slow"].cursor == store.hooks["fast"].cursor == 1


@pytest.mark.anyio
async def test_a_new_deliverer_resumes_after_the_last_delivered_event(receiver: Receiver) -> None:
    store, clock = FakeStore(), SetClock(T0)
    store.register("p", receiver.url("/p"))
    for _ in range(3):
        store.add()
    receiver.script("/p", 200, 500)

    assert await one_pass(store, clock) == 1  # the broker "goes down" after this pass
    assert store.hooks["p"].cursor == 1
    store.add()

    clock.t = T0 + 10
    assert await one_pass(store, clock) == 3  # a fresh deliverer and client, the same store
    assert receiver.ids("/p") == [1, 2, 2, 3, 4]
    assert store.hooks["p"].cursor == 4


class FlakyStore(FakeStore):
    def __init__(self) -> None:
        super().__init__()
        self.outages = 1

    def due_webhooks(self, now: float) -> list[Webhook]:
        if self.outages:
            self.outages -= 1
            raise ConnectionError("database is down")
        return super().due_webhooks(now)


@pytest.mark.anyio
async def test_run_logs_errors_keeps_going_and_stops_when_asked(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    store, clock = FlakyStore(), SetClock(T0)
    store.register("p", receiver.url("/p"))
    for _ in range(5):
        store.add()
    stop = anyio.Event()

    with caplog.at_level(logging.ERROR, logger="deconflict.adapters.webhooks"), anyio.fail_after(10):
        async with client() as c, anyio.create_task_group() as tg:
            tg.start_soon(WebhookDeliverer(store, clock, c, batch=2).run, stop, 0.01)
            while store.hooks["p"].cursor < 5:
                await anyio.sleep(0.01)
            stop.set()  # the task group ends only once run has returned

    assert receiver.ids("/p") == [1, 2, 3, 4, 5]
    assert any(r.exc_info and "database is down" in str(r.exc_info[1]) for r in caplog.records)


@pytest.mark.anyio
async def test_run_accepts_an_asyncio_event() -> None:
    import asyncio

    store = FakeStore()
    stop = asyncio.Event()
    stop.set()
    async with client() as c:
        with anyio.fail_after(5):
            await WebhookDeliverer(store, SetClock(T0), c).run(stop)
