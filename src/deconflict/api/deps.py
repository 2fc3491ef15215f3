"""Dependencies shared by the routers: the broker, the caller, and JSON bodies parsed strictly."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from deconflict.api.auth import JwtVerifier, is_broker_token
from deconflict.domain.errors import ValidationError
from deconflict.domain.parties import Party
from deconflict.services.broker import Broker, Unauthorized

bearer = HTTPBearer(
    auto_error=False,
    description="A token from `deconflict party add` (starts with `dcf_`), or an identity provider's JWT "
    "when the broker is configured to accept them.",
)


def get_broker(request: Request) -> Broker:
    broker: Broker = request.app.state.broker
    return broker


BrokerDep = Annotated[Broker, Depends(get_broker)]


async def get_caller(
    request: Request, broker: BrokerDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Party:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise Unauthorized("this endpoint needs an Authorization: Bearer token")
    token = creds.credentials
    verifier: JwtVerifier | None = request.app.state.jwt

    def authenticate() -> Party:
        if is_broker_token(token):
            return broker.authenticate(token)
        if verifier is None:
            raise Unauthorized("unknown or revoked token")
        return broker.party(verifier.party(token))

    request.state.reauthenticate = authenticate  # long-lived streams check the token again
    return authenticate()


Caller = Annotated[Party, Depends(get_caller)]


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


async def json_body(request: Request) -> Any:
    """The request body as JSON; NaN and Infinity (which Python's parser would accept) are refused."""
    raw = await request.body()
    if not raw:
        raise ValidationError.at("body", "is empty: send a JSON document")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError.at("body", "is not UTF-8 text") from None
    try:
        return json.loads(text, parse_constant=_no_constants)
    except ValueError as e:
        raise ValidationError.at("body", f"is not valid JSON ({e})") from None


Body = Annotated[Any, Depends(json_body)]
