"""One error format for the whole API: ``{"error": code, "message": text, "detail": [{"field", "reason"}]}``.

Validation errors carry the same field paths and reasons as the library (``volumes[0].time_end:
must be after time_start``); nothing is written when a request is refused.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from deconflict.domain.errors import NotFoundError, StaleVersionError, ValidationError
from deconflict.services.broker import Forbidden, Unauthorized
from deconflict.services.filing import NotOwnerError
from deconflict.services.probes import ProbeBudgetSpent


def problem(status: int, code: str, message: str, detail: list[dict[str, str]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": code, "message": message}
    if detail is not None:
        body["detail"] = detail
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    # FastAPI's ("query", "bbox") → "query.bbox"; list indexes as [i].
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


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

    @app.exception_handler(StaleVersionError)
    async def _stale(_: Request, e: StaleVersionError) -> JSONResponse:
        resp = problem(409, "stale-version", str(e))
        resp.headers["X-Current-Version"] = str(e.current)
        return resp

    @app.exception_handler(Forbidden)
    async def _forbidden(_: Request, e: Forbidden) -> JSONResponse:
        return problem(403, "forbidden", str(e))

    @app.exception_handler(NotOwnerError)
    async def _not_owner(_: Request, e: NotOwnerError) -> JSONResponse:
        return problem(403, "forbidden", str(e))

    @app.exception_handler(ProbeBudgetSpent)
    async def _probe_budget(_: Request, e: ProbeBudgetSpent) -> JSONResponse:
        resp = problem(429, "probe-budget", str(e), [{"field": e.field, "reason": e.reason}])
        resp.headers["Retry-After"] = str(e.retry_after_s)
        return resp

    @app.exception_handler(Unauthorized)
    async def _unauthorized(_: Request, e: Unauthorized) -> JSONResponse:
        return problem(401, "unauthorized", str(e))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, e: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(e.status_code, "http-error")
        return problem(e.status_code, code, str(e.detail))
