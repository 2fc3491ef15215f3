"""The OpenAPI document: FastAPI's, with the request schemas as components and one error shape.

Routes read their bodies themselves (the domain parsers validate them), so FastAPI knows no body
model; each route names its schema with ``openapi_extra=request_body(...)``
(:mod:`deconflict.api.schemas`) and :func:`install_openapi` adds those schemas to the document.
FastAPI also documents a 422 of its own shape (``HTTPValidationError``) that this API never sends:
every refusal is an :class:`~deconflict.api.schemas_out.Error`, so the document says that instead.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from deconflict.api.schemas import REF, component_schemas
from deconflict.api.schemas_out import Error

ERRORS = (
    "An error, in the one shape of the API: 401 no or unknown token, 403 your role or ownership does not allow "
    "it, 404 missing or not visible to you, 405 a method the path does not take (with `Allow`), 409 stale "
    "version or a log position past the head, 413 body too large, 422 bad input (each field and the reason in "
    "`detail`; a query parameter the operation does not take is one), 429 too many requests (with "
    "`Retry-After`), 503 the store does not answer (with `Retry-After`)."
)

_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}}
RESPONSES: dict[str, dict[str, Any]] = {
    "401": {"description": "No token, or an unknown, revoked or refused one."},
    "403": {"description": "Your role or ownership does not allow the call."},
    "404": {"description": "Does not exist, or is not visible to you (the same answer)."},
    "422": {"description": "Bad input: each field and the reason in `detail`."},
    "429": {"description": "Too many requests from your token: wait `Retry-After` seconds.", "headers": _RETRY_AFTER},
    "503": {
        "description": "The store does not answer: try again after `Retry-After` seconds.",
        "headers": _RETRY_AFTER,
    },
}
"""The errors an operation declares where they can occur (see :func:`_declare`), in the one shape."""

NOT_FORBIDDEN = {("get", "/v1/me"), ("get", "/v1/policy"), ("get", "/v1/audit/key")}
"""Operations any valid token may call: they never answer 403."""
_FASTAPI_422 = REF.format(model="HTTPValidationError")


def _merge(schemas: dict[str, Any], more: dict[str, Any]) -> None:
    for name, s in more.items():
        if schemas.setdefault(name, s) != s:
            raise RuntimeError(f"two different schemas are named {name!r}")


def _declare(method: str, path: str, op: dict[str, Any]) -> list[str]:
    """The error statuses ``op`` can answer: 401, 429 and 503 with a token (the store checks it),
    403 unless any token may call it, 404 with a path parameter, 422 with parameters or a body."""
    out = []
    if op.get("security"):
        out += ["401", "429", "503"]
        if (method, path) not in NOT_FORBIDDEN:
            out.append("403")
    params = op.get("parameters", [])
    if any(p.get("in") == "path" for p in params):
        out.append("404")
    if params or "requestBody" in op:
        out.append("422")
    return out


def _errors(doc: dict[str, Any]) -> None:
    """Every operation's errors as :class:`Error`, in place of FastAPI's 422: those it can answer
    each declared (:data:`RESPONSES`), the rest under ``default``."""
    error = {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            responses = op.setdefault("responses", {})
            fastapi_422 = responses.get("422", {}).get("content", {}).get("application/json", {})
            if fastapi_422.get("schema", {}).get("$ref") == _FASTAPI_422:
                del responses["422"]
            for status in _declare(method, path, op):
                responses.setdefault(status, {**RESPONSES[status], "content": error})
            responses.setdefault("default", {"description": ERRORS, "content": error})
    schemas = doc["components"]["schemas"]
    if _FASTAPI_422 not in str(doc["paths"]):
        schemas.pop("HTTPValidationError", None)
        if REF.format(model="ValidationError") not in str(doc["paths"]) + str(schemas):
            schemas.pop("ValidationError", None)


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` carry the request schemas and the error shape (FastAPI generates the
    rest, the response models included, from the routes)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = generate()
            app.openapi_schema = None  # not cached until it is whole
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            _merge(schemas, component_schemas())
            _merge(schemas, component_schemas((Error,)))
            _errors(doc)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the document
