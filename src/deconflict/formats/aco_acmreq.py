"""A conflict's resolution as an ACMREQ draft: the party's measure moved by the smallest shift that
clears the conflict (:mod:`deconflict.domain.resolution`), written as a request for airspace
control measures in the ACO's own sets.

It is a draft for the party to send through its own chain; the broker moves nothing, and the
changed notice is checked again when it is filed.
"""

from __future__ import annotations

from dataclasses import replace

from deconflict.domain.resolution import ResolutionHints
from deconflict.domain.volumes import AltitudeBand, Notice
from deconflict.formats.aco_export import AcoExportError, measure_sets
from deconflict.formats.aco_text import write_time

SHIFTS = ("later", "earlier", "up", "down")
"""The shifts a draft may take, as :class:`ResolutionHints` gives them."""


def shifted(notice: Notice, shift: str, amount: float) -> Notice:
    """``notice`` with every volume moved together: ``later``/``earlier`` by ``amount`` seconds,
    ``up``/``down`` by ``amount`` metres."""
    sign = 1.0 if shift in ("later", "up") else -1.0
    vols = []
    for v in notice.volumes:
        if shift in ("later", "earlier"):
            vols.append(replace(v, time_start=v.time_start + sign * amount, time_end=v.time_end + sign * amount))
        else:
            a = v.altitude
            band = AltitudeBand(a.lower_m + sign * amount, a.upper_m + sign * amount, a.reference)
            vols.append(replace(v, altitude=band))
    return replace(notice, volumes=tuple(vols))


def write_acmreq(
    notice: Notice, hints: ResolutionHints, conflict_id: str, shift: str, originator: str, operation: str
) -> str:
    """The draft request: ``notice`` moved by the hint for ``shift``; refused when no such shift
    clears the conflict within the theater's bounds."""
    if shift not in SHIFTS:
        raise AcoExportError(f"shift {shift!r}: use one of {', '.join(SHIFTS)}")
    amount = {"later": hints.later_s, "earlier": hints.earlier_s, "up": hints.up_m, "down": hints.down_m}[shift]
    if amount is None:
        found = [s for s in SHIFTS if getattr(hints, _field(s)) is not None]
        other = f"; try the shift {' or '.join(found)}" if found else ""
        raise AcoExportError(f"no {shift} shift within the theater's bounds clears conflict {conflict_id}{other}")
    moved = shifted(notice, shift, amount)
    timed = shift in ("later", "earlier")
    what = f"{amount / 60:.0f} MIN" if timed else f"{amount:.0f} M"
    lines = [
        f"OPER/{operation}//",
        f"MSGID/ACMREQ/{originator}//",
        "GEODATUM/WGE//",
        f"PERIOD/{write_time(_floor(moved.time_start))}/{write_time(-_floor(-moved.time_end))}//",
        *measure_sets(moved),
        f"AMPN/DRAFT: MEASURE MOVED {what} {shift.upper()} TO CLEAR DECONFLICT CONFLICT {conflict_id}; "
        "NOT FILED: CHECKED AGAIN WHEN FILED//",
    ]
    return "\n".join(lines) + "\n"


def _field(shift: str) -> str:
    return {"later": "later_s", "earlier": "earlier_s", "up": "up_m", "down": "down_m"}[shift]


def _floor(epoch_s: float) -> float:
    return (epoch_s // 60) * 60
