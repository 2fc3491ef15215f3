"""Rotation of the broker's signing key, as the log records it and a verifier follows it.

``deconflict key rotate`` logs a ``key.rotated`` event whose payload names the old and the new
public key and carries the *rotation statement* (:func:`rotation_statement`) signed by both: the
old key endorses its successor (so whoever trusts the old key can trust the new one), and the new
key shows it was held. The event sits in the hash chain at seq *r*: receipts for events before *r*
were signed by the old key, those after it by the new one; the export's head and key are the key
in force at its end. :func:`follow_chain` reads the rotations out of an export's events and gives
the key in force at each seq (:class:`KeySpan`), with any problem found.

>>> from deconflict.domain.audit import BrokerKey
>>> old, new = BrokerKey.generate(), BrokerKey.generate()
>>> p = rotation_payload(old, new)
>>> _check_rotation(p) == [], p["old_key_id"] == old.key_id(), p["new_key_id"] == new.key_id()
(True, True, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deconflict.domain.audit import BrokerKey, Event, EventStub, Problem, canonical_json, key_id_of, verify_signature

ROTATED = "key.rotated"
"""The event type (``EventType.KEY_ROTATED``; named here so that the core does not import services)."""
STATEMENT = "deconflict-key-rotation/1"
_FIELDS = ("old_key_id", "old_public_key", "new_key_id", "new_public_key", "old_signature", "new_signature")


def rotation_statement(old_public_key: str, new_public_key: str) -> bytes:
    """What both keys sign: the canonical JSON of the two public keys and their ids."""
    return canonical_json(
        {
            "statement": STATEMENT,
            "old_key_id": key_id_of(old_public_key),
            "old_public_key": old_public_key,
            "new_key_id": key_id_of(new_public_key),
            "new_public_key": new_public_key,
        }
    )


def rotation_payload(old: BrokerKey, new: BrokerKey) -> dict[str, Any]:
    """The payload of the ``key.rotated`` event that hands signing from ``old`` to ``new``."""
    message = rotation_statement(old.public_key_b64(), new.public_key_b64())
    return {
        "old_key_id": old.key_id(),
        "old_public_key": old.public_key_b64(),
        "new_key_id": new.key_id(),
        "new_public_key": new.public_key_b64(),
        "old_signature": old.sign(message),
        "new_signature": new.sign(message),
    }


@dataclass(frozen=True)
class KeySpan:
    """A key and the seqs it signed receipts for: those before ``until_seq`` (``None``: to the end),
    after the span before it."""

    public_key: str | None
    key_id: str
    until_seq: int | None


def key_at(spans: Sequence[KeySpan], seq: int) -> KeySpan:
    """The span in force at ``seq`` (the last span for anything past the last rotation)."""
    for span in spans:
        if span.until_seq is None or seq < span.until_seq:
            return span
    return spans[-1]


def _check_rotation(p: Mapping[str, Any]) -> list[str]:
    """What is wrong with one rotation payload (nothing: ``[]``)."""
    if not all(isinstance(p.get(f), str) for f in _FIELDS):
        missing = [f for f in _FIELDS if not isinstance(p.get(f), str)]
        return [f"malformed: {missing[0]}: missing or not a string"]
    out = []
    try:
        message = rotation_statement(p["old_public_key"], p["new_public_key"])
    except ValueError:
        return ["a public key is not base64"]
    for side in ("old", "new"):
        if key_id_of(p[f"{side}_public_key"]) != p[f"{side}_key_id"]:
            out.append(f"{side}_key_id is not the id of {side}_public_key")
        if not verify_signature(p[f"{side}_public_key"], message, p[f"{side}_signature"]):
            out.append(f"{side}_signature does not verify: the rotation was altered or forged")
    return out


def follow_chain(
    entries: Sequence[Event | EventStub], export_key: str | None, export_key_id: str
) -> tuple[list[KeySpan], list[Problem]]:
    """The keys in force along the export's events, oldest first, ending with the export's key, and
    the problems found: a rotation that does not verify, one that does not start from the key then
    in force, or a last rotation whose new key is not the export's key."""
    spans: list[KeySpan] = []
    problems: list[Problem] = []
    current: str | None = None
    for i, e in enumerate(entries):
        if not isinstance(e, Event) or e.type != ROTATED:
            continue
        where = f"events[{i}] (seq {e.seq})"
        bad = _check_rotation(e.payload)
        problems += [Problem(where, b) for b in bad]
        if bad:
            continue
        old, new = e.payload["old_public_key"], e.payload["new_public_key"]
        if current is not None and old != current:
            why = f"rotates from key {key_id_of(old)}, but key {key_id_of(current)} was in force"
            problems.append(Problem(where, why))
        spans.append(KeySpan(old, key_id_of(old), e.seq))
        current = new
    if current is not None and export_key is not None and current != export_key:
        problems.append(
            Problem(
                "key",
                f"the log's last rotation put key {key_id_of(current)} in force, but the export is signed with "
                f"{export_key_id}",
            )
        )
    spans.append(KeySpan(export_key, export_key_id, None))
    return spans, problems


def endorsed(spans: Sequence[KeySpan], public_key: str) -> bool:
    """Whether ``public_key`` is one of the keys in the chain (each endorsed its successor)."""
    return any(s.public_key == public_key for s in spans)
