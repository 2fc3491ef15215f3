"""Canonical JSON (:func:`~deconflict.domain.audit.canonical_json`) put together from parts encoded
earlier.

A filing's log entries carry the notice whole (100 kB for the heaviest the limits allow) and each
conflict's slice, and the receipt hashes the notice: encoded under the filing lock, that was
milliseconds every other party's filing waited for. The broker encodes those values before the
lock (:mod:`deconflict.services.wire`) and joins them under it with what only the lock decides
(versions, times, ids): the bytes are exactly those :func:`canonical_json` makes of the whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deconflict.domain.audit import canonical_json


def canonical_json_with(obj: Mapping[str, Any], known: Mapping[str, bytes]) -> bytes:
    """``canonical_json(obj)``, taking ``known[k]`` as ``canonical_json(obj[k])`` for each key ``k`` of
    ``known`` (the caller's promise; ``obj``'s keys are strings).

    >>> obj = {"volumes": [{"lat": 1.5}], "id": "é", "version": 2}
    >>> canonical_json_with(obj, {"volumes": canonical_json(obj["volumes"])}) == canonical_json(obj)
    True
    """
    parts = []
    for k in sorted(obj):
        v = known.get(k)
        parts.append(canonical_json(k) + b":" + (canonical_json(obj[k]) if v is None else v))
    return b"{" + b",".join(parts) + b"}"
