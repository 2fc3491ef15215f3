"""The application factory: ``create_app(broker, config)`` builds the API around a broker. No
globals: everything the routes need hangs off ``app.state``."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from functools import partial
from importlib.metadata import version
from typing import Any

import anyio
import httpx
from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from deconflict.adapters.broker_webhooks import BrokerWebhookStore
from deconflict.adapters.webhooks import WebhookDeliverer
from deconflict.api import audit, conflicts, console, docs_assets, errors, events, formats, messages, notices, reports
from deconflict.api import tactical as tactical_api
from deconflict.api.auth import JwtVerifier
from deconflict.api.deps import BrokerDep, Caller
from deconflict.api.limits import Limiter, limit_request
from deconflict.api.openapi import install_openapi
from deconflict.api.query_check import refuse_unknown_query
from deconflict.api.replicas import Job, Replica
from deconflict.api.schemas_out import Me, Policy, Status
from deconflict.api.track_stream import router as track_stream_router
from deconflict.config import Config, theater_policy
from deconflict.domain.parse import format_time
from deconflict.services.broker import Broker
from deconflict.services.hotline import Hotline
from deconflict.services.tactical import TacticalService

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


def _deliver_webhooks(broker: Broker, config: Config, stop: threading.Event) -> None:
    """Webhook deliveries until ``stop`` is set, on the leader's thread and event loop of their own,
    so a slow receiver or database call never holds up the API. A commit (here or, heard by the
    listener, on another replica) wakes the deliverer; ``webhook_interval_s`` is the fallback."""

    async def main() -> None:
        done = anyio.Event()
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def nudge() -> None:  # called from worker threads after a commit
            loop.call_soon_threadsafe(wake.set)

        async def watch() -> None:
            while not stop.is_set():
                await anyio.sleep(0.1)
            done.set()
            wake.set()

        broker.listeners.append(nudge)
        try:
            async with httpx.AsyncClient() as client:
                deliverer = WebhookDeliverer(BrokerWebhookStore(broker, broker.store), broker.clock, client)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(watch)
                    await deliverer.run(done, config.server.webhook_interval_s, wake)
                    tg.cancel_scope.cancel()
        finally:
            broker.listeners.remove(nudge)

    anyio.run(main)


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
    tactical = TacticalService(broker, config.tactical)
    hotline = Hotline(broker)
    replica = Replica(broker)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.stopping = asyncio.Event()
        # What runs once per broker runs on the leader only, each on its own thread (api/replicas.py).
        jobs: list[tuple[str, Job]] = []
        if webhooks:
            jobs.append(("deconflict-webhooks", partial(_deliver_webhooks, broker, config)))
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
    app.state.jwt = JwtVerifier(config.jwt) if config.jwt is not None else None
    app.state.events_poll_s = config.server.events_poll_s
    app.state.webhooks_to_private = config.server.webhooks_to_private
    app.state.stopping = asyncio.Event()
    app.state.limiter = Limiter(config.rate_limits)
    app.add_middleware(BodyLimit, limit=config.server.max_body_bytes)
    errors.install(app)
    docs_assets.install(app)

    console.install(app)  # the operator's console at /

    @app.get(
        "/healthz",
        tags=["health"],
        dependencies=[Depends(refuse_unknown_query)],
        summary="The process is up",
        description='No token needed. Always `{"status": "ok"}` while the process serves requests.',
        response_model=None,
        responses={200: {"model": Status}},
    )
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        dependencies=[Depends(refuse_unknown_query)],
        summary="The store answers",
        description='No token needed. 200 `{"status": "ready"}` when the store answers a query, else 503 with '
        "the kind of failure. Says nothing about the log or the traffic.",
        responses={200: {"model": Status}, 503: {"model": Status, "description": "The store does not answer."}},
    )
    def readyz() -> JSONResponse:
        # Says nothing about the log (not even its length): without a token, the tempo of
        # activity is not anyone's to read.
        try:
            broker.last_seq()
        except Exception as e:  # any store failure means not ready; say which kind
            log.warning("not ready: %s", e)
            return JSONResponse({"status": "unavailable", "reason": type(e).__name__}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get(
        "/leaderz",
        tags=["health"],
        dependencies=[Depends(refuse_unknown_query)],
        summary="This replica leads",
        description='No token needed. 200 `{"status": "leader"}` on the replica that runs the tactical cycle, the '
        'hotline\'s escalation and webhook deliveries; 503 `{"status": "follower"}` on the others (a load balancer '
        "sends `POST /v1/tracks` to the leader by it). A broker on SQLite is one process and always leads. See "
        "docs/deploy.md.",
        responses={200: {"model": Status}, 503: {"model": Status, "description": "Another replica leads."}},
    )
    def leaderz() -> JSONResponse:
        if replica.leading:
            return JSONResponse({"status": "leader"})
        return JSONResponse({"status": "follower"}, status_code=503)

    @app.get(
        "/v1/me",
        tags=["health"],
        dependencies=[Depends(refuse_unknown_query)],
        summary="Who you are to the broker",
        description="The party your token names, its role (`party`, `authority`, `observer`, `admin`) and coalition.",
        response_model=None,
        responses={200: {"model": Me}},
    )
    def me(caller: Caller, broker: BrokerDep) -> dict[str, Any]:
        return {"party": caller.name, "role": caller.role.value, "coalition": caller.coalition}

    @app.get(
        "/v1/policy",
        tags=["health"],
        dependencies=[Depends(refuse_unknown_query)],
        summary="The theater's agreed definitions",
        description="Separation minima, minimum notice, the tactical minima and the protected sites' overhead "
        "distance, the hotline's acknowledgement deadlines and escalation interval, and the disclosure default: "
        "the thresholds that turn an event into a violation. `recorded` names the log event that recorded them "
        "(`policy.recorded`, visible to every party in its export): any change is itself a logged event.",
        response_model=None,
        responses={200: {"model": Policy}},
    )
    def policy(caller: Caller, broker: BrokerDep) -> dict[str, Any]:
        doc = theater_policy(config)
        ev = broker.policy_record()
        recorded = None
        if ev is not None:
            recorded = {
                "seq": ev.seq,
                "hash": ev.hash,
                "time": format_time(ev.time),
                "policy_sha256": ev.payload.get("policy_sha256"),
                "current": ev.payload.get("policy") == doc,
            }
        return {**doc, "recorded": recorded}

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
    for r in (*routers, tactical_api.router, track_stream_router):
        app.include_router(r, prefix="/v1", dependencies=[Depends(limit_request), Depends(refuse_unknown_query)])
    # where Prometheus looks by default; the same handler (and admin token) as /v1/metrics
    app.add_api_route("/metrics", tactical_api.metrics, methods=["GET"], include_in_schema=False)
    install_openapi(app)
    return app
