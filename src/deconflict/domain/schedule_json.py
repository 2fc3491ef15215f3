"""A volume's ``schedule`` in JSON (docs/notices.md), read strictly and written back.

``{"days": ["MON", "TUE"], "windows": [{"start": "08:00", "end": "16:00"}]}``: daily windows of
UTC time of day (``HH:MM`` or ``HH:MM:SS``; ``end`` may be ``24:00``, and an end not after the
start crosses midnight) on the listed weekdays (every day when ``days`` is left out).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from deconflict.domain.errors import ValidationError
from deconflict.domain.schedule import (
    EVERY_DAY,
    MAX_WINDOWS,
    WEEKDAYS,
    DailyWindow,
    Schedule,
    clock_text,
    day_names,
    occurrences,
)
from deconflict.domain.strict import KEYS, check_keys

_CLOCK = re.compile(r"(\d{2}):(\d{2})(?::(\d{2}))?")


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def parse_clock(value: Any, path: str, *, end: bool) -> int:
    """``HH:MM`` or ``HH:MM:SS`` (UTC) as seconds after midnight; ``24:00`` only as an end."""
    if not isinstance(value, str) or (m := _CLOCK.fullmatch(value)) is None:
        raise ValidationError.at(path, f"must be a UTC time of day HH:MM or HH:MM:SS, got {value!r}")
    h, mi, sec = int(m[1]), int(m[2]), int(m[3] or 0)
    if mi > 59 or sec > 59 or h > 24 or (h == 24 and (mi or sec)):
        raise ValidationError.at(path, f"{value!r} is not a time of day (00:00 to 23:59:59)")
    seconds = h * 3600 + mi * 60 + sec
    if seconds == 86400 and not end:
        raise ValidationError.at(path, "24:00 is the end of a day; a window starts at 00:00")
    return seconds


def parse_schedule(value: Any, path: str, t0: float, t1: float, max_window_s: float) -> Schedule:
    """The ``schedule`` at ``path`` of a volume whose envelope is ``[t0, t1]``; refused with the
    path and the reason when malformed, when a window is longer than ``max_window_s`` or when it is
    never active within the envelope."""
    if not isinstance(value, Mapping):
        raise ValidationError.at(path, f"must be an object with windows (and days), got {type(value).__name__}")
    check_keys(value, KEYS["schedule"], path)
    days = EVERY_DAY
    if "days" in value:
        days = _days(value["days"], _join(path, "days"))
    wpath = _join(path, "windows")
    raw = value.get("windows")
    if raw is None:
        raise ValidationError.at(wpath, "is required: a list of daily windows {start, end}")
    if not isinstance(raw, list) or not raw:
        raise ValidationError.at(wpath, "must be a non-empty list of daily windows {start, end}")
    if len(raw) > MAX_WINDOWS:
        raise ValidationError.at(wpath, f"{len(raw)} windows is more than the limit of {MAX_WINDOWS}")
    windows = []
    for i, w in enumerate(raw):
        ipath = _join(wpath, i)
        if not isinstance(w, Mapping):
            raise ValidationError.at(ipath, f"must be an object {{start, end}}, got {type(w).__name__}")
        check_keys(w, KEYS["daily_window"], ipath)
        for k in ("start", "end"):
            if k not in w:
                raise ValidationError.at(_join(ipath, k), "is required")
        start = parse_clock(w["start"], _join(ipath, "start"), end=False)
        stop = parse_clock(w["end"], _join(ipath, "end"), end=True)
        if stop == start:
            raise ValidationError.at(
                _join(ipath, "end"), "is the start: give 00:00 to 24:00 for a whole day, or leave out the schedule"
            )
        window = DailyWindow(start, stop)
        if window.length_s > max_window_s:
            raise ValidationError.at(
                _join(ipath, "end"),
                f"the window is {window.length_s / 3600:.1f} h, longer than the limit of {max_window_s / 3600:.1f} h",
            )
        windows.append(window)
    schedule = Schedule(tuple(windows), days)
    if not occurrences(schedule, t0, t1, t0, t0 + 8 * 86400):  # eight days hold every weekday's windows
        raise ValidationError.at(path, "is never active between time_start and time_end")
    return schedule


def _days(value: Any, path: str) -> frozenset[int]:
    if not isinstance(value, list) or not value:
        raise ValidationError.at(path, f"must be a non-empty list of weekdays ({', '.join(WEEKDAYS)})")
    out: set[int] = set()
    for i, d in enumerate(value):
        if d not in WEEKDAYS:
            raise ValidationError.at(_join(path, i), f"{d!r} is not a weekday: one of {', '.join(WEEKDAYS)}")
        if WEEKDAYS.index(d) in out:
            raise ValidationError.at(_join(path, i), f"{d} is listed twice")
        out.add(WEEKDAYS.index(d))
    return frozenset(out)


def schedule_to_json(s: Schedule) -> dict[str, Any]:
    """``s`` in the form :func:`parse_schedule` reads (``days`` only when not every day)."""
    out: dict[str, Any] = {}
    if s.days != EVERY_DAY:
        out["days"] = day_names(s.days)
    out["windows"] = [{"start": clock_text(w.start_s), "end": clock_text(w.end_s)} for w in s.windows]
    return out
