"""Notices and conflicts as the JSON text the store keeps.

A notice body is its F3548 form (:func:`deconflict.domain.notice_json.notice_to_json`, readable and
parseable by anything that speaks F3548) plus what the wire form leaves out: version, state,
received time, the protected flag, ``extra``, and each volume's times and altitudes as exact SI
floats (RFC 3339 text keeps microseconds and flight levels are rounded through feet, so the
overlay is what makes a stored notice compare equal to the one filed).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from deconflict.domain.notice_json import notice_to_json
from deconflict.domain.parse import parse_volume4d
from deconflict.domain.policy import Limits
from deconflict.domain.shapes import ShapeLimits
from deconflict.domain.strategic import VolumeConflict
from deconflict.domain.times import format_time
from deconflict.domain.volumes import AltitudeBand, Notice, NoticeState, Volume4D
from deconflict.services.ports import ListedNotice
from deconflict.services.wire import notice_json, wire_text

STORED_LIMITS = Limits(
    shape=ShapeLimits(max_vertices=10**7, max_extent_m=math.inf, min_size_m=0.0),
    max_window_s=math.inf,
    max_volumes_per_notice=10**7,
    max_vertices_per_notice=10**9,
    max_conflicts_per_filing=10**9,
    min_altitude_m=-math.inf,
    max_altitude_m=math.inf,
)
"""Stored notices were checked against the theater's limits when they were filed; reading them back
must not refuse them because the limits changed since."""

EXACT = "exact_si"
"""Key of the per-volume overlay of exact SI values in a notice body."""


def notice_body(n: Notice, volumes: str | None = None) -> str:
    """``n`` as the JSON text kept in ``notices.body`` and ``notice_versions.body``; ``volumes``:
    :func:`volumes_body` of ``n`` when made already (the long part: 2.6 ms for 2000 vertices)."""
    head = notice_to_json(n, [])
    del head["volumes"]
    tail = {
        "version": n.version,
        "state": n.state.value,
        "received_at": n.received_at,
        "protected": n.protected,
        "extra": dict(n.extra),
    }
    # {"id":…,"party":…,"kind":…,"volumes":[…],"version":…,…}: the text of the whole document
    vols = volumes_body(n) if volumes is None else volumes
    return _dumps(head)[:-1] + ',"volumes":' + vols + "," + _dumps(tail)[1:]


def volumes_body(n: Notice) -> str:
    """The ``volumes`` of :func:`notice_body`: each volume's F3548 form and its exact SI values."""
    vols = notice_to_json(n)["volumes"]
    for vj, v in zip(vols, n.volumes, strict=True):
        vj[EXACT] = {
            "time_start": v.time_start,
            "time_end": v.time_end,
            "altitude_lower_m": v.altitude.lower_m,
            "altitude_upper_m": v.altitude.upper_m,
        }
    return _dumps(vols)


def _dumps(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), allow_nan=False)


def notice_from_body(body: str) -> Notice:
    """The notice :func:`notice_body` wrote (equal to it, volumes included)."""
    doc = json.loads(body)
    vols = tuple(_volume(vj, f"volumes[{i}]") for i, vj in enumerate(doc["volumes"]))
    return Notice(
        party=doc["party"],
        volumes=vols,
        id=doc.get("id"),
        kind=doc["kind"],
        version=int(doc["version"]),
        state=NoticeState(doc["state"]),
        received_at=doc["received_at"],
        protected=bool(doc["protected"]),
        extra={str(k): str(v) for k, v in doc.get("extra", {}).items()},
    )


def _volume(vj: dict[str, Any], path: str) -> Volume4D:
    v = parse_volume4d({k: x for k, x in vj.items() if k != EXACT}, STORED_LIMITS, path, stored=True)
    exact = vj.get(EXACT)
    if exact is None:
        return v
    band = AltitudeBand(float(exact["altitude_lower_m"]), float(exact["altitude_upper_m"]), v.altitude.reference)
    return replace(v, altitude=band, time_start=float(exact["time_start"]), time_end=float(exact["time_end"]))


_VOLUMES = ',"volumes":'
_TAIL = '],"version":'
_EXACT_SI = re.compile(r',"exact_si":\{[^{}]*\}')
"""A volume's overlay of exact values (numbers only) with the comma before it. Inside a JSON string
a quote is always escaped, so ``,"`` (and so each of these three) is never part of a string."""
_VOLUME_OPEN = '{"volume":'
_STRING = r'"(?:[^"\\]|\\.)*"'
_HEAD = re.compile(rf'\{{"id":({_STRING}),"party":({_STRING}),"kind":({_STRING})(?:,"description":({_STRING}))?')
"""What comes before the volumes in a body: :func:`notice_to_json`'s keys but the volumes."""
_BACK = re.compile(
    r'"version":([0-9]+),"state":"(' + "|".join(s.value for s in NoticeState) + r')",'
    r'"received_at":(null|-?[0-9][0-9.eE+-]*),"protected":(true|false),"extra":\{'
)
"""What comes after the volumes in a body: the start of :func:`notice_body`'s ``tail``."""


def listed_notice(body: str, decode: Any = None) -> ListedNotice:
    """The notice of a stored ``body`` in its wire form (:func:`~deconflict.services.wire.notice_json`)
    as JSON text, with its party and protected flag, made from the text: the volumes are copied as
    stored less their exact values, the keys around them are rewritten (``received_at`` as RFC
    3339, ``protected`` as ``protected_site``) and nothing is decoded. The bytes ``JSONResponse``
    writes for the decoded notice's wire form (tests/property/test_prop_stored_form.py), at a
    fraction of the cost (no shape is rebuilt, no object made). A body that does not have the
    expected layout is decoded with ``decode`` (default :func:`notice_from_body`) and encoded whole."""
    fast = _listed_from_text(body)
    if fast is not None:
        return fast
    n = (decode or notice_from_body)(body)
    return ListedNotice(n.party, n.protected, wire_text(notice_json(n)))


def _listed_from_text(body: str) -> ListedNotice | None:
    i, j = body.find(_VOLUMES), body.rfind(_TAIL)
    if i < 0 or j < i or not body.endswith("}}"):
        return None
    head, back = _HEAD.fullmatch(body, 0, i), _BACK.match(body, j + 2)
    vols, exact = _EXACT_SI.subn("", body[i + len(_VOLUMES) : j + 1])
    # every volume with its exact values (else the decoded times and altitudes could differ)
    if head is None or back is None or exact != vols.count(_VOLUME_OPEN):
        return None
    nid, party, kind, description = head.groups()
    version, state, received, protected = back.groups()
    parts = ['{"id":', _wire(nid), ',"party":', _wire(party), ',"kind":', _wire(kind), _VOLUMES, vols]
    if description is not None:  # the notice's extra["description"], which notice_to_json wrote here
        parts += [',"description":', _wire(description)]
    at = "null" if received == "null" else f'"{format_time(float(received))}"'
    parts += [',"version":', str(int(version)), ',"state":"', state, '","protected_site":', protected]
    parts += [',"received_at":', at, "}"]
    name = json.loads(party) if "\\" in party else party[1:-1]
    return ListedNotice(name, protected == "true", "".join(parts))


def _wire(string: str) -> str:
    """A JSON string of the stored text (escaped to ASCII) as the API writes it (UTF-8 as is)."""
    return string if "\\u" not in string else wire_text(json.loads(string))


class NoticeCache:
    """Decoded notices by the digest of their stored JSON (so an entry is never stale), least
    recently used dropped first. Decoding rebuilds and re-validates every shape, which costs far
    more than the query that found the notice. Safe to share between threads."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict[bytes, Notice] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, body: str) -> Notice:
        """The notice in ``body`` (a fresh ``extra`` dict each time: the rest is immutable)."""
        key = hashlib.blake2b(body.encode(), digest_size=20).digest()
        with self._lock:
            n = self._items.get(key)
            if n is not None:
                self._items.move_to_end(key)
        if n is None:
            n = notice_from_body(body)
            with self._lock:
                self._items[key] = n
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return replace(n, extra=dict(n.extra)) if n.extra else n


class EncodedAhead:
    """Texts the store will write, made before the filing lock (:meth:`SqlStore.encode_ahead`) and
    found under it by the identity of what they encode: a notice's tuple of volumes (which the
    stored version keeps) and conflict details. Holds the objects, so an id is never reused while
    its entry lives; the oldest entries are dropped beyond ``size``. Safe to share between threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[object, str]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, obj: object, text: str) -> None:
        with self._lock:
            self._items[id(obj)] = (obj, text)
            self._items.move_to_end(id(obj))
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, obj: object) -> str | None:
        with self._lock:
            hit = self._items.get(id(obj))
        return hit[1] if hit is not None and hit[0] is obj else None


def detail_json(detail: VolumeConflict) -> str:
    """Every field of a :class:`VolumeConflict` (its area as GeoJSON) as JSON text."""
    # The fields as they are, not dataclasses.asdict: that deep-copies the area before encoding it
    # (the same text; a filing writes up to max_conflicts_per_filing of these under the lock).
    fields = {f.name: getattr(detail, f.name) for f in dataclasses.fields(detail)}
    return json.dumps(fields, separators=(",", ":"))


def detail_from_json(text: str) -> VolumeConflict:
    d = json.loads(text)
    names = {f.name for f in dataclasses.fields(VolumeConflict)}
    return VolumeConflict(**{k: v for k, v in d.items() if k in names})
