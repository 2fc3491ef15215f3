"""The broker's records of its parties in SQL: parties and their credentials, idempotency keys,
conflict acknowledgements and disclosure rules."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from deconflict.adapters.sql import prebuilt as q
from deconflict.adapters.sql import tables as t
from deconflict.domain.parties import Party, Role


class PartyRecords:
    """Parties, credentials, idempotency keys, acknowledgements, disclosure rules (a mixin of
    :class:`~deconflict.adapters.sql.records.BrokerRecords`)."""

    conn: sa.Connection

    # ------------------------------------------------------------------ parties and credentials

    def add_party(self, party: Party, now: float) -> None:
        self.conn.execute(
            sa.insert(t.parties).values(
                name=party.name, role=party.role.value, coalition=party.coalition, created_at=now, revoked_at=None
            )
        )

    def get_party(self, name: str) -> Party | None:
        row = self.conn.execute(q.PARTY, {"name": name}).mappings().first()
        return None if row is None else _party(row)

    def list_parties(self) -> list[Party]:
        rows = self.conn.execute(q.PARTIES).mappings()
        return [_party(r) for r in rows]

    def revoke_party(self, name: str, now: float) -> None:
        self.conn.execute(sa.update(t.parties).where(t.parties.c.name == name).values(revoked_at=now))
        self.revoke_credentials(name, now)

    def add_credential(self, token_hash: str, party: str, now: float) -> None:
        self.conn.execute(sa.insert(t.credentials).values(token_hash=token_hash, party=party, created_at=now))

    def revoke_credentials(self, party: str, now: float) -> int:
        c = t.credentials
        res = self.conn.execute(sa.update(c).where(c.c.party == party, c.c.revoked_at.is_(None)).values(revoked_at=now))
        return int(res.rowcount)

    def party_for_token(self, token_hash: str) -> Party | None:
        """The party holding a live credential with this hash (``None`` if unknown, revoked, or
        the party is revoked)."""
        row = self.conn.execute(q.PARTY_FOR_TOKEN, {"token_hash": token_hash}).mappings().first()
        return None if row is None else _party(row)

    # ------------------------------------------------------------------ idempotency keys

    def idempotent_response(self, party: str, key: str) -> tuple[str, int, dict[str, Any]] | None:
        """(request digest, status, response) stored for this key, if any."""
        row = self.conn.execute(q.IDEMPOTENT_RESPONSE, {"party": party, "key": key}).mappings().first()
        if row is None:
            return None
        return row["request_digest"], int(row["status"]), json.loads(row["response"])

    def save_idempotent_response(
        self, party: str, key: str, digest: str, status: int, response: dict[str, Any], now: float
    ) -> None:
        self.conn.execute(
            q.INSERT_IDEMPOTENT,
            {
                "party": party,
                "key": key,
                "request_digest": digest,
                "status": status,
                "response": json.dumps(response, separators=(",", ":")),
                "created_at": now,
            },
        )

    # ------------------------------------------------------------------ acknowledgements

    def add_ack(self, conflict_id: str, party: str, now: float, seq: int) -> None:
        self.conn.execute(
            sa.insert(t.conflict_acks).values(conflict_id=conflict_id, party=party, acked_at=now, seq=seq)
        )

    def clear_acks(self, conflict_id: str) -> None:
        self.conn.execute(sa.delete(t.conflict_acks).where(t.conflict_acks.c.conflict_id == conflict_id))

    def acks_of(self, conflict_id: str) -> dict[str, float]:
        a = t.conflict_acks
        rows = self.conn.execute(sa.select(a.c.party, a.c.acked_at).where(a.c.conflict_id == conflict_id))
        return {r.party: r.acked_at for r in rows}

    # ------------------------------------------------------------------ disclosure rules

    def set_disclosure_rule(self, viewer: str, subject: str, level: str | None) -> None:
        """Set (or with ``level=None`` remove) the directed rule ``viewer`` → ``subject``."""
        d = t.disclosure_rules
        self.conn.execute(sa.delete(d).where(d.c.viewer == viewer, d.c.subject == subject))
        if level is not None:
            self.conn.execute(sa.insert(d).values(viewer=viewer, subject=subject, level=level))

    def disclosure_rules(self) -> dict[tuple[str, str], str]:
        return {(r.viewer, r.subject): r.level for r in self.conn.execute(q.DISCLOSURE_RULES)}


def _party(row: sa.RowMapping) -> Party:
    return Party(
        name=row["name"], role=Role(row["role"]), coalition=row["coalition"], revoked=row["revoked_at"] is not None
    )
