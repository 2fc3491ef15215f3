"""Notices and conflicts as the JSON the broker stores in its event log and shows on the wire.

These are the *full* forms. What a given caller sees is cut down from them by
:mod:`deconflict.domain.disclosure`; the event log keeps them whole so that an audit can prove what
happened.
"""

from __future__ import annotations

from typing import Any

from deconflict.domain.parse import format_time, format_time_or_none, notice_to_json
from deconflict.domain.strategic import VolumeConflict
from deconflict.domain.volumes import Notice
from deconflict.services.ports import ConflictRecord


def notice_json(n: Notice) -> dict[str, Any]:
    """A stored notice: its F3548 form plus what the broker knows about it.

    The keys: ``id``, ``party``, ``kind``, ``volumes`` (F3548 Volume4D list), ``version``, ``state``,
    ``protected_site`` (bool), ``received_at`` (RFC 3339 or null).
    """
    out = notice_to_json(n)
    out.update(
        version=n.version,
        state=n.state.value,
        protected_site=n.protected,
        received_at=None if n.received_at is None else format_time(n.received_at),
    )
    return out


def conflict_json(r: ConflictRecord) -> dict[str, Any]:
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
        "slice": slice_json(r.detail),
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
