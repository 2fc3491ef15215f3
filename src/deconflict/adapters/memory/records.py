"""The broker's records in memory: parties and credentials, the event log, the heartbeat, receipts,
idempotency keys, conflict acknowledgements, webhooks and disclosure rules. A mixin of
:class:`~deconflict.adapters.memory.store.MemoryRepository`, as
:class:`~deconflict.adapters.sql.records.BrokerRecords` is of the SQL repository: each method
answers what the SQL one answers (order, filters, which rows an update touches)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

from deconflict.adapters.memory.tables import LoggedEvent, Staged, StagedLog
from deconflict.domain.audit import Event, Receipt
from deconflict.domain.disclosure import NOTICE_EVENTS
from deconflict.domain.parties import Party
from deconflict.services.ports import Webhook


@dataclass(frozen=True)
class PartyRow:
    party: Party
    created_at: float
    revoked_at: float | None = None


@dataclass(frozen=True)
class CredentialRow:
    party: str
    created_at: float
    revoked_at: float | None = None


@dataclass(frozen=True)
class ReceiptRow:
    party: str
    log_seq: int
    body: str


@dataclass(frozen=True)
class IdempotentRow:
    digest: str
    status: int
    response: str
    created_at: float


class MemoryRecords:
    parties: Staged[str, PartyRow]
    credentials: Staged[str, CredentialRow]
    log: StagedLog
    heartbeat: Staged[int, float]
    receipt_rows: Staged[tuple[str, int], ReceiptRow]
    idempotency: Staged[tuple[str, str], IdempotentRow]
    acks: Staged[tuple[str, str], tuple[float, int]]
    webhooks: Staged[str, Webhook]
    rules: Staged[tuple[str, str], str]

    # ------------------------------------------------------------------ parties and credentials

    def add_party(self, party: Party, now: float) -> None:
        self.parties.insert(party.name, PartyRow(replace(party, revoked=False), now))

    def get_party(self, name: str) -> Party | None:
        row = self.parties.get(name)
        return None if row is None else _party(row)

    def list_parties(self) -> list[Party]:
        return [_party(r) for _, r in sorted(self.parties.items(), key=lambda kv: kv[0])]

    def revoke_party(self, name: str, now: float) -> None:
        row = self.parties.get(name)
        if row is not None:
            self.parties.put(name, replace(row, revoked_at=now))
        self.revoke_credentials(name, now)

    def add_credential(self, token_hash: str, party: str, now: float) -> None:
        self.credentials.insert(token_hash, CredentialRow(party, now))

    def revoke_credentials(self, party: str, now: float) -> int:
        live = [(h, c) for h, c in self.credentials.items() if c.party == party and c.revoked_at is None]
        for h, c in live:
            self.credentials.put(h, replace(c, revoked_at=now))
        return len(live)

    def party_for_token(self, token_hash: str) -> Party | None:
        c = self.credentials.get(token_hash)
        if c is None or c.revoked_at is not None:
            return None
        row = self.parties.get(c.party)
        return None if row is None or row.revoked_at is not None else _party(row)

    # ------------------------------------------------------------------ event log

    def last_event(self) -> Event | None:
        e = self.log.last()
        return None if e is None else _event(e)

    def append_event(self, event: Event) -> None:
        self.append_events([event])

    def append_events(self, events: Sequence[Event]) -> None:
        for e in events:
            self.log.append(_logged(e))

    def events_after(self, seq: int, limit: int = 500) -> list[Event]:
        return [_event(e) for e in self.log.after(seq)[: max(limit, 0)]]

    def last_seq(self) -> int:
        e = self.log.last()
        return 0 if e is None else e.seq

    def notices_changed_since(self, seq: int) -> set[str]:
        return {e.notice_id for e in self.log.after(seq) if e.notice_id is not None}

    def events_of_type(
        self, types: Collection[str], since: float | None, until: float, through_seq: int | None = None
    ) -> list[Event]:
        return [
            _event(e)
            for e in self.log.all()
            if e.type in types
            and e.time < until
            and (since is None or e.time >= since)
            and (through_seq is None or e.seq <= through_seq)
        ]

    def event_times(self, type_: str, actor: str, since: float, until: float, limit: int) -> list[float]:
        times = [e.time for e in self.log.all() if e.type == type_ and e.actor == actor and since < e.time < until]
        return sorted(times, reverse=True)[:limit]

    def last_event_of_type(self, type_: str) -> Event | None:
        found = [e for e in self.log.all() if e.type == type_]
        return _event(found[-1]) if found else None

    # ------------------------------------------------------------------ heartbeat

    def beat(self, at: float) -> None:
        """The heartbeat moves forward to ``at``, never back."""
        current = self.heartbeat.get(1)
        if current is None or current < at:
            self.heartbeat.put(1, at)

    def last_beat(self) -> float | None:
        return self.heartbeat.get(1)

    # ------------------------------------------------------------------ receipts

    def save_receipt(self, receipt: Receipt) -> None:
        body = json.dumps(receipt.to_json(), sort_keys=True)
        self.receipt_rows.insert((receipt.notice_id, receipt.version), ReceiptRow(receipt.party, receipt.log_seq, body))

    def receipts(self, party: str | None = None) -> list[Receipt]:
        rows = self.receipt_rows.where(lambda r: party is None or r.party == party)
        return sorted((_receipt(r) for r in rows), key=lambda x: x.log_seq)

    def receipts_page(self, party: str | None, after_seq: int, upto_seq: int, limit: int) -> list[Receipt]:
        rows = self.receipt_rows.where(
            lambda r: after_seq < r.log_seq <= upto_seq and (party is None or r.party == party)
        )
        return [_receipt(r) for r in sorted(rows, key=lambda r: r.log_seq)[: max(limit, 0)]]

    def receipt(self, notice_id: str, version: int) -> Receipt | None:
        row = self.receipt_rows.get((notice_id, version))
        return None if row is None else _receipt(row)

    # ------------------------------------------------------------------ idempotency keys

    def idempotent_response(self, party: str, key: str) -> tuple[str, int, dict[str, Any]] | None:
        row = self.idempotency.get((party, key))
        return None if row is None else (row.digest, row.status, json.loads(row.response))

    def save_idempotent_response(
        self, party: str, key: str, digest: str, status: int, response: dict[str, Any], now: float
    ) -> None:
        text = json.dumps(response, separators=(",", ":"))
        self.idempotency.insert((party, key), IdempotentRow(digest, status, text, now))

    # ------------------------------------------------------------------ acknowledgements

    def add_ack(self, conflict_id: str, party: str, now: float, seq: int) -> None:
        self.acks.insert((conflict_id, party), (now, seq))

    def clear_acks(self, conflict_id: str) -> None:
        for cid, party in [k for k, _ in self.acks.items() if k[0] == conflict_id]:
            self.acks.delete((cid, party))

    def acks_of(self, conflict_id: str) -> dict[str, float]:
        return {k[1]: at for k, (at, _) in self.acks.items() if k[0] == conflict_id}

    # ------------------------------------------------------------------ webhooks

    def set_webhook(self, party: str, url: str, secret: str, cursor: int) -> None:
        self.webhooks.put(party, Webhook(party, url, secret, cursor, 0, 0.0, None))

    def remove_webhook(self, party: str) -> bool:
        return self.webhooks.delete(party)

    def get_webhook(self, party: str) -> Webhook | None:
        return self.webhooks.get(party)

    def due_webhooks(self, now: float) -> list[Webhook]:
        return sorted(self.webhooks.where(lambda w: w.next_attempt_at <= now), key=lambda w: w.party)

    def webhook_delivered(self, party: str, cursor: int) -> None:
        w = self.webhooks.get(party)
        if w is not None and w.cursor < cursor:
            self.webhooks.put(party, replace(w, cursor=cursor, failures=0, next_attempt_at=0.0, last_error=None))

    def webhook_failed(self, party: str, failures: int, next_attempt_at: float, error: str) -> None:
        w = self.webhooks.get(party)
        if w is not None:
            self.webhooks.put(
                party, replace(w, failures=failures, next_attempt_at=next_attempt_at, last_error=error[:1000])
            )

    # ------------------------------------------------------------------ disclosure rules

    def set_disclosure_rule(self, viewer: str, subject: str, level: str | None) -> None:
        """Set (or with ``level=None`` remove) the directed rule ``viewer`` → ``subject``."""
        if level is None:
            self.rules.delete((viewer, subject))
        else:
            self.rules.put((viewer, subject), level)

    def disclosure_rules(self) -> dict[tuple[str, str], str]:
        return dict(self.rules.items())


def _party(row: PartyRow) -> Party:
    return replace(row.party, revoked=row.revoked_at is not None)


def _receipt(row: ReceiptRow) -> Receipt:
    return Receipt.from_json(json.loads(row.body))


def _logged(e: Event) -> LoggedEvent:
    text = e.payload_text
    if text is None:
        text = json.dumps(e.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    notice = e.payload.get("notice") if e.type in NOTICE_EVENTS else None
    nid = notice.get("id") if isinstance(notice, dict) else None
    return LoggedEvent(
        e.seq, e.time, e.actor, e.type, text, e.payload_digest, e.prev_hash, e.hash, None if nid is None else str(nid)
    )


def _event(e: LoggedEvent) -> Event:
    """The event as the SQL store reads it back: the payload decoded from the kept text."""
    return Event(
        seq=e.seq,
        time=e.time,
        actor=e.actor,
        type=e.type,
        payload=json.loads(e.payload),
        payload_digest=e.payload_digest,
        prev_hash=e.prev_hash,
        hash=e.hash,
    )
