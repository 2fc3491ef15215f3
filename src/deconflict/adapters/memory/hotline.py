"""Tactical alerts and hotline messages in memory: a mixin of
:class:`~deconflict.adapters.memory.store.MemoryRepository` answering as the SQL store's
(:class:`~deconflict.adapters.sql.records.BrokerRecords`) alert and hotline methods do.

A message is kept whole, its recipients in party order (the order the SQL store reads them in); an
acknowledgement or an escalation round replaces the message's row with the recipient changed."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

from deconflict.adapters.memory.tables import DuplicateKey, Staged
from deconflict.domain.alerts import Alert
from deconflict.domain.hotline import AckState, Message, Recipient
from deconflict.domain.volumes import Notice


@dataclass(frozen=True)
class AlertRow:
    alert: Alert
    """With an empty body: the body is kept as JSON text, so what is read back is a copy."""
    body: str
    parties: frozenset[str]
    """The parties the alert was recorded for (an update does not change whom it is listed for)."""


class MemoryHotline:
    alerts: Staged[str, AlertRow]
    messages: Staged[str, Message]
    notices: Staged[str, Notice]

    # ------------------------------------------------------------------ alerts

    def add_alerts(self, alerts: Sequence[Alert]) -> None:
        for a in alerts:
            self.alerts.insert(a.id, AlertRow(_bare(a), _body(a), frozenset(a.parties)))

    def update_alerts(self, alerts: Sequence[Alert]) -> None:
        for a in alerts:
            row = self.alerts.get(a.id)
            if row is not None:
                self.alerts.put(a.id, AlertRow(_bare(a), _body(a), row.parties))

    def count_open_alerts(self) -> int:
        return len(self.alerts.where(lambda r: r.alert.state == "open"))

    def open_alerts(self) -> list[Alert]:
        return [_alert(r) for r in self.alerts.where(lambda r: r.alert.state == "open")]

    def page_alerts(
        self,
        parties: Collection[str] | None,
        state: str | None = None,
        after: tuple[float, str] | None = None,
        limit: int = 1000,
    ) -> list[Alert]:
        rows = self.alerts.where(
            lambda r: (
                (parties is None or not r.parties.isdisjoint(parties))
                and (state is None or r.alert.state == state)
                and (after is None or (r.alert.detected_at, r.alert.id) > after)
            )
        )
        rows.sort(key=lambda r: (r.alert.detected_at, r.alert.id))
        return [_alert(r) for r in rows[: max(limit, 0)]]

    def earliest_alert_open_at(self, kinds: Collection[str], at: float) -> float | None:
        times = [
            r.alert.detected_at
            for r in self.alerts.values()
            if r.alert.kind.value in kinds
            and r.alert.detected_at < at
            and (r.alert.cleared_at is None or r.alert.cleared_at >= at)
        ]
        return float(min(times)) if times else None

    # ------------------------------------------------------------------ hotline

    def add_message(self, m: Message) -> None:
        self.add_messages([m])

    def add_messages(self, messages: Sequence[Message]) -> None:
        for m in messages:
            names = [r.party for r in m.recipients]
            if len(set(names)) != len(names):
                raise DuplicateKey("message_recipients", (m.id, names))
            self.messages.insert(m.id, replace(m, recipients=tuple(sorted(m.recipients, key=lambda r: r.party))))

    def get_message(self, message_id: str) -> Message | None:
        return self.messages.get(message_id)

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

        def mine(m: Message) -> bool:
            if party is None:
                return True
            sent, received = m.sender == party, m.recipient(party) is not None
            return sent if box == "outbox" else received if box == "inbox" else sent or received

        found = self.messages.where(
            lambda m: (
                mine(m) and (thread is None or m.thread_id == thread) and (after is None or (m.sent_at, m.id) > after)
            )
        )
        return sorted(found, key=lambda m: (m.sent_at, m.id))[: max(limit, 0)]

    def messages_about(self, ref_kind: str, ref_id: str) -> list[Message]:
        found = self.messages.where(lambda m: m.ref is not None and (m.ref.kind, m.ref.id) == (ref_kind, ref_id))
        return sorted(found, key=lambda m: (m.sent_at, m.id))

    def _change_recipient(self, message_id: str, party: str, change: Callable[[Recipient], Recipient]) -> None:
        m = self.messages.get(message_id)
        if m is None or m.recipient(party) is None:
            return
        recipients = tuple(change(r) if r.party == party else r for r in m.recipients)
        self.messages.put(message_id, replace(m, recipients=recipients))

    def ack_message(self, message_id: str, party: str, state: AckState, now: float) -> None:
        """Record an acknowledgement; ``understood`` implies ``received``. The first answer stops
        escalation (as in SQL, escalation is cleared with ``received_at`` when that is first set)."""

        def ack(r: Recipient) -> Recipient:
            if r.received_at is None:
                r = replace(r, received_at=now, next_escalation_at=None)
            if state is AckState.UNDERSTOOD and r.understood_at is None:
                r = replace(r, understood_at=now)
            return r

        self._change_recipient(message_id, party, ack)

    def notices_ended_by(self, when: float, limit: int = 1000) -> list[str]:
        ended = self.notices.where(lambda n: n.state.value in ("accepted", "active") and n.time_end <= when)
        ended.sort(key=lambda n: (n.time_end, n.id or ""))
        return [str(n.id) for n in ended[: max(limit, 0)]]

    def due_escalations(self, now: float, limit: int = 1000) -> list[tuple[Message, str]]:
        due = [
            (r.next_escalation_at, m.id, r.party, m)
            for m in self.messages.values()
            for r in m.recipients
            if r.next_escalation_at is not None and r.next_escalation_at < now
        ]
        due.sort(key=lambda x: (x[0], x[1], x[2]))
        return [(m, party) for _, _, party, m in due[: max(limit, 0)]]

    def set_escalation(self, message_id: str, party: str, rounds: int, next_at: float | None) -> None:
        self.set_escalations([(message_id, party, rounds, next_at)])

    def set_escalations(self, rows: Sequence[tuple[str, str, int, float | None]]) -> None:
        for message_id, party, rounds, next_at in rows:

            def escalate(r: Recipient, n: int = rounds, at: float | None = next_at) -> Recipient:
                return replace(r, escalations=n, next_escalation_at=at)

            self._change_recipient(message_id, party, escalate)

    def stop_escalations(self, ref_kind: str, ref_id: str) -> None:
        self.stop_escalations_of(ref_kind, [ref_id])

    def stop_escalations_of(self, ref_kind: str, ref_ids: Collection[str]) -> None:
        ids = set(ref_ids)
        for m in self.messages.where(lambda m: m.auto and m.ref is not None and m.ref.kind == ref_kind):
            assert m.ref is not None
            if m.ref.id in ids and any(r.next_escalation_at is not None for r in m.recipients):
                recipients = tuple(replace(r, next_escalation_at=None) for r in m.recipients)
                self.messages.put(m.id, replace(m, recipients=recipients))


def _body(a: Alert) -> str:
    return json.dumps(a.body, separators=(",", ":"))


def _bare(a: Alert) -> Alert:
    return replace(a, body={}, parties=tuple(json.loads(json.dumps(list(a.parties)))))


def _alert(row: AlertRow) -> Alert:
    """The alert as the SQL store reads it back: body and parties decoded from their JSON."""
    return replace(row.alert, body=json.loads(row.body))
