"""The event log as the parties see it: the live stream, webhooks, the audit export, and the
broker's own records in it (its starts, its policy, the tactical heartbeat)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from deconflict.domain.audit import BrokerKey, Event, build_export, canonical_json, sha256_hex
from deconflict.domain.disclosure import PUBLIC_EVENTS, Disclosure
from deconflict.domain.errors import Forbidden, NotFoundError, ValidationError
from deconflict.domain.event_types import EventType
from deconflict.domain.hotline import BROKER
from deconflict.domain.key_chain import rotation_payload
from deconflict.domain.message_disclosure import names_every_recipient
from deconflict.domain.parties import Party, Role
from deconflict.domain.times import format_time
from deconflict.services.ports import BrokerRepository, StreamEvent
from deconflict.services.transaction import ADMIN_ACTOR, BrokerCore

OWN_RECORD_EVENTS = frozenset(
    {
        EventType.NOTICE_FILED,
        EventType.NOTICE_UPDATED,
        EventType.NOTICE_ACTIVATED,
        EventType.NOTICE_ENDED,
        EventType.NOTICE_CANCELLED,
        EventType.WEBHOOK_SET,
        EventType.WEBHOOK_REMOVED,
        EventType.MESSAGE_SENT,
    }
)
"""Events whose payload holds only one party's own records (:func:`_record_owner`): that party's
export shows these in full."""
START_EVENT = EventType.BROKER_STARTED
"""Logged by :meth:`Events.record_start`; its ``previous_cycle_at`` says since when no broker watched."""


class Events:
    """Reading the log (stream, export) and the broker's own entries in it."""

    def __init__(self, core: BrokerCore) -> None:
        self.core = core

    def record_policy(self, policy: dict[str, Any]) -> Event | None:
        """Log the theater's definitions (what counts as late, overdue, too close) when they differ
        from the last ones logged, so that no party can argue later about what counted. Returns the
        event, or ``None`` when nothing changed."""
        digest = sha256_hex(canonical_json(policy))
        with self.core.write() as tx:
            last = tx.repo.last_event_of_type(EventType.POLICY_RECORDED)
            previous = None if last is None else last.payload.get("policy_sha256")
            if previous == digest:
                return None
            return tx.log(
                BROKER,
                EventType.POLICY_RECORDED,
                {"policy": policy, "policy_sha256": digest, "previous_sha256": previous},
            )

    def policy_record(self) -> Event | None:
        """The last ``policy.recorded`` event: the definitions in force and since when."""
        with self.core.read() as repo:
            return repo.last_event_of_type(EventType.POLICY_RECORDED)

    def rotate_key(self, new: BrokerKey) -> Event:
        """Log that ``new`` signs from now on, the rotation signed by the key in force and by ``new``
        (:mod:`deconflict.domain.key_chain`); the broker signs with ``new`` after it."""
        with self.core.write() as tx:
            event = tx.log(ADMIN_ACTOR, EventType.KEY_ROTATED, rotation_payload(self.core.key, new))
        self.core.use_key(new)
        return event

    def check_key(self) -> None:
        """Refuse a key that is not the one the log's last rotation put in force (a key file left
        behind by an interrupted ``deconflict key rotate``, or another broker's)."""
        with self.core.read() as repo:
            last = repo.last_event_of_type(EventType.KEY_ROTATED)
        if last is not None and last.payload.get("new_key_id") != self.core.key.key_id():
            raise ValidationError.at(
                "audit.key_file",
                f"holds key {self.core.key.key_id()}, but the log put key {last.payload.get('new_key_id')} in force at "
                f"seq {last.seq} (deconflict key rotate); if the rotation was interrupted, its new key is in the "
                "key file's .next file: move it into place",
            )

    def record_start(self, version: str) -> None:
        """Log that the broker started, with the key it signs with and ``previous_cycle_at``, when
        a tactical cycle last ran on this store (``None``: never). From then to this event no
        broker watched the sky, and the compliance report does not count that time in alert spans."""
        with self.core.write() as tx:
            last = tx.repo.last_beat()
            tx.log(
                BROKER,
                EventType.BROKER_STARTED,
                {
                    "version": version,
                    "key_id": self.core.key.key_id(),
                    "public_key": self.core.key.public_key_b64(),
                    "previous_cycle_at": None if last is None else format_time(last),
                },
            )

    def beat(self, at: float) -> None:
        """A tactical cycle ran at ``at``: the store's heartbeat says so (its own short transaction,
        neither under the filing lock nor in the log)."""
        with self.core.store.begin() as repo:
            repo.beat(at)

    def visible_events(self, caller: Party, after: int, limit: int = 500) -> tuple[list[StreamEvent], int]:
        """The caller's view of the events after ``after``, oldest first, and the last seq scanned
        (so that a stream moves past events the caller may not see)."""
        with self.core.read() as repo:
            events = repo.events_after(after, limit)
            if not events:
                return [], after
            d = self.core.disclosure(repo)
        out = []
        for e in events:
            data = d.event_view(caller, e.type, e.payload)
            if data is not None:
                data.pop("salt", None)  # only the log needs it (see Transaction.log)
                out.append(StreamEvent(e.seq, e.type, e.time, data))
        return out, events[-1].seq

    def last_seq(self) -> int:
        with self.core.read() as repo:
            head = repo.last_event()
        return 0 if head is None else head.seq

    def set_webhook(self, caller: Party, url: str, secret: str) -> dict[str, Any]:
        if caller.role is Role.ADMIN:
            raise Forbidden("webhooks are for parties and observers")
        with self.core.write(caller) as tx:
            secret_digest = hashlib.sha256(secret.encode()).hexdigest()
            ev = tx.log(
                caller.name, EventType.WEBHOOK_SET, {"party": caller.name, "url": url, "secret_sha256": secret_digest}
            )
            cursor = ev.seq  # deliveries start with the next event
            tx.repo.set_webhook(caller.name, url, secret, cursor)
        return {"party": caller.name, "url": url, "from_event": cursor + 1}

    def remove_webhook(self, caller: Party) -> None:
        with self.core.write(caller) as tx:
            if not tx.repo.remove_webhook(caller.name):
                raise NotFoundError(f"party {caller.name!r} has no webhook")
            tx.log(caller.name, EventType.WEBHOOK_REMOVED, {"party": caller.name})

    def export(self, caller: Party) -> dict[str, Any]:
        """The log for an audit: everything for an admin; for a party the events that carry only
        its own records (its notices' filings and changes, its webhook settings) in full, and
        every other one as a stub that keeps the chain checkable. Conflict events are stubs even
        when the party caused them: they carry the other side whole, which disclosure may hide."""
        with self.core.read() as repo:
            show = export_show(caller, self.core.disclosure(repo))
            events = _all_events(repo)
            receipts = repo.receipts(None if caller.role is Role.ADMIN else caller.name)
            key = self.core.signing_key_at(repo, events[-1] if events else None)
        return build_export(events, receipts, key, self.core.clock(), show)

    def published_key(self) -> BrokerKey:
        """The key receipts and exports are signed with now (``GET /v1/audit/key``), checked
        against the log's last rotation as signing is."""
        with self.core.read() as repo:
            return self.core.signing_key_at(repo, repo.last_event())

    def log_events(self) -> list[Event]:
        """The whole log, oldest first."""
        with self.core.read() as repo:
            return _all_events(repo)


def export_show(caller: Party, d: Disclosure) -> Callable[[Event], bool]:
    """Which events ``caller``'s export shows in full (see :meth:`Events.export`). A message the
    sender relayed to a party it may not name is a stub in the sender's export too."""
    if caller.role is Role.ADMIN:
        return lambda e: True

    def show(e: Event) -> bool:
        if e.type == EventType.MESSAGE_SENT and not names_every_recipient(d, caller, e.payload["message"]):
            return False
        return (e.type in OWN_RECORD_EVENTS and _record_owner(e) == caller.name) or e.type in PUBLIC_EVENTS

    return show


def _record_owner(e: Event) -> str | None:
    """Whose own record an event of :data:`OWN_RECORD_EVENTS` holds: the notice's party, the
    webhook's party, the message's sender. Not the actor: the operator files for a party from the
    broker's host, and the broker ends a party's notice when its time has passed."""
    if e.type.startswith("notice."):
        return str(e.payload["notice"]["party"])
    if e.type.startswith("webhook."):
        return str(e.payload["party"])
    if e.type == EventType.MESSAGE_SENT:
        return str(e.payload["message"]["from"])
    return None


def _all_events(repo: BrokerRepository) -> list[Event]:
    events: list[Event] = []
    while batch := repo.events_after(events[-1].seq if events else 0, 5000):
        events.extend(batch)
    return events
