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

The parts, each importable on its own but read through this package:

- :mod:`~deconflict.domain.audit.encoding`: canonical JSON, SHA-256, the readers of exported fields;
- :mod:`~deconflict.domain.audit.chain`: events, stubs, the chain and its check;
- :mod:`~deconflict.domain.audit.keys`: the broker's Ed25519 key, signatures, public keys;
- :mod:`~deconflict.domain.audit.receipts`: signed receipts and checkpoints;
- :mod:`~deconflict.domain.audit.exports`: building and verifying an export.
"""

from deconflict.domain.audit.chain import (
    GENESIS_HASH,
    Event,
    EventStub,
    Problem,
    next_event,
    payload_digest_of,
    verify_chain,
)
from deconflict.domain.audit.encoding import canonical_json, sha256_hex
from deconflict.domain.audit.exports import EXPORT_FORMAT, VerifyReport, build_export, export_header, verify_export
from deconflict.domain.audit.keys import KEY_ALG, BrokerKey, key_id_of, load_public_key, verify_signature
from deconflict.domain.audit.receipts import (
    Checkpoint,
    Receipt,
    sign_checkpoint,
    sign_receipt,
    verify_checkpoint,
    verify_receipt,
)

__all__ = [
    "EXPORT_FORMAT",
    "GENESIS_HASH",
    "KEY_ALG",
    "BrokerKey",
    "Checkpoint",
    "Event",
    "EventStub",
    "Problem",
    "Receipt",
    "VerifyReport",
    "build_export",
    "canonical_json",
    "export_header",
    "key_id_of",
    "load_public_key",
    "next_event",
    "payload_digest_of",
    "sha256_hex",
    "sign_checkpoint",
    "sign_receipt",
    "verify_chain",
    "verify_checkpoint",
    "verify_export",
    "verify_receipt",
    "verify_signature",
]
