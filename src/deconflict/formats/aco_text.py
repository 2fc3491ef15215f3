"""The ADatP-3 / APP-11 message text format as the ACO uses it: sets split into fields, and the
field values an airspace control measure is made of (positions, distances, altitudes, times).

A *set* starts with its identifier (``POLYGON``, ``EFFLEVEL``…) and ends with ``//`` at the end of
a line; a set may run over several lines. Fields are separated by ``/``; ``-`` means "no data".
Every problem is an :class:`AcoProblem` naming the line, the set and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from deconflict.domain.units import FOOT_M, NAUTICAL_MILE_M


@dataclass(frozen=True)
class AcoProblem:
    """A record that cannot be read: where it is and why."""

    line: int
    set: str
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}, set {self.set}"
        return f"{where}, field {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class AcoFieldError(ValueError):
    """A field value that cannot be read; the caller adds the line and set."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class AcoSet:
    """One set: its identifier, its fields (after the identifier) and the line it starts on."""

    name: str
    fields: tuple[str, ...]
    line: int

    def field_name(self, i: int) -> str:
        """How a problem names field ``i`` (0-based): its position and keyword, ``3 (RADIUS)``."""
        text = self.fields[i] if i < len(self.fields) else ""
        key = text.split(":", 1)[0] if ":" in text else ""
        return f"{i + 1} ({key})" if key else str(i + 1)

    def problem(self, field: str, reason: str) -> AcoProblem:
        return AcoProblem(self.line, self.name, field, reason)


def split_sets(text: str) -> tuple[list[AcoSet], list[AcoProblem]]:
    """The sets of a message, each with the line it starts on; text left without a closing ``//``
    is a problem at its first line."""
    sets: list[AcoSet] = []
    problems: list[AcoProblem] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line and not pending:
            continue
        if not pending:
            start = number
        pending.append(line)
        if line.endswith("//"):
            body = " ".join(pending)[:-2]
            pending = []
            name, _, rest = body.partition("/")
            name = name.strip().upper()
            fields = tuple(f.strip() for f in rest.split("/")) if rest else ()
            if not name or not re.fullmatch(r"[A-Z0-9]+", name):
                problems.append(AcoProblem(start, name or "?", "", "a set must start with its identifier"))
            else:
                sets.append(AcoSet(name, fields, start))
    if pending:
        head = pending[0].partition("/")[0].upper() or "?"
        problems.append(AcoProblem(start, head, "", "the set does not end with // at the end of a line"))
    return sets, problems


_LATM = re.compile(r"(\d{2})(\d{2}(?:\.\d+)?)([NS])(\d{3})(\d{2}(?:\.\d+)?)([EW])")
_LATS = re.compile(r"(\d{2})(\d{2})(\d{2}(?:\.\d+)?)([NS])(\d{3})(\d{2})(\d{2}(?:\.\d+)?)([EW])")
POSITION_KEYS = ("LATM", "LATS")


def read_position(field: str, name: str) -> tuple[float, float]:
    """``LATM:3457N03643E`` (degrees, minutes) or ``LATS:345712N0364300E`` (degrees, minutes,
    seconds; decimals allowed) → (lat, lon) degrees."""
    key, _, value = field.partition(":")
    key = key.upper()
    if key == "LATM":
        m = _LATM.fullmatch(value.upper())
        if m is None:
            raise AcoFieldError(name, f"{field!r} is not a LATM position such as LATM:3457N03643E")
        lat = _angle(m[1], m[2], "0", m[3], name, 90)
        lon = _angle(m[4], m[5], "0", m[6], name, 180)
    elif key == "LATS":
        m = _LATS.fullmatch(value.upper())
        if m is None:
            raise AcoFieldError(name, f"{field!r} is not a LATS position such as LATS:345712N0364300E")
        lat = _angle(m[1], m[2], m[3], m[4], name, 90)
        lon = _angle(m[5], m[6], m[7], m[8], name, 180)
    else:
        raise AcoFieldError(name, f"{field!r} is not a position (LATM: or LATS:)")
    return lat, lon


def _angle(deg: str, minutes: str, seconds: str, hemi: str, name: str, limit: int) -> float:
    mins, secs = float(minutes), float(seconds)
    if mins >= 60 or secs >= 60:
        raise AcoFieldError(name, "minutes and seconds must be below 60")
    value = int(deg) + mins / 60 + secs / 3600
    if value > limit:
        raise AcoFieldError(name, f"{value:.6f} degrees is more than {limit}")
    return -value if hemi in "SW" else value


def write_position(lat: float, lon: float) -> str:
    """(lat, lon) → ``LATS:`` with seconds to two decimals (about 0.3 m), so a round trip moves
    no vertex by more than that."""

    def part(value: float, width: int, hemi: str) -> str:
        hundredths = round(abs(value) * 360000)
        d, rest = divmod(hundredths, 360000)
        m, s = divmod(rest, 6000)
        return f"{d:0{width}d}{m:02d}{s // 100:02d}.{s % 100:02d}{hemi}"

    return "LATS:" + part(lat, 2, "N" if lat >= 0 else "S") + part(lon, 3, "E" if lon >= 0 else "W")


_DISTANCE = re.compile(r"(\d+(?:\.\d+)?)(NM|KM|M|FT)")
DISTANCE_UNITS = {"NM": NAUTICAL_MILE_M, "KM": 1000.0, "M": 1.0, "FT": FOOT_M}


def read_distance(value: str, name: str) -> float:
    """``10NM``, ``5KM``, ``800M``, ``3000FT`` → metres."""
    m = _DISTANCE.fullmatch(value.strip().upper())
    if m is None:
        raise AcoFieldError(name, f"{value!r} is not a distance such as 10NM, 5KM, 800M or 3000FT")
    return float(m[1]) * DISTANCE_UNITS[m[2]]


_DTG = re.compile(r"(\d{2})(\d{2})(\d{2})Z?([A-Z]{3})(\d{4})")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def read_time(value: str, name: str) -> float:
    """A date-time group ``300600ZSEP2015`` (day, hour, minute, ``Z``, month, year; UTC) → epoch s."""
    text = value.strip().upper()
    m = _DTG.fullmatch(text)
    if m is None:
        raise AcoFieldError(name, f"{value!r} is not a date-time group such as 300600ZSEP2015")
    if m[4] not in MONTHS:
        raise AcoFieldError(name, f"{m[4]!r} is not a month (JAN to DEC)")
    try:
        t = datetime(int(m[5]), MONTHS.index(m[4]) + 1, int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC)
    except ValueError as e:
        raise AcoFieldError(name, f"{value!r} is not a real time ({e})") from None
    return t.timestamp()


def write_time(epoch_s: float) -> str:
    """Epoch seconds → ``300600ZSEP2015`` (to the minute; seconds are rounded outward by the caller)."""
    t = datetime.fromtimestamp(epoch_s, tz=UTC)
    return f"{t.day:02d}{t.hour:02d}{t.minute:02d}Z{MONTHS[t.month - 1]}{t.year:04d}"


def keyword(fields: tuple[str, ...], key: str) -> tuple[int, str] | None:
    """The first field ``KEY:value`` as (index, value)."""
    for i, f in enumerate(fields):
        k, sep, v = f.partition(":")
        if sep and k.strip().upper() == key:
            return i, v.strip()
    return None
