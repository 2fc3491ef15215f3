"""Dependencies shared by the routers: the broker, the caller, and JSON bodies parsed strictly."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

import anyio
from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from deconflict.api.auth import JwtVerifier, is_broker_token
from deconflict.domain import strict
from deconflict.domain.errors import Unauthorized, ValidationError
from deconflict.domain.parties import RESERVED_NAMES, Party
from deconflict.services.broker import Broker, Outcome

bearer = HTTPBearer(
    auto_error=False,
    description="A token from `deconflict party add` (starts with `dcf_`), or an identity provider's JWT "
    "when the broker is configured to accept them.",
)


def get_broker(request: Request) -> Broker:
    broker: Broker = request.app.state.broker
    return broker


BrokerDep = Annotated[Broker, Depends(get_broker)]


def get_caller(  # plain def: FastAPI runs it on the threadpool, so a store or JWKS call never blocks the loop
    request: Request, broker: BrokerDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Party:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise Unauthorized("this endpoint needs an Authorization: Bearer token")
    token = creds.credentials
    verifier: JwtVerifier | None = request.app.state.jwt

    def authenticate() -> Party:
        if is_broker_token(token):
            party = broker.authenticate(token)
        elif verifier is None:
            raise Unauthorized("unknown or revoked token")
        else:
            party = broker.party(verifier.party(token))
        if party.name in RESERVED_NAMES:  # registered before they were refused: it would pass for the broker
            raise Unauthorized(f"party {party.name!r} has a reserved name: the operator must register it anew")
        return party

    request.state.reauthenticate = authenticate  # long-lived streams check the token again
    # A flood of made-up tokens from one address is stopped before the store is asked
    # (rate_limits.refused_per_minute); the limiter raises its own 429.
    limiter = request.app.state.limiter
    address = request.client.host if request.client is not None else "unknown"
    limiter.admit_address(address)
    try:
        return authenticate()
    except Unauthorized:
        limiter.refused(address)
        raise


Caller = Annotated[Party, Depends(get_caller)]


DIGITS = re.compile(r"[0-9]{1,18}")
"""A whole number as a header or query value: ASCII digits only (``'²'.isdigit()`` is true), and
small enough for a 64-bit column."""


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(text: str, field: str) -> Any:
    """JSON text as Python values, refusing what the stores cannot keep or the broker cannot hash:
    NaN and Infinity (Python's parser accepts them), lone surrogates, NUL characters, nesting
    deeper than the parser's recursion limit, and a key written twice in one object (Python's
    parser keeps the last silently)."""
    try:
        value = strict.loads(text, parse_constant=_no_constants)
    except ValidationError as e:  # a key given twice: named by its path in the document, as any other
        raise e if field == "body" else e.prefixed(field) from None
    except RecursionError:
        raise ValidationError.at(field, "is nested too deeply") from None
    except ValueError as e:
        raise ValidationError.at(field, f"is not valid JSON ({e})") from None
    if "\\u" not in text and "\x00" not in text and _encodable(text):
        # no escapes: every string in the value is a piece of the text, which holds no lone
        # surrogate and no NUL (a raw control character is a syntax error to the parser)
        return value
    try:
        plain = json.dumps(value, ensure_ascii=False)
        plain.encode("utf-8")
    except RecursionError:
        raise ValidationError.at(field, "is nested too deeply") from None
    except UnicodeEncodeError:
        raise ValidationError.at(field, "contains a lone UTF-16 surrogate (\\ud800–\\udfff)") from None
    if "\x00" in plain or "\\u0000" in plain:
        raise ValidationError.at(field, "contains a NUL character (\\u0000)")
    return value


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


LARGE_BODY = 64 * 1024
"""A body this large is parsed on a worker thread, not on the event loop that serves the streams."""


async def json_body(request: Request) -> Any:
    """The request body as JSON (see :func:`parse_json`)."""
    raw = await request.body()
    if not raw:
        raise ValidationError.at("body", "is empty: send a JSON document")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError.at("body", "is not UTF-8 text") from None
    if len(raw) >= LARGE_BODY:
        return await anyio.to_thread.run_sync(parse_json, text, "body")
    return parse_json(text, "body")


Body = Annotated[Any, Depends(json_body)]


PAGING = (
    "at most `limit` items (default and most 1000); when there are more, the `X-Next-Cursor` header (and a "
    '`Link: <…>; rel="next"` header) gives the `cursor` of the next page.'
)
CursorQuery = Annotated[str | None, Query(max_length=500, description="From the previous page's X-Next-Cursor")]
LimitQuery = Annotated[int, Query(ge=1, le=1000, description="Most items in this page")]


def outcome_response(r: Outcome) -> JSONResponse:
    """201 for a change that made its record, 200 for one that changed or confirmed it; an
    Idempotency-Key retry says it was replayed."""
    headers = {"Idempotent-Replayed": "true"} if r.replayed else None
    return JSONResponse(r.body, status_code=201 if r.created else 200, headers=headers)


def page(request: Request, items: list[dict[str, Any]], next_cursor: str | None) -> JSONResponse:
    """A list response with the next page's cursor in headers (the body stays a plain list)."""
    return JSONResponse(items, headers=paging_headers(request, next_cursor))


def page_of_texts(request: Request, texts: list[str], next_cursor: str | None) -> Response:
    """:func:`page` for items that are JSON texts already (the notices' wire forms, made from the
    stored text): the body is their list, joined, as ``JSONResponse`` would write it."""
    body = "[" + ",".join(texts) + "]"
    return Response(body, media_type="application/json", headers=paging_headers(request, next_cursor))


def paging_headers(request: Request, next_cursor: str | None) -> dict[str, str]:
    """``X-Next-Cursor`` and a ``Link`` to the next page, when there is one."""
    if next_cursor is None:
        return {}
    url = request.url.include_query_params(cursor=next_cursor)
    return {"X-Next-Cursor": next_cursor, "Link": f'<{url}>; rel="next"'}
