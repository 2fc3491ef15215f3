"""The live event stream (Server-Sent Events) and webhook registration."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import DBAPIError

from deconflict.api.deps import DIGITS, Body, BrokerDep, Caller
from deconflict.api.errors import store_down
from deconflict.api.schemas import Webhook, request_body
from deconflict.api.schemas_out import WebhookSet
from deconflict.api.webhook_address import refusal
from deconflict.domain.errors import Unauthorized, ValidationError
from deconflict.domain.parties import Party
from deconflict.domain.strict import KEYS, check_keys
from deconflict.domain.times import format_time
from deconflict.services.broker import Broker
from deconflict.services.ports import StreamEvent

router = APIRouter(tags=["events"])
log = logging.getLogger(__name__)

HEARTBEAT_S = 15.0
"""A comment line this often keeps proxies from closing an idle stream."""
REAUTH_S = 5.0
"""How often a stream checks that its token is still good: a revoked or rotated token, or an
expired identity-provider token, ends the stream within this time."""
CAUGHT_UP = ": caught up\n\n"
"""A comment sent once, when everything up to the log's head at that moment has been sent: a client
that replays with ``after`` knows from it that the rest is live."""


def sse(e: StreamEvent) -> str:
    data = json.dumps({"id": e.seq, "type": e.type, "time": format_time(e.time), "data": e.data})
    return f"id: {e.seq}\nevent: {e.type}\ndata: {data}\n\n"


async def stream(request: Request, broker: Broker, caller: Party, after: int) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def notify() -> None:  # called from worker threads after a commit
        loop.call_soon_threadsafe(wake.set)

    broker.listeners.append(notify)
    try:
        yield "retry: 2000\n: connected\n\n"
        async for chunk in _follow(request, broker, caller, after, wake):
            yield chunk
    except DBAPIError as e:
        if not store_down(e):
            raise
        # An open stream that can read nothing would look live and be stale: end it, so every
        # client sees the drop and reconnects from its last event (503 until the store answers).
        log.warning("GET /v1/events: the store does not answer (%s); the stream ends", type(e.orig).__name__)
        yield ": the store does not answer; reconnect with Last-Event-ID\n\n"
    finally:
        broker.listeners.remove(notify)


async def _follow(
    request: Request, broker: Broker, caller: Party, after: int, wake: asyncio.Event
) -> AsyncIterator[str]:
    """The events after ``after`` as the caller may see them, as they come, until the server stops,
    the client goes or the token is no longer good."""
    stopping: asyncio.Event = request.app.state.stopping
    reauthenticate: Callable[[], Party] = request.state.reauthenticate
    poll_s: float = request.app.state.events_poll_s
    cursor = after
    caught_up = False
    last_sent = last_auth = time.monotonic()
    while not stopping.is_set():
        wake.clear()  # before reading: a commit from now on wakes the wait below
        if time.monotonic() - last_auth > REAUTH_S:
            try:
                caller = await anyio.to_thread.run_sync(reauthenticate)
            except Unauthorized:
                yield ": token no longer valid\n\n"
                break
            last_auth = time.monotonic()
        events, scanned = await anyio.to_thread.run_sync(broker.visible_events, caller, cursor)
        for e in events:
            yield sse(e)
            last_sent = time.monotonic()
        more = scanned > cursor
        cursor = scanned
        if more:
            continue  # a full page: read on before waiting
        if not caught_up:  # tells a client that the replay it asked for is complete
            caught_up = True
            yield CAUGHT_UP
            last_sent = time.monotonic()
        if time.monotonic() - last_sent > HEARTBEAT_S:
            yield ": keep-alive\n\n"
            last_sent = time.monotonic()
        if await request.is_disconnected():
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=poll_s)


@router.get(
    "/events",
    summary="Live events (Server-Sent Events)",
    description="`notice.*`, `conflict.created|updated|resolved|acknowledged` and the rest, each as the caller "
    "may see it, with the event-log sequence number as the SSE id. A client that reconnects with "
    "`Last-Event-ID` (or `?after=N`) receives everything it missed; `?after=0` replays everything it may "
    "see. Without either, the stream starts at the next event. The comment line `: caught up` comes once, "
    "when every event up to the log's head at that moment has been sent: what follows is live.",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An endless event stream."}},
)
async def events(
    request: Request,
    caller: Caller,
    broker: BrokerDep,
    after: Annotated[int | None, Query(ge=0, le=10**18, description="Start after this event id")] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    if after is None and last_event_id is not None:
        if not DIGITS.fullmatch(last_event_id.strip()):
            raise ValidationError.at("Last-Event-ID", f"must be an event id (a whole number), got {last_event_id!r}")
        after = int(last_event_id.strip())
    if after is None:
        after = await anyio.to_thread.run_sync(broker.last_seq)
    return StreamingResponse(
        stream(request, broker, caller, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def check_public_url(url: str) -> None:
    """Refuse a webhook URL that is not https:// or whose host is (or resolves to) a loopback,
    private, link-local or otherwise non-global address, including an IPv6 form that carries such an
    IPv4 address (:mod:`deconflict.api.webhook_address`): a party must not make the broker post into
    the broker's own network. (A name that resolves elsewhere later is not caught here.)"""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise ValidationError.at("url", "must be https:// (plain http:// needs [server] webhooks_to_private = true)")
    host = parts.hostname
    if not host:
        raise ValidationError.at("url", "has no host")
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError):
        raise ValidationError.at("url", f"host {host!r} does not resolve") from None
    for info in infos:
        why = refusal(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
        if why is not None:
            raise ValidationError.at(
                "url", f"host {host!r}: {why} (allowed only with [server] webhooks_to_private = true)"
            )


@router.put(
    "/webhook",
    tags=["events"],
    summary="Receive your events by webhook",
    description='`{"url": "https://…", "secret": "…"}`. Every event you may see is POSTed to the URL in '
    "order, signed with HMAC-SHA256 over `timestamp.body` (header `X-Deconflict-Signature`), retried with "
    "backoff until it is accepted. Delivery starts with the next event. See docs/webhooks.md.",
    openapi_extra=request_body(
        Webhook, {"url": "https://ops.example.org/deconflict/hook", "secret": "a-long-random-shared-secret"}
    ),
    response_model=None,
    responses={200: {"model": WebhookSet}},
)
def set_webhook(request: Request, caller: Caller, broker: BrokerDep, body: Body) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError.at("body", "must be an object with url and secret")
    check_keys(body, KEYS["webhook"], "")
    url, secret = body.get("url"), body.get("secret")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 2000:
        raise ValidationError.at("url", "must be an http:// or https:// URL (at most 2000 characters)")
    if not request.app.state.webhooks_to_private:
        check_public_url(url)
    if not isinstance(secret, str) or not 16 <= len(secret) <= 200:
        raise ValidationError.at("secret", "must be a string of 16 to 200 characters")
    return broker.set_webhook(caller, url, secret)


@router.delete(
    "/webhook",
    tags=["events"],
    summary="Stop webhook deliveries",
    description="Removes your webhook (204; 404 when you have none). Logged. Your events stay on `/v1/events`.",
    status_code=204,
)
def remove_webhook(caller: Caller, broker: BrokerDep) -> None:
    broker.remove_webhook(caller)
