"""The tamper-evident event log, signed receipts and verifiable audit exports.

Every change the broker makes is an :class:`Event` in one hash chain::

    payload_digest = sha256(canonical_json(payload))
    entry_digest   = sha256(canonical_json({seq, time, actor, type, payload_digest}))
    hash           = sha256(canonical_json({seq, prev_hash, entry_digest}))

The two levels let an export show another party's event as a *stub* ``{seq, entry_digest,
prev_hash, hash}``: the chain still links end to end, but the stub says nothing about who did what.
A party holds a signed :class:`Receipt` for each notice version it filed, naming the event that
recorded it; an export carries a signed :class:`Checkpoint` of the log's head, so that cutting
events off the end is detectable too.

Pure: no file or network I/O (the key file lives in :mod:`deconflict.adapters.keys`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from deconflict.domain.errors import ValidationError

if TYPE_CHECKING:
    from deconflict.domain.key_chain import KeySpan

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first event."""

EXPORT_FORMAT = "deconflict-audit/1"
KEY_ALG = "Ed25519"

_EVENT_FIELDS = ("seq", "time", "actor", "type", "payload", "payload_digest", "prev_hash", "hash")
_STUB_FIELDS = ("seq", "entry_digest", "prev_hash", "hash", "stub")
_RECEIPT_FIELDS = (
    "notice_id",
    "version",
    "party",
    "content_hash",
    "received_at",
    "log_seq",
    "log_hash",
    "key_id",
    "signature",
)
_CHECKPOINT_FIELDS = ("seq", "hash", "time", "key_id", "signature")


def canonical_json(obj: object) -> bytes:
    """The one byte form that is hashed and signed: sorted keys, no spaces, UTF-8, no NaN.

    >>> canonical_json({"b": 1, "a": [1.5, "é"]})
    b'{"a":[1.5,"\\xc3\\xa9"],"b":1}'
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """SHA-256 as 64 lower-case hex digits.

    >>> sha256_hex(b"")[:16]
    'e3b0c44298fc1c14'
    """
    return hashlib.sha256(data).hexdigest()


def _entry_digest(seq: int, time: float, actor: str, type: str, payload_digest: str) -> str:
    # float(time): the database hands times back as floats, and JSON tools may write 1000.0 as
    # 1000; both must hash alike or an honest round trip would look like tampering.
    return sha256_hex(
        canonical_json(
            {"seq": seq, "time": float(time), "actor": actor, "type": type, "payload_digest": payload_digest}
        )
    )


def _link_hash(seq: int, prev_hash: str, entry_digest: str) -> str:
    return sha256_hex(canonical_json({"seq": seq, "prev_hash": prev_hash, "entry_digest": entry_digest}))


# ---------------------------------------------------------------------------------------------- parsing helpers


def _field(d: Mapping[str, Any], name: str) -> Any:
    if name not in d:
        raise ValidationError.at(name, "is missing")
    return d[name]


def _int(d: Mapping[str, Any], name: str, minimum: int = 0) -> int:
    v = _field(d, name)
    # bool is an int in Python but `true` is not a sequence number.
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValidationError.at(name, f"must be an integer, not {v!r}")
    if v < minimum:
        raise ValidationError.at(name, f"must be at least {minimum}, not {v}")
    return v


def _finite(v: object) -> bool:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:  # an int too large for a float, as JSON allows
        return False


def _num(d: Mapping[str, Any], name: str) -> float:
    v = _field(d, name)
    if not _finite(v):
        raise ValidationError.at(name, f"must be a finite number, not {v!r}")
    return float(v)


def _str(d: Mapping[str, Any], name: str) -> str:
    v = _field(d, name)
    if not isinstance(v, str):
        raise ValidationError.at(name, f"must be a string, not {v!r}")
    try:
        # JSON lets "\ud800" through, but a lone surrogate has no UTF-8 form to hash.
        v.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError.at(name, f"is not valid Unicode: {v!r}") from None
    return v


def _only(d: Mapping[str, Any], allowed: Sequence[str]) -> None:
    # Fields outside the hashed/signed set would be shown to a reader without any proof behind
    # them, so an export that carries them is refused rather than silently trusted.
    extra = sorted(str(k) for k in d if k not in allowed)
    if extra:
        raise ValidationError.at(extra[0], "is not a known field (it would not be covered by any hash or signature)")


def _mapping(d: object, what: str) -> Mapping[str, Any]:
    if not isinstance(d, Mapping):
        raise ValidationError.at("", f"{what} must be a JSON object, not {type(d).__name__}")
    return d


# ---------------------------------------------------------------------------------------------- events


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


# ---------------------------------------------------------------------------------------------- keys


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict standard base64, in its one canonical spelling; ``ValueError`` if it is not."""
    raw = base64.b64decode(text.encode("ascii"), validate=True)
    # b64decode ignores the unused low bits of the last character, so several strings decode to
    # the same bytes; accepting only the canonical one keeps every altered string detectable.
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not canonical base64")
    return raw


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public_key_b64: str) -> str:
    """The first 16 hex digits of SHA-256 over the raw 32-byte public key."""
    return sha256_hex(_b64decode(public_key_b64))[:16]


class BrokerKey:
    """The broker's Ed25519 signing key. Its ``repr`` never shows the private half.

    >>> k = BrokerKey.generate()
    >>> verify_signature(k.public_key_b64(), b"hello", k.sign(b"hello"))
    True
    >>> BrokerKey.from_pem(k.to_pem()).key_id() == k.key_id()
    True
    """

    __slots__ = ("_key",)

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> BrokerKey:
        """A fresh random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, data: bytes) -> BrokerKey:
        """Read an unencrypted PKCS8 PEM private key; :class:`ValidationError` on ``key`` otherwise."""
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except TypeError:
            # cryptography raises TypeError for an encrypted key given no password.
            raise ValidationError.at("key", "the private key is encrypted; the broker needs it unencrypted") from None
        except (ValueError, UnsupportedAlgorithm):
            raise ValidationError.at("key", "is not a PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ValidationError.at("key", f"is a {type(key).__name__}, not an Ed25519 private key")
        return cls(key)

    def to_pem(self) -> bytes:
        """PKCS8 PEM, unencrypted (the file that holds it must be private)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def public_key_b64(self) -> str:
        """The raw 32-byte public key in standard base64: what parties pin."""
        return _b64encode(_raw_public(self._key.public_key()))

    def public_key_pem(self) -> bytes:
        """The public key as a SubjectPublicKeyInfo PEM (the other form :func:`load_public_key` reads)."""
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def key_id(self) -> str:
        """The first 16 hex digits of SHA-256 over the raw public key."""
        return sha256_hex(_raw_public(self._key.public_key()))[:16]

    def sign(self, data: bytes) -> str:
        """An Ed25519 signature over ``data``, in standard base64."""
        return _b64encode(self._key.sign(data))

    def __repr__(self) -> str:
        return f"BrokerKey(key_id={self.key_id()!r})"


def verify_signature(public_key_b64: str, data: bytes, signature_b64: str) -> bool:
    """True when ``signature_b64`` is a valid signature over ``data``; False for anything else, malformed included."""
    try:
        raw = _b64decode(public_key_b64)
        sig = _b64decode(signature_b64)
        if len(raw) != 32 or len(sig) != 64:
            return False
        Ed25519PublicKey.from_public_bytes(raw).verify(sig, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def load_public_key(text: str) -> str:
    """A public key given as raw base64 (32 bytes) or as a PEM SubjectPublicKeyInfo, as raw base64.

    >>> k = BrokerKey.generate()
    >>> load_public_key(k.public_key_pem().decode()) == load_public_key(k.public_key_b64()) == k.public_key_b64()
    True
    >>> load_public_key("hello")
    Traceback (most recent call last):
    ...
    deconflict.domain.errors.ValidationError: key: is neither base64 of a 32-byte Ed25519 key nor a PEM public key
    """
    s = text.strip()
    if s.startswith("-----BEGIN"):
        if "PRIVATE KEY" in s.split("\n", 1)[0]:
            raise ValidationError.at("key", "is a private key; give the broker's public key")
        try:
            key = serialization.load_pem_public_key(s.encode("ascii"))
        except (ValueError, UnsupportedAlgorithm):
            raise ValidationError.at("key", "is not a valid PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValidationError.at("key", f"is a {type(key).__name__}, not an Ed25519 public key")
        return _b64encode(_raw_public(key))
    try:
        raw = _b64decode(s)
    except ValueError:  # binascii.Error and UnicodeEncodeError are ValueErrors
        raw = b""
    if len(raw) != 32:
        raise ValidationError.at("key", "is neither base64 of a 32-byte Ed25519 key nor a PEM public key")
    return _b64encode(raw)


# ---------------------------------------------------------------------------------------------- receipts


@dataclass(frozen=True)
class Receipt:
    """The broker's signed word that it received one version of a notice, and where it logged it."""

    notice_id: str
    version: int
    party: str
    content_hash: str
    received_at: float
    log_seq: int
    log_hash: str
    key_id: str
    signature: str

    def signed_fields(self) -> dict[str, Any]:
        """Every field but the signature: what is signed, as canonical JSON."""
        return {
            "notice_id": self.notice_id,
            "version": self.version,
            "party": self.party,
            "content_hash": self.content_hash,
            "received_at": self.received_at,
            "log_seq": self.log_seq,
            "log_hash": self.log_hash,
            "key_id": self.key_id,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.signed_fields(), "signature": self.signature}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Receipt:
        """Read a receipt; a :class:`ValidationError` names the first bad field."""
        d = _mapping(d, "a receipt")
        _only(d, _RECEIPT_FIELDS)
        return cls(
            notice_id=_str(d, "notice_id"),
            version=_int(d, "version", 1),
            party=_str(d, "party"),
            content_hash=_str(d, "content_hash"),
            received_at=_num(d, "received_at"),
            log_seq=_int(d, "log_seq", 1),
            log_hash=_str(d, "log_hash"),
            key_id=_str(d, "key_id"),
            signature=_str(d, "signature"),
        )


def _receipt_message(fields: Mapping[str, Any]) -> bytes:
    # float(): see _entry_digest; an int-valued time must verify after any JSON round trip.
    return canonical_json({**fields, "received_at": float(fields["received_at"])})


def sign_receipt(
    key: BrokerKey,
    *,
    notice_id: str,
    version: int,
    party: str,
    content_hash: str,
    received_at: float,
    log_seq: int,
    log_hash: str,
) -> Receipt:
    """A receipt signed by ``key``; ``content_hash`` is ``sha256_hex(canonical_json(notice as filed))``.

    >>> k = BrokerKey.generate()
    >>> r = sign_receipt(k, notice_id="n1", version=1, party="ru", content_hash="ab", received_at=5.0,
    ...                  log_seq=3, log_hash="cd")
    >>> verify_receipt(r, k.public_key_b64()), verify_receipt(r, BrokerKey.generate().public_key_b64())
    (True, False)
    """
    unsigned = Receipt(
        notice_id=notice_id,
        version=version,
        party=party,
        content_hash=content_hash,
        received_at=float(received_at),
        log_seq=log_seq,
        log_hash=log_hash,
        key_id=key.key_id(),
        signature="",
    )
    signature = key.sign(_receipt_message(unsigned.signed_fields()))
    return Receipt(**{**unsigned.signed_fields(), "signature": signature})


def verify_receipt(receipt: Receipt, public_key_b64: str) -> bool:
    """True when the receipt's signature holds under ``public_key_b64`` (its ``key_id`` is signed too)."""
    try:
        message = _receipt_message(receipt.signed_fields())
    except (TypeError, ValueError, OverflowError):
        return False
    return verify_signature(public_key_b64, message, receipt.signature)


# ---------------------------------------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class Checkpoint:
    """The signed head of the log at a moment: an export's last event must be this one."""

    seq: int
    hash: str
    time: float
    key_id: str
    signature: str

    def signed_fields(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "time": self.time, "key_id": self.key_id}

    def to_json(self) -> dict[str, Any]:
        return {**self.signed_fields(), "signature": self.signature}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Checkpoint:
        """Read a checkpoint; a :class:`ValidationError` names the first bad field."""
        d = _mapping(d, "a checkpoint")
        _only(d, _CHECKPOINT_FIELDS)
        return cls(
            seq=_int(d, "seq", 0),
            hash=_str(d, "hash"),
            time=_num(d, "time"),
            key_id=_str(d, "key_id"),
            signature=_str(d, "signature"),
        )


def _checkpoint_message(fields: Mapping[str, Any]) -> bytes:
    return canonical_json({**fields, "time": float(fields["time"])})


def sign_checkpoint(key: BrokerKey, head: Event | None, time: float) -> Checkpoint:
    """Sign the head of the log (seq 0 and :data:`GENESIS_HASH` when the log is empty)."""
    seq, hash_ = (0, GENESIS_HASH) if head is None else (head.seq, head.hash)
    fields = {"seq": seq, "hash": hash_, "time": float(time), "key_id": key.key_id()}
    return Checkpoint(
        seq=seq, hash=hash_, time=float(time), key_id=key.key_id(), signature=key.sign(_checkpoint_message(fields))
    )


def verify_checkpoint(checkpoint: Checkpoint, public_key_b64: str) -> bool:
    """True when the checkpoint's signature holds under ``public_key_b64``."""
    try:
        message = _checkpoint_message(checkpoint.signed_fields())
    except (TypeError, ValueError, OverflowError):
        return False
    return verify_signature(public_key_b64, message, checkpoint.signature)


# ---------------------------------------------------------------------------------------------- exports


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
