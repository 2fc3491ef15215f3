"""The broker's records in SQL: parties and credentials, the event log, receipts, idempotency keys,
conflict acknowledgements, webhooks and disclosure rules. A mixin of
:class:`~deconflict.adapters.sql.store.SqlRepository`, so that one transaction covers a filing and
everything it records."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa

from deconflict.adapters.sql import tables as t
from deconflict.adapters.sql.notify import announce
from deconflict.domain.alerts import Alert, AlertKind
from deconflict.domain.audit import Event, Receipt
from deconflict.domain.disclosure import NOTICE_EVENTS
from deconflict.domain.hotline import AckState, Message, Priority, Recipient, Reference
from deconflict.domain.parties import Party, Role
from deconflict.services.ports import Webhook


class BrokerRecords:
    conn: sa.Connection
    announce_as: str | None = None
    """On PostgreSQL, the replica that appends: the other replicas are notified (:mod:`.notify`)."""

    # ------------------------------------------------------------------ parties and credentials

    def add_party(self, party: Party, now: float) -> None:
        self.conn.execute(
            sa.insert(t.parties).values(
                name=party.name, role=party.role.value, coalition=party.coalition, created_at=now, revoked_at=None
            )
        )

    def get_party(self, name: str) -> Party | None:
        row = self.conn.execute(sa.select(t.parties).where(t.parties.c.name == name)).mappings().first()
        return None if row is None else _party(row)

    def list_parties(self) -> list[Party]:
        rows = self.conn.execute(sa.select(t.parties).order_by(t.parties.c.name)).mappings()
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
        c, p = t.credentials, t.parties
        row = (
            self.conn.execute(
                sa.select(p)
                .join(c, c.c.party == p.c.name)
                .where(c.c.token_hash == token_hash, c.c.revoked_at.is_(None), p.c.revoked_at.is_(None))
            )
            .mappings()
            .first()
        )
        return None if row is None else _party(row)

    # ------------------------------------------------------------------ event log

    def last_event(self) -> Event | None:
        e = t.events
        row = self.conn.execute(sa.select(e).order_by(e.c.seq.desc()).limit(1)).mappings().first()
        return None if row is None else _event(row)

    def append_event(self, event: Event) -> None:
        self.append_events([event])

    def append_events(self, events: Sequence[Event]) -> None:
        """Append events (already chained, oldest first) in one statement."""
        if events:
            self.conn.execute(sa.insert(t.events), [_event_row(e) for e in events])
            if self.announce_as is not None:
                announce(self.conn, self.announce_as, events[-1].seq)

    def events_after(self, seq: int, limit: int = 500) -> list[Event]:
        e = t.events
        rows = self.conn.execute(sa.select(e).where(e.c.seq > seq).order_by(e.c.seq).limit(limit)).mappings()
        return [_event(r) for r in rows]

    def last_seq(self) -> int:
        """The log's last sequence number (0 when empty): a position to look for changes after."""
        return int(self.conn.execute(sa.select(sa.func.max(t.events.c.seq))).scalar() or 0)

    def notices_changed_since(self, seq: int) -> set[str]:
        """Ids of the notices filed, updated or whose state changed after log position ``seq``
        (every notice change logs one of :data:`NOTICE_EVENTS` in its own transaction; other
        ``notice.*`` events, such as ``notice.probe_flagged``, carry no notice body)."""
        e = t.events
        # The id is read by the database: a notice event carries the whole notice (100 kB for the
        # heaviest), which decoded here would cost the filing milliseconds under the filing lock.
        if self.conn.dialect.name == "postgresql":
            nid = sa.func.json_extract_path_text(sa.cast(e.c.payload, sa.JSON), "notice", "id")
        else:
            nid = sa.func.json_extract(e.c.payload, "$.notice.id")
        rows = self.conn.execute(sa.select(nid).where(e.c.seq > seq, e.c.type.in_(NOTICE_EVENTS))).scalars()
        return {str(n) for n in rows}

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

    def earliest_alert_open_at(self, kinds: Collection[str], at: float) -> float | None:
        """When the oldest alert of ``kinds`` still open at ``at`` (not cleared before it) was
        detected; ``None`` when none was open then. Bounds how far back a report reads alert events."""
        a = t.alerts
        stmt = sa.select(sa.func.min(a.c.detected_at)).where(
            a.c.kind.in_(sorted(kinds)), a.c.detected_at < at, sa.or_(a.c.cleared_at.is_(None), a.c.cleared_at >= at)
        )
        value = self.conn.execute(stmt).scalar_one_or_none()
        return None if value is None else float(value)

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
            sa.insert(t.receipts).values(
                notice_id=receipt.notice_id,
                version=receipt.version,
                party=receipt.party,
                body=json.dumps(receipt.to_json(), sort_keys=True),
                log_seq=receipt.log_seq,
            )
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

    # ------------------------------------------------------------------ idempotency keys

    def idempotent_response(self, party: str, key: str) -> tuple[str, int, dict[str, Any]] | None:
        """(request digest, status, response) stored for this key, if any."""
        k = t.idempotency_keys
        row = self.conn.execute(sa.select(k).where(k.c.party == party, k.c.key == key)).mappings().first()
        if row is None:
            return None
        return row["request_digest"], int(row["status"]), json.loads(row["response"])

    def save_idempotent_response(
        self, party: str, key: str, digest: str, status: int, response: dict[str, Any], now: float
    ) -> None:
        self.conn.execute(
            sa.insert(t.idempotency_keys).values(
                party=party,
                key=key,
                request_digest=digest,
                status=status,
                response=json.dumps(response, separators=(",", ":")),
                created_at=now,
            )
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

    # ------------------------------------------------------------------ webhooks

    def set_webhook(self, party: str, url: str, secret: str, cursor: int) -> None:
        w = t.webhooks
        self.conn.execute(sa.delete(w).where(w.c.party == party))
        self.conn.execute(
            sa.insert(w).values(
                party=party, url=url, secret=secret, cursor=cursor, failures=0, next_attempt_at=0.0, last_error=None
            )
        )

    def remove_webhook(self, party: str) -> bool:
        return bool(self.conn.execute(sa.delete(t.webhooks).where(t.webhooks.c.party == party)).rowcount)

    def get_webhook(self, party: str) -> Webhook | None:
        row = self.conn.execute(sa.select(t.webhooks).where(t.webhooks.c.party == party)).mappings().first()
        return None if row is None else _webhook(row)

    def due_webhooks(self, now: float) -> list[Webhook]:
        w = t.webhooks
        rows = self.conn.execute(sa.select(w).where(w.c.next_attempt_at <= now).order_by(w.c.party)).mappings()
        return [_webhook(r) for r in rows]

    def webhook_delivered(self, party: str, cursor: int) -> None:
        w = t.webhooks
        self.conn.execute(
            sa.update(w)
            .where(w.c.party == party, w.c.cursor < cursor)
            .values(cursor=cursor, failures=0, next_attempt_at=0.0, last_error=None)
        )

    def webhook_failed(self, party: str, failures: int, next_attempt_at: float, error: str) -> None:
        w = t.webhooks
        self.conn.execute(
            sa.update(w)
            .where(w.c.party == party)
            .values(failures=failures, next_attempt_at=next_attempt_at, last_error=error[:1000])
        )

    # ------------------------------------------------------------------ alerts

    def add_alerts(self, alerts: Sequence[Alert]) -> None:
        """Insert new alerts and their parties, in one statement each."""
        if not alerts:
            return
        self.conn.execute(sa.insert(t.alerts), [{"id": a.id, **_alert_row(a)} for a in alerts])
        self.conn.execute(
            sa.insert(t.alert_parties), [{"alert_id": a.id, "party": p} for a in alerts for p in set(a.parties)]
        )

    def update_alerts(self, alerts: Sequence[Alert]) -> None:
        """Write changed alerts (severity, body, state, times) by id, in one statement."""
        if not alerts:
            return
        a = t.alerts
        stmt = sa.update(a).where(a.c.id == sa.bindparam("b_id"))
        self.conn.execute(stmt, [{"b_id": x.id, **_alert_row(x)} for x in alerts])

    def count_open_alerts(self) -> int:
        return int(self.conn.execute(sa.select(sa.func.count()).where(t.alerts.c.state == "open")).scalar_one())

    def open_alerts(self) -> list[Alert]:
        a = t.alerts
        return [_alert(r) for r in self.conn.execute(sa.select(a).where(a.c.state == "open")).mappings()]

    def page_alerts(
        self,
        parties: Collection[str] | None,
        state: str | None = None,
        after: tuple[float, str] | None = None,
        limit: int = 1000,
    ) -> list[Alert]:
        """One page of alerts in (detected_at, id) order, of these parties (``None``: all)."""
        a = t.alerts
        stmt = sa.select(a).order_by(a.c.detected_at, a.c.id).limit(limit)
        if parties is not None:
            ap = t.alert_parties
            stmt = stmt.where(a.c.id.in_(sa.select(ap.c.alert_id).where(ap.c.party.in_(sorted(parties)))))
        if state is not None:
            stmt = stmt.where(a.c.state == state)
        if after is not None:
            t0, aid = after
            stmt = stmt.where(sa.or_(a.c.detected_at > t0, sa.and_(a.c.detected_at == t0, a.c.id > aid)))
        return [_alert(r) for r in self.conn.execute(stmt).mappings()]

    # ------------------------------------------------------------------ disclosure rules

    def set_disclosure_rule(self, viewer: str, subject: str, level: str | None) -> None:
        """Set (or with ``level=None`` remove) the directed rule ``viewer`` → ``subject``."""
        d = t.disclosure_rules
        self.conn.execute(sa.delete(d).where(d.c.viewer == viewer, d.c.subject == subject))
        if level is not None:
            self.conn.execute(sa.insert(d).values(viewer=viewer, subject=subject, level=level))

    def disclosure_rules(self) -> dict[tuple[str, str], str]:
        d = t.disclosure_rules
        return {(r.viewer, r.subject): r.level for r in self.conn.execute(sa.select(d))}

    # ------------------------------------------------------------------ hotline

    def add_message(self, m: Message) -> None:
        self.add_messages([m])

    def add_messages(self, messages: Sequence[Message]) -> None:
        """Store new messages and their recipients, two statements for any number."""
        if not messages:
            return
        self.conn.execute(sa.insert(t.messages), [_message_row(m) for m in messages])
        rows = [_recipient_row(m.id, r) for m in messages for r in m.recipients]
        if rows:
            self.conn.execute(sa.insert(t.message_recipients), rows)

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

    def notices_ended_by(self, when: float, limit: int = 1000) -> list[str]:
        """Ids of live notices (accepted or active) whose last volume ended at or before ``when``,
        the earliest first."""
        n = t.notices
        stmt = (
            sa.select(n.c.id)
            .where(n.c.state.in_(("accepted", "active")), n.c.time_end <= when)
            .order_by(n.c.time_end, n.c.id)
            .limit(limit)
        )
        return [str(x) for x in self.conn.execute(stmt).scalars()]

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

    def last_event_of_type(self, type_: str) -> Event | None:
        e = t.events
        row = (
            self.conn.execute(sa.select(e).where(e.c.type == type_).order_by(e.c.seq.desc()).limit(1))
            .mappings()
            .first()
        )
        return None if row is None else _event(row)


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


def _party(row: sa.RowMapping) -> Party:
    return Party(
        name=row["name"], role=Role(row["role"]), coalition=row["coalition"], revoked=row["revoked_at"] is not None
    )


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


def _alert_row(alert: Alert) -> dict[str, Any]:
    return {
        "key": alert.key,
        "kind": alert.kind.value,
        "severity": alert.severity.value,
        "parties": json.dumps(list(alert.parties)),
        "body": json.dumps(alert.body, separators=(",", ":")),
        "state": alert.state.value,
        "detected_at": alert.detected_at,
        "updated_at": alert.updated_at,
        "cleared_at": alert.cleared_at,
    }


def _alert(row: sa.RowMapping) -> Alert:
    return Alert(
        id=row["id"],
        key=row["key"],
        kind=AlertKind(row["kind"]),
        severity=row["severity"],
        parties=tuple(json.loads(row["parties"])),
        body=json.loads(row["body"]),
        state=row["state"],
        detected_at=row["detected_at"],
        updated_at=row["updated_at"],
        cleared_at=row["cleared_at"],
    )


def _webhook(row: sa.RowMapping) -> Webhook:
    return Webhook(
        party=row["party"],
        url=row["url"],
        secret=row["secret"],
        cursor=int(row["cursor"]),
        failures=int(row["failures"]),
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
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
