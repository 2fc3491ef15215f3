"""An ACO ``APERIOD`` set → one volume's time window, and its recurring schedule when it has one.

``APERIOD/DISCRETE/<start>/<stop>//`` and ``APERIOD/INTERVAL/<start>/<stop>//`` are one window.
A recurring period names how often and for how long after the stop (our reading of the published
description of the set; docs/formats.md)::

    APERIOD/INTERVAL/<start>/<stop or UFN>/<frequency>/<duration or end time>//

* the start date-time group is the first occurrence's start, and its time of day every
  occurrence's;
* the frequency: ``DAILY``, ``WKDAY`` or ``WEEKDAYS`` (Monday to Friday), ``WEEKEND``, ``WEEKLY``
  (the start's weekday), or weekday names and ranges (``MON,WED,FRI``, ``MON-FRI``);
* the duration of each occurrence (``8HR``, ``90MIN``, ``1HR30MIN``) or the time of day it ends
  (``1600Z``; before the start, it ends the next day);
* ``UFN`` (until further notice) as the stop: the schedule runs to a horizon of
  :data:`~deconflict.domain.schedule.MAX_SPAN_S` (31 days) from the start, which the notice then
  ends with; ``APERIOD/DISCRETE/<start>/UFN//`` is active all day, every day, to that horizon.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from deconflict.domain.schedule import DAY_S, MAX_SPAN_S, WEEKDAYS, clock_text
from deconflict.formats.aco_text import AcoFieldError, AcoSet, read_time

FREQUENCIES = {
    "DAILY": WEEKDAYS,
    "WKDAY": WEEKDAYS[:5],
    "WEEKDAYS": WEEKDAYS[:5],
    "WEEKEND": WEEKDAYS[5:],
}
_DURATION = re.compile(r"(?:(\d+)HR)?(?:(\d+)MIN)?")
_CLOCK = re.compile(r"(\d{2})(\d{2})Z")

Window = tuple[float, float, dict[str, Any] | None]
"""Start, stop (epoch s) and the ``schedule`` JSON of a volume, or ``None`` for one window."""


def read_aperiod(s: AcoSet) -> Window:
    """One ``APERIOD`` set as a window and its schedule; a bad field is named by its number."""
    if not s.fields:
        raise AcoFieldError("1", "APERIOD needs DISCRETE or INTERVAL, a start and a stop")
    mode = s.fields[0].upper()
    if mode not in ("DISCRETE", "INTERVAL"):
        raise AcoFieldError("1", f"{s.fields[0]!r} is not DISCRETE or INTERVAL")
    if len(s.fields) < 3:
        raise AcoFieldError(str(len(s.fields) + 1), "APERIOD needs a start and a stop")
    fields = list(s.fields)
    while fields and fields[-1] in ("", "-"):
        fields.pop()
    start = read_time(fields[1], "2")
    ufn = fields[2].strip().upper() == "UFN"
    stop = start + MAX_SPAN_S if ufn else read_time(fields[2], "3")
    if len(fields) == 3:
        if not ufn:
            return start, stop, None
        return start, stop, {"windows": [{"start": "00:00", "end": "24:00"}]}
    if mode != "INTERVAL":
        raise AcoFieldError(
            "4", f"{fields[3]!r}: a recurring period is an INTERVAL; a DISCRETE one has a start and a stop"
        )
    if len(fields) != 5:
        raise AcoFieldError(
            str(len(fields) + 1 if len(fields) < 5 else 6),
            "a recurring APERIOD is INTERVAL/<start>/<stop or UFN>/<frequency>/<duration or end>",
        )
    days = _days(fields[3], start)
    length = _length(fields[4], start)
    day_s = int(start % DAY_S)
    schedule: dict[str, Any] = {
        "windows": [{"start": clock_text(day_s), "end": clock_text((day_s + length - 1) % DAY_S + 1)}]
    }
    if len(days) < 7:
        schedule = {"days": days, **schedule}
    return start, stop, schedule


def _days(text: str, start: float) -> list[str]:
    word = text.strip().upper()
    if word in FREQUENCIES:
        return list(FREQUENCIES[word])
    if word == "WEEKLY":
        return [WEEKDAYS[datetime.fromtimestamp(start, tz=UTC).weekday()]]
    out: set[str] = set()
    for part in word.split(","):
        first, dash, last = part.strip().partition("-")
        for name in (first, last) if dash else (first,):
            if name not in WEEKDAYS:
                raise AcoFieldError(
                    "4",
                    f"{text!r} is not a frequency: DAILY, WKDAY, WEEKEND, WEEKLY "
                    "or weekdays such as MON-FRI or MON,WED",
                )
        i, j = WEEKDAYS.index(first), WEEKDAYS.index(last if dash else first)
        out.update(WEEKDAYS[(i + k) % 7] for k in range((j - i) % 7 + 1))
    return [d for d in WEEKDAYS if d in out]


def _length(text: str, start: float) -> int:
    """Seconds each occurrence lasts: a duration, or the time of day it ends."""
    word = text.strip().upper()
    if (m := _CLOCK.fullmatch(word)) is not None:
        if int(m[1]) > 24 or int(m[2]) > 59 or (int(m[1]) == 24 and int(m[2])):
            raise AcoFieldError("5", f"{text!r} is not a time of day HHMMZ")
        length = (int(m[1]) * 3600 + int(m[2]) * 60 - int(start % DAY_S)) % DAY_S
        if length == 0:
            raise AcoFieldError("5", f"{text!r} is the start's time of day: give a duration such as 24HR for all day")
        return length
    m = _DURATION.fullmatch(word)
    if m is None or not (m[1] or m[2]):
        raise AcoFieldError("5", f"{text!r} is not a duration (8HR, 90MIN, 1HR30MIN) or an end time (1600Z)")
    length = int(m[1] or 0) * 3600 + int(m[2] or 0) * 60
    if not 0 < length <= DAY_S:
        raise AcoFieldError("5", f"{text!r}: an occurrence lasts more than nothing and at most 24HR")
    if length == DAY_S and start % DAY_S:
        raise AcoFieldError("5", f"{text!r} from a start other than 0000Z: give the start at 0000Z for whole days")
    return length
