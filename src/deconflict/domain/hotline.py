"""The hotline: messages between parties, acknowledgements, deadlines and escalation.

A message goes from one party to one, several or all others, with a subject, a text, a priority,
an optional reference (a notice, a conflict or an alert) and an optional acknowledgement deadline.
Each recipient answers for itself: ``received`` or ``understood``. An acknowledgement means
"received and understood", never "approved". A recipient that has not answered by the deadline is
*overdue*: the broker escalates (tells the sender, the recipient again, admins and observers) and
repeats at an interval until it answers.

The broker opens threads by itself (sender :data:`BROKER`) when it finds a conflict or raises a
tactical alert, with a deadline by severity (:class:`HotlineSettings`).

Pure: parsing, the deadline rules and the escalation arithmetic; the store and the log live in
the service.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from deconflict.domain.alerts import Severity
from deconflict.domain.errors import ValidationError
from deconflict.domain.strict import KEYS, check_keys
from deconflict.domain.times import format_time_or_none

BROKER = "broker"
"""The sender of the threads the broker opens itself."""
MAX_SUBJECT = 200
MAX_TEXT = 10_000
MAX_RECIPIENTS = 100
MAX_ACK_WITHIN_S = 7 * 86400.0
"""The longest acknowledgement deadline a message may ask for (a week)."""
MIN_ACK_WITHIN_S = 1.0


class Priority(StrEnum):
    """Message precedence, lowest first (the NATO words: ROUTINE, PRIORITY, IMMEDIATE, FLASH)."""

    ROUTINE = "routine"
    PRIORITY = "priority"
    IMMEDIATE = "immediate"
    FLASH = "flash"


class AckState(StrEnum):
    RECEIVED = "received"
    """The message reached the party."""
    UNDERSTOOD = "understood"
    """The party read and understood it (which implies received). Never "approved"."""


REF_KINDS = ("notice", "conflict", "alert")


@dataclass(frozen=True)
class Reference:
    kind: str
    id: str


@dataclass(frozen=True)
class Draft:
    """A message as a party asks for it, checked but not yet addressed."""

    to: tuple[str, ...] | None
    """Recipient party names; ``None`` means every party (``"to": "all"``)."""
    subject: str
    text: str
    priority: Priority = Priority.ROUTINE
    ref: Reference | None = None
    ack_within_s: float | None = None
    in_reply_to: str | None = None


def _text(body: Mapping[str, Any], name: str, limit: int, required: bool) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at(name, "required: a non-empty string")
    if len(value) > limit:
        raise ValidationError.at(name, f"is {len(value)} characters, more than the limit of {limit}")
    if "\x00" in value:
        raise ValidationError.at(name, "must not contain a NUL character")
    return value


def parse_draft(body: object) -> Draft:
    """A message request body as a :class:`Draft`, or a :class:`ValidationError` naming the field.

    >>> parse_draft({"to": ["ru-vks"], "subject": "Sortie", "text": "Moved 30 min later", "ack_within_s": 900})
    ... # doctest: +ELLIPSIS
    Draft(to=('ru-vks',), subject='Sortie', text='Moved 30 min later', priority=<Priority.ROUTINE: 'routine'>, ...)
    >>> parse_draft({"to": [], "subject": "x", "text": "y"})
    Traceback (most recent call last):
    deconflict.domain.errors.ValidationError: to: must name at least one party, or be "all"
    """
    if not isinstance(body, Mapping):
        raise ValidationError.at("", "must be a JSON object")
    check_keys(body, KEYS["message"], "")
    in_reply_to = body.get("in_reply_to")
    if in_reply_to is not None and (not isinstance(in_reply_to, str) or not in_reply_to):
        raise ValidationError.at("in_reply_to", "must be the id of a message")
    to: tuple[str, ...] | None
    raw_to = body.get("to")
    if raw_to == "all":
        to = None
    elif raw_to is None and in_reply_to is not None:
        to = ()  # a reply goes to the thread's other participants
    elif isinstance(raw_to, list):
        if not raw_to:
            raise ValidationError.at("to", 'must name at least one party, or be "all"')
        if len(raw_to) > MAX_RECIPIENTS:
            raise ValidationError.at("to", f"{len(raw_to)} recipients is more than the limit of {MAX_RECIPIENTS}")
        for i, name in enumerate(raw_to):
            if not isinstance(name, str) or not name:
                raise ValidationError.at(f"to[{i}]", "must be a party name")
        if len(set(raw_to)) != len(raw_to):
            dup = next(n for i, n in enumerate(raw_to) if n in raw_to[:i])
            raise ValidationError.at("to", f"names {dup!r} more than once")
        to = tuple(raw_to)
    else:
        raise ValidationError.at("to", 'required: a list of party names, or "all"')
    subject = _text(body, "subject", MAX_SUBJECT, required=True)
    text = _text(body, "text", MAX_TEXT, required=True)
    raw_priority = body.get("priority", Priority.ROUTINE.value)
    try:
        priority = Priority(raw_priority)
    except ValueError:
        words = ", ".join(p.value for p in Priority)
        raise ValidationError.at("priority", f"{raw_priority!r} is not a priority: use one of {words}") from None
    ref = None
    raw_ref = body.get("ref")
    if raw_ref is not None:
        if not isinstance(raw_ref, Mapping):
            raise ValidationError.at("ref", 'must be {"kind": "notice"|"conflict"|"alert", "id": "..."}')
        check_keys(raw_ref, KEYS["message_ref"], "ref")
        for key in ("kind", "id"):
            if key not in raw_ref:
                raise ValidationError.at(f"ref.{key}", "is required")
        if raw_ref["kind"] not in REF_KINDS:
            raise ValidationError.at("ref.kind", f"{raw_ref['kind']!r} is not one of {', '.join(REF_KINDS)}")
        if not isinstance(raw_ref["id"], str) or not raw_ref["id"]:
            raise ValidationError.at("ref.id", "must be the id of the referenced record")
        ref = Reference(raw_ref["kind"], raw_ref["id"])
    ack = body.get("ack_within_s")
    if ack is not None:
        if isinstance(ack, bool) or not isinstance(ack, int | float) or not math.isfinite(ack):
            raise ValidationError.at("ack_within_s", f"must be a number of seconds, got {ack!r}")
        if not MIN_ACK_WITHIN_S <= ack <= MAX_ACK_WITHIN_S:
            raise ValidationError.at(
                "ack_within_s", f"must be between {MIN_ACK_WITHIN_S:g} and {MAX_ACK_WITHIN_S:g} s, got {ack!r}"
            )
        ack = float(ack)
    return Draft(to, subject, text, priority, ref, ack, in_reply_to)


def parse_ack_state(body: object) -> AckState:
    """The state of an acknowledgement request (``{"state": "received"|"understood"}``; an empty
    body means ``understood``)."""
    if body is None:
        return AckState.UNDERSTOOD
    if not isinstance(body, Mapping):
        raise ValidationError.at("", "must be a JSON object")
    check_keys(body, KEYS["acknowledgement"], "")
    raw = body.get("state", AckState.UNDERSTOOD.value)
    try:
        return AckState(raw)
    except ValueError:
        raise ValidationError.at(
            "state", f"{raw!r} is not an acknowledgement: use received or understood (never approved)"
        ) from None


@dataclass(frozen=True)
class ConflictDeadline:
    starts_within_s: float
    """This tier applies to conflicts whose slice starts within this many seconds of detection."""
    ack_within_s: float


@dataclass(frozen=True)
class HotlineSettings:
    """The theater's acknowledgement rules; shown at ``GET /v1/policy`` and logged when they change."""

    escalation_interval_s: float = 300.0
    """An overdue acknowledgement is escalated again this often until it is given."""
    auto_threads: bool = True
    """Open a thread with a deadline for every new conflict and tactical alert."""
    conflict_tiers: tuple[ConflictDeadline, ...] = (ConflictDeadline(6 * 3600.0, 900.0),)
    """Deadlines for conflicts by how soon they start; the first tier that applies wins."""
    conflict_ack_s: float = 3600.0
    """The deadline for a conflict that no tier covers (it starts later)."""
    alert_ack_s: Mapping[str, float] = field(default_factory=lambda: {s.value: 60.0 for s in Severity})
    """The deadline for a tactical alert, by severity."""
    tick_s: float = 1.0
    """How often the server looks for overdue acknowledgements."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "alert_ack_s", MappingProxyType(dict(self.alert_ack_s)))
        object.__setattr__(self, "conflict_tiers", tuple(sorted(self.conflict_tiers, key=lambda t: t.starts_within_s)))

    def __hash__(self) -> int:
        return hash((self.escalation_interval_s, self.conflict_tiers, frozenset(self.alert_ack_s.items())))

    def conflict_deadline_s(self, starts_in_s: float) -> float:
        """How long the parties have to acknowledge a conflict that starts in ``starts_in_s``.

        >>> HotlineSettings().conflict_deadline_s(3600), HotlineSettings().conflict_deadline_s(86400)
        (900.0, 3600.0)
        """
        for tier in self.conflict_tiers:
            if starts_in_s <= tier.starts_within_s:
                return tier.ack_within_s
        return self.conflict_ack_s

    def conflict_is_near(self, starts_in_s: float) -> bool:
        """Whether a conflict starting in ``starts_in_s`` falls in a deadline tier (it is urgent)."""
        return any(starts_in_s <= tier.starts_within_s for tier in self.conflict_tiers)

    def alert_deadline_s(self, severity: str) -> float:
        return self.alert_ack_s.get(severity, max(self.alert_ack_s.values(), default=60.0))

    def to_json(self) -> dict[str, Any]:
        return {
            "escalation_interval_s": self.escalation_interval_s,
            "auto_threads": self.auto_threads,
            "conflict_ack_tiers": [
                {"starts_within_s": t.starts_within_s, "ack_within_s": t.ack_within_s} for t in self.conflict_tiers
            ],
            "conflict_ack_s": self.conflict_ack_s,
            "alert_ack_s": dict(sorted(self.alert_ack_s.items())),
        }


def overdue(deadline: float, now: float) -> bool:
    """An acknowledgement given exactly at the deadline is on time; after it, it is late.

    >>> overdue(100.0, 100.0), overdue(100.0, 100.001)
    (False, True)
    """
    return now > deadline


def escalation_round(deadline: float, interval_s: float, now: float) -> int:
    """Which escalation is due at ``now``: 0 before (or at) the deadline, 1 just after it, 2 once
    another interval has passed, and so on. Round ``k`` is due when ``now > deadline + (k-1)·interval``.

    >>> [escalation_round(100.0, 60.0, t) for t in (100.0, 100.5, 160.0, 160.5, 220.5)]
    [0, 1, 1, 2, 3]
    """
    if not overdue(deadline, now):
        return 0
    return max(1, math.ceil((now - deadline) / interval_s))


def next_escalation_at(deadline: float, interval_s: float, rounds_done: int) -> float:
    """The instant after which round ``rounds_done + 1`` is due."""
    return deadline + rounds_done * interval_s


@dataclass(frozen=True)
class Recipient:
    """One recipient of a message and where its acknowledgement stands."""

    party: str
    deadline: float | None = None
    """Epoch seconds by which it must acknowledge (``None``: no deadline)."""
    received_at: float | None = None
    understood_at: float | None = None
    escalations: int = 0
    """Escalation rounds recorded so far."""
    next_escalation_at: float | None = None
    """After this instant the next round is due (``None``: nothing to escalate)."""

    @property
    def acked_at(self) -> float | None:
        """The first acknowledgement, of either state (it answers the deadline)."""
        times = [t for t in (self.received_at, self.understood_at) if t is not None]
        return min(times) if times else None

    @property
    def state(self) -> str:
        if self.understood_at is not None:
            return AckState.UNDERSTOOD.value
        if self.received_at is not None:
            return AckState.RECEIVED.value
        return "pending"


@dataclass(frozen=True)
class Message:
    id: str
    thread_id: str
    sender: str
    subject: str
    text: str
    priority: Priority
    sent_at: float
    recipients: tuple[Recipient, ...]
    in_reply_to: str | None = None
    ref: Reference | None = None
    auto: bool = False
    """Opened by the broker itself for a conflict or an alert."""

    def recipient(self, party: str) -> Recipient | None:
        return next((r for r in self.recipients if r.party == party), None)

    def participants(self) -> set[str]:
        return {self.sender, *(r.party for r in self.recipients)}


def message_json(m: Message, now: float | None = None) -> dict[str, Any]:
    """The full form of a message (what the log records and the admin sees); disclosure cuts it
    down for everyone else. With ``now``, each recipient says whether it is overdue."""
    recipients = []
    for r in m.recipients:
        acked = r.acked_at
        if r.deadline is None:
            standing = "no-deadline"
        elif acked is not None:
            standing = "on-time" if not overdue(r.deadline, acked) else "late"
        elif now is not None and overdue(r.deadline, now):
            standing = "overdue"
        else:
            standing = "open"
        recipients.append(
            {
                "party": r.party,
                "state": r.state,
                "deadline": format_time_or_none(r.deadline),
                "received_at": format_time_or_none(r.received_at),
                "understood_at": format_time_or_none(r.understood_at),
                "escalations": r.escalations,
                "standing": standing,
            }
        )
    return {
        "id": m.id,
        "thread_id": m.thread_id,
        "in_reply_to": m.in_reply_to,
        "from": m.sender,
        "to": recipients,
        "subject": m.subject,
        "text": m.text,
        "priority": m.priority.value,
        "ref": None if m.ref is None else {"kind": m.ref.kind, "id": m.ref.id},
        "auto": m.auto,
        "sent_at": format_time_or_none(m.sent_at),
    }
