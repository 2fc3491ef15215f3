"""The broker's own hotline threads: opened when it finds a conflict or raises an alert, answered
when a party acknowledges the conflict itself."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from deconflict.domain.event_types import EventType
from deconflict.domain.hotline import (
    BROKER,
    AckState,
    Message,
    Priority,
    Recipient,
    Reference,
    message_json,
)
from deconflict.services.transaction import BrokerCore, Transaction


class BrokerThreads:
    """Threads from the broker to the parties concerned, each in the caller's transaction."""

    def __init__(self, core: BrokerCore) -> None:
        self.core = core

    def open_thread(
        self,
        tx: Transaction,
        ref: Reference,
        parties: Sequence[str],
        deadline_s: float,
        priority: Priority,
        subject: str,
        text: str,
    ) -> Message | None:
        """Open a hotline thread from the broker to ``parties`` about ``ref``, to be acknowledged
        within ``deadline_s`` (in the caller's transaction). Nothing when automatic threads are off."""
        m = self.thread_message(tx, ref, parties, deadline_s, priority, subject, text)
        if m is not None:
            self.send_threads(tx, [m])
        return m

    def thread_message(
        self,
        tx: Transaction,
        ref: Reference,
        parties: Sequence[str],
        deadline_s: float,
        priority: Priority,
        subject: str,
        text: str,
    ) -> Message | None:
        """The first message of a broker thread (see :meth:`open_thread`), not yet stored."""
        if not self.core.hotline.auto_threads:
            return None
        deadline = tx.now + deadline_s
        mid = uuid.uuid4().hex
        recipients = tuple(Recipient(p, deadline, next_escalation_at=deadline) for p in sorted(set(parties)))
        return Message(mid, mid, BROKER, subject, text, priority, tx.now, recipients, ref=ref, auto=True)

    def send_threads(self, tx: Transaction, messages: Sequence[Message]) -> None:
        """Store broker threads and log each one's ``message.sent``, in one statement each."""
        tx.repo.add_messages(messages)
        tx.log_many(BROKER, [(EventType.MESSAGE_SENT, {"message": message_json(m)}) for m in messages])

    def ack_threads(self, tx: Transaction, ref: Reference, party: str) -> None:
        """Acknowledging a conflict answers the broker's thread about it too."""
        for m in tx.repo.messages_about(ref.kind, ref.id):
            r = m.recipient(party) if m.auto else None
            if r is not None and r.understood_at is None:
                tx.repo.ack_message(m.id, party, AckState.UNDERSTOOD, tx.now)
                after = tx.repo.get_message(m.id)
                assert after is not None
                tx.log(
                    party,
                    EventType.MESSAGE_ACKNOWLEDGED,
                    {"message": message_json(after, tx.now), "party": party, "state": AckState.UNDERSTOOD.value},
                )
