"""The broker's signed word: a :class:`Receipt` for each notice version filed, and a
:class:`Checkpoint` of the log's head."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deconflict.domain.audit.chain import GENESIS_HASH, Event
from deconflict.domain.audit.encoding import _int, _mapping, _num, _only, _str, canonical_json
from deconflict.domain.audit.keys import BrokerKey, verify_signature

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
