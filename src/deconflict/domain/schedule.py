"""Recurring schedules: a volume active only in daily windows (on some weekdays) within its
``[time_start, time_end]`` envelope, as ACO ``APERIOD``, ED-269 ``dailyPeriod`` and OpenAir
activation times describe airspace that is active "daily 0800-1600Z until further notice".

Nothing here expands the occurrences of a whole envelope: a schedule repeats every week at most,
so whether two volumes meet is decided over at most one week of the span they share (see
:func:`first_meeting`), whatever the length of their envelopes.

Times are UTC. Day ``d`` (days since 1970-01-01, a Thursday) is weekday ``(d + 3) % 7`` with
Monday 0. A window whose end is not after its start crosses midnight: it starts on a listed day
and ends on the next one. Occurrences are closed intervals, cut to the envelope.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DAY_S = 86400
WEEK_S = 7 * DAY_S
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
"""Weekday names, Monday first (index = weekday number)."""
EVERY_DAY = frozenset(range(7))
EPOCH_WEEKDAY = 3
"""1970-01-01 was a Thursday."""
MAX_WINDOWS = 8
"""Most daily windows in one schedule."""
MAX_SPAN_S = 31 * DAY_S
"""The horizon of a schedule "until further notice" (ACO ``UFN``): its envelope ends this long
after its start. A filer who means longer gives the end (up to the theater's
``limits.max_schedule_span_s``)."""
MAX_SCHEDULE_SPAN_S = 366 * DAY_S
"""The longest envelope of a scheduled volume a theater may allow (an unscheduled one keeps the
theater's window limit). The 4D index keys a long envelope under one bucket per week
(:func:`deconflict.domain.cells.store_buckets`), so a year costs 53 keys per cell, and detection
works over at most a week of it (:func:`first_meeting`)."""

Interval = tuple[float, float]


@dataclass(frozen=True)
class DailyWindow:
    """A window of the day in UTC: ``start_s`` in [0, 86400) seconds after midnight, ``end_s`` in
    (0, 86400]; ``end_s <= start_s`` crosses midnight."""

    start_s: int
    end_s: int

    @property
    def length_s(self) -> int:
        return self.end_s - self.start_s if self.end_s > self.start_s else self.end_s + DAY_S - self.start_s


@dataclass(frozen=True)
class Schedule:
    """Daily ``windows`` starting on the weekdays in ``days`` (0 = Monday)."""

    windows: tuple[DailyWindow, ...]
    days: frozenset[int] = EVERY_DAY


def weekday(day: int) -> int:
    """The weekday (0 = Monday) of day ``day`` since 1970-01-01.

    >>> weekday(0), WEEKDAYS[weekday(0)]
    (3, 'THU')
    """
    return (day + EPOCH_WEEKDAY) % 7


def occurrences(s: Schedule, t0: float, t1: float, lo: float, hi: float) -> list[Interval]:
    """The schedule's active intervals within the envelope ``[t0, t1]`` that meet ``[lo, hi]``, cut
    to the envelope, overlapping ones merged, in time order. Work: the days of ``[lo, hi]``."""
    lo, hi = max(lo, t0), min(hi, t1)
    if hi < lo:
        return []
    found: list[Interval] = []
    for d in range(math.floor(lo / DAY_S) - 1, math.floor(hi / DAY_S) + 1):  # the day before may reach in
        if weekday(d) not in s.days:
            continue
        base = d * DAY_S
        for w in s.windows:
            a, b = max(base + w.start_s, t0), min(base + w.start_s + w.length_s, t1)
            if a <= b and b >= lo and a <= hi:
                found.append((float(a), float(b)))
    found.sort()
    out: list[Interval] = []
    for a, b in found:
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _active(s: Schedule | None, t0: float, t1: float, lo: float, hi: float) -> list[Interval]:
    if s is None:
        return [(t0, t1)] if t0 <= hi and t1 >= lo else []
    return occurrences(s, t0, t1, lo, hi)


def first_meeting(
    a: tuple[float, float, Schedule | None], b: tuple[float, float, Schedule | None], reach_s: float
) -> tuple[Interval, Interval] | None:
    """The first pair of active intervals of ``a`` and ``b`` (each ``(time_start, time_end,
    schedule)``) at most ``reach_s`` apart, in time order, or ``None`` when none is.

    When both recur the work is bounded by a week, not by the envelopes: both patterns repeat every
    week, so a pair of active instants ``p``, ``q`` with ``|p - q| <= reach_s`` can be moved back a
    week at a time while both stay in their envelopes. Moved as far as it goes, one of them lies
    within a week of its envelope's start, so both lie within ``[lo, lo + WEEK_S + 2 * reach_s]``
    where ``lo`` is the later start less the reach; the first pair can be moved no further, so it
    lies there too. When one does not recur its own window bounds the span.
    """
    lo = max(a[0], b[0]) - reach_s
    hi = min(a[1], b[1]) + reach_s
    if hi < lo:
        return None
    if a[2] is not None and b[2] is not None:
        hi = min(hi, lo + WEEK_S + 2 * reach_s)
    xs = _active(a[2], a[0], a[1], lo, hi)
    ys = _active(b[2], b[0], b[1], lo, hi)
    i = j = 0
    while i < len(xs) and j < len(ys):
        x, y = xs[i], ys[j]
        if max(y[0] - x[1], x[0] - y[1]) <= reach_s:
            return x, y
        # x + reach and y are sorted, disjoint-ordered lists: the one that ends first meets nothing later
        if x[1] + reach_s < y[1]:
            i += 1
        else:
            j += 1
    return None


def first_active_from(s: Schedule, t0: float, t1: float, after: float) -> Interval | None:
    """The first active interval that ends at or after ``after`` (``None`` when all have ended)."""
    lo = max(t0, after)
    while lo <= t1:  # a week holds an occurrence if the schedule has any: at most two passes
        found = occurrences(s, t0, t1, lo, lo + WEEK_S + DAY_S)
        if found:
            return found[0]
        lo += WEEK_S + DAY_S
    return None


def active_at(s: Schedule, t0: float, t1: float, t: float) -> bool:
    """Whether instant ``t`` is in an active interval."""
    return bool(occurrences(s, t0, t1, t, t))


# ---------------------------------------------------------------- text


def clock_text(seconds: int) -> str:
    """Seconds after midnight as ``HH:MM`` (``HH:MM:SS`` when not whole minutes).

    >>> clock_text(8 * 3600), clock_text(86400), clock_text(61)
    ('08:00', '24:00', '00:01:01')
    """
    h, rest = divmod(seconds, 3600)
    m, sec = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{sec:02d}" if sec else "")


def day_names(days: frozenset[int]) -> list[str]:
    return [WEEKDAYS[d] for d in sorted(days)]
