"""Airspace Control Order (ADatP-3 / APP-11 text) → notices.

Each airspace control measure (``ACMID/ACM:<type>/NAME:<id>/<shape>/USE:<usage>//`` and the sets
after it) becomes one notice of the given party: its ``NAME`` is the notice id and name, its ``ACM``
type the notice's ``acm_type``, its ``USE`` the kind, its shape set (``POLYGON``, ``CIRCLE``,
``CORRIDOR``, ``AORBIT``, ``RADARC``, ``POLYARC``; a ``LINE`` or ``GEOLINE`` with a ``WIDTH`` as a
corridor, an ``APOINT`` with a ``RADIUS`` as a circle) the outline, its ``EFFLEVEL`` the altitude
band and each ``APERIOD`` one volume; ``AMPN`` text is kept as the notice's description. The
measure is written as the F3548 JSON a party would file and read by the same parser
(:func:`deconflict.domain.notice_json.parse_notice`), so an imported notice is validated
exactly as a filed one. Every problem names its line, set and field.

>>> text = '''OPER/INHERENT RESOLVE//
... MSGID/ACO/CAOC//
... ACOID/SYRIA/30A//
... GEODATUM/WGE//
... PERIOD/300400ZSEP2015/301600ZSEP2015//
... ACMID/ACM:ROZ/NAME:RAQQA/CIRCLE/USE:CAP//
... CIRCLE/LATM:3557N03901E/RADIUS:15NM//
... EFFLEVEL/FLFL:FL200-FL300//'''
>>> got = read_aco(text, "coalition")
>>> got.problems, [(n.id, n.kind, round(n.volumes[0].shape.buffer_m)) for n in got.notices]
([], [('RAQQA', 'cap', 27780)])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from deconflict.domain.errors import ValidationError
from deconflict.domain.geodesy import destination, geod
from deconflict.domain.notice_json import parse_notice
from deconflict.domain.policy import Limits
from deconflict.domain.times import format_time
from deconflict.domain.volumes import ACM_TYPE as ACM_TYPE  # the ACM type's key, named here too
from deconflict.domain.volumes import DESCRIPTION as DESCRIPTION  # the AMPN text's key, named here too
from deconflict.domain.volumes import Notice
from deconflict.formats.aco_arcs import polyarc, radarc
from deconflict.formats.aco_levels import LevelRules, read_band, read_period
from deconflict.formats.aco_schedule import Window, read_aperiod
from deconflict.formats.aco_text import (
    POSITION_KEYS,
    AcoFieldError,
    AcoProblem,
    AcoSet,
    keyword,
    read_distance,
    read_position,
    split_sets,
)

SHAPES = ("POLYGON", "CIRCLE", "CORRIDOR", "AORBIT", "RADARC", "POLYARC", "LINE", "GEOLINE", "APOINT")
"""The shape sets read, most used first (RADARC and POLYARC as polygons that contain them:
:mod:`deconflict.formats.aco_arcs`; a LINE or GEOLINE as a corridor of its WIDTH, an APOINT as a
circle of its RADIUS: a notice must have an area, so a line without a width or a point without a
radius is refused)."""
LINES = ("LINE", "GEOLINE")
"""The two names of a line set; an ``ACMID`` naming either takes a set of either name."""
LINES_AND_POINTS = (*LINES, "APOINT")
"""The sets with no area of their own: a width or radius gives them one."""
PASSED_OVER = frozenset({"REF", "GENTEXT", "NARR", "POC", "AKNLDG", "DECL", "RMKS", "CTRLNO", "CLAS"})
"""Informational sets that carry nothing a notice holds; read past without a problem."""
DATUMS = frozenset({"WGE", "WGS84", "WGS 84", "WGS 1984", "WGS-84"})
"""``GEODATUM`` values that name WGS84, the only datum read (no datum shift is guessed)."""
ACO_SHAPE = "aco_shape"
"""The key of :attr:`Notice.extra` that keeps the shape set a corridor or circle came from
(``LINE``, ``GEOLINE`` or ``APOINT``), so an export writes it back as the same set."""


@dataclass(frozen=True)
class AcoImport:
    """What a message gave: the notices of the measures read whole, and every problem."""

    notices: list[Notice]
    problems: list[AcoProblem]
    measures: int
    header_ok: bool
    """False when the header or the message's framing (a set without its ``//``) is wrong: then
    nothing of the message is good, and :attr:`notices` is empty."""
    header: dict[str, str] = field(default_factory=dict)
    lines: list[int] = field(default_factory=list)
    """The line of each notice's ``ACMID`` set, in the order of :attr:`notices`."""


def read_aco(
    text: str, party: str, limits: Limits | None = None, rules: LevelRules | None = None, message: str = "ACO"
) -> AcoImport:
    """Read an ACO message (or, with ``message="ACMREQ"``, a request for measures: the same sets)
    into notices of ``party``."""
    limits = limits or Limits()
    rules = rules or LevelRules()
    sets, problems = split_sets(text)
    framed = not problems  # a set without its end, or text that is no set: the message is not whole
    first = next((i for i, s in enumerate(sets) if s.name == "ACMID"), len(sets))
    header, period, header_problems = _header(sets[:first], message)
    problems += header_problems
    groups: list[list[AcoSet]] = []
    for s in sets[first:]:
        if s.name == "ACMID":
            groups.append([s])
        else:
            groups[-1].append(s)
    notices: list[Notice] = []
    lines: list[int] = []
    names: dict[str, int] = {}
    for g in groups:
        try:
            notice = _measure(g, party, period, limits, rules)
        except _Refused as e:
            problems.extend(e.problems)
            continue
        if notice.id in names:
            first_line = names[notice.id or ""]
            problems.append(
                g[0].problem("NAME", f"{notice.id!r} is already the name of the measure on line {first_line}")
            )
            continue
        names[notice.id or ""] = g[0].line
        notices.append(notice)
        lines.append(g[0].line)
    problems.sort(key=lambda p: p.line)
    whole = not header_problems and framed
    return AcoImport(notices if whole else [], problems, len(groups), whole, header, lines if whole else [])


class _Refused(Exception):
    def __init__(self, problems: list[AcoProblem]) -> None:
        super().__init__(str(problems[0]))
        self.problems = problems


def _header(sets: list[AcoSet], message: str) -> tuple[dict[str, str], tuple[float, float] | None, list[AcoProblem]]:
    header: dict[str, str] = {}
    problems: list[AcoProblem] = []
    period: tuple[float, float] | None = None
    for s in sets:
        first = s.fields[0] if s.fields else ""
        if s.name in ("OPER", "EXER"):
            header["operation" if s.name == "OPER" else "exercise"] = first
        elif s.name == "MSGID":
            if first.upper() != message:
                problems.append(s.problem("1", f"{first!r} is not {message}: this reader takes {message} messages"))
            header["originator"] = s.fields[1] if len(s.fields) > 1 else ""
        elif s.name == "ACOID":
            header["aco"] = "/".join(s.fields)
        elif s.name == "GEODATUM":
            if first.upper() not in DATUMS:
                problems.append(s.problem("1", f"{first!r} is not WGS84 (WGE); no datum shift is applied"))
        elif s.name == "PERIOD":
            try:
                period = read_period(s)
            except AcoFieldError as e:
                problems.append(s.problem(e.field, e.reason))
        elif s.name not in PASSED_OVER:
            problems.append(
                s.problem("", "not a header set this reader knows (OPER, EXER, MSGID, ACOID, GEODATUM or PERIOD)")
            )
    line = sets[0].line if sets else 1
    for need, names in (("MSGID", ("MSGID",)), ("OPER or EXER", ("OPER", "EXER"))):
        if not any(s.name in names for s in sets):
            problems.append(AcoProblem(line, need, "", "the header has no such set"))
    return header, period, problems


def _measure(
    sets: list[AcoSet], party: str, period: tuple[float, float] | None, limits: Limits, rules: LevelRules
) -> Notice:
    acm = sets[0]
    problems: list[AcoProblem] = []

    def fail(s: AcoSet, f: str, reason: str) -> None:
        problems.append(s.problem(f, reason))

    acm_type = keyword(acm.fields, "ACM")
    name = keyword(acm.fields, "NAME")
    use = keyword(acm.fields, "USE")
    shape_name = next((f.upper() for f in acm.fields if ":" not in f and f.upper() in SHAPES), None)
    if acm_type is None or not acm_type[1]:
        fail(acm, "ACM", "the measure needs its type, ACM:<type>")
    if name is None or not name[1]:
        fail(acm, "NAME", "the measure needs its name, NAME:<id>")
    if shape_name is None:
        fail(acm, "", f"the measure needs its shape, one of {', '.join(SHAPES)}")
    outline: dict[str, Any] | None = None
    band: tuple[dict[str, Any], dict[str, Any]] | None = None
    windows: list[Window] = []
    where: dict[str, AcoSet] = {}
    window_sets: list[AcoSet] = []
    notes: list[str] = []
    for s in sets[1:]:
        try:
            if s.name in SHAPES:
                if not _same_shape(s.name, shape_name):
                    fail(s, "", f"the measure's ACMID names {shape_name or 'no shape'}, not {s.name}")
                else:
                    if outline is not None:
                        fail(s, "", f"a second {s.name} set; a measure has one shape")
                    outline, where["outline"] = _outline(s), s
            elif s.name == "EFFLEVEL":
                if band is not None:
                    fail(s, "", "a second EFFLEVEL set; a measure has one band")
                band, where["altitude"] = read_band(s, rules), s
            elif s.name == "APERIOD":
                windows.append(read_aperiod(s))
                window_sets.append(s)
            elif s.name == "AMPN":
                notes.append("/".join(s.fields))
            elif s.name not in PASSED_OVER:
                fail(s, "", "not a set this reader knows inside a measure (shape, EFFLEVEL, APERIOD, AMPN)")
        except AcoFieldError as e:
            fail(s, e.field, e.reason)
    if shape_name in SHAPES and outline is None and not any(_same_shape(p.set, shape_name) for p in problems):
        fail(acm, shape_name, f"the measure names {shape_name} but has no {shape_name} set")
    if band is None and not any(p.set == "EFFLEVEL" for p in problems):
        fail(acm, "", "the measure has no EFFLEVEL set")
    if not window_sets and period is None:
        fail(acm, "", "the measure has no APERIOD set and the header no PERIOD")
    if problems or outline is None or band is None or name is None or acm_type is None:
        raise _Refused(problems or [acm.problem("", "the measure cannot be read")])
    if not window_sets:
        assert period is not None
        windows = [(*period, None)]
    doc = {
        "party": party,
        "id": name[1],
        "name": name[1],
        "acm_type": acm_type[1].upper(),
        "kind": (use[1] if use and use[1] else acm_type[1]).lower(),
        "volumes": [
            {
                "volume": {**outline, "altitude_lower": band[0], "altitude_upper": band[1]},
                "time_start": format_time(w[0]),
                "time_end": format_time(w[1]),
                **({"schedule": w[2]} if w[2] is not None else {}),
            }
            for w in windows
        ],
    }
    try:
        notice = parse_notice(doc, limits)
    except ValidationError as e:
        raise _Refused([_locate(x.path, x.reason, acm, where, window_sets) for x in e.errors]) from None
    extra = dict(notice.extra)  # the name and the ACM type, read as a filed notice's
    if shape_name in LINES_AND_POINTS:
        extra[ACO_SHAPE] = shape_name
    if notes:
        extra[DESCRIPTION] = "\n".join(notes)
    return replace(notice, extra=extra)


def _locate(path: str, reason: str, acm: AcoSet, where: dict[str, AcoSet], windows: list[AcoSet]) -> AcoProblem:
    """A notice parser's field error as the line, set and field of the message."""
    if path.startswith(("id", "name")):
        return acm.problem("NAME", reason)
    if path.startswith("acm_type"):
        return acm.problem("ACM", reason)
    m = re.match(r"volumes\[(\d+)\]", path)
    if "outline_" in path:
        return where["outline"].problem("", reason)
    if "altitude" in path:
        return where["altitude"].problem(where["altitude"].field_name(0), reason)
    if "time_" in path and m is not None and windows:  # APERIOD/<mode>/<start>/<stop>
        return windows[int(m[1])].problem("3" if "time_end" in path else "2", reason)
    if ".schedule" in path and m is not None and windows:  # …/<frequency>/<duration or end>
        return windows[int(m[1])].problem("5" if ".end" in path else "4", reason)
    return acm.problem("", f"{path}: {reason}" if path else reason)


def _same_shape(set_name: str, shape_name: str | None) -> bool:
    """Whether a shape set is the one the ``ACMID`` names (``LINE`` and ``GEOLINE`` are one)."""
    return set_name == shape_name or (set_name in LINES and shape_name in LINES)


def _outline(s: AcoSet) -> dict[str, Any]:
    """A shape set → the F3548 outline (with our corridor and orbit)."""
    if s.name in ("RADARC", "POLYARC"):
        ring = radarc(s) if s.name == "RADARC" else polyarc(s)
        return {"outline_polygon": {"vertices": [{"lat": a, "lng": b} for a, b in ring]}}
    points: list[dict[str, float]] = []
    sizes = ("WIDTH", "RADIUS")
    for i, f in enumerate(s.fields):
        key = f.split(":", 1)[0].upper()
        # a line's or a point's every other field is a position: a bad one is named, not passed over
        if key in POSITION_KEYS or (s.name in LINES_AND_POINTS and key not in sizes):
            lat, lon = read_position(f, s.field_name(i))
            points.append({"lat": lat, "lng": lon})
    if s.name == "POLYGON":
        return {"outline_polygon": {"vertices": points}}
    size_key = "RADIUS" if s.name in ("CIRCLE", "APOINT") else "WIDTH"
    size = keyword(s.fields, size_key)
    if size is None and s.name in LINES_AND_POINTS:
        what = "an APOINT is a point" if s.name == "APOINT" else f"a {s.name} is a line"
        raise AcoFieldError(
            size_key,
            f"{what}, no area, and a notice must have an area: give {size_key}:<distance>, such as {size_key}:2NM",
        )
    if size is None:
        raise AcoFieldError(size_key, f"{s.name} needs {size_key}:<distance>, such as {size_key}:10NM")
    metres = read_distance(size[1], s.field_name(size[0]))
    if metres <= 0:
        raise AcoFieldError(s.field_name(size[0]), f"{size_key} must be more than 0, got {size[1]!r}")
    if s.name in ("CIRCLE", "APOINT"):
        if len(points) != 1:
            what = "a CIRCLE has one centre" if s.name == "CIRCLE" else "an APOINT has one position"
            raise AcoFieldError("", f"{what}, got {len(points)} positions")
        return {"outline_circle": {"center": points[0], "radius": {"value": metres, "units": "M"}}}
    width = {"value": metres, "units": "M"}
    if s.name in LINES and len(points) < 2:
        raise AcoFieldError("", f"a {s.name} has two or more positions, got {len(points)}")
    if s.name in ("CORRIDOR", *LINES):
        return {"outline_corridor": {"centerline": points, "width": width}}
    if len(points) != 2:
        raise AcoFieldError("", f"an AORBIT has two points, got {len(points)} positions")
    align = keyword(s.fields, "ORBALIGN")
    side = align[1].upper() if align else "C"
    if side not in ("C", "L", "R"):
        raise AcoFieldError(s.field_name(align[0]) if align else "ORBALIGN", f"{side!r} is not C, L or R")
    if side != "C":
        points = _shifted(points, metres / 2, 90.0 if side == "R" else -90.0)
    return {"outline_orbit": {"points": points, "width": width}}


def _shifted(points: list[dict[str, float]], dist_m: float, turn_deg: float) -> list[dict[str, float]]:
    """An orbit aligned left or right of its two points, as one centred on them: each point moved
    half the width square to the line between them (to the right for ``turn_deg`` 90)."""
    a, b = points
    fwd, back, _ = geod().inv(a["lng"], a["lat"], b["lng"], b["lat"])
    out = []
    for p, az in ((a, fwd + turn_deg), (b, back - turn_deg)):
        lat, lon = destination(p["lat"], p["lng"], np.array([az]), np.array([dist_m]))
        out.append({"lat": float(lat[0]), "lng": float(lon[0])})
    return out
