"""OpenAir, the airspace text format of Winpilot/Naviter that crews' flight-bag tools read.

A record starts with ``AC <class>`` and carries ``AN`` (the notice's ``name``), ``AL``/``AH``
(floor, ceiling), the extended ``AI`` (identifier), ``AY`` (type) and ``AA`` (activation ``start/end`` in ISO 8601 UTC),
then its outline: ``DP`` points, ``V X=`` (centre) and ``V D=+|-`` (arc direction), ``DA r,a1,a2``
and ``DB p1,p2`` arcs, or one ``DC r`` circle (radii in nautical miles). ``*`` starts a comment.

Shapes land on ours: a ``DC`` is a circle; points and arcs make a polygon whose arcs are cut into
geodesic chords of at most :data:`ARC_STEP_DEG` (the chord sags inside the arc by at most
``r·(1-cos(ARC_STEP_DEG/2))``: 0.004 % of the radius, under 4 m at 50 NM).

Altitudes follow the broker's rules, resolved only by these explicit ones (each noted in ``said``):
``FLnnn`` is a flight level (STD); ``nnnft MSL`` / ``nnnm MSL`` AMSL (a unit and a reference are
required); ``SFC``/``GND`` (or 0 AGL) as a floor is the theater's lowest accepted altitude AMSL
(no ground lies lower); ``UNL`` as a ceiling is the theater's highest; any other AGL height is
refused (terrain data the broker does not guess). A band with a flight level and an AMSL or surface
bound is made AMSL: the flight level at standard pressure, widened outward by the QNH allowance
(:data:`deconflict.domain.policy.PRESSURE_ALLOWANCE_M`).

Records with the same ``AI`` are the volumes of one notice, as a notice is written out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from deconflict.domain.errors import ValidationError
from deconflict.domain.geodesy import destination, geod
from deconflict.domain.notice_json import parse_notice
from deconflict.domain.policy import Limits
from deconflict.domain.times import format_time
from deconflict.domain.volumes import Notice
from deconflict.formats import Problem
from deconflict.formats.altitude import Alt, band, parse_alt

NM_M = 1852.0
ARC_STEP_DEG = 1.0
"""Largest angle between two vertices of an arc cut into chords."""
DB_TOLERANCE = 0.02
"""A ``DB`` arc's two ends may lie at radii that differ by this fraction (files round them)."""

_COORD = re.compile(
    r"(\d{1,2}):(\d{1,2}(?:\.\d+)?)(?::(\d{1,2}(?:\.\d+)?))?\s*([NS])\s*"
    r"(\d{1,3}):(\d{1,2}(?:\.\d+)?)(?::(\d{1,2}(?:\.\d+)?))?\s*([EW])"
)
_IGNORED = {"SP", "SB", "AT", "AF", "AG"}
"""Pen, brush, label position, frequency and station: nothing the broker keeps."""


def parse_coord(text: str) -> tuple[float, float]:
    """``34:30:00 N 036:15:30.5 E`` or ``34:30.5 N 036:15.25 E`` → (lat, lon) degrees.

    >>> parse_coord("34:30:00 N 036:15:00 W")
    (34.5, -36.25)
    """
    m = _COORD.fullmatch(text.strip().upper())
    if m is None:
        raise ValueError(f"{text.strip()!r} is not a coordinate like 34:30:00 N 036:15:00 E")
    lat = _degrees(m[1], m[2], m[3], 90.0, text) * (-1 if m[4] == "S" else 1)
    lon = _degrees(m[5], m[6], m[7], 180.0, text) * (-1 if m[8] == "W" else 1)
    return lat, lon


def _degrees(d: str, mi: str, s: str | None, top: float, text: str) -> float:
    if s is not None and "." in mi:
        raise ValueError(f"{text.strip()!r}: minutes with a fraction cannot be followed by seconds")
    if float(mi) >= 60 or (s is not None and float(s) >= 60):
        raise ValueError(f"{text.strip()!r}: minutes and seconds must be below 60")
    value = int(d) + float(mi) / 60 + (float(s) / 3600 if s is not None else 0.0)
    if value > top:
        raise ValueError(f"{text.strip()!r}: {value:g}° is beyond {top:g}°")
    return value


@dataclass
class _Record:
    line: int
    cls: str
    name: str | None = None
    ident: str | None = None
    type_: str | None = None
    floor: tuple[int, Alt] | None = None
    ceiling: tuple[int, Alt] | None = None
    windows: list[tuple[float, float]] = field(default_factory=list)
    points: list[tuple[float, float]] = field(default_factory=list)
    circle: tuple[tuple[float, float], float] | None = None
    centre: tuple[float, float] | None = None
    clockwise: bool = True
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Imported:
    """A notice read from a file, with the first line of each of its volumes."""

    notice: Notice
    lines: tuple[int, ...]
    said: tuple[str, ...]


def read_openair(
    text: str, party: str, kind: str, window: tuple[float, float] | None, limits: Limits | None = None
) -> tuple[list[Imported], list[Problem]]:
    """The notices of an OpenAir file for ``party`` (``kind``: ``activity`` or ``protected-site``),
    each record active in its ``AA`` windows or else in ``window``; and every problem found. The
    notices are validated exactly as filed JSON is."""
    limits = limits or Limits()
    records, problems = _records(text)
    groups: dict[str, list[tuple[_Record, dict[str, Any], list[str]]]] = {}
    for i, r in enumerate(records):
        problems.extend(r.problems)
        if r.problems:
            continue
        try:
            vols, said = _volumes(r, window, limits)
        except _Bad as e:
            problems.append(e.problem)
            continue
        key = r.ident if r.ident is not None else f"\0{i}"
        groups.setdefault(key, []).extend((r, v, said) for v in vols)
    out: list[Imported] = []
    for key, members in groups.items():
        doc: dict[str, Any] = {"party": party, "kind": kind, "volumes": [v for _, v, _ in members]}
        if not key.startswith("\0"):
            doc["id"] = key
        doc["name"] = _common_name([r.name or "" for r, _, _ in members])
        lines = tuple(r.line for r, _, _ in members)
        try:
            notice = parse_notice(doc, limits)
        except ValidationError as e:
            problems.extend(_located(e, lines))
            continue
        out.append(Imported(notice, lines, tuple(dict.fromkeys(s for _, _, ss in members for s in ss))))
    problems.sort(key=lambda p: p.line)
    return out, problems


def _located(e: ValidationError, lines: tuple[int, ...]) -> list[Problem]:
    out = []
    for fe in e.errors:
        m = re.match(r"volumes\[(\d+)\]\.?(.*)", fe.path)
        line = lines[int(m[1])] if m else lines[0]
        field = "AN" if fe.path == "name" else (m[2] if m else fe.path) or "record"
        out.append(Problem(line, field, fe.reason))
    return out


def _common_name(names: list[str]) -> str:
    """The notice's name from its records' ``AN``: the one name they share, less the `` (k)`` that
    numbers the records of one notice (as the export writes them); else the first record's.

    >>> _common_name(["R-17 (1)", "R-17 (2)"]), _common_name(["R-17"]), _common_name(["A", "B"])
    ('R-17', 'R-17', 'A')
    """
    bases = [re.sub(r" \(\d+\)$", "", n) for n in names] if len(names) > 1 else names
    return bases[0] if len(set(bases)) == 1 else names[0]


class _Bad(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def _volumes(r: _Record, window: tuple[float, float] | None, limits: Limits) -> tuple[list[dict[str, Any]], list[str]]:
    for tag, got in (("AN", r.name), ("AL", r.floor), ("AH", r.ceiling)):
        if got is None:
            raise _Bad(Problem(r.line, tag, "missing from this airspace"))
    assert r.floor is not None and r.ceiling is not None
    try:
        lower, upper, said = band(r.floor[1], r.ceiling[1], limits)
    except ValueError as e:
        tag, _, reason = str(e).partition(": ")
        raise _Bad(Problem(r.floor[0] if tag == "AL" else r.ceiling[0], tag, reason)) from None
    if r.circle is not None:
        (lat, lon), radius_m = r.circle
        outline: dict[str, Any] = {
            "outline_circle": {"center": {"lat": lat, "lng": lon}, "radius": {"value": radius_m, "units": "M"}}
        }
    elif r.points:
        ring = [p for k, p in enumerate(r.points) if k == 0 or p != r.points[k - 1]]
        outline = {"outline_polygon": {"vertices": [{"lat": a, "lng": b} for a, b in ring]}}
    else:
        raise _Bad(Problem(r.line, "outline", "no DP, DA, DB or DC: the airspace has no shape"))
    windows = r.windows or ([window] if window is not None else [])
    if not windows:
        raise _Bad(Problem(r.line, "AA", "no activation time: give AA start/end or a window (--start, --end)"))
    vol = {**outline, "altitude_lower": lower, "altitude_upper": upper}
    return [
        {
            "volume": vol,
            "time_start": {"value": format_time(a), "format": "RFC3339"},
            "time_end": {"value": format_time(b), "format": "RFC3339"},
        }
        for a, b in windows
    ], said


def _records(text: str) -> tuple[list[_Record], list[Problem]]:
    records: list[_Record] = []
    problems: list[Problem] = []
    r: _Record | None = None
    terrain = False
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("*", 1)[0].strip()
        if not line:
            continue
        tag, _, value = line.partition(" ")
        tag, value = tag.upper(), value.strip()
        if tag == "AC":
            r, terrain = _Record(n, value), False
            records.append(r)
            if not value:
                r.problems.append(Problem(n, "AC", "no airspace class"))
            continue
        if tag in ("TO", "TC"):
            problems.append(Problem(n, tag, "terrain is not airspace (skipped up to the next AC)"))
            r, terrain = None, True
            continue
        if r is None:
            if tag not in _IGNORED and not terrain:
                problems.append(Problem(n, tag, "outside an airspace (no AC line before it)"))
            continue
        try:
            _line(r, n, tag, value)
        except ValueError as e:
            r.problems.append(Problem(n, tag, str(e)))
    return records, problems


def _line(r: _Record, n: int, tag: str, value: str) -> None:
    if tag in _IGNORED:
        return
    if tag == "AN":
        r.name = value
    elif tag == "AI":
        r.ident = value
    elif tag == "AY":
        r.type_ = value
    elif tag in ("AL", "AH"):
        alt = (n, parse_alt(value))
        if tag == "AL":
            r.floor = alt
        else:
            r.ceiling = alt
    elif tag == "AA":
        if value.upper() != "NONE":
            r.windows.append(_activation(value))
    elif tag == "V":
        _variable(r, value)
    elif tag == "DP":
        _no_circle(r)
        r.points.append(parse_coord(value))
    elif tag == "DA":
        _no_circle(r)
        radius, a1, a2 = _numbers(value, 3, "radius (NM), start angle, end angle")
        r.points.extend(_arc(_centre(r), radius * NM_M, a1, a2, r.clockwise))
    elif tag == "DB":
        _no_circle(r)
        r.points.extend(_arc_between(_centre(r), value, r.clockwise))
    elif tag == "DC":
        if r.points or r.circle is not None:
            raise ValueError("a circle must be the airspace's only outline")
        (radius,) = _numbers(value, 1, "a radius in NM")
        if radius <= 0:
            raise ValueError(f"radius {radius:g} NM must be positive")
        r.circle = (_centre(r), radius * NM_M)
    elif tag == "DY":
        raise ValueError("airways (DY) are not supported; give the airway as a polygon")
    else:
        raise ValueError(f"unknown record type {tag!r}")


def _variable(r: _Record, value: str) -> None:
    name, eq, v = value.partition("=")
    name, v = name.strip().upper(), v.strip()
    if not eq:
        raise ValueError(f"{value!r} is not a variable (X=, D=, W=, Z=)")
    if name == "X":
        r.centre = parse_coord(v)
    elif name == "D":
        if v not in ("+", "-"):
            raise ValueError(f"direction {v!r} must be + (clockwise) or -")
        r.clockwise = v == "+"
    elif name == "W":
        raise ValueError("airway widths (V W=) are not supported")
    elif name != "Z":
        raise ValueError(f"unknown variable {name!r}")


def _activation(value: str) -> tuple[float, float]:
    start, sep, end = value.partition("/")
    if not sep:
        raise ValueError(f"{value!r} is not start/end (2015-09-30T06:00Z/2015-09-30T10:00Z)")
    a, b = parse_instant(start), parse_instant(end)
    if b <= a:
        raise ValueError(f"{value!r}: the end is not after the start")
    return a, b


def parse_instant(text: str) -> float:
    """An ISO 8601 time with an offset (``2015-09-30T06:00Z``) → epoch seconds."""
    try:
        t = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not an ISO 8601 time") from None
    if t.utcoffset() is None:
        raise ValueError(f"{text.strip()!r} has no offset (write Z for UTC)")
    return t.astimezone(UTC).timestamp()


def _no_circle(r: _Record) -> None:
    if r.circle is not None:
        raise ValueError("a circle must be the airspace's only outline")


def _centre(r: _Record) -> tuple[float, float]:
    if r.centre is None:
        raise ValueError("no centre: give V X= in this airspace before its arc or circle")
    return r.centre


def _numbers(value: str, count: int, what: str) -> list[float]:
    parts = [p.strip() for p in value.split(",")]
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        nums = []
    if len(nums) != count or not all(math.isfinite(x) for x in nums):
        raise ValueError(f"{value!r} is not {what}")
    return nums


def _arc(
    centre: tuple[float, float], radius_m: float, a1: float, a2: float, clockwise: bool
) -> list[tuple[float, float]]:
    if radius_m <= 0:
        raise ValueError("the radius must be positive")
    sweep = (a2 - a1) % 360.0 if clockwise else -((a1 - a2) % 360.0)
    if sweep == 0:
        sweep = 360.0 if clockwise else -360.0
    steps = max(1, math.ceil(abs(sweep) / ARC_STEP_DEG))
    az = a1 + np.linspace(0.0, sweep, steps + 1)
    lat, lon = destination(centre[0], centre[1], az, np.full(az.shape, radius_m))
    return [(float(a), float(b)) for a, b in zip(lat, lon, strict=True)]


def _arc_between(centre: tuple[float, float], value: str, clockwise: bool) -> list[tuple[float, float]]:
    first, sep, second = value.partition(",")
    if not sep:
        raise ValueError(f"{value!r} is not two coordinates separated by a comma")
    p1, p2 = parse_coord(first), parse_coord(second)
    g = geod()
    a1, _, r1 = g.inv(centre[1], centre[0], p1[1], p1[0])
    a2, _, r2 = g.inv(centre[1], centre[0], p2[1], p2[0])
    if abs(r1 - r2) > DB_TOLERANCE * max(r1, r2):
        raise ValueError(
            f"the arc's ends are {r1:.0f} m and {r2:.0f} m from the centre: not on one circle "
            f"(within {DB_TOLERANCE:.0%})"
        )
    pts = _arc(centre, r1, a1, a2, clockwise)
    return [p1, *pts[1:-1], p2]
