"""Audit exports: :func:`build_export` writes one, :func:`verify_export` checks one end to end."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deconflict.domain.audit.chain import GENESIS_HASH, Event, EventStub, Problem, _check_entry, _where
from deconflict.domain.audit.encoding import _int, _mapping, _only, _str
from deconflict.domain.audit.keys import KEY_ALG, BrokerKey, _b64decode, key_id_of, load_public_key
from deconflict.domain.audit.receipts import Checkpoint, Receipt, sign_checkpoint, verify_checkpoint, verify_receipt
from deconflict.domain.errors import ValidationError

if TYPE_CHECKING:
    from deconflict.domain.key_chain import KeySpan

EXPORT_FORMAT = "deconflict-audit/1"


def build_export(
    events: Sequence[Event],
    receipts: Sequence[Receipt],
    key: BrokerKey,
    time: float,
    show: Callable[[Event], bool] = lambda e: True,
) -> dict[str, Any]:
    """An audit export: the whole log from seq 1, hidden events as stubs, the receipts, a signed head.

    ``events`` must be the whole log in order: a verifier checks the chain end to end. ``show``
    says which events the reader may see in full.

    >>> from deconflict.domain.audit import next_event
    >>> k = BrokerKey.generate()
    >>> e1 = next_event(None, 1.0, "ru", "notice.filed", {"secret": 1})
    >>> e2 = next_event(e1, 2.0, "us", "notice.filed", {})
    >>> doc = build_export([e1, e2], [], k, 3.0, show=lambda e: e.actor == "us")
    >>> "secret" in str(doc), doc["events"][0]["stub"], verify_export(doc, k.public_key_b64()).ok
    (False, True, True)
    """
    head = events[-1] if events else None
    return {
        **export_header(key, sign_checkpoint(key, head, time)),
        "events": [e.to_json() if show(e) else e.to_stub() for e in events],
        "receipts": [r.to_json() for r in receipts],
    }


def export_header(key: BrokerKey, head: Checkpoint, after: tuple[int, str] | None = None) -> dict[str, Any]:
    """An export's keys before its events: format, time, key, signed head and, for an incremental
    export (only the events after seq N), ``after``: N and the hash of event N, which the first
    event's ``prev_hash`` must equal. The head's signature covers the chain back to that event; the
    reader ties ``after`` to the head of the export it already holds."""
    out: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": head.time,
        "key": {"alg": KEY_ALG, "public_key": key.public_key_b64(), "key_id": key.key_id()},
        "head": head.to_json(),
    }
    if after is not None:
        out["after"] = {"seq": after[0], "hash": after[1]}
    return out


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify_export` found; ``ok`` when there is no problem."""

    problems: list[Problem]
    events: int
    full_events: int
    receipts: int
    head_seq: int
    key_id: str
    key_trusted: bool
    after_seq: int = 0
    """An incremental export's ``after``: the seq its first event follows (0: the whole log)."""

    @property
    def ok(self) -> bool:
        return not self.problems


def _bad(where: str, e: ValidationError) -> Problem:
    return Problem(where, f"malformed: {e}")


def _receipt_where(i: int, d: object) -> str:
    if isinstance(d, Mapping):
        nid, version = d.get("notice_id"), d.get("version")
        if isinstance(nid, str) and isinstance(version, int) and not isinstance(version, bool):
            return f"receipts[{i}] (notice {nid} v{version})"
    return f"receipts[{i}]"


def _check_key(doc: Mapping[str, Any]) -> tuple[str | None, str, list[Problem]]:
    """The export's public key (``None`` if unusable), its key id, and the problems with it."""
    raw = doc.get("key")
    if not isinstance(raw, Mapping):
        return None, "", [Problem("key", "missing or not a JSON object: nothing can be checked against it")]
    raw_id = raw.get("key_id")
    key_id = raw_id if isinstance(raw_id, str) else ""
    if raw.get("alg") != KEY_ALG:
        return None, key_id, [Problem("key", f"alg is {raw.get('alg')!r}, not {KEY_ALG!r}")]
    pub = raw.get("public_key")
    try:
        if not isinstance(pub, str) or len(_b64decode(pub)) != 32:
            raise ValueError
    except ValueError:  # binascii.Error and UnicodeEncodeError are ValueErrors
        return None, key_id, [Problem("key", "public_key is not a base64 Ed25519 public key (32 bytes)")]
    if key_id != key_id_of(pub):
        return pub, key_id, [Problem("key", f"key_id {key_id!r} is not the id of public_key ({key_id_of(pub)})")]
    return pub, key_id, []


def _check_after(raw: object) -> tuple[tuple[int, str], list[Problem]]:
    """An incremental export's ``after`` (absent: the whole log, from the genesis hash)."""
    if raw is None:
        return (0, GENESIS_HASH), []
    try:
        d = _mapping(raw, "after")
        _only(d, ("seq", "hash"))
        return (_int(d, "seq", 1), _str(d, "hash")), []
    except ValidationError as e:
        return (0, GENESIS_HASH), [_bad("after", e)]


def _check_head(
    raw: object,
    pub: str | None,
    key_id: str,
    last: Event | EventStub | None,
    ended: bool,
    exported_at: object,
    start: tuple[int, str] = (0, GENESIS_HASH),
) -> tuple[int, list[Problem]]:
    """The head's seq and its problems. ``ended`` is False when the last entry could not be read."""
    try:
        head = Checkpoint.from_json(_mapping(raw, "head"))
    except ValidationError as e:
        return 0, [_bad("head", e)]
    out: list[Problem] = []
    if head.key_id != key_id:
        out.append(Problem("head", f"signed with key {head.key_id}, not the export key {key_id}"))
    if pub is not None and not verify_checkpoint(head, pub):
        out.append(Problem("head", "signature does not verify with the export key: the head was altered or forged"))
    if isinstance(exported_at, bool) or not isinstance(exported_at, int | float) or exported_at != head.time:
        out.append(Problem("head", f"exported_at {exported_at!r} is not the signed head time {head.time!r}"))
    if not ended:
        return head.seq, out
    last_seq, last_hash = start if last is None else (last.seq, last.hash)
    if head.seq > last_seq:
        out.append(
            Problem(
                "head", f"the signed head is seq {head.seq} but the log ends at seq {last_seq}: its tail was cut off"
            )
        )
    elif head.seq < last_seq:
        out.append(
            Problem("head", f"the log runs past the signed head seq {head.seq} to seq {last_seq}: events were appended")
        )
    elif head.hash != last_hash:
        out.append(
            Problem(
                "head",
                f"the signed head hash for seq {head.seq} is not the hash of the last event: the log was rewritten",
            )
        )
    return head.seq, out


def _check_receipt(
    i: int, raw: object, spans: Sequence[KeySpan], by_seq: Mapping[int, Event | EventStub]
) -> list[Problem]:
    """One receipt, against the key in force at its ``log_seq`` (``spans``: the export's key alone
    unless the log records rotations)."""
    where = _receipt_where(i, raw)
    try:
        r = Receipt.from_json(_mapping(raw, "a receipt"))
    except ValidationError as e:
        return [_bad(where, e)]
    out: list[Problem] = []
    from deconflict.domain.key_chain import key_at  # it builds on this module

    span = key_at(spans, r.log_seq)
    pub, key_id = span.public_key, span.key_id
    if r.key_id != key_id:
        if len(spans) == 1:
            out.append(Problem(where, f"signed with key {r.key_id}, not the export key {key_id}"))
        else:
            out.append(Problem(where, f"signed with key {r.key_id}, not key {key_id}, in force at seq {r.log_seq}"))
    elif pub is not None and not verify_receipt(r, pub):
        out.append(Problem(where, "signature does not verify: the receipt was altered or forged"))
    entry = by_seq.get(r.log_seq)
    if entry is None:
        out.append(Problem(where, f"log_seq {r.log_seq} is not in the log"))
        return out
    if entry.hash != r.log_hash:
        out.append(Problem(where, f"log_hash is not the hash of seq {r.log_seq}: the log or the receipt was altered"))
    if isinstance(entry, Event):
        # The filing event carries the notice as filed; check whatever of it is there.
        p = entry.payload
        if "content_hash" in p and p["content_hash"] != r.content_hash:
            out.append(Problem(where, f"content_hash differs from the one logged at seq {r.log_seq}"))
        notice = p.get("notice")
        if isinstance(notice, Mapping):
            for name, mine in (("id", r.notice_id), ("version", r.version), ("party", r.party)):
                if name in notice and notice[name] != mine:
                    out.append(
                        Problem(
                            where, f"notice {name} {mine!r} differs from {notice[name]!r} logged at seq {r.log_seq}"
                        )
                    )
    return out


def verify_export(doc: Mapping[str, Any], public_key_b64: str | None = None) -> VerifyReport:
    """Check an export from :func:`build_export`; never raises on a malformed document.

    ``public_key_b64`` is the broker key the reader already trusts (raw base64 or PEM); when it is
    not the export's key nothing in the export can be trusted, and that problem comes first. A
    ``public_key_b64`` that is not a key at all is a :class:`ValidationError` on ``key``. Other
    problems are listed in document order: key, head, events, receipts.
    """
    expected = None if public_key_b64 is None else load_public_key(public_key_b64)
    if not isinstance(doc, Mapping):
        return VerifyReport([Problem("document", "is not a JSON object")], 0, 0, 0, 0, "", False)
    problems: list[Problem] = []
    trusted = False
    if doc.get("format") != EXPORT_FORMAT:
        problems.append(Problem("format", f"is {doc.get('format')!r}, not {EXPORT_FORMAT!r}"))
    pub, key_id, key_problems = _check_key(doc)
    problems += key_problems

    # Entries first, since the head is checked against the last of them.
    event_problems: list[Problem] = []
    entries: list[Event | EventStub] = []
    by_seq: dict[int, Event | EventStub] = {}
    raw_events = doc.get("events")
    listed = isinstance(raw_events, list)
    if not isinstance(raw_events, list):
        event_problems.append(Problem("events", "missing or not a list"))
        raw_events = []
    start, after_problems = _check_after(doc.get("after"))
    problems += after_problems
    prev: Event | EventStub | None = None
    for i, raw in enumerate(raw_events):
        try:
            m = _mapping(raw, "an event")
            entry: Event | EventStub = EventStub.from_json(m) if m.get("stub") is True else Event.from_json(m)
        except ValidationError as e:
            seq = raw.get("seq") if isinstance(raw, Mapping) else None
            event_problems.append(_bad(_where(i, seq), e))
            prev = None
            continue
        # After an unreadable entry the link cannot be checked: that entry is already a problem.
        event_problems += _check_entry(i, entry, prev, i == 0, start)
        entries.append(entry)
        by_seq.setdefault(entry.seq, entry)
        prev = entry
    # The tail can be compared with the head only when the last entry was readable.
    ended = listed and (prev is not None or not raw_events)
    head_seq, head_problems = _check_head(doc.get("head"), pub, key_id, prev, ended, doc.get("exported_at"), start)
    problems += head_problems + event_problems
    # Rotations of the key (deconflict.domain.key_chain): the key in force at each seq, and the
    # older keys that endorsed the export's key one after the other.
    from deconflict.domain.key_chain import endorsed, follow_chain

    spans, chain_problems = follow_chain(entries, pub, key_id)
    problems += chain_problems
    if expected is not None:
        if pub is not None and (pub == expected or (not chain_problems and endorsed(spans, expected))):
            trusted = True
        else:
            problems.insert(
                0,
                Problem(
                    "key",
                    f"the export is signed with key {key_id or '?'}, not the expected key {key_id_of(expected)}: "
                    "nothing in it can be trusted",
                ),
            )

    raw_receipts = doc.get("receipts")
    if not isinstance(raw_receipts, list):
        problems.append(Problem("receipts", "missing or not a list"))
        raw_receipts = []
    for i, raw in enumerate(raw_receipts):
        problems += _check_receipt(i, raw, spans, by_seq)

    return VerifyReport(
        problems=problems,
        events=len(raw_events),
        full_events=sum(isinstance(e, Event) for e in entries),
        receipts=len(raw_receipts),
        head_seq=head_seq,
        key_id=key_id,
        key_trusted=trusted,
        after_seq=start[0],
    )
