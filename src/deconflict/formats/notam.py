"""ICAO NOTAMs (Annex 15 / PANS-AIM format) in, and notices out as NOTAM drafts.

A file holds one or more NOTAMs, each ``(A1234/30 NOTAMN`` … ``)``, with the Q-line
``Q) FIR/QCODE/TRAFFIC/PURPOSE/SCOPE/LOWER/UPPER/DDMMNDDDMMERRR`` and items ``A)`` (locations),
``B)``/``C)`` (``YYMMDDHHMM`` UTC), ``D)`` (schedule), ``E)`` (text), ``F)``/``G)`` (limits).

What lands in the notice, by explicit rules (each noted in ``said``):

- the shape is the Q-line's centre and radius (a circle): PANS-AIM requires it to enclose the whole
  area, so a polygon written in ``E)`` is covered, never cut;
- the window is ``B)`` to ``C)``; ``C) … EST`` is taken as the end; ``PERM`` is refused; a ``D)``
  schedule (:mod:`deconflict.formats.notam_schedule`) makes the volume recurring within that window
  (one volume per group of days; a window longer than a scheduled envelope, 31 days, is cut into
  31-day volumes);
- the band is ``F)``/``G)`` read as OpenAir's ``AL``/``AH`` are (SFC, GND, UNL, FLnnn, nnnFT AMSL,
  AGL refused), or without them the Q-line's flight levels (``000`` the surface, ``999`` unlimited).

A ``NOTAMR`` (replace) and a ``NOTAMC`` (cancel) are read as changes to the notice filed from the
NOTAM they name (:class:`NotamChange`); :mod:`deconflict.services.notam_changes` applies them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from deconflict.domain.errors import ValidationError
from deconflict.domain.geodesy import distance_m
from deconflict.domain.notice_json import parse_notice
from deconflict.domain.policy import Limits
from deconflict.domain.schedule import MAX_SPAN_S, occurrences
from deconflict.domain.schedule_json import schedule_to_json
from deconflict.domain.shapes import ShapeKind
from deconflict.domain.times import format_time
from deconflict.domain.volumes import Notice, Volume4D
from deconflict.formats import Problem
from deconflict.formats.altitude import FL_M, FT_M, Alt, band, parse_alt
from deconflict.formats.notam_schedule import read_d_item, write_d_item
from deconflict.formats.openair import NM_M, Imported

_HEADER = re.compile(r"\(\s*([A-Z]\d{4}/\d{2})\s+NOTAM([NRC])(?:\s+([A-Z]\d{4}/\d{2}))?\b(.*)")
_ITEM = re.compile(r"(?:^|\s)([A-G])\)\s*")
_Q_FIELDS = ("FIR", "QCODE", "traffic", "purpose", "scope", "lower", "upper", "centre")
_Q_CHECKS = {
    "FIR": (re.compile(r"[A-Z]{4}"), "4 letters (an ICAO FIR)"),
    "QCODE": (re.compile(r"Q[A-Z]{4}"), "Q and 4 letters"),
    "traffic": (re.compile(r"IV|I|V|K"), "I, V, IV or K"),
    "purpose": (re.compile(r"NBO|BO|M|K|B|O|N"), "NBO, BO, B, O, M or K"),
    "scope": (re.compile(r"AE|AW|A|E|W|K"), "A, E, W, AE, AW or K"),
    "lower": (re.compile(r"\d{3}"), "3 digits (a flight level)"),
    "upper": (re.compile(r"\d{3}"), "3 digits (a flight level)"),
    "centre": (re.compile(r"\d{4}[NS]\d{5}[EW]\d{3}"), "DDMMN DDDMME and a 3-digit radius in NM, as 3530N03600E005"),
}


@dataclass
class _Notam:
    line: int
    number: str
    kind: str
    items: dict[str, tuple[int, str]]
    names: str | None = None
    """The NOTAM a NOTAMR replaces or a NOTAMC cancels."""


@dataclass(frozen=True)
class NotamChange:
    """A NOTAMR or NOTAMC: the NOTAM it names (as the id of the notice filed from it) and, for a
    NOTAMR, the notice that replaces it."""

    number: str
    """This NOTAM's number as a notice id (``A0002-30``)."""
    names: str
    """The number of the NOTAM it replaces or cancels, as a notice id (``A0001-30``)."""
    line: int
    replacement: Imported | None
    """A NOTAMR's volume as a notice (id: its own number); ``None`` for a NOTAMC."""


def notice_id(number: str) -> str:
    """A NOTAM number as the id of the notice filed from it: ``A0412/30`` → ``A0412-30``."""
    return number.replace("/", "-")


def read_notams(text: str, party: str, kind: str, limits: Limits | None = None) -> tuple[list[Imported], list[Problem]]:
    """The NOTAMNs of a NOTAM file as notices of ``party`` (``kind``: ``activity`` or
    ``protected-site``) and every problem found (line and field); a NOTAMR or NOTAMC is a problem
    here (:func:`read_notam_file` reads them)."""
    records, problems = read_notam_file(text, party, kind, limits)
    for r in records:
        if isinstance(r, NotamChange):
            what = "replaces" if r.replacement is not None else "cancels"
            problems.append(Problem(r.line, "header", f"this NOTAM {what} another: only NOTAMN is read here"))
    problems.sort(key=lambda p: p.line)
    return [r for r in records if isinstance(r, Imported)], problems


def read_notam_file(
    text: str, party: str, kind: str, limits: Limits | None = None
) -> tuple[list[Imported | NotamChange], list[Problem]]:
    """Every NOTAM of a file in its order: a NOTAMN as a notice of ``party``, a NOTAMR or NOTAMC as
    the change it makes to the notice filed from the NOTAM it names; and every problem found (line
    and field). Notices are validated exactly as filed JSON is."""
    limits = limits or Limits()
    notams, problems = _split(text)
    out: list[Imported | NotamChange] = []
    for n in notams:
        if n.kind == "N" and n.names is not None:
            problems.append(Problem(n.line, "header", f"a NOTAMN names no other NOTAM (it names {n.names})"))
            continue
        if n.kind != "N" and n.names is None:
            verb = "replaces" if n.kind == "R" else "cancels"
            problems.append(
                Problem(
                    n.line, "header", f"a NOTAM{n.kind} names the NOTAM it {verb}: (A0002/30 NOTAM{n.kind} A0001/30"
                )
            )
            continue
        if n.kind == "C":
            out.append(NotamChange(notice_id(n.number), notice_id(n.names or ""), n.line, None))
            continue
        try:
            vols, said = _volume(n, limits)
        except _Bad as e:
            problems.append(e.problem)
            continue
        doc = {"party": party, "id": notice_id(n.number), "kind": kind, "volumes": vols}
        try:
            notice = parse_notice(doc, limits)
        except ValidationError as e:
            problems.extend(_located(n, x.path, x.reason) for x in e.errors)
            continue
        imported = Imported(notice, (n.line,), tuple(said))
        if n.kind == "R":
            out.append(NotamChange(notice_id(n.number), notice_id(n.names or ""), n.line, imported))
        else:
            out.append(imported)
    problems.sort(key=lambda p: p.line)
    return out, problems


def _located(n: _Notam, path: str, reason: str) -> Problem:
    """A notice parser's error at the item that gave the field (a schedule's at ``D)``)."""
    if ".schedule" in path and "D" in n.items:
        return Problem(n.items["D"][0], "D)", f"{path.partition('.schedule')[2].lstrip('.') or 'schedule'}: {reason}")
    return Problem(n.line, path, reason)


class _Bad(Exception):
    def __init__(self, line: int, field: str, reason: str) -> None:
        self.problem = Problem(line, field, reason)


def _split(text: str) -> tuple[list[_Notam], list[Problem]]:
    notams: list[_Notam] = []
    problems: list[Problem] = []
    current: _Notam | None = None
    item: str | None = None
    skipping = False
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("("):
            m = _HEADER.match(line)
            if m is None:
                problems.append(Problem(n, "header", f"{line!r} is not a NOTAM header like (A1234/30 NOTAMN"))
                current, skipping = None, True  # its lines up to the next NOTAM are not reported again
                continue
            current, item, skipping = _Notam(n, m[1], m[2], {}, m[3]), None, False
            notams.append(current)
            line = m[4].strip()
            if not line:
                continue
        if current is None:
            if skipping:
                continue
            problems.append(Problem(n, "header", "outside a NOTAM (each starts like (A1234/30 NOTAMN)"))
            continue
        if line.endswith(")") and not re.search(r"(^|\s)[A-GQ]\)$", line):
            line = line[:-1].rstrip()  # the NOTAM's closing parenthesis
        if line.startswith("Q)"):
            current.items["Q"] = (n, line[2:].strip())
            item = "Q"
            continue
        # Items come in order A) to G): a marker not after the last one is prose (``TWY B) CLSD`` in E).
        marks: list[re.Match[str]] = []
        for m in _ITEM.finditer(line):
            if m[1] > max([x[1] for x in marks] or [item if item not in (None, "Q") else "@"]):
                marks.append(m)
        head = line[: marks[0].start()] if marks else line
        if head.strip():
            if item is None:
                problems.append(Problem(n, "item", f"{head.strip()!r} is not in an item (A) to G))"))
            else:
                at, old = current.items[item]
                current.items[item] = (at, f"{old} {head.strip()}".strip())
        for i, m in enumerate(marks):
            end = marks[i + 1].start() if i + 1 < len(marks) else len(line)
            item = m[1]
            current.items[item] = (n, line[m.end() : end].strip())
    return notams, problems


def _volume(n: _Notam, limits: Limits) -> tuple[list[dict[str, Any]], list[str]]:
    for key in ("Q", "A", "B", "C"):
        if key not in n.items:
            raise _Bad(n.line, f"{key})" if key != "Q" else "Q", "missing from this NOTAM")
    qline, q = n.items["Q"]
    fields = [f.strip() for f in q.split("/")]
    if len(fields) != len(_Q_FIELDS):
        raise _Bad(qline, "Q", f"has {len(fields)} fields, needs 8: FIR/QCODE/traffic/purpose/scope/lower/upper/centre")
    for name, value in zip(_Q_FIELDS, fields, strict=True):
        pattern, what = _Q_CHECKS[name]
        if not pattern.fullmatch(value):
            raise _Bad(qline, f"Q.{name}", f"{value!r} is not {what}")
    lat, lon, radius_nm = _centre(fields[7], qline)
    said = ["the area is the Q-line's circle, which encloses the whole area (PANS-AIM)"]
    lo_fl, hi_fl = int(fields[5]), int(fields[6])
    if lo_fl > hi_fl:
        raise _Bad(qline, "Q.lower", f"FL{lo_fl:03d} is above the upper FL{hi_fl:03d}")
    start = _stamp(n.items["B"], "B)")
    c_line, c_text = n.items["C"]
    if c_text.upper().startswith("PERM"):
        raise _Bad(c_line, "C)", "PERM has no end: give the date the activity ends")
    if c_text.upper().endswith("EST"):
        c_text = c_text[:-3].strip()
        said.append("C) EST: the estimated end is taken as the end")
    end = _stamp((c_line, c_text), "C)")
    if end <= start:
        raise _Bad(c_line, "C)", "must be after B)")
    lo = _limit(n.items.get("F"), "F)", Alt("sfc") if lo_fl == 0 else Alt("fl", lo_fl))
    hi = _limit(n.items.get("G"), "G)", Alt("unl") if hi_fl == 999 else Alt("fl", hi_fl))
    try:
        lower, upper, rules = band(lo, hi, limits, ("F)", "G)"))
    except ValueError as e:
        tag, _, reason = str(e).partition(": ")
        raise _Bad(n.items.get(tag[0], (qline, ""))[0], tag, reason) from None
    vol = {
        "outline_circle": {"center": {"lat": lat, "lng": lon}, "radius": {"value": radius_nm * NM_M, "units": "M"}},
        "altitude_lower": lower,
        "altitude_upper": upper,
    }
    if "D" not in n.items:
        return [{"volume": vol, **_window(start, end)}], said + rules
    d_line, d_text = n.items["D"]
    try:
        schedules = read_d_item(d_text)
    except ValueError as e:
        raise _Bad(d_line, "D)", str(e)) from None
    said.append("D) schedule: the volume is active only in its windows between B) and C)")
    cuts = [(t, min(t + MAX_SPAN_S, end)) for t in range(int(start), int(end), int(MAX_SPAN_S))]
    if len(cuts) > 1:
        said.append("B) to C) is longer than a scheduled volume's 31 days: cut into 31-day volumes")
    vols = [
        {"volume": vol, **_window(a, b), "schedule": schedule_to_json(s)}
        for a, b in cuts
        for s in schedules
        if occurrences(s, a, b, a, b)  # a cut in which a group of days never falls holds nothing of it
    ]
    if not vols:
        raise _Bad(d_line, "D)", "is never active between B) and C)")
    return vols, said + rules


def _window(start: float, end: float) -> dict[str, Any]:
    return {
        "time_start": {"value": format_time(start), "format": "RFC3339"},
        "time_end": {"value": format_time(end), "format": "RFC3339"},
    }


def _centre(text: str, line: int) -> tuple[float, float, int]:
    lat = int(text[0:2]) + int(text[2:4]) / 60
    lon = int(text[5:8]) + int(text[8:10]) / 60
    if int(text[2:4]) >= 60 or int(text[8:10]) >= 60 or lat > 90 or lon > 180:
        raise _Bad(line, "Q.centre", f"{text!r}: minutes must be below 60, latitude within 90°, longitude 180°")
    radius = int(text[11:14])
    if radius == 0:
        raise _Bad(line, "Q.centre", f"{text!r}: the radius must be at least 001 NM")
    return (-lat if text[4] == "S" else lat), (-lon if text[10] == "W" else lon), radius


def _stamp(item: tuple[int, str], name: str) -> float:
    line, text = item
    try:
        t = datetime.strptime(text.strip(), "%y%m%d%H%M").replace(tzinfo=UTC)
    except ValueError:
        raise _Bad(line, name, f"{text.strip()!r} is not a UTC time YYMMDDHHMM") from None
    return t.timestamp()


def _limit(item: tuple[int, str] | None, name: str, default: Alt) -> Alt:
    if item is None:
        return default
    try:
        return parse_alt(item[1])
    except ValueError as e:
        raise _Bad(item[0], name, str(e)) from None


# ---------------------------------------------------------------- out


def write_notam_drafts(notices: list[Notice], fir: str, location: str, surface_m: float | None = None) -> str:
    """A NOTAMN draft for each volume of each notice, for a person to complete and issue. The
    Q-line circle encloses the shape (its centre and a radius rounded up to the NM), its flight
    levels enclose the band; ``F)``/``G)`` state the band (``SFC`` for a floor at or below
    ``surface_m``, the theater's lowest altitude, which the SFC rule gives back); ``E)`` lists a
    polygon's vertices."""
    surface_m = Limits().min_altitude_m if surface_m is None else surface_m
    out = []
    for i, n in enumerate(notices):
        for j, v in enumerate(n.volumes):
            if v.altitude.reference.value == "W84":
                raise ValidationError.at(
                    f"{n.id or i}: volumes[{j}]", "a height above the ellipsoid (W84) has no NOTAM form"
                )
            out.append(_draft(n, v, j, fir, location, surface_m))
    return "\n\n".join(out) + ("\n" if out else "")


def _draft(n: Notice, v: Volume4D, j: int, fir: str, location: str, surface_m: float) -> str:
    lat, lon = v.shape.center if v.shape.kind is not ShapeKind.CIRCLE else v.shape.points[0]
    radius = v.shape.buffer_m if v.shape.kind is ShapeKind.CIRCLE else v.shape.bound_m
    qc = _q_centre(lat, lon)  # to the minute: the radius grows by the shift so the circle still encloses
    radius += distance_m(lat, lon, *_centre(qc + "001", 0)[:2])
    ref = v.altitude.reference.value
    if ref == "STD":
        lo_fl, hi_fl = v.altitude.lower_m / FL_M, v.altitude.upper_m / FL_M
        f, g = f"FL{math.floor(lo_fl + 1e-9):03d}", f"FL{math.ceil(hi_fl - 1e-9):03d}"
    else:  # a Q-line flight level is a filter: widened to stay outside the band
        lo_fl, hi_fl = (v.altitude.lower_m - 300) / FL_M, (v.altitude.upper_m + 300) / FL_M
        lo_ft, hi_ft = math.floor(v.altitude.lower_m / FT_M), math.ceil(v.altitude.upper_m / FT_M)
        f, g = ("SFC" if v.altitude.lower_m <= surface_m else f"{lo_ft}FT AMSL"), f"{hi_ft}FT AMSL"
    q_lo, q_hi = max(0, math.floor(lo_fl)), min(999, math.ceil(hi_fl))
    qcode = "QRPCA" if n.protected else "QRTCA"
    what = "PROTECTED SITE" if n.protected else "ACTIVITY"
    text = [f"{what} {n.id or ''} ({n.party}) VOLUME {j + 1} OF {len(n.volumes)}."]
    if v.shape.kind is ShapeKind.CIRCLE:
        text.append(f"CIRCLE RADIUS {v.shape.buffer_m / NM_M:.2f}NM CENTRED ON {_dm(lat, lon)}.")
    elif v.shape.kind is ShapeKind.POLYGON:
        text.append("AREA " + " ".join(_dm(a, b) for a, b in v.shape.points) + ".")
    else:
        text.append(f"{v.shape.kind.value.upper()} WIDTH {v.shape.width_m / NM_M:.2f}NM ALONG "
                    + " ".join(_dm(a, b) for a, b in v.shape.points) + ".")  # fmt: skip
    start = datetime.fromtimestamp(math.floor(v.time_start / 60) * 60, UTC).strftime("%y%m%d%H%M")
    end = datetime.fromtimestamp(math.ceil(v.time_end / 60) * 60, UTC).strftime("%y%m%d%H%M")
    return "\n".join(
        [
            "(NOTAMN",
            f"Q) {fir}/{qcode}/IV/BO/W/{q_lo:03d}/{q_hi:03d}/{qc}{min(999, math.ceil(radius / NM_M)):03d}",
            f"A) {location} B) {start} C) {end}",
            *([f"D) {write_d_item(v.schedule)}"] if v.schedule is not None else []),
            "E) " + " ".join(text),
            f"F) {f} G) {g})",
        ]
    )


def _q_centre(lat: float, lon: float) -> str:
    la, lo = round(abs(lat) * 60), round(abs(lon) * 60)
    return f"{la // 60:02d}{la % 60:02d}{'N' if lat >= 0 else 'S'}{lo // 60:03d}{lo % 60:02d}{'E' if lon >= 0 else 'W'}"


def _dm(lat: float, lon: float) -> str:
    la, lo = round(abs(lat) * 3600), round(abs(lon) * 3600)
    return (
        f"{la // 3600:02d}{la % 3600 // 60:02d}{la % 60:02d}{'N' if lat >= 0 else 'S'}"
        f"{lo // 3600:03d}{lo % 3600 // 60:02d}{lo % 60:02d}{'E' if lon >= 0 else 'W'}"
    )
