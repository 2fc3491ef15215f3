"""Notices and conflicts as the JSON the broker stores in its event log and shows on the wire.

These are the *full* forms. What a given caller sees is cut down from them by
:mod:`deconflict.domain.disclosure`; the event log keeps them whole so that an audit can prove what
happened.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deconflict.domain.audit import canonical_json
from deconflict.domain.canonical import canonical_json_with
from deconflict.domain.notice_json import notice_to_json
from deconflict.domain.parse import volume_to_f3548
from deconflict.domain.strategic import VolumeConflict
from deconflict.domain.times import format_time, format_time_or_none
from deconflict.domain.volumes import Notice, Volume4D
from deconflict.services.ports import ConflictRecord


@dataclass(frozen=True, eq=False)
class Encoded:
    """A filing's long JSON values, made with their canonical bytes before the filing lock and found
    again under it by identity: the notice's volumes (by its tuple of volumes, which the stored
    version keeps) and each conflict's slice (by its :class:`VolumeConflict`, which settling keeps
    while the other notice is unchanged). What is not found is made as before. The forms are
    shared, not copied: nothing changes a wire form once made."""

    volumes: tuple[Volume4D, ...] | None = None
    volumes_json: list[dict[str, Any]] = field(default_factory=list)
    volumes_text: bytes = b"[]"
    slices: Mapping[int, tuple[VolumeConflict, dict[str, Any]]] = field(default_factory=dict)
    """id of a conflict's detail → (the detail, its slice's form)."""
    slice_texts: Mapping[int, tuple[dict[str, Any], bytes]] = field(default_factory=dict)
    """id of a slice's form → (the form, its canonical JSON)."""

    @classmethod
    def of(cls, n: Notice, details: Iterable[VolumeConflict]) -> Encoded:
        """The forms of ``n``'s volumes and of the slices of ``details``."""
        vj = [volume_to_f3548(v) for v in n.volumes]
        slices: dict[int, tuple[VolumeConflict, dict[str, Any]]] = {}
        texts: dict[int, tuple[dict[str, Any], bytes]] = {}
        for d in details:
            sj = slice_json(d)
            slices[id(d)] = (d, sj)
            texts[id(sj)] = (sj, canonical_json(sj))
        return cls(n.volumes, vj, canonical_json(vj), slices, texts)

    def slice_of(self, d: VolumeConflict) -> dict[str, Any]:
        """``slice_json(d)``, the one made before when there is one."""
        hit = self.slices.get(id(d))
        return hit[1] if hit is not None and hit[0] is d else slice_json(d)

    def notice_text(self, nj: dict[str, Any]) -> bytes:
        """``canonical_json(nj)`` for a notice's form from :func:`notice_json`."""
        same = self.volumes is not None and nj.get("volumes") is self.volumes_json
        return canonical_json_with(nj, {"volumes": self.volumes_text} if same else {})

    def conflict_text(self, cj: dict[str, Any]) -> bytes:
        """``canonical_json(cj)`` for a conflict's form from :func:`conflict_json`."""
        hit = self.slice_texts.get(id(cj.get("slice")))
        same = hit is not None and hit[0] is cj["slice"]
        return canonical_json_with(cj, {"slice": hit[1]} if hit is not None and same else {})


NOTHING_ENCODED = Encoded()


def notice_json(n: Notice, enc: Encoded = NOTHING_ENCODED) -> dict[str, Any]:
    """A stored notice: its F3548 form plus what the broker knows about it.

    The keys: ``id``, ``party``, ``kind``, ``volumes`` (F3548 Volume4D list), ``version``, ``state``,
    ``protected_site`` (bool), ``received_at`` (RFC 3339 or null).
    """
    out = notice_to_json(n, enc.volumes_json if enc.volumes is n.volumes else None)
    out.update(
        version=n.version,
        state=n.state.value,
        protected_site=n.protected,
        received_at=None if n.received_at is None else format_time(n.received_at),
    )
    return out


def wire_text(doc: Any) -> str:
    """JSON text as the API's responses write it (starlette's ``JSONResponse``: UTF-8, compact)."""
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def conflict_json(r: ConflictRecord, enc: Encoded = NOTHING_ENCODED) -> dict[str, Any]:
    """A conflict whole: both sides and the overlapping slice.

    ``sides`` is a list of two ``{party, notice, version, volume, protected_site}`` (the first is
    the notice whose filing found it); ``slice`` is where the two volumes, each grown by half the
    minimum, overlap: ``overlap`` (GeoJSON geometry), ``altitude {lower_m, upper_m}``,
    ``time_window {start, end}``, and the gaps between the two volumes (``min_distance_m``,
    ``vertical_gap_m``, ``time_gap_s``).
    """
    sides = [
        {
            "party": r.party_a,
            "notice": r.notice_a,
            "version": r.version_a,
            "volume": r.volume_a,
            "protected_site": r.protected_side == "a",
        },
        {
            "party": r.party_b,
            "notice": r.notice_b,
            "version": r.version_b,
            "volume": r.volume_b,
            "protected_site": r.protected_side == "b",
        },
    ]
    return {
        "id": r.id,
        "state": r.state.value,
        "detected_at": format_time_or_none(r.detected_at),
        "updated_at": format_time_or_none(r.updated_at),
        "resolved_at": format_time_or_none(r.resolved_at),
        "sides": sides,
        "slice": enc.slice_of(r.detail),
    }


def slice_json(d: VolumeConflict) -> dict[str, Any]:
    """Where two volumes conflict: the gaps between them and the overlapping slice."""
    return {
        "min_distance_m": round(d.min_distance_m, 1),
        "vertical_gap_m": round(d.vertical_gap_m, 1),
        "time_gap_s": round(d.time_gap_s, 1),
        "altitude": {"lower_m": round(d.altitude_lower_m, 1), "upper_m": round(d.altitude_upper_m, 1)},
        "time_window": {"start": format_time(d.time_start), "end": format_time(d.time_end)},
        "overlap": d.area,
    }
