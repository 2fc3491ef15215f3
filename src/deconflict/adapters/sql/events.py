"""The event log, its receipts and the tactical heartbeat in SQL."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa

from deconflict.adapters.sql import prebuilt as q
from deconflict.adapters.sql import tables as t
from deconflict.adapters.sql.notify import announce
from deconflict.domain.audit import Event, Receipt


class EventRecords:
    """The event log, receipts and the heartbeat (a mixin of
    :class:`~deconflict.adapters.sql.records.BrokerRecords`)."""

    conn: sa.Connection
    announce_as: str | None = None
    """On PostgreSQL, the replica that appends: the other replicas are notified (:mod:`.notify`)."""

    # ------------------------------------------------------------------ event log

    def last_event(self) -> Event | None:
        row = self.conn.execute(q.LAST_EVENT).mappings().first()
        return None if row is None else _event(row)

    def append_event(self, event: Event) -> None:
        self.append_events([event])

    def append_events(self, events: Sequence[Event]) -> None:
        """Append events (already chained, oldest first) in one statement."""
        if events:
            self.conn.execute(q.INSERT_EVENTS, [_event_row(e) for e in events])
            if self.announce_as is not None:
                announce(self.conn, self.announce_as, events[-1].seq)

    def events_after(self, seq: int, limit: int = 500) -> list[Event]:
        e = t.events
        rows = self.conn.execute(sa.select(e).where(e.c.seq > seq).order_by(e.c.seq).limit(limit)).mappings()
        return [_event(r) for r in rows]

    def last_seq(self) -> int:
        """The log's last sequence number (0 when empty): a position to look for changes after."""
        return int(self.conn.execute(q.LAST_SEQ).scalar() or 0)

    def notices_changed_since(self, seq: int) -> set[str]:
        """Ids of the notices filed, updated or whose state changed after log position ``seq``
        (every notice change logs one of :data:`NOTICE_EVENTS` in its own transaction; other
        ``notice.*`` events, such as ``notice.probe_flagged``, carry no notice body)."""
        # by the key, the id read by the database (prebuilt.notice_ids_since says why)
        rows = self.conn.execute(q.notice_ids_since(self.conn.dialect.name), {"seq": seq}).scalars()
        return {str(n) for n in rows if n is not None}

    def event_times(self, type_: str, actor: str, since: float, until: float, limit: int) -> list[float]:
        """The times of the newest ``limit`` events of ``type_`` logged by ``actor`` with
        ``since < time < until``, newest first (``ix_events_type_actor_time``)."""
        params = {"type": type_, "actor": actor, "since": since, "until": until, "limit": limit}
        return [float(x) for x in self.conn.execute(q.EVENT_TIMES, params).scalars()]

    def events_of_type(
        self, types: Collection[str], since: float | None, until: float, through_seq: int | None = None
    ) -> list[Event]:
        """The events of the given types with ``since <= time < until`` (``since`` None: from
        the start) and, with ``through_seq``, ``seq <= through_seq``, oldest first (the report reads
        its facts with it; ``ix_events_type_time``)."""
        e = t.events
        stmt = sa.select(e).where(e.c.type.in_(sorted(types)), e.c.time < until)
        if since is not None:
            stmt = stmt.where(e.c.time >= since)
        if through_seq is not None:
            stmt = stmt.where(e.c.seq <= through_seq)
        return [_event(r) for r in self.conn.execute(stmt.order_by(e.c.seq)).mappings()]

    def last_event_of_type(self, type_: str) -> Event | None:
        e = t.events
        row = (
            self.conn.execute(sa.select(e).where(e.c.type == type_).order_by(e.c.seq.desc()).limit(1))
            .mappings()
            .first()
        )
        return None if row is None else _event(row)

    # ------------------------------------------------------------------ heartbeat

    def beat(self, at: float) -> None:
        """A tactical cycle ran at ``at``: the heartbeat moves forward to it, never back (a process
        whose clock is behind does not undo a later beat)."""
        h = t.heartbeat
        self.conn.execute(
            sa.update(h).where(h.c.id == 1, sa.or_(h.c.cycle_at.is_(None), h.c.cycle_at < at)).values(cycle_at=at)
        )

    def last_beat(self) -> float | None:
        """When a tactical cycle last ran on this store; ``None`` when none ever has."""
        value = self.conn.execute(sa.select(t.heartbeat.c.cycle_at).where(t.heartbeat.c.id == 1)).scalar()
        return None if value is None else float(value)

    # ------------------------------------------------------------------ receipts

    def save_receipt(self, receipt: Receipt) -> None:
        self.conn.execute(
            q.INSERT_RECEIPT,
            {
                "notice_id": receipt.notice_id,
                "version": receipt.version,
                "party": receipt.party,
                "body": json.dumps(receipt.to_json(), sort_keys=True),
                "log_seq": receipt.log_seq,
            },
        )

    def receipts(self, party: str | None = None) -> list[Receipt]:
        r = t.receipts
        stmt = sa.select(r.c.body)
        if party is not None:
            stmt = stmt.where(r.c.party == party)
        out = [Receipt.from_json(json.loads(b)) for b in self.conn.execute(stmt).scalars()]
        return sorted(out, key=lambda x: x.log_seq)

    def receipts_page(self, party: str | None, after_seq: int, upto_seq: int, limit: int) -> list[Receipt]:
        """At most ``limit`` receipts (``party``'s, or all) for events ``after_seq < seq <= upto_seq``,
        in log order: read on from the last one's ``log_seq``."""
        r = t.receipts
        stmt = sa.select(r.c.body).where(r.c.log_seq > after_seq, r.c.log_seq <= upto_seq)
        if party is not None:
            stmt = stmt.where(r.c.party == party)
        rows = self.conn.execute(stmt.order_by(r.c.log_seq).limit(limit)).scalars()
        return [Receipt.from_json(json.loads(b)) for b in rows]

    def receipt(self, notice_id: str, version: int) -> Receipt | None:
        r = t.receipts
        body = self.conn.execute(sa.select(r.c.body).where(r.c.notice_id == notice_id, r.c.version == version)).scalar()
        return None if body is None else Receipt.from_json(json.loads(body))


def _event(row: sa.RowMapping) -> Event:
    return Event(
        seq=int(row["seq"]),
        time=row["time"],
        actor=row["actor"],
        type=row["type"],
        payload=json.loads(row["payload"]),
        payload_digest=row["payload_digest"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def _event_row(e: Event) -> dict[str, Any]:
    # The text that was hashed when it was made (next_event), else the same canonical form.
    text = e.payload_text
    if text is None:
        text = json.dumps(e.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return {
        "seq": e.seq,
        "time": e.time,
        "actor": e.actor,
        "type": e.type,
        "payload": text,
        "payload_digest": e.payload_digest,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }
