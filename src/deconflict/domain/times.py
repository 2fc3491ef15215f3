"""Times at the boundary: RFC 3339 ⇄ epoch seconds, and :data:`TIMES`, the times the broker takes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from deconflict.domain.errors import ValidationError
from deconflict.domain.fields import Said, as_string, join_path, required, say
from deconflict.domain.strict import KEYS, check_keys

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?",
    re.ASCII,
)
"""RFC 3339 ``date-time``; the offset is optional here only to give naive times their own message."""

TIMES = (0.0, 221845392000.0)
"""The times the broker takes, ``[1970-01-01T00:00:00Z, 9000-01-01T00:00:00Z)`` in epoch seconds:
every window it widens (by a separation minimum, a lead time, a report's period) stays far inside
the years RFC 3339 and Python's ``datetime`` can write (1 to 9999)."""


def parse_time(value: Any, path: str, said: Said | None = None, within: tuple[float, float] | None = TIMES) -> float:
    """``{"value": "2015-09-30T06:00:00Z", "format": "RFC3339"}`` (or the bare string) → epoch s;
    a ``format`` left out is RFC 3339, the only one (noted in ``said``). A time outside ``within``
    (:data:`TIMES` unless told, ``None`` for any) is refused."""
    if isinstance(value, Mapping):
        check_keys(value, KEYS["time"], path)
        if "format" not in value:
            say(said, join_path(path, "format"), "RFC3339")
        fmt = value.get("format", "RFC3339")
        if fmt != "RFC3339":
            raise ValidationError.at(join_path(path, "format"), f"only RFC3339 is supported, got {fmt!r}")
        text = as_string(required(value, "value", path), join_path(path, "value"))
        path = join_path(path, "value")
    else:
        text = as_string(value, path)
    # datetime.fromisoformat also takes ISO 8601 forms that RFC 3339 does not (20150930T0600Z,
    # week dates, hours only, +0100): check the RFC 3339 form first.
    m = _RFC3339.fullmatch(text.strip())
    if m is None:
        raise ValidationError.at(path, f"{text!r} is not an RFC 3339 time such as 2015-09-30T06:00:00Z")
    if m["offset"] is None:
        raise ValidationError.at(path, f"{text!r} has no UTC offset; RFC 3339 needs one (for example Z)")
    try:
        t = datetime.fromisoformat(text.strip().upper())
    except ValueError:
        raise ValidationError.at(path, f"{text!r} is not an RFC 3339 time such as 2015-09-30T06:00:00Z") from None
    epoch_s = t.timestamp()
    if within is not None and not within[0] <= epoch_s < within[1]:
        first, last = (format_time(x) for x in within)
        raise ValidationError.at(path, f"must be from {first} and before {last}, got {text!r}")
    return epoch_s


_FIRST = datetime(1, 1, 1, tzinfo=UTC)
_LAST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def format_time(epoch_s: float) -> str:
    """Epoch seconds → RFC 3339 in UTC with a ``Z``. A time past the years RFC 3339 can write (1
    to 9999), as a window widened by a separation minimum around a notice stored before times
    were bounded, is written as the first or last instant it can:

    >>> format_time(1443571200.0), format_time(253402300740.0 + 300), format_time(-7e10)
    ('2015-09-30T00:00:00Z', '9999-12-31T23:59:59.999999Z', '0001-01-01T00:00:00Z')
    """
    try:
        t = datetime.fromtimestamp(epoch_s, tz=UTC)
    except (ValueError, OverflowError, OSError):  # out of datetime's years
        t = _FIRST if epoch_s < 0 else _LAST
    text = t.isoformat(timespec="microseconds" if t.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def format_time_or_none(epoch_s: float | None) -> str | None:
    """:func:`format_time`, with ``None`` (a time not yet reached: not received, not cleared) kept."""
    return None if epoch_s is None else format_time(epoch_s)
