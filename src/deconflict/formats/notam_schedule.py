"""A NOTAM's item ``D)`` (day and time schedule) in and out: weekly windows of UTC time.

Read: groups of days then times, ``DLY 0600-1400`` (or ``DAILY``), ``MON-FRI 0800-1600``,
``MON WED FRI 0800-1200 1400-1600``, ``SAT SUN H24``, ``FRI-MON 2200-0200`` (a range may wrap the
week; an end not after the start crosses midnight, ``2400`` ends a day), and several groups, each
starting with its days (``MON-FRI 0800-1600, SAT 0900-1200``). Each group is one schedule: the
same windows on the same days. Sunrise and sunset (``SR``, ``SS``), dates (``JAN 02 04``) and
exceptions (``EXC``) are refused: they are not weekly windows. Written: what
:func:`write_d_item` gives, which :func:`read_d_item` reads back.

>>> [(s.days == EVERY_DAY, [(w.start_s, w.end_s) for w in s.windows]) for s in read_d_item("DAILY 0600-1400")]
[(True, [(21600, 50400)])]
>>> write_d_item(read_d_item("MON-FRI 0800-1600, SAT SUN H24")[0])
'MON TUE WED THU FRI 0800-1600'
"""

from __future__ import annotations

import re

from deconflict.domain.schedule import DAY_S, EVERY_DAY, MAX_WINDOWS, WEEKDAYS, DailyWindow, Schedule, day_names

_DAYS = "|".join(WEEKDAYS)
_DAY_TOKEN = re.compile(rf"({_DAYS})(?:-({_DAYS}))?")
_SPAN = re.compile(r"(\d{2})(\d{2})-(\d{2})(\d{2})")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
EXAMPLE = "such as DLY 0600-1400 or MON-FRI 0800-1600"


def read_d_item(text: str) -> list[Schedule]:
    """The schedules of a ``D)`` item, one per group of days; :class:`ValueError` with the reason
    when it cannot be read."""
    groups: list[tuple[set[int], list[DailyWindow]]] = []
    for token in re.split(r"[\s,]+", text.upper().strip()):
        if not token:
            continue
        days = _days(token)
        if days is not None:
            if not groups or groups[-1][1]:  # days after times start a new group
                groups.append((set(), []))
            groups[-1][0].update(days)
            continue
        if not groups:
            _window(token)  # what is no time says why first
            raise ValueError(f"{token!r}: name the days before the times, {EXAMPLE}")
        groups[-1][1].append(_window(token))
    if not groups:
        raise ValueError(f"is empty: give the days and times, {EXAMPLE}")
    out = []
    for group_days, windows in groups:
        names = " ".join(day_names(frozenset(group_days)))
        if not windows:
            raise ValueError(f"{names} has no times: give HHMM-HHMM or H24 after the days, {EXAMPLE}")
        if len(windows) > MAX_WINDOWS:
            raise ValueError(f"{names} has {len(windows)} times, more than the limit of {MAX_WINDOWS}")
        out.append(Schedule(tuple(windows), frozenset(group_days)))
    return out


def _days(token: str) -> frozenset[int] | None:
    if token in ("DLY", "DAILY"):
        return EVERY_DAY
    m = _DAY_TOKEN.fullmatch(token)
    if m is None:
        return None
    first = WEEKDAYS.index(m[1])
    last = WEEKDAYS.index(m[2]) if m[2] else first
    return frozenset((first + i) % 7 for i in range((last - first) % 7 + 1))


def _window(token: str) -> DailyWindow:
    if token == "H24":
        return DailyWindow(0, DAY_S)
    m = _SPAN.fullmatch(token)
    if m is None:
        if token in ("SR", "SS") or token.startswith(("SR-", "SS-")) or token.endswith(("-SR", "-SS")):
            raise ValueError(f"{token!r}: sunrise and sunset need an ephemeris; give UTC times HHMM-HHMM")
        if token in _MONTHS or token.isdigit():
            raise ValueError(f"{token!r}: dates are not read, only weekly windows, {EXAMPLE}")
        if token == "EXC":
            raise ValueError("EXC (except) is not read: give the days that hold, " + EXAMPLE)
        raise ValueError(f"{token!r} is not days (DLY, MON, MON-FRI) or times (HHMM-HHMM, H24)")
    h1, m1, h2, m2 = (int(x) for x in m.groups())
    if m1 > 59 or m2 > 59 or h1 > 23 or h2 > 24 or (h2 == 24 and m2):
        raise ValueError(f"{token!r} is not a time span HHMM-HHMM (0000 to 2359, and 2400 as an end)")
    start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
    if start == end:
        raise ValueError(f"{token!r} starts where it ends: H24 is a whole day")
    return DailyWindow(start, end)


def write_d_item(s: Schedule) -> str:
    """A schedule as a ``D)`` item: ``DLY 0800-1600`` or ``MON TUE 2200-0200``, whole minutes outward."""
    days = "DLY" if s.days == EVERY_DAY else " ".join(day_names(s.days))

    def hhmm(seconds: int) -> str:
        return f"{seconds // 3600:02d}{seconds % 3600 // 60:02d}"

    spans = [
        "H24" if (w.start_s, w.end_s) == (0, DAY_S) else f"{hhmm(w.start_s // 60 * 60)}-{hhmm(-(-w.end_s // 60) * 60)}"
        for w in s.windows
    ]
    return f"{days} {' '.join(spans)}"
