"""Webhook delivery: every event a party may see is POSTed to its URL, signed, in order, at least once.

Each party with a webhook has a cursor in the store: the seq of the last event delivered (or skipped
as not visible to it). A pass asks the store for the webhooks that are due, and for each one POSTs
the visible events after its cursor, one request per event, oldest first, stopping at the first
failure so that seq n+1 is never delivered before seq n. The cursor only moves after a 2xx, so a
broker that stops (or crashes) between passes resumes where it left off; the price is that an event
whose 2xx was lost (timeout, crash) is sent again: receivers dedup by event id. See
``docs/webhooks.md`` for the receiver's side.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import math
import re
from collections.abc import Callable
from typing import Protocol

import anyio
import httpx

from deconflict.domain.times import format_time
from deconflict.services.ports import StreamEvent, Webhook

log = logging.getLogger(__name__)

USER_AGENT = "deconflict-webhooks/1"
SIGNATURE_PREFIX = "sha256="
MAX_ERROR_CHARS = 500
"""``last_error`` is shown to operators; a receiver's exception text is not allowed to grow without bound."""

_TIMESTAMP = re.compile(r"\d{1,15}", re.ASCII)


OutgoingEvent = StreamEvent
"""One event as this party may see it (``data`` already cut down by the store)."""


class WebhookStore(Protocol):
    """What delivery needs from the store (SQL in production, a fake in the tests)."""

    def due_webhooks(self, now: float) -> list[Webhook]:
        """Webhooks whose ``next_attempt_at <= now``."""
        ...

    def visible_events(self, party: str, after_seq: int, limit: int) -> tuple[list[OutgoingEvent], int]:
        """At most ``limit`` events after ``after_seq`` that ``party`` may see, oldest first, and the seq
        scanned up to (so events it may not see still advance the cursor)."""
        ...

    def delivered(self, party: str, cursor: int) -> None:
        """Success: the cursor moves to ``cursor``, failures go back to 0, next attempt now."""
        ...

    def failed(self, party: str, failures: int, next_attempt_at: float, error: str) -> None:
        """Failure: record the count, when to try again and why (the cursor stays)."""
        ...


def event_body(event: OutgoingEvent) -> bytes:
    """The canonical JSON body POSTed for ``event`` (sorted keys, no spaces, UTF-8).

    >>> event_body(OutgoingEvent(seq=7, type="conflict.created", time=0.0, data={"b": 1, "a": "é"}))
    b'{"data":{"a":"\\xc3\\xa9","b":1},"id":7,"time":"1970-01-01T00:00:00Z","type":"conflict.created"}'
    """
    doc = {"id": event.seq, "type": event.type, "time": format_time(event.time), "data": event.data}
    # allow_nan=False: NaN is not JSON, and a receiver's parser would refuse the whole body.
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``"sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body))``.

    The timestamp is inside the signed text so a captured request cannot be replayed later under a
    fresh timestamp.

    >>> signature("s3cret", "1700000000", b'{"id":1}')
    'sha256=ee0658aa4e37018df69c24227df01e0f680eb3b87c7f1f9bd936e283cfe01d9b'
    """
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify_signature(
    secret: str, timestamp: str, body: bytes, header: str, now: float, tolerance_s: float = 300
) -> bool:
    """For receivers: True when ``header`` is the signature of ``timestamp`` and ``body`` under
    ``secret`` and ``timestamp`` (unix seconds) is within ``tolerance_s`` of ``now``.

    The comparison takes the same time whatever the header holds, so it leaks nothing about the
    expected signature.

    >>> body = b'{"id":1}'
    >>> sig = signature("s3cret", "1700000000", body)
    >>> verify_signature("s3cret", "1700000000", body, sig, now=1700000060)
    True
    >>> verify_signature("s3cret", "1700000000", body, sig, now=1700000000 + 301)  # too old: a replay
    False
    >>> verify_signature("other", "1700000000", body, sig, now=1700000060)
    False
    """
    if not _TIMESTAMP.fullmatch(timestamp):
        return False
    if not math.isfinite(now) or abs(now - int(timestamp)) > tolerance_s:
        return False
    expected = signature(secret, timestamp, body).encode()
    # Bytes, not str: compare_digest refuses non-ASCII str, and a header is attacker-controlled.
    return hmac.compare_digest(expected, header.strip().encode("utf-8", "replace"))


def backoff_s(failures: int, base_s: float = 1.0, cap_s: float = 300.0) -> float:
    """Seconds to wait after ``failures`` consecutive failures: base, 2·base, 4·base, … at most ``cap_s``.

    Deterministic (no jitter) so the schedule can be documented and tested.

    >>> [backoff_s(n) for n in range(1, 11)]
    [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 300.0]
    >>> backoff_s(0), backoff_s(10_000)
    (0.0, 300.0)
    """
    if failures <= 0:
        return 0.0
    # Beyond 2**63 the cap has long been reached; stopping the exponent there avoids float overflow.
    return float(min(cap_s, base_s * 2.0 ** min(failures - 1, 63)))


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


class WebhookDeliverer:
    """Delivers due webhooks; one instance per broker process (the store holds all state)."""

    def __init__(
        self,
        store: WebhookStore,
        clock: Callable[[], float],
        client: httpx.AsyncClient,
        batch: int = 100,
        timeout_s: float = 5.0,
    ) -> None:
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self._store = store
        self._clock = clock
        self._client = client
        self._batch = batch
        self._timeout_s = timeout_s

    async def deliver_due(self) -> int:
        """One pass: for every due webhook, POST its next batch of visible events, one request per
        event, in seq order, stopping at its first failure. Returns the number of events delivered.

        Webhooks are served concurrently, so a slow receiver delays only its own events (by at most
        ``timeout_s`` per pass). A receiver's failure is recorded in the store, never raised.
        """
        delivered, _ = await self._pass()
        return delivered

    async def run(
        self, stop: anyio.Event | asyncio.Event, interval_s: float = 1.0, wake: asyncio.Event | None = None
    ) -> None:
        """Pass after pass until ``stop`` is set, waiting ``interval_s`` between passes (not after a
        pass that moved a cursor, so a backlog drains at full speed), or until ``wake`` is set (new
        events; the caller also sets it when it sets ``stop``). Errors are logged, not raised."""
        while not stop.is_set():
            if wake is not None:
                wake.clear()  # before the pass: events committed from now on wake the wait below
            progressed = False
            try:
                _, progressed = await self._pass()
            except Exception:  # e.g. the store is unreachable: log and try again next pass
                log.exception("webhook delivery pass failed")
            if progressed:
                await anyio.sleep(0)  # let other tasks (and stop.set()) run between back-to-back passes
                continue
            with anyio.move_on_after(interval_s):
                await (stop if wake is None else wake).wait()

    async def _pass(self) -> tuple[int, bool]:
        """(events delivered, whether any cursor moved)."""
        due = self._store.due_webhooks(self._clock())
        results: list[tuple[int, bool]] = []

        async def one(hook: Webhook) -> None:
            results.append(await self._deliver_one(hook))

        async with anyio.create_task_group() as tg:
            for hook in due:
                tg.start_soon(one, hook)
        return sum(n for n, _ in results), any(moved for _, moved in results)

    async def _deliver_one(self, hook: Webhook) -> tuple[int, bool]:
        """Delivers one batch to ``hook``; (events delivered, whether the cursor moved). Never raises
        (except cancellation): an exception here would cancel the other parties' deliveries."""
        cursor, failures, sent = hook.cursor, hook.failures, 0
        try:
            events, scanned_to = self._store.visible_events(hook.party, hook.cursor, self._batch)
            for event in sorted(events, key=lambda e: e.seq):
                if event.seq <= cursor:
                    continue  # already delivered: never send it again after a 2xx
                error = await self._post(hook, event)
                if error is not None:
                    self._fail(hook, failures + 1, error)
                    return sent, cursor != hook.cursor
                self._store.delivered(hook.party, event.seq)
                cursor, failures, sent = event.seq, 0, sent + 1
            # A full batch may stop short of what the store scanned; only a partial (or empty) one
            # proves every visible event up to scanned_to was returned, so only then skip ahead.
            if len(events) < self._batch and scanned_to > cursor:
                self._store.delivered(hook.party, scanned_to)
                cursor = scanned_to
        except Exception as exc:  # a store error or an unencodable event: keep the other parties going
            log.exception("webhook delivery to party %r failed", hook.party)
            try:
                self._fail(hook, failures + 1, f"internal error: {type(exc).__name__}: {exc}")
            except Exception:
                log.exception("could not record the webhook failure of party %r", hook.party)
        return sent, cursor != hook.cursor

    def _fail(self, hook: Webhook, failures: int, error: str) -> None:
        now = self._clock()
        wait = backoff_s(failures)
        log.warning("webhook of party %r: %s; attempt %d failed, next in %.0f s", hook.party, error, failures, wait)
        self._store.failed(hook.party, failures, now + wait, _short(error))

    async def _post(self, hook: Webhook, event: OutgoingEvent) -> str | None:
        """POSTs one event; None on a 2xx, else the reason (naming the status or the exception)."""
        body = event_body(event)
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Deconflict-Event-Id": str(event.seq),
            "X-Deconflict-Event-Type": event.type,
            "X-Deconflict-Timestamp": timestamp,
            "X-Deconflict-Signature": signature(hook.secret, timestamp, body),
        }
        try:
            # httpx's timeout is per phase (connect, each read…); the outer deadline bounds the whole
            # exchange, so a receiver trickling bytes cannot hold its slot for longer than timeout_s.
            with anyio.fail_after(self._timeout_s):
                request = self._client.build_request(
                    "POST", hook.url, content=body, headers=headers, timeout=self._timeout_s
                )
                # Redirects are not followed: a signed event goes only to the registered URL. The
                # response body is never read: only the status matters, and it could be huge.
                response = await self._client.send(request, stream=True, follow_redirects=False)
                await response.aclose()
        except (TimeoutError, httpx.TimeoutException) as exc:
            return f"timeout after {self._timeout_s:g} s ({type(exc).__name__})"
        except Exception as exc:  # connection refused, DNS, TLS, bad URL…: all are this receiver's failure
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
