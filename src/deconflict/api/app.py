"""The application factory: ``create_app(broker, config)`` builds the API around a broker. No
globals: everything the routes need hangs off ``app.state``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from functools import partial
from importlib.metadata import version
from typing import Any

import anyio
from fastapi import Depends, FastAPI

from deconflict.api import (
    audit,
    conflicts,
    console,
    docs_assets,
    errors,
    events,
    formats,
    health,
    messages,
    notices,
    reports,
)
from deconflict.api import tactical as tactical_api
from deconflict.api.auth import JwtVerifier
from deconflict.api.limits import Limiter, limit_request
from deconflict.api.openapi import install_openapi
from deconflict.api.query_check import refuse_unknown_query
from deconflict.api.replicas import Job, Replica
from deconflict.api.track_stream import router as track_stream_router
from deconflict.api.webhook_thread import deliver_webhooks
from deconflict.bootstrap import build_services
from deconflict.config import Config
from deconflict.services.broker import Broker

log = logging.getLogger(__name__)

DESCRIPTION = """
**deconflict** is a neutral airspace de-confliction broker. Each party files where, when and how high
it will fly (notices of 4D volumes, ASTM F3548-21 style); the broker finds conflicts between
different parties' notices and with protected sites, tells every affected party at once and only what
it needs to know, and keeps a tamper-evident, hash-chained record with signed receipts.

* A notice is **information, never permission**: the broker does not verify what parties declare
  and approves nothing.
* An acknowledgement means **"received and understood"**, never "approved".
* Separation minima (default 5 NM, 1000 ft, 300 s) and the disclosure policy are the theater's
  configuration, visible to all parties.

Every endpoint except `/healthz` and `/readyz` needs `Authorization: Bearer <token>` (from
`deconflict party add`). 401: no or unknown token; 403: your role or ownership does not allow the
call; 404 also stands for "exists but not visible to you"; 422: bad input, with the field and the
reason in `detail`; 409: stale version; 413: body too large; 429: over one of your party's rate or
concurrency limits (`rate_limits` in `/v1/policy`), with `Retry-After` in seconds.
"""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes with 413, by the declared length or while they
    stream in, before the application reads them whole. Also refuses a NUL character in the path
    or query (422): PostgreSQL cannot hold one in text, SQLite can, and the two must agree."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            resp = errors.problem(
                422,
                "validation",
                "url: must not contain a NUL character",
                [{"field": "url", "reason": "must not contain a NUL character"}],
            )
            await send({"type": "http.response.start", "status": 422, "headers": resp.raw_headers})
            await send({"type": "http.response.body", "body": resp.body})
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(send)
                return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counted, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        resp = errors.problem(413, "too-large", f"request body is larger than the limit of {self.limit} bytes")
        await send({"type": "http.response.start", "status": 413, "headers": resp.raw_headers})
        await send({"type": "http.response.body", "body": resp.body})


class _TooLarge(Exception):
    pass


def create_app(
    broker: Broker,
    config: Config | None = None,
    *,
    webhooks: bool = True,
    tactical_cycles: bool = True,
    hotline_ticks: bool = True,
    expire_notices: bool = True,
) -> FastAPI:
    """The API for ``broker``. ``webhooks=False`` leaves deliveries to the caller (tests drive
    :class:`~deconflict.adapters.webhooks.WebhookDeliverer` themselves); ``tactical_cycles=False``
    leaves detection cycles to the caller (``app.state.tactical.cycle()``); ``expire_notices=False``
    leaves ending past notices to the caller (``broker.end_past_notices()``)."""
    config = config or Config()
    services = build_services(broker, config)  # the composition root builds every use case
    tactical, hotline = services.tactical, services.hotline
    replica = Replica(broker)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.stopping = asyncio.Event()
        # What runs once per broker runs on the leader only, each on its own thread (api/replicas.py).
        jobs: list[tuple[str, Job]] = []
        if webhooks:
            jobs.append(("deconflict-webhooks", partial(deliver_webhooks, broker, config)))
        if tactical_cycles and config.tactical.run_cycles:
            jobs.append(("deconflict-tactical", tactical.run))
        if hotline_ticks and config.tactical.run_cycles:  # the process that runs the picture escalates
            jobs.append(("deconflict-hotline", hotline.run))
        if expire_notices:  # notices whose time has passed move to ended on the broker's clock
            jobs.append(("deconflict-expiry", broker.run_expiry))
        await anyio.to_thread.run_sync(replica.start, jobs)
        try:
            yield
        finally:
            app.state.stopping.set()
            await anyio.to_thread.run_sync(replica.close)

    app = FastAPI(
        title="deconflict",
        version=version("deconflict"),
        description=DESCRIPTION,
        lifespan=lifespan,
        # FastAPI's own pages load Swagger UI and ReDoc from a CDN: blank without internet. The
        # broker serves them from an installed package instead (docs_assets).
        docs_url=None,
        redoc_url=None,
        openapi_tags=[
            {"name": "notices", "description": "Declared air activity: 4D volumes. Information, never permission."},
            {"name": "protected sites", "description": "Volumes every notice must stay clear of (authorities)."},
            {"name": "conflicts", "description": "Notices of different parties, or a notice and a site, too close."},
            {"name": "events", "description": "Live events (SSE) and webhooks, filtered by disclosure."},
            {"name": "audit", "description": "The hash-chained event log and the broker's signing key."},
            {"name": "tactical", "description": "Live tracks, predicted losses of separation, incursions, alerts."},
            {"name": "hotline", "description": "Messages between parties, acknowledged by a deadline or escalated."},
            {"name": "formats", "description": "Airspace formats in and out: ACO, OpenAir, NOTAM, GeoJSON, KML."},
            {"name": "health", "description": "Liveness and readiness (no token needed)."},
        ],
    )
    app.state.broker = broker
    app.state.tactical = tactical
    app.state.hotline = hotline
    app.state.replica = replica
    app.state.config = config
    app.state.jwt = JwtVerifier(config.jwt) if config.jwt is not None else None
    app.state.events_poll_s = config.server.events_poll_s
    app.state.webhooks_to_private = config.server.webhooks_to_private
    app.state.stopping = asyncio.Event()
    app.state.limiter = Limiter(config.rate_limits)
    app.add_middleware(BodyLimit, limit=config.server.max_body_bytes)
    errors.install(app)
    docs_assets.install(app)

    console.install(app)  # the operator's console at /

    routers = (
        notices.router(site=False),
        notices.router(site=True),
        conflicts.router,
        events.router,
        audit.router,
        messages.router,
        reports.router,
        formats.router,  # airspace formats in and out (ACO, OpenAir, NOTAM, GeoJSON, KML)
    )
    app.include_router(health.router, dependencies=[Depends(refuse_unknown_query)])
    for r in (*routers, tactical_api.router, track_stream_router):
        app.include_router(r, prefix="/v1", dependencies=[Depends(limit_request), Depends(refuse_unknown_query)])
    # where Prometheus looks by default; the same handler (and admin token) as /v1/metrics
    app.add_api_route("/metrics", tactical_api.metrics, methods=["GET"], include_in_schema=False)
    install_openapi(app)
    return app
