"""Who is calling: a broker-issued bearer token, or (when configured) an identity provider's JWT
whose claim names a registered party."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt

from deconflict.config import JwtSettings
from deconflict.domain.errors import Unauthorized, ValidationError
from deconflict.services.parties import TOKEN_PREFIX


class JwtVerifier:
    """Checks signature, issuer, audience and expiry, and returns the party the token names."""

    def __init__(self, settings: JwtSettings) -> None:
        self.settings = settings
        self._client: jwt.PyJWKClient | None = None
        self._keys: dict[str, Any] = {}
        if settings.jwks_file is not None:
            try:
                doc = json.loads(Path(settings.jwks_file).read_text())
                jwks = jwt.PyJWKSet.from_dict(doc)
            except (OSError, ValueError, jwt.PyJWTError) as e:
                raise ValidationError.at("auth.jwt.jwks_file", f"{settings.jwks_file}: {e}") from None
            self._keys = {str(k.key_id): k for k in jwks.keys}
        else:
            assert settings.jwks_url is not None
            self._client = jwt.PyJWKClient(settings.jwks_url, cache_keys=True)

    def party(self, token: str) -> str:
        s = self.settings
        alg = None
        try:
            alg = jwt.get_unverified_header(token).get("alg")
            if self._client is not None:
                key = self._client.get_signing_key_from_jwt(token)
            else:
                kid = jwt.get_unverified_header(token).get("kid")
                if kid not in self._keys:
                    if kid is None and len(self._keys) == 1:
                        kid = next(iter(self._keys))
                    else:
                        raise Unauthorized(f"token signed with unknown key id {kid!r}")
                key = self._keys[kid]
            claims = jwt.decode(
                token,
                key.key,
                algorithms=list(s.algorithms),
                audience=s.audience,
                issuer=s.issuer,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as e:
            raise Unauthorized(f"identity-provider token refused: {e}") from None
        except (TypeError, ValueError):  # PyJWT's own error when the key is not of the algorithm's type
            raise Unauthorized(
                f"identity-provider token refused: it is signed with {alg!r}, which its key cannot verify"
            ) from None
        party = claims.get(s.party_claim)
        if not isinstance(party, str) or not party:
            raise Unauthorized(f"identity-provider token has no {s.party_claim!r} claim naming a party")
        return party


def is_broker_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)
