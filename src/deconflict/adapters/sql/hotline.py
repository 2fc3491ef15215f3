"""The hotline's messages, their recipients' acknowledgements and escalations in SQL."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa

from deconflict.adapters.sql import prebuilt as q
from deconflict.adapters.sql import tables as t
from deconflict.domain.hotline import AckState, Message, Priority, Recipient, Reference


class HotlineRecords:
    """Messages and escalations (a mixin of :class:`~deconflict.adapters.sql.records.BrokerRecords`)."""

    conn: sa.Connection

    # ------------------------------------------------------------------ hotline

    def add_message(self, m: Message) -> None:
        self.add_messages([m])

    def add_messages(self, messages: Sequence[Message]) -> None:
        """Store new messages and their recipients, two statements for any number."""
        if not messages:
            return
        self.conn.execute(q.INSERT_MESSAGES, [_message_row(m) for m in messages])
        rows = [_recipient_row(m.id, r) for m in messages for r in m.recipients]
        if rows:
            self.conn.execute(q.INSERT_RECIPIENTS, rows)

    def get_message(self, message_id: str) -> Message | None:
        found = self._messages(sa.select(t.messages).where(t.messages.c.id == message_id))
        return found[0] if found else None

    def page_messages(
        self,
        party: str | None,
        box: str | None = None,
        thread: str | None = None,
        after: tuple[float, str] | None = None,
        limit: int = 1000,
    ) -> list[Message]:
        """Messages oldest first after the (sent_at, id) key. ``party``: only those it sent
        (``box="outbox"``), received (``"inbox"``) or either (``None``); ``None`` party: all."""
        m, r = t.messages, t.message_recipients
        stmt = sa.select(m)
        if party is not None:
            received = sa.select(r.c.message_id).where(r.c.party == party)
            if box == "outbox":
                stmt = stmt.where(m.c.sender == party)
            elif box == "inbox":
                stmt = stmt.where(m.c.id.in_(received))
            else:
                stmt = stmt.where(sa.or_(m.c.sender == party, m.c.id.in_(received)))
        if thread is not None:
            stmt = stmt.where(m.c.thread_id == thread)
        if after is not None:
            t0, mid = after
            stmt = stmt.where(sa.or_(m.c.sent_at > t0, sa.and_(m.c.sent_at == t0, m.c.id > mid)))
        return self._messages(stmt.order_by(m.c.sent_at, m.c.id).limit(limit))

    def messages_about(self, ref_kind: str, ref_id: str) -> list[Message]:
        m = t.messages
        return self._messages(
            sa.select(m).where(m.c.ref_kind == ref_kind, m.c.ref_id == ref_id).order_by(m.c.sent_at, m.c.id)
        )

    def _messages(self, stmt: sa.Select[Any]) -> list[Message]:
        rows = list(self.conn.execute(stmt).mappings())
        if not rows:
            return []
        r = t.message_recipients
        by_message: dict[str, list[Recipient]] = {row["id"]: [] for row in rows}
        for chunk in _chunks(list(by_message), 500):
            for rec in self.conn.execute(
                sa.select(r).where(r.c.message_id.in_(chunk)).order_by(r.c.message_id, r.c.party)
            ).mappings():
                by_message[rec["message_id"]].append(_recipient(rec))
        return [_message(row, tuple(by_message[row["id"]])) for row in rows]

    def ack_message(self, message_id: str, party: str, state: AckState, now: float) -> None:
        """Record an acknowledgement; ``understood`` implies ``received``. Answers stop escalation."""
        r = t.message_recipients
        where = (r.c.message_id == message_id, r.c.party == party)
        values: dict[str, Any] = {"next_escalation_at": None}
        self.conn.execute(sa.update(r).where(*where, r.c.received_at.is_(None)).values(received_at=now, **values))
        if state is AckState.UNDERSTOOD:
            self.conn.execute(sa.update(r).where(*where, r.c.understood_at.is_(None)).values(understood_at=now))

    def due_escalations(self, now: float, limit: int = 1000) -> list[tuple[Message, str]]:
        """(message, recipient) whose next escalation round is due at ``now``."""
        r = t.message_recipients
        rows = self.conn.execute(
            sa.select(r.c.message_id, r.c.party)
            .where(r.c.next_escalation_at.is_not(None), r.c.next_escalation_at < now)
            .order_by(r.c.next_escalation_at, r.c.message_id, r.c.party)
            .limit(limit)
        ).all()
        messages = {
            m.id: m for m in self._messages(sa.select(t.messages).where(t.messages.c.id.in_({x[0] for x in rows})))
        }
        return [(messages[mid], party) for mid, party in rows if mid in messages]

    def set_escalation(self, message_id: str, party: str, rounds: int, next_at: float | None) -> None:
        self.set_escalations([(message_id, party, rounds, next_at)])

    def set_escalations(self, rows: Sequence[tuple[str, str, int, float | None]]) -> None:
        """:meth:`set_escalation` for many recipients, in one statement."""
        if not rows:
            return
        r = t.message_recipients
        stmt = (
            sa.update(r)
            .where(r.c.message_id == sa.bindparam("b_message"), r.c.party == sa.bindparam("b_party"))
            .values(escalations=sa.bindparam("b_rounds"), next_escalation_at=sa.bindparam("b_next"))
        )
        self.conn.execute(stmt, [{"b_message": m, "b_party": p, "b_rounds": n, "b_next": at} for m, p, n, at in rows])

    def stop_escalations(self, ref_kind: str, ref_id: str) -> None:
        """The subject of the broker's threads about ``ref`` is gone (conflict resolved, alert
        cleared): stop escalating them. Answers not given stay on record as not given."""
        self.stop_escalations_of(ref_kind, [ref_id])

    def stop_escalations_of(self, ref_kind: str, ref_ids: Collection[str]) -> None:
        """:meth:`stop_escalations` for many subjects at once."""
        if not ref_ids:
            return
        m, r = t.messages, t.message_recipients
        ids = sa.select(m.c.id).where(m.c.ref_kind == ref_kind, m.c.ref_id.in_(list(ref_ids)), m.c.auto.is_(True))
        self.conn.execute(
            sa.update(r)
            .where(r.c.message_id.in_(ids), r.c.next_escalation_at.is_not(None))
            .values(next_escalation_at=None)
        )


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _recipient(row: sa.RowMapping) -> Recipient:
    return Recipient(
        party=row["party"],
        deadline=row["deadline"],
        received_at=row["received_at"],
        understood_at=row["understood_at"],
        escalations=int(row["escalations"]),
        next_escalation_at=row["next_escalation_at"],
    )


def _message(row: sa.RowMapping, recipients: tuple[Recipient, ...]) -> Message:
    ref = None if row["ref_kind"] is None else Reference(row["ref_kind"], row["ref_id"])
    return Message(
        id=row["id"],
        thread_id=row["thread_id"],
        sender=row["sender"],
        subject=row["subject"],
        text=row["text"],
        priority=Priority(row["priority"]),
        sent_at=float(row["sent_at"]),
        recipients=recipients,
        in_reply_to=row["in_reply_to"],
        ref=ref,
        auto=bool(row["auto"]),
    )


def _message_row(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "thread_id": m.thread_id,
        "in_reply_to": m.in_reply_to,
        "sender": m.sender,
        "subject": m.subject,
        "text": m.text,
        "priority": m.priority.value,
        "ref_kind": None if m.ref is None else m.ref.kind,
        "ref_id": None if m.ref is None else m.ref.id,
        "auto": m.auto,
        "sent_at": m.sent_at,
    }


def _recipient_row(message_id: str, r: Recipient) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "party": r.party,
        "deadline": r.deadline,
        "received_at": r.received_at,
        "understood_at": r.understood_at,
        "escalations": r.escalations,
        "next_escalation_at": r.next_escalation_at,
    }
