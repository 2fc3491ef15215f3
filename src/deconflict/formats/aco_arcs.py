"""The ACO's arc shapes as polygons that contain them: ``RADARC`` (a sector of a ring around a
point) and ``POLYARC`` (an area bounded by an arc and straight lines).

Fields, in this order after the set's identifier (a field may carry a label, ``KEY:value``, which
is read past; bearings are degrees true, ``045T`` or ``45``, magnetic ones refused as no variation
is applied; distances as everywhere in the ACO, ``10NM``):

- ``RADARC/<centre>/<first bearing>/<last bearing>/<inner radius>/<outer radius>//``: the points
  whose bearing from the centre runs clockwise from the first bearing to the last and whose distance
  lies between the radii (inner radius 0: a pie slice);
- ``POLYARC/<centre>/<radius>/<first bearing>/<last bearing>/<position>/…//``: the arc clockwise
  from the first bearing to the last, then the positions in order, back to the arc's start.

An arc becomes geodesic chords between points of the true geodesic circle at most
:data:`ARC_STEP_DEG` apart. A chord sags inside its arc, so where the area lies on the centre's side
of an arc (a RADARC's outer arc, a POLYARC's arc around its area) the points are pushed out to
``r / cos(step/2)``: the chords then touch the circle from outside. Where it lies beyond the arc (a
RADARC's inner arc, a POLYARC's arc that cuts into it) the points stay on the circle and the chords
take in a sliver of the circle. Either way the polygon contains the area, and reaches past it by at
most ``r·(1/cos(0.5°) − 1)``: 0.004 % of the radius (under 4 m at 50 NM).
"""

from __future__ import annotations

import math
import re

import numpy as np
from shapely.geometry import Point, Polygon

from deconflict.domain.geodesy import LocalFrame, destination
from deconflict.formats.aco_text import POSITION_KEYS, AcoFieldError, AcoSet, read_distance, read_position

ARC_STEP_DEG = 1.0
"""Largest angle between two points of an arc."""
OUTWARD = 1 / math.cos(math.radians(ARC_STEP_DEG / 2))
"""How far an arc's points are pushed out so that its chords do not cut inside the circle."""
_BEARING = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*([TM])?")


def _value(field: str) -> str:
    """A field's value without its label (``BRG:045T`` → ``045T``), unless it is a position."""
    key, sep, value = field.partition(":")
    return value if sep and key.upper() not in POSITION_KEYS else field


def read_bearing(field: str, name: str) -> float:
    """``045T``, ``45``, ``045.5T`` → degrees true."""
    m = _BEARING.fullmatch(_value(field).strip().upper())
    if m is None:
        raise AcoFieldError(name, f"{field!r} is not a bearing in degrees true such as 045T")
    if m[2] == "M":
        raise AcoFieldError(name, f"{field!r} is magnetic: give degrees true (no magnetic variation is applied)")
    value = float(m[1])
    if value > 360:
        raise AcoFieldError(name, f"{field!r}: a bearing is at most 360 degrees")
    return value % 360.0


def _sweep(a1: float, a2: float, s: AcoSet, first: int) -> float:
    sweep = (a2 - a1) % 360.0
    if sweep == 0:
        raise AcoFieldError(
            s.field_name(first + 1), "the first and last bearings are the same: a whole ring has no polygon form"
        )
    return sweep


def _arc(centre: tuple[float, float], radius_m: float, a1: float, sweep: float) -> list[tuple[float, float]]:
    """Points of the geodesic circle of ``radius_m`` clockwise from bearing ``a1`` over ``sweep``."""
    steps = max(1, math.ceil(sweep / ARC_STEP_DEG - 1e-9))
    az = a1 + np.linspace(0.0, sweep, steps + 1)
    lat, lon = destination(centre[0], centre[1], az, np.full(az.shape, radius_m))
    return [(float(a), float(b)) for a, b in zip(lat, lon, strict=True)]


def _fields(s: AcoSet, count: int, what: str) -> None:
    if len(s.fields) < count:
        raise AcoFieldError("", f"a {s.name} has {what}; got {len(s.fields)} field(s)")


def radarc(s: AcoSet) -> list[tuple[float, float]]:
    """A ``RADARC`` set → the vertices of a polygon that contains it."""
    _fields(s, 5, "a centre, two bearings and two radii")
    if len(s.fields) > 5:
        raise AcoFieldError(s.field_name(5), "a RADARC has five fields: centre, two bearings, two radii")
    centre = read_position(s.fields[0], s.field_name(0))
    a1 = read_bearing(s.fields[1], s.field_name(1))
    a2 = read_bearing(s.fields[2], s.field_name(2))
    inner = read_distance(_value(s.fields[3]), s.field_name(3))
    outer = read_distance(_value(s.fields[4]), s.field_name(4))
    if outer <= inner:
        raise AcoFieldError(s.field_name(4), "the outer radius must be larger than the inner one")
    sweep = _sweep(a1, a2, s, 1)
    ring = _arc(centre, outer * OUTWARD, a1, sweep)
    ring += list(reversed(_arc(centre, inner, a1, sweep))) if inner > 0 else [centre]
    return ring


def polyarc(s: AcoSet) -> list[tuple[float, float]]:
    """A ``POLYARC`` set → the vertices of a polygon that contains it."""
    _fields(s, 5, "a centre, a radius, two bearings and at least one position")
    centre = read_position(s.fields[0], s.field_name(0))
    radius = read_distance(_value(s.fields[1]), s.field_name(1))
    if radius <= 0:
        raise AcoFieldError(s.field_name(1), "the radius must be positive")
    a1 = read_bearing(s.fields[2], s.field_name(2))
    a2 = read_bearing(s.fields[3], s.field_name(3))
    sweep = _sweep(a1, a2, s, 2)
    points = [read_position(f, s.field_name(i)) for i, f in enumerate(s.fields[4:], start=4)]
    on_circle = _arc(centre, radius, a1, sweep)
    # Which side of the arc is the area? Look just inside the circle at the middle of the arc.
    frame = LocalFrame(*centre)
    x, y = frame.forward(np.array([p[0] for p in on_circle + points]), np.array([p[1] for p in on_circle + points]))
    area = Polygon(list(zip(x, y, strict=True)))
    mid = math.radians(a1 + sweep / 2)
    probe = Point(radius * 0.999 * math.sin(mid), radius * 0.999 * math.cos(mid))
    inside = area.is_valid and area.contains(probe)
    arc = _arc(centre, radius * OUTWARD, a1, sweep) if inside else on_circle
    return arc + points
