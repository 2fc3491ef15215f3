"""The hash chain: :class:`Event`, its :class:`EventStub`, :func:`next_event` and :func:`verify_chain`.

See :mod:`deconflict.domain.audit` for how the digests and hashes are made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from deconflict.domain.audit.encoding import (
    _entry_digest,
    _field,
    _finite,
    _int,
    _link_hash,
    _mapping,
    _num,
    _only,
    _str,
    canonical_json,
    sha256_hex,
)
from deconflict.domain.errors import ValidationError

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first event."""


_EVENT_FIELDS = ("seq", "time", "actor", "type", "payload", "payload_digest", "prev_hash", "hash")
_STUB_FIELDS = ("seq", "entry_digest", "prev_hash", "hash", "stub")


@dataclass(frozen=True)
class Event:
    """One entry of the log. Build new ones with :func:`next_event`, never by hand."""

    seq: int
    time: float
    actor: str
    type: str
    payload: dict[str, Any]
    payload_digest: str
    prev_hash: str
    hash: str
    payload_text: str | None = field(default=None, compare=False, repr=False)
    """``canonical_json(payload)`` as text when it was already made (by :func:`next_event`), so that
    the store writes the bytes that were hashed instead of encoding a large payload again."""

    def entry_digest(self) -> str:
        """The digest of the header and payload digest: what a stub keeps in place of them."""
        return _entry_digest(self.seq, self.time, self.actor, self.type, self.payload_digest)

    def to_json(self) -> dict[str, Any]:
        """The full form, as stored and exported."""
        return {
            "seq": self.seq,
            "time": self.time,
            "actor": self.actor,
            "type": self.type,
            "payload": self.payload,
            "payload_digest": self.payload_digest,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    def to_stub(self) -> dict[str, Any]:
        """The stub form: links the chain, reveals no actor, type, time or payload."""
        return {
            "seq": self.seq,
            "entry_digest": self.entry_digest(),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
            "stub": True,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Event:
        """Read the full form; a :class:`ValidationError` names the first bad field.

        Only the shape is checked here; whether the hashes hold is :func:`verify_chain`'s job.
        """
        d = _mapping(d, "an event")
        _only(d, _EVENT_FIELDS)
        payload = _field(d, "payload")
        if not isinstance(payload, dict):
            raise ValidationError.at("payload", f"must be a JSON object, not {type(payload).__name__}")
        return cls(
            seq=_int(d, "seq", 1),
            time=_num(d, "time"),
            actor=_str(d, "actor"),
            type=_str(d, "type"),
            payload=payload,
            payload_digest=_str(d, "payload_digest"),
            prev_hash=_str(d, "prev_hash"),
            hash=_str(d, "hash"),
        )


@dataclass(frozen=True)
class EventStub:
    """An event whose content is withheld from the reader of an export."""

    seq: int
    entry_digest: str
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "entry_digest": self.entry_digest,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
            "stub": True,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> EventStub:
        """Read the stub form; a :class:`ValidationError` names the first bad field."""
        d = _mapping(d, "an event stub")
        _only(d, _STUB_FIELDS)
        if d.get("stub") is not True:
            raise ValidationError.at("stub", "must be true")
        return cls(
            seq=_int(d, "seq", 1),
            entry_digest=_str(d, "entry_digest"),
            prev_hash=_str(d, "prev_hash"),
            hash=_str(d, "hash"),
        )


def payload_digest_of(payload: Mapping[str, Any]) -> str:
    """``sha256_hex(canonical_json(payload))``; a payload that has no canonical form is refused.

    >>> payload_digest_of({}) == sha256_hex(b"{}")
    True
    """
    return sha256_hex(_canonical_payload(payload))


def _canonical_payload(payload: Mapping[str, Any]) -> bytes:
    try:
        return canonical_json(payload)
    except (TypeError, ValueError, RecursionError) as e:
        raise ValidationError.at("payload", f"has no canonical JSON form: {e}") from None


def next_event(
    prev: Event | None, time: float, actor: str, type: str, payload: dict[str, Any], text: bytes | None = None
) -> Event:
    """The event that follows ``prev`` (``None`` for the first), with its digests and hash. ``text``:
    ``canonical_json(payload)`` when the caller made it already
    (:func:`~deconflict.domain.canonical.canonical_json_with`); it is hashed and stored as given.

    >>> e1 = next_event(None, 1000.0, "broker", "broker.started", {})
    >>> e2 = next_event(e1, 1001.0, "ru", "notice.filed", {"content_hash": "ab"})
    >>> (e1.seq, e1.prev_hash == GENESIS_HASH, e2.seq, e2.prev_hash == e1.hash, verify_chain([e1, e2]))
    (1, True, 2, True, [])
    """
    if not _finite(time):
        raise ValidationError.at("time", f"must be a finite number, not {time!r}")
    seq = 1 if prev is None else prev.seq + 1
    prev_hash = GENESIS_HASH if prev is None else prev.hash
    # A float always, so that the event reads back from the database with the same hash.
    t = float(time)
    text = _canonical_payload(payload) if text is None else text  # encoded once: hashed here, stored as is
    digest = sha256_hex(text)
    entry = _entry_digest(seq, t, actor, type, digest)
    return Event(
        seq=seq,
        time=t,
        actor=actor,
        type=type,
        payload=payload,
        payload_digest=digest,
        prev_hash=prev_hash,
        hash=_link_hash(seq, prev_hash, entry),
        payload_text=text.decode("utf-8"),
    )


@dataclass(frozen=True)
class Problem:
    """One thing that does not hold: ``where`` in the log or export, and ``what`` in a sentence."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def _where(i: int, seq: object) -> str:
    return f"events[{i}] (seq {seq})" if isinstance(seq, int) and not isinstance(seq, bool) else f"events[{i}]"


def _check_entry(
    i: int,
    entry: Event | EventStub,
    prev: Event | EventStub | None,
    first: bool,
    start: tuple[int, str] = (0, GENESIS_HASH),
) -> list[Problem]:
    """Problems of one entry: its place in the chain first, then its own content.

    ``prev`` is the entry before it, or ``None`` when that one was unreadable (``first`` is
    False then) or when this is the first entry (``first`` is True). ``start`` is the seq and
    hash the first entry follows: seq 0 and the genesis hash, or an incremental export's ``after``.
    """
    where = _where(i, entry.seq)
    out: list[Problem] = []
    if first and start[0] > 0:
        if entry.seq != start[0] + 1:
            out.append(Problem(where, f"the export continues after seq {start[0]} but starts at seq {entry.seq}"))
        elif entry.prev_hash != start[1]:
            out.append(
                Problem(where, f"seq {entry.seq}: previous hash is not the hash of seq {start[0]} given in after")
            )
    elif first:
        if entry.seq != 1:
            out.append(Problem(where, f"the log starts at seq {entry.seq}, not 1: the events before it were removed"))
        elif entry.prev_hash != GENESIS_HASH:
            out.append(
                Problem(where, "seq 1: previous hash is not the genesis hash: the start of the log was rewritten")
            )
    elif prev is not None:
        # Once the numbering is off, the broken link says nothing new, so one sentence covers both.
        if entry.seq != prev.seq + 1:
            if entry.seq > prev.seq + 1:
                gap = f"seq {prev.seq + 1}" if entry.seq == prev.seq + 2 else f"seq {prev.seq + 1}–{entry.seq - 1}"
                what = f"seq {entry.seq} follows seq {prev.seq}: {gap} missing: events were removed or reordered"
            else:
                what = f"seq {entry.seq} follows seq {prev.seq}: events were inserted, duplicated or reordered"
            out.append(Problem(where, what))
        elif entry.prev_hash != prev.hash:
            out.append(
                Problem(
                    where,
                    f"seq {entry.seq}: previous hash does not match the hash of seq {prev.seq}: "
                    "an event was removed, inserted, reordered or rewritten before it",
                )
            )
    if isinstance(entry, Event):
        try:
            digest_ok = sha256_hex(canonical_json(entry.payload)) == entry.payload_digest
        except (TypeError, ValueError, RecursionError):
            out.append(Problem(where, f"seq {entry.seq}: payload has no canonical JSON form (NaN, infinity?)"))
            digest_ok = True  # already reported; the hash below is still worth checking
        if not digest_ok:
            out.append(
                Problem(where, f"seq {entry.seq}: payload does not match its payload_digest: the payload was edited")
            )
        entry_digest = entry.entry_digest()
        if _link_hash(entry.seq, entry.prev_hash, entry_digest) != entry.hash:
            out.append(Problem(where, f"seq {entry.seq}: hash does not match its content: the event was edited"))
    elif _link_hash(entry.seq, entry.prev_hash, entry.entry_digest) != entry.hash:
        out.append(
            Problem(
                where,
                f"seq {entry.seq}: stub hash does not match its seq, entry_digest and prev_hash: the stub was altered",
            )
        )
    return out


def verify_chain(events: Sequence[Event]) -> list[Problem]:
    """Check a whole log, from seq 1, as read from the database; ``[]`` when it holds.

    Finds edited payloads, edited headers or hashes, and removed, inserted or reordered events.
    Cutting events off the *end* leaves a valid shorter chain: only a signed :class:`Checkpoint`
    kept elsewhere (an export's head) shows that.

    >>> e1 = next_event(None, 1.0, "broker", "x", {"n": 1})
    >>> e2 = next_event(e1, 2.0, "broker", "x", {"n": 2})
    >>> [str(p) for p in verify_chain([e2])]
    ['events[0] (seq 2): the log starts at seq 2, not 1: the events before it were removed']
    """
    out: list[Problem] = []
    prev: Event | None = None
    for i, e in enumerate(events):
        out += _check_entry(i, e, prev, i == 0)
        prev = e
    return out
