"""Strategic detection: which volumes of different parties (or a notice and a protected site) come
within the separation policy, and the exact slice where they do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deconflict.domain.horizontal import Separation, overlap_geojson, separation
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.schedule import Interval, first_meeting
from deconflict.domain.volumes import Notice, Volume4D


@dataclass(frozen=True)
class VolumeConflict:
    """Two volumes within the separation policy, and the slice where they are.

    The altitude band and time window are those where both volumes, each grown by half the
    minimum, overlap; ``area`` is the same in plan, as a GeoJSON geometry. When a volume recurs
    (a schedule) the time window is that of the first pair of occurrences within the minimum.
    """

    min_distance_m: float
    """Minimum horizontal distance between the two unbuffered shapes (0 when they overlap)."""
    vertical_gap_m: float
    """Gap between the altitude bands (0 or negative when they overlap)."""
    time_gap_s: float
    """Gap between the time windows (0 or negative when they overlap); for a recurring volume, between
    the first pair of occurrences within the minimum."""
    area: dict[str, Any]
    altitude_lower_m: float
    altitude_upper_m: float
    time_start: float
    time_end: float


def time_gap_s(a: Volume4D, b: Volume4D) -> float:
    return max(b.time_start - a.time_end, a.time_start - b.time_end)


def vertical_gap_m(a: Volume4D, b: Volume4D) -> float:
    return max(b.altitude.lower_m - a.altitude.upper_m, a.altitude.lower_m - b.altitude.upper_m)


def volume_conflict(a: Volume4D, b: Volume4D, policy: SeparationPolicy) -> VolumeConflict | None:
    """The conflict between two volumes, or ``None`` when they are separated.

    Touching counts: a pair exactly at a minimum conflicts. Horizontally the test accepts up to the
    stated tolerance beyond the minimum (0.5 % + 1 m) so that no true conflict is ever missed.
    """
    within = _within(a, b, policy)
    if within is None:
        return None
    tg, vg, vmin, sep, meet = within
    lo = max(a.altitude.lower_m, b.altitude.lower_m) - vmin / 2
    hi = min(a.altitude.upper_m, b.altitude.upper_m) + vmin / 2
    (a0, a1), (b0, b1) = meet or ((a.time_start, a.time_end), (b.time_start, b.time_end))
    t0 = max(a0, b0) - policy.time_s / 2
    t1 = min(a1, b1) + policy.time_s / 2
    return VolumeConflict(
        min_distance_m=sep.distance_m,
        vertical_gap_m=vg,
        time_gap_s=tg,
        area=overlap_geojson(sep, a.shape, b.shape, policy.horizontal_m),
        altitude_lower_m=min(lo, hi),
        altitude_upper_m=max(lo, hi),
        time_start=min(t0, t1),
        time_end=max(t0, t1),
    )


def volumes_within(a: Volume4D, b: Volume4D, policy: SeparationPolicy) -> bool:
    """Whether :func:`volume_conflict` finds a conflict, without making its slice (the overlap
    polygon is most of its cost for a large outline)."""
    return _within(a, b, policy) is not None


def _within(
    a: Volume4D, b: Volume4D, policy: SeparationPolicy
) -> tuple[float, float, float, Separation, tuple[Interval, Interval] | None] | None:
    """The time gap, vertical gap, vertical minimum, plan separation of two volumes within the
    policy and, when one recurs, their first occurrences within the time minimum; ``None`` when they
    are separated."""
    tg = time_gap_s(a, b)
    if tg > policy.time_s:
        return None
    meet = None
    if a.schedule is not None or b.schedule is not None:  # the envelopes meet; do the occurrences?
        meet = first_meeting(
            (a.time_start, a.time_end, a.schedule), (b.time_start, b.time_end, b.schedule), policy.time_s
        )
        if meet is None:
            return None
        (a0, a1), (b0, b1) = meet
        tg = max(b0 - a1, a0 - b1)
    allowance = policy.vertical_allowance_m(a.altitude.reference, b.altitude.reference)
    vg = vertical_gap_m(a, b)
    vmin = policy.vertical_m + allowance
    if vg > vmin:
        return None
    # The tolerance applies to the minimum, not to the buffers: after the second pass the nearest
    # approach lies on a radial of the frame, where distances are exact, so the computed distance
    # is off only to second order, whatever the shapes' size.
    limit = a.shape.buffer_m + b.shape.buffer_m + policy.reach_m
    sep = separation(a.shape, b.shape, decide_at_core_m=limit)
    if sep.core_distance_m > limit:
        return None
    return tg, vg, vmin, sep, meet


def may_conflict(a: Notice, b: Notice) -> bool:
    """The party rule: different parties' notices are checked against each other (coalition
    members too); a protected site is checked against every notice; two sites never conflict."""
    if a.protected and b.protected:
        return False
    if a.protected or b.protected:
        return True
    return a.party != b.party


@dataclass(frozen=True)
class Conflict:
    """A conflict between volume ``volume_a`` of notice ``a`` and volume ``volume_b`` of ``b``."""

    a: Notice
    volume_a: int
    b: Notice
    volume_b: int
    detail: VolumeConflict


def notice_conflicts(a: Notice, b: Notice, policy: SeparationPolicy) -> list[Conflict]:
    """All volume-pair conflicts between two notices (brute force over their volumes)."""
    if not may_conflict(a, b):
        return []
    out = []
    for i, va in enumerate(a.volumes):
        for j, vb in enumerate(b.volumes):
            c = volume_conflict(va, vb, policy)
            if c is not None:
                out.append(Conflict(a, i, b, j, c))
    return out
