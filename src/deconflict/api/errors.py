"""One error format for the whole API: ``{"error": code, "message": text, "detail": [{"field", "reason"}]}``.

Each error of the tree in :mod:`deconflict.domain.errors` is mapped here, once, to its status and
code. Validation errors carry the same field paths and reasons as the library (``volumes[0].time_end:
must be after time_start``); nothing is written when a request is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from deconflict.api.limits import RateLimited
from deconflict.domain.errors import (
    AheadOfLogError,
    CommitUnconfirmed,
    Forbidden,
    KeyRetiredError,
    NotFoundError,
    StaleVersionError,
    Unauthorized,
    ValidationError,
)
from deconflict.services.probes import ProbeBudgetSpent
from deconflict.services.tactical import TrackLimitExceeded

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5
"""What a 503 asks a client to wait before it tries again."""


def problem(
    status: int,
    code: str,
    message: str,
    detail: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"error": code, "message": message}
    if detail is not None:
        body["detail"] = detail
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, headers=headers or None)


RETRY_LATER_SQLSTATES = frozenset({"25006", "40001", "40P01"})
"""PostgreSQL's refusals that a retry may not meet: a read-only transaction (a standby, or a primary
demoted during a failover, reached by a connection), a serialization failure, a deadlock. The
transaction was rolled back, so the client retries it (with its ``Idempotency-Key``)."""


def store_down(e: Exception) -> bool:
    """Whether ``e`` says the store does not answer (a refused or dropped connection, a locked or
    unreadable database file, a node that no longer takes writes), rather than a fault of ours."""
    return (
        isinstance(e, OperationalError | InterfaceError)
        or (isinstance(e, DBAPIError) and bool(e.connection_invalidated))
        or (isinstance(e, DBAPIError) and getattr(e.orig, "sqlstate", None) in RETRY_LATER_SQLSTATES)
    )


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    # FastAPI's ("query", "bbox") → "query.bbox"; list indexes as [i].
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str:
    """Every method the request's path takes. Starlette's router names only those of the first
    route that matches the path, and a path served by several routes (GET and POST
    ``/v1/notices``) is one route per method: ask the router about each method instead."""
    routes = request.app.router.routes
    return ", ".join(
        m for m in METHODS if any(r.matches({**request.scope, "method": m})[0] == Match.FULL for r in routes)
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(ValidationError)
    async def _validation(_: Request, e: ValidationError) -> JSONResponse:
        detail = [{"field": err.path, "reason": err.reason} for err in e.errors]
        return problem(422, "validation", str(e), detail)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(_: Request, e: RequestValidationError) -> JSONResponse:
        detail = [{"field": _loc(err.get("loc", ())), "reason": str(err.get("msg", ""))} for err in e.errors()]
        return problem(422, "validation", "; ".join(f"{d['field']}: {d['reason']}" for d in detail), detail)

    @app.exception_handler(NotFoundError)
    async def _not_found(_: Request, e: NotFoundError) -> JSONResponse:
        return problem(404, "not-found", str(e.args[0]) if e.args else "not found")

    @app.exception_handler(AheadOfLogError)
    async def _ahead(_: Request, e: AheadOfLogError) -> JSONResponse:
        return problem(409, "ahead-of-log", str(e), [{"field": e.field, "reason": e.reason}])

    @app.exception_handler(KeyRetiredError)
    async def _key_retired(request: Request, e: KeyRetiredError) -> JSONResponse:
        log.error("%s %s: %s", request.method, request.url.path, e)
        return problem(503, "key-retired", str(e), headers={"Retry-After": str(RETRY_AFTER_S)})

    @app.exception_handler(CommitUnconfirmed)
    async def _unconfirmed(request: Request, e: CommitUnconfirmed) -> JSONResponse:
        log.error("%s %s: %s", request.method, request.url.path, e)
        return problem(503, "commit-unconfirmed", str(e), headers={"Retry-After": str(RETRY_AFTER_S)})

    @app.exception_handler(StaleVersionError)
    async def _stale(_: Request, e: StaleVersionError) -> JSONResponse:
        resp = problem(409, "stale-version", str(e))
        resp.headers["X-Current-Version"] = str(e.current)
        return resp

    @app.exception_handler(Forbidden)
    async def _forbidden(_: Request, e: Forbidden) -> JSONResponse:
        return problem(403, "forbidden", str(e))

    @app.exception_handler(ProbeBudgetSpent)
    async def _probe_budget(_: Request, e: ProbeBudgetSpent) -> JSONResponse:
        resp = problem(429, "probe-budget", str(e), [{"field": e.field, "reason": e.reason}])
        resp.headers["Retry-After"] = str(e.retry_after_s)
        return resp

    @app.exception_handler(TrackLimitExceeded)
    async def _track_limit(_: Request, e: TrackLimitExceeded) -> JSONResponse:
        resp = problem(429, "track-limit", str(e), [{"field": e.field, "reason": e.reason}])
        if e.retry_after_s is not None:
            resp.headers["Retry-After"] = str(e.retry_after_s)
        return resp

    @app.exception_handler(Unauthorized)
    async def _unauthorized(_: Request, e: Unauthorized) -> JSONResponse:
        return problem(401, "unauthorized", str(e))

    @app.exception_handler(RateLimited)
    async def _rate_limited(_: Request, e: RateLimited) -> JSONResponse:
        resp = problem(429, "rate-limited", str(e), [{"field": f"rate_limits.{e.limit}", "reason": str(e)}])
        resp.headers["Retry-After"] = str(e.retry_after)
        return resp

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, e: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(e.status_code, "http-error")
        headers = dict(e.headers or {})
        if e.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return problem(e.status_code, code, str(e.detail), headers=headers)

    @app.exception_handler(DBAPIError)
    async def _store(request: Request, e: DBAPIError) -> JSONResponse:
        if not store_down(e):
            raise e  # a fault of ours: a 500, with its traceback in the log
        log.warning("%s %s: the store does not answer: %s", request.method, request.url.path, type(e.orig).__name__)
        return problem(
            503,
            "unavailable",
            f"the store does not answer ({type(e.orig).__name__}); try again in {RETRY_AFTER_S} s",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, _: ClientDisconnect) -> Response:
        # Nobody is left to answer: say so in one line, not a traceback.
        log.info("%s %s: the client disconnected before it sent the whole body", request.method, request.url.path)
        return Response(status_code=400)
