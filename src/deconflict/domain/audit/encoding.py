"""The byte forms under the log's hashes and signatures, and the readers of exported fields.

``canonical_json`` is the one form that is hashed and signed; the ``_field``/``_int``/``_str``…
readers check one field of an exported document each and name it in a :class:`ValidationError`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from deconflict.domain.errors import ValidationError


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
