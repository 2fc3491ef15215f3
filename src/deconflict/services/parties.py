"""Parties and their credentials: registering, revoking, tokens, and the admin's disclosure rules."""

from __future__ import annotations

import hashlib
import secrets

from deconflict.domain.disclosure_policy import Level
from deconflict.domain.errors import Unauthorized, ValidationError
from deconflict.domain.event_types import EventType
from deconflict.domain.parties import Party, Role, check_name, check_party_name
from deconflict.services.transaction import ADMIN_ACTOR, BrokerCore, existing_party

TOKEN_PREFIX = "dcf_"
"""Bearer tokens the broker issues start with this, so a leaked one is easy to recognise."""


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the store keeps of a token. A plain SHA-256 suffices: tokens are 256 random bits, so
    there is nothing to brute-force that a slow hash would protect."""
    return hashlib.sha256(token.encode()).hexdigest()


class Parties:
    """Who may call the broker, with which credential, and who may see whom."""

    def __init__(self, core: BrokerCore) -> None:
        self.core = core

    def authenticate(self, token: str) -> Party:
        with self.core.read() as repo:
            party = repo.party_for_token(token_hash(token))
        if party is None:
            raise Unauthorized("unknown or revoked token")
        return party

    def party(self, name: str) -> Party:
        """A live party by name (used for identity-provider tokens, whose claim names the party)."""
        with self.core.read() as repo:
            party = repo.get_party(name)
        if party is None or party.revoked:
            raise Unauthorized(f"party {name!r} is not registered at this broker or is revoked")
        return party

    def add_party(self, name: str, role: Role, coalition: str | None = None) -> tuple[Party, str]:
        """Register a party and issue its first token (returned once; only its hash is kept)."""
        check_party_name(name)
        if coalition is not None:
            check_name("coalition", coalition)
            if role in (Role.OBSERVER, Role.ADMIN):
                raise ValidationError.at("coalition", f"{role.a} does not belong to a coalition")
        party = Party(name, role, coalition)
        token = new_token()
        with self.core.write() as tx:
            if tx.repo.get_party(name) is not None:
                raise ValidationError.at("name", f"party {name!r} already exists")
            tx.repo.add_party(party, tx.now)
            tx.repo.add_credential(token_hash(token), name, tx.now)
            tx.log(ADMIN_ACTOR, EventType.PARTY_ADDED, {"party": name, "role": role.value, "coalition": coalition})
        return party, token

    def list_parties(self) -> list[Party]:
        with self.core.read() as repo:
            return repo.list_parties()

    def revoke_party(self, name: str) -> None:
        with self.core.write() as tx:
            existing_party(tx.repo, name)
            tx.repo.revoke_party(name, tx.now)
            tx.log(ADMIN_ACTOR, EventType.PARTY_REVOKED, {"party": name})

    def rotate_token(self, name: str) -> str:
        """Revoke every token of the party and issue a new one."""
        token = new_token()
        with self.core.write() as tx:
            party = existing_party(tx.repo, name)
            if party.revoked:
                raise ValidationError.at("name", f"party {name!r} is revoked")
            tx.repo.revoke_credentials(name, tx.now)
            tx.repo.add_credential(token_hash(token), name, tx.now)
            tx.log(ADMIN_ACTOR, EventType.TOKEN_ROTATED, {"party": name})
        return token

    def set_disclosure(self, viewer: str, subject: str, level: Level | None, both_ways: bool = False) -> None:
        """Set a directed disclosure rule (``None`` removes it); logged, so no party can argue later
        about what it was shown."""
        with self.core.write() as tx:
            existing_party(tx.repo, viewer)
            existing_party(tx.repo, subject)
            pairs = [(viewer, subject)] + ([(subject, viewer)] if both_ways else [])
            for v, s in pairs:
                tx.repo.set_disclosure_rule(v, s, None if level is None else level.text)
                tx.log(
                    ADMIN_ACTOR,
                    EventType.DISCLOSURE_SET,
                    {"viewer": v, "subject": s, "level": None if level is None else level.text},
                )

    def disclosure_rules(self) -> dict[tuple[str, str], Level]:
        """The effective explicit rules: the theater configuration's, overridden by the admin's."""
        with self.core.read() as repo:
            return dict(self.core.disclosure(repo).policy.rules)
