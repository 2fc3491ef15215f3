"""Resolution hints: the smallest time shift and the smallest altitude shift that clear all of a
notice's conflicts. They are hints for the filing party; the broker never moves anything."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from deconflict.domain.horizontal import separation
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.strategic import time_gap_s, vertical_gap_m
from deconflict.domain.volumes import Notice, Volume4D

TIME_STEP_S = 60.0
"""Time hints are whole minutes."""
ALTITUDE_STEP_M = 10.0
"""Altitude hints are whole tens of metres."""


@dataclass(frozen=True)
class HintBounds:
    max_time_shift_s: float = 24 * 3600.0
    """Look no further than this earlier or later."""
    max_altitude_shift_m: float = 3000.0
    """Look no further than this up or down."""
    floor_m: float = 0.0
    """A shifted band's lower altitude stays at or above this."""


@dataclass(frozen=True)
class ResolutionHints:
    """Each field is the size of the smallest shift in that direction that clears every conflict
    of the notice (all its volumes moved together), or ``None`` when none exists within bounds."""

    earlier_s: float | None
    later_s: float | None
    up_m: float | None
    down_m: float | None


def _merge(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def smallest_clear_shift(
    forbidden: list[tuple[float, float]], step: float, bound: float
) -> tuple[float | None, float | None]:
    """Smallest shifts ``-d`` (earlier/down) and ``+d`` (later/up), multiples of ``step``, that lie
    outside every closed forbidden interval; ``None`` beyond ``bound``.

    >>> smallest_clear_shift([(-100.0, 250.0)], 60.0, 3600.0)
    (120.0, 300.0)
    """
    merged = _merge(forbidden)
    later = earlier = None
    x = 0.0
    while x <= bound:
        hit = next(((lo, hi) for lo, hi in merged if lo <= x <= hi), None)
        if hit is None:
            later = x
            break
        x = math.floor(hit[1] / step) * step + step
    x = 0.0
    while x >= -bound:
        hit = next(((lo, hi) for lo, hi in merged if lo <= x <= hi), None)
        if hit is None:
            earlier = abs(x)
            break
        x = math.ceil(hit[0] / step) * step - step
    return earlier, later


def resolution_hints(
    notice: Notice,
    neighbours: Iterable[tuple[int, Volume4D]],
    policy: SeparationPolicy,
    bounds: HintBounds | None = None,
) -> ResolutionHints:
    """Hints for ``notice`` given ``neighbours``: (index of the notice's volume, other volume) for
    every other volume that may conflict once shifted (found with widened time and altitude)."""
    bounds = bounds or HintBounds()
    times: list[tuple[float, float]] = []
    alts: list[tuple[float, float]] = []
    for i, o in neighbours:
        v = notice.volumes[i]
        limit = v.shape.buffer_m + o.shape.buffer_m + policy.reach_m
        sep = separation(v.shape, o.shape, decide_at_core_m=limit)
        if sep.core_distance_m > limit:
            continue
        vmin = policy.vertical_m + policy.vertical_allowance_m(v.altitude.reference, o.altitude.reference)
        if vertical_gap_m(v, o) <= vmin:
            times.append((o.time_start - v.time_end - policy.time_s, o.time_end - v.time_start + policy.time_s))
        if time_gap_s(v, o) <= policy.time_s:
            alts.append(
                (o.altitude.lower_m - v.altitude.upper_m - vmin, o.altitude.upper_m - v.altitude.lower_m + vmin)
            )
    earlier, later = smallest_clear_shift(times, TIME_STEP_S, bounds.max_time_shift_s)
    down, up = smallest_clear_shift(alts, ALTITUDE_STEP_M, bounds.max_altitude_shift_m)
    lowest = min(v.altitude.lower_m for v in notice.volumes)
    if down is not None and lowest - down < bounds.floor_m:
        down = None
    return ResolutionHints(earlier_s=earlier, later_s=later, up_m=up, down_m=down)
