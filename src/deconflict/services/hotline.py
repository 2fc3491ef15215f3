"""The hotline's use cases: send, read, acknowledge, and escalate what is not acknowledged in time.

Every change is one transaction under the broker's filing lock with its event in the log
(``message.sent``, ``message.acknowledged``, ``message.overdue``), so who said what and when, and
who did not answer, can be proved later from the log alone. The clock is the broker's: tests move
it and call :meth:`Hotline.tick` instead of sleeping.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from deconflict.domain.disclosure import Disclosure
from deconflict.domain.errors import Forbidden, NotFoundError, ValidationError
from deconflict.domain.event_types import EventType
from deconflict.domain.hotline import (
    BROKER,
    AckState,
    Draft,
    Message,
    Recipient,
    escalation_round,
    message_json,
    next_escalation_at,
)
from deconflict.domain.parties import Party, Role
from deconflict.domain.times import format_time
from deconflict.services.addressing import recipients, thread_recipients
from deconflict.services.broker import Broker
from deconflict.services.commands import AcknowledgeMessage, SendMessage, check_sender
from deconflict.services.ports import BrokerRepository
from deconflict.services.transaction import MAX_LIST, Outcome, page

log = logging.getLogger(__name__)

BOXES = ("inbox", "outbox")


class Hotline:
    """Messages between parties, for one broker."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    # ------------------------------------------------------------------ sending

    def send(self, cmd: SendMessage) -> Outcome:
        """Send a message from the caller (a party, an authority or the admin)."""
        caller, draft = cmd.caller, cmd.draft
        check_sender(caller)  # as the parser did: a command made by hand is held to it too
        with self.broker.write(caller) as tx:
            d = self.broker.disclosure(tx.repo)
            thread_id, in_reply_to, ref, to = self._thread(tx.repo, d, caller, draft)
            deadline = None if draft.ack_within_s is None else tx.now + draft.ack_within_s
            mid = uuid.uuid4().hex
            m = Message(
                id=mid,
                thread_id=thread_id or mid,
                sender=caller.name,
                subject=draft.subject,
                text=draft.text,
                priority=draft.priority,
                sent_at=tx.now,
                recipients=tuple(Recipient(p, deadline, next_escalation_at=deadline) for p in to),
                in_reply_to=in_reply_to,
                ref=ref,
            )
            tx.repo.add_message(m)
            tx.log(caller.name, EventType.MESSAGE_SENT, {"message": message_json(m)})
            view = d.message_view(caller, message_json(m, tx.now))
            assert view is not None  # the sender sees its own message
            return Outcome(created=True, body=view)

    def _thread(
        self, repo: BrokerRepository, d: Disclosure, caller: Party, draft: Draft
    ) -> tuple[str | None, str | None, Any, list[str]]:
        """(thread id, replied-to id, reference, recipients) for a new message or a reply."""
        if draft.in_reply_to is None:
            return None, None, draft.ref, recipients(repo, d, caller, draft.to)
        original = self._visible(repo, d, caller, draft.in_reply_to, field="in_reply_to")
        ref = draft.ref or original.ref
        if draft.to != ():
            return original.thread_id, original.id, ref, recipients(repo, d, caller, draft.to)
        # Without "to" the reply goes to the thread's other participants, named or not: the broker
        # relays it to those the caller may not name, and the views leave the names out both ways.
        return original.thread_id, original.id, ref, thread_recipients(repo, caller, original)

    # ------------------------------------------------------------------ reading

    def _visible(self, repo: BrokerRepository, d: Disclosure, caller: Party, message_id: str, field: str) -> Message:
        m = repo.get_message(message_id)
        if m is None or d.message_view(caller, message_json(m)) is None:
            # the same answer for a message that does not exist and one the caller may not read
            raise NotFoundError(f"{field}: message {message_id!r} does not exist or is not visible to you")
        return m

    def get(self, caller: Party, message_id: str) -> dict[str, Any]:
        with self.broker.store.begin(write=False) as repo:
            d = self.broker.disclosure(repo)
            m = self._visible(repo, d, caller, message_id, field="message")
            view = d.message_view(caller, message_json(m, self.broker.clock()))
            assert view is not None
            return view

    def list(
        self,
        caller: Party,
        box: str | None = None,
        thread: str | None = None,
        cursor: str | None = None,
        limit: int = MAX_LIST,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the caller's messages (``box``: inbox, outbox, or both), oldest first;
        ``thread`` keeps one thread. The admin reads every message."""
        if box is not None and box not in BOXES:
            raise ValidationError.at("box", f"{box!r} is not a box: use inbox or outbox")
        now = self.broker.clock()
        with self.broker.store.begin(write=False) as repo:
            d = self.broker.disclosure(repo)
            party = None if caller.role is Role.ADMIN else caller.name
            if party is None and box is not None:
                party = caller.name
            return page(
                lambda after, n: repo.page_messages(party, box, thread, after, n),
                lambda m: (m.sent_at, m.id),
                lambda m: d.message_view(caller, message_json(m, now)),
                cursor,
                limit,
            )

    # ------------------------------------------------------------------ acknowledging

    def acknowledge(self, cmd: AcknowledgeMessage) -> Outcome:
        """A recipient says ``received`` or ``understood`` (never "approved"). ``created`` when it
        changes the recipient's state, not when it was already acknowledged so."""
        caller, message_id, state = cmd.caller, cmd.message_id, cmd.state
        with self.broker.write(caller) as tx:
            d = self.broker.disclosure(tx.repo)
            m = self._visible(tx.repo, d, caller, message_id, field="message")
            r = m.recipient(caller.name)
            if r is None:
                raise Forbidden("only a recipient acknowledges a message")
            done = r.understood_at is not None or (state is AckState.RECEIVED and r.received_at is not None)
            if not done:
                tx.repo.ack_message(m.id, caller.name, state, tx.now)
                after = tx.repo.get_message(m.id)
                assert after is not None
                m = after
                tx.log(
                    caller.name,
                    EventType.MESSAGE_ACKNOWLEDGED,
                    {"message": message_json(m, tx.now), "party": caller.name, "state": state.value},
                )
            view = d.message_view(caller, message_json(m, tx.now))
            assert view is not None
            return Outcome(view, created=not done)

    # ------------------------------------------------------------------ escalation

    def tick(self) -> int:
        """Escalate every acknowledgement overdue at the broker's present: one ``message.overdue``
        event per recipient and round (a broker that was down for several rounds records the
        current round once, not each one it missed). Returns how many were recorded. Safe to run
        on several replicas at once: each round is recorded under the filing lock, once."""
        interval = self.broker.hotline.escalation_interval_s
        count = 0
        with self.broker.store.begin(write=False) as repo:  # the common case, without the lock
            if not repo.due_escalations(self.broker.clock(), 1):
                return 0
        with self.broker.write() as tx:
            # one statement for the recipients' rows and one for the events, however many are due
            # (a flood of alerts makes thousands at once, all under the filing lock)
            rows: list[tuple[str, str, int, float | None]] = []
            overdue: list[dict[str, Any]] = []
            for m, party in tx.repo.due_escalations(tx.now):
                r = m.recipient(party)
                if r is None or r.deadline is None or r.acked_at is not None:
                    rows.append((m.id, party, 0 if r is None else r.escalations, None))
                    continue
                rnd = escalation_round(r.deadline, interval, tx.now)
                if rnd <= r.escalations:  # recorded already (the row's next time was behind)
                    rows.append((m.id, party, r.escalations, next_escalation_at(r.deadline, interval, rnd)))
                    continue
                rows.append((m.id, party, rnd, next_escalation_at(r.deadline, interval, rnd)))
                overdue.append(
                    {
                        "message": message_json(m, tx.now),
                        "party": party,
                        "round": rnd,
                        "deadline": format_time(r.deadline),
                    }
                )
                count += 1
            tx.repo.set_escalations(rows)
            tx.log_many(BROKER, [(EventType.MESSAGE_OVERDUE, payload) for payload in overdue])
        return count

    def run(self, stop: threading.Event) -> None:
        """Look for overdue acknowledgements every ``tick_s`` until ``stop`` is set (the server's thread)."""
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                self.tick()
            except Exception:  # one failed look must not end escalation; it is logged and retried
                log.exception("hotline escalation failed")
            stop.wait(max(0.0, self.broker.hotline.tick_s - (time.monotonic() - t0)))
