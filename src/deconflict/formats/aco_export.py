"""Notices → an Airspace Control Order (ADatP-3 / APP-11 text) that :func:`read_aco` reads back.

Each notice becomes one measure per distinct shape and band (most notices have one: its volumes
become that measure's ``APERIOD`` sets); a second one is named ``<id>.2``. Figures are rounded
outward, never inward: flight levels and metres down for a lower bound and up for an upper one,
times to the minute outward, sizes up to the centimetre; positions to 0.01 arc-second (0.3 m).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from deconflict.domain.errors import DeconflictError
from deconflict.domain.schedule import DAY_S, EVERY_DAY, day_names
from deconflict.domain.shapes import Shape, ShapeKind
from deconflict.domain.units import FLIGHT_LEVEL_M
from deconflict.domain.volumes import DESCRIPTION, AltitudeBand, AltitudeReference, Notice, Volume4D
from deconflict.formats.aco import ACM_TYPE, ACO_SHAPE, LINES
from deconflict.formats.aco_text import write_position, write_time

SHAPE_SET = {
    ShapeKind.POLYGON: "POLYGON",
    ShapeKind.CIRCLE: "CIRCLE",
    ShapeKind.CORRIDOR: "CORRIDOR",
    ShapeKind.ORBIT: "AORBIT",
}


class AcoExportError(DeconflictError, ValueError):
    """A notice that an ACO cannot carry, named with the reason."""


def write_aco(notices: Sequence[Notice], operation: str, originator: str, aco_id: str) -> str:
    """The notices as one ACO message (``\\n``-separated sets); without notices, the header alone
    (no ``PERIOD``: there is nothing to cover)."""
    for label, value in (("operation", operation), ("originator", originator), ("ACO id", aco_id)):
        _check_text(label, value)
    lines = [f"OPER/{operation}//", f"MSGID/ACO/{originator}//", f"ACOID/{aco_id}//", "GEODATUM/WGE//"]
    if notices:
        start = min(n.time_start for n in notices)
        end = max(n.time_end for n in notices)
        lines.append(f"PERIOD/{write_time(_minute(start, down=True))}/{write_time(_minute(end, down=False))}//")
    # A notice without a name an ACO can carry has only its id for a NAME: no other notice's name
    # takes it (that notice is named by its own id instead), whatever the order.
    only_ids = {(n.id or "").removeprefix(n.party + ":") for n in notices if not (n.name and _aco_field(n.name))}
    taken: set[str] = set()
    for n in notices:
        ident = (n.id or "").removeprefix(n.party + ":")
        lines += measure_sets(n, taken, reserved=frozenset(only_ids - {ident}))
    return "\n".join(lines) + "\n"


def measure_sets(n: Notice, taken: set[str] | None = None, reserved: frozenset[str] = frozenset()) -> list[str]:
    r"""The sets of the notice's measures: ``ACMID``, the shape, ``EFFLEVEL``, ``APERIOD``\s, ``AMPN``.
    ``taken``: the measure names of the message so far (this notice's are added); ``reserved``:
    names other notices will need. A NAME is unique in an ACO, so a notice whose name is taken or
    reserved, or cannot be an ACO field, is named by its id."""
    taken = set() if taken is None else taken
    groups: dict[tuple[Shape, AltitudeBand], list[Volume4D]] = {}
    for v in n.volumes:
        groups.setdefault((v.shape, v.altitude), []).append(v)
    ident = (n.id or "").removeprefix(n.party + ":")
    if not ident and not n.name:
        raise AcoExportError(f"a notice of {n.party} has no id; an ACO measure needs a NAME")
    name = _measure_name(n, ident, len(groups), taken, reserved)
    _check_text(f"notice {n.id!r}: kind", n.kind)
    out: list[str] = []
    for i, ((shape, band), vols) in enumerate(groups.items()):
        measure = name if i == 0 else f"{name}.{i + 1}"
        taken.add(measure)
        acm = n.extra.get(ACM_TYPE, "ROZ")
        set_name = _set_name(shape, n.extra.get(ACO_SHAPE))
        out.append(f"ACMID/ACM:{acm}/NAME:{measure}/{set_name}/USE:{n.kind.upper()}//")
        out.append(_shape(shape, set_name))
        out.append(f"EFFLEVEL/{_band(band, n.id)}//")
        for v in vols:
            out += _aperiods(v)
        # one line, and no "//" inside (it would end the set early): a run of slashes is one
        text = re.sub(r"/{2,}", "/", " ".join(n.extra.get(DESCRIPTION, "").split())).strip("/ ")
        if text:
            out.append(f"AMPN/{text}//")
    return out


def _aperiods(v: Volume4D) -> list[str]:
    """``APERIOD/DISCRETE`` for one window; a schedule's windows as one ``APERIOD/INTERVAL`` each,
    starting at the window's last start before the volume's (a first occurrence cut by the start
    is written whole: the draft may widen the activity, never narrow it)."""
    stop = write_time(_minute(v.time_end, down=False))
    if v.schedule is None:
        return [f"APERIOD/DISCRETE/{write_time(_minute(v.time_start, down=True))}/{stop}//"]
    days = "DAILY" if v.schedule.days == EVERY_DAY else ",".join(day_names(v.schedule.days))
    out = []
    for w in v.schedule.windows:
        first = _minute(v.time_start - (v.time_start - w.start_s) % DAY_S, down=True)
        minutes = math.ceil(w.length_s / 60 - 1e-9)
        h, m = divmod(minutes, 60)
        duration = (f"{h}HR" if h else "") + (f"{m}MIN" if m else "")
        out.append(f"APERIOD/INTERVAL/{write_time(first)}/{stop}/{days}/{duration}//")
    return out


def _set_name(shape: Shape, came_from: str | None) -> str:
    """The shape's set: the line or point set it was read from (a corridor from a ``LINE`` or
    ``GEOLINE``, a circle from an ``APOINT``), else the set of its kind."""
    if shape.kind is ShapeKind.CORRIDOR and came_from in LINES:
        return came_from
    if shape.kind is ShapeKind.CIRCLE and came_from == "APOINT":
        return came_from
    return SHAPE_SET[shape.kind]


def _shape(shape: Shape, set_name: str) -> str:
    pts = [write_position(lat, lon) for lat, lon in shape.points]
    if shape.kind is ShapeKind.POLYGON:
        return "POLYGON/" + "/".join(pts) + "//"
    if shape.kind is ShapeKind.CIRCLE:
        return f"{set_name}/{pts[0]}/RADIUS:{_metres(shape.buffer_m)}//"
    if shape.kind is ShapeKind.CORRIDOR:
        return f"{set_name}/WIDTH:{_metres(shape.width_m)}/" + "/".join(pts) + "//"
    return f"AORBIT/{pts[0]}/{pts[1]}/WIDTH:{_metres(shape.width_m)}/ORBALIGN:C//"


def _band(band: AltitudeBand, nid: str | None) -> str:
    if band.reference is AltitudeReference.STD:
        low = math.floor(band.lower_m / FLIGHT_LEVEL_M + 1e-9)
        high = math.ceil(band.upper_m / FLIGHT_LEVEL_M - 1e-9)
        return f"FLFL:FL{low:03d}-FL{high:03d}"
    if band.reference is AltitudeReference.AMSL:
        if band.lower_m < 0:
            raise AcoExportError(f"notice {nid!r}: an ACO altitude cannot be below mean sea level")
        return f"RARA:{math.floor(band.lower_m + 1e-9)}MMSL-{math.ceil(band.upper_m - 1e-9)}MMSL"
    raise AcoExportError(
        f"notice {nid!r}: its band is W84 (above the ellipsoid); an ACO holds MSL altitudes or flight "
        "levels and no geoid is applied: file it as AMSL or flight levels to export it"
    )


def _metres(value: float) -> str:
    cm = math.ceil(value * 100 - 1e-6)
    return f"{cm // 100}M" if cm % 100 == 0 else f"{cm / 100:.2f}M"


def _minute(epoch_s: float, *, down: bool) -> float:
    return (math.floor if down else math.ceil)(epoch_s / 60 + (1e-6 if down else -1e-6)) * 60.0


def _measure_name(n: Notice, ident: str, measures: int, taken: set[str], reserved: frozenset[str]) -> str:
    """The notice's name if it can be an ACO field and none of its measures' names is taken or
    reserved; else its id, checked the same way (against what is taken)."""

    def free(name: str, also: frozenset[str] = frozenset()) -> bool:
        return not (taken | also) & {name if i == 0 else f"{name}.{i + 1}" for i in range(measures)}

    if n.name and _aco_field(n.name) and free(n.name, reserved):
        return n.name
    _check_text(f"notice {n.id!r}: id", ident)
    if not free(ident):
        raise AcoExportError(f"notice {n.id!r}: its NAME {ident!r} is already a measure's in this ACO; rename one")
    return ident


def _aco_field(value: str) -> bool:
    return bool(value) and "/" not in value and len(value.splitlines()) == 1 and value == value.strip()


def _check_text(label: str, value: str) -> None:
    if not _aco_field(value):
        raise AcoExportError(f"{label} {value!r} cannot be an ACO field (empty, a '/', a line break or edge spaces)")
