"""The 2D part of a volume: polygon, circle, corridor and orbit, as a core plus a buffer.

Every shape is a *core* (a polygon region, a point, or a polyline) grown by a buffer distance:

- polygon: the region bounded by geodesic edges, buffer 0;
- circle: a centre point, buffer = radius;
- corridor (airspace control order CORRIDOR): a centreline, buffer = half the width, round ends;
- orbit (AORBIT racetrack): the segment between two points, buffer = half the width.

Because every shape is a Minkowski sum of a core and a disc, the distance between two shapes is
exactly ``max(0, distance(core_a, core_b) - buffer_a - buffer_b)``: no polygon approximation of
circles, no under-estimate.

Shapes are validated in their own local azimuthal equidistant frame, so a shape across the
antimeridian or around a pole is handled like any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from deconflict.domain.errors import ValidationError
from deconflict.domain.geodesy import FloatArray, LocalFrame, centroid, densify, distances_m

MAX_SEGMENT_M = 10_000.0
"""Geodesic edges longer than this are densified before projection (keeps the straight-line error
in the local frame under a few centimetres)."""


class ShapeKind(StrEnum):
    POLYGON = "polygon"
    CIRCLE = "circle"
    CORRIDOR = "corridor"
    ORBIT = "orbit"


@dataclass(frozen=True)
class ShapeLimits:
    """Limits every shape must satisfy (configurable per theater)."""

    max_vertices: int = 1000
    """Most vertices in a polygon or corridor centreline."""
    max_extent_m: float = 1_000_000.0
    """Largest shape: no point may lie farther than half this from the shape's centre."""
    min_size_m: float = 1.0
    """Smallest radius, half-width or polygon width that is not degenerate."""


@dataclass(frozen=True, eq=False)
class Shape:
    """A validated 2D shape. Build it with :func:`make_shape`."""

    kind: ShapeKind
    points: tuple[tuple[float, float], ...]
    """Defining points as (lat, lon) degrees: polygon ring (not closed), circle centre,
    corridor centreline, or the two ends of an orbit."""
    buffer_m: float
    """Circle radius, or half the corridor/orbit width; 0 for a polygon."""
    center: tuple[float, float]
    """(lat, lon) of a central point."""
    bound_m: float
    """Every point of the shape is within this geodesic distance of :attr:`center`."""
    core_lat: FloatArray = field(repr=False)
    core_lon: FloatArray = field(repr=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Shape):
            return NotImplemented
        return (self.kind, self.points, self.buffer_m) == (other.kind, other.points, other.buffer_m)

    def __hash__(self) -> int:
        return hash((self.kind, self.points, self.buffer_m))

    @property
    def width_m(self) -> float:
        return 2 * self.buffer_m

    def core_in(self, frame: LocalFrame) -> BaseGeometry:
        """The core as a shapely geometry in ``frame``'s plane (metres)."""
        x, y = frame.forward(self.core_lat, self.core_lon)
        return core_geometry(self.kind, x, y)


def core_geometry(kind: ShapeKind, x: FloatArray, y: FloatArray) -> BaseGeometry:
    if kind is ShapeKind.POLYGON:
        return shapely.Polygon(np.column_stack([x, y]))
    if kind is ShapeKind.CIRCLE:
        return shapely.Point(float(x[0]), float(y[0]))
    return shapely.LineString(np.column_stack([x, y]))


def make_shape(
    kind: ShapeKind,
    points: list[tuple[float, float]],
    buffer_m: float = 0.0,
    limits: ShapeLimits | None = None,
    points_path: str = "vertices",
    size_path: str = "radius",
) -> Shape:
    """Validate and build a shape; refuse with the field path and the reason.

    ``points`` are (lat, lon) degrees already checked to be finite and in range.
    """
    limits = limits or ShapeLimits()
    # Refuse oversized input before any per-vertex work (a closed ring may repeat its first vertex).
    if len(points) > limits.max_vertices + (1 if kind is ShapeKind.POLYGON else 0):
        raise ValidationError.at(points_path, f"{len(points)} vertices is more than the limit of {limits.max_vertices}")
    pts = [(float(a), float(b)) for a, b in points]
    if kind is ShapeKind.POLYGON and len(pts) >= 2 and _same(pts[0], pts[-1]):
        pts = pts[:-1]  # an explicitly closed ring
    if kind is ShapeKind.POLYGON:
        distinct = _distinct(pts)
        if len(distinct) < 3:
            raise ValidationError.at(points_path, f"a polygon needs at least 3 distinct vertices, got {len(distinct)}")
    elif kind is ShapeKind.CORRIDOR and len(_distinct(pts)) < 2:
        raise ValidationError.at(points_path, "a corridor centreline needs at least 2 distinct points")
    elif kind is ShapeKind.ORBIT:
        if len(pts) != 2:
            raise ValidationError.at(points_path, f"an orbit is defined by exactly 2 points, got {len(pts)}")
        if _same(pts[0], pts[1]):
            raise ValidationError.at(points_path, "the two points of an orbit must differ (use a circle)")
    elif kind is ShapeKind.CIRCLE and len(pts) != 1:
        raise ValidationError.at(points_path, "a circle has exactly one centre")
    if len(pts) > limits.max_vertices:
        raise ValidationError.at(points_path, f"{len(pts)} vertices is more than the limit of {limits.max_vertices}")

    if kind is ShapeKind.POLYGON:
        buffer_m = 0.0
    else:
        if not np.isfinite(buffer_m):
            raise ValidationError.at(size_path, "must be a finite number")
        if buffer_m * (1 if kind is ShapeKind.CIRCLE else 2) <= 0:
            raise ValidationError.at(size_path, "must be positive")
        if buffer_m < limits.min_size_m / (1 if kind is ShapeKind.CIRCLE else 2):
            raise ValidationError.at(size_path, f"must be at least {limits.min_size_m:g} m")
        if buffer_m > limits.max_extent_m / 2:
            if kind is ShapeKind.CIRCLE:
                what, size, limit = "radius", buffer_m, limits.max_extent_m / 2
            else:
                what, size, limit = "width", 2 * buffer_m, limits.max_extent_m
            raise ValidationError.at(size_path, f"{what} of {size:.0f} m is larger than the limit of {limit:.0f} m")

    lat = np.array([p[0] for p in pts])
    lon = np.array([p[1] for p in pts])
    clat, clon = centroid(lat, lon)
    reach = distances_m(np.full(lat.shape, clat), np.full(lat.shape, clon), lat, lon)
    if float(reach.max()) + buffer_m > limits.max_extent_m / 2:
        raise ValidationError.at(
            points_path,
            f"the shape reaches {float(reach.max()) + buffer_m:.0f} m from its centre, more than the "
            f"limit of {limits.max_extent_m / 2:.0f} m (max extent {limits.max_extent_m:.0f} m)",
        )

    if kind is ShapeKind.CIRCLE:
        core_lat, core_lon = lat, lon
    else:
        core_lat, core_lon = densify(lat, lon, MAX_SEGMENT_M, closed=kind is ShapeKind.POLYGON)

    if kind is ShapeKind.POLYGON:
        _check_polygon(core_lat, core_lon, clat, clon, limits, points_path)

    # A conservative bound: the farthest densified vertex plus the buffer, with slack for the
    # geodesic bulge between densified vertices (sub-metre at 10 km segments).
    far = distances_m(np.full(core_lat.shape, clat), np.full(core_lat.shape, clon), core_lat, core_lon)
    bound = float(far.max()) * 1.0001 + 1.0 + buffer_m
    return Shape(
        kind=kind,
        points=tuple(pts),
        buffer_m=float(buffer_m),
        center=(clat, clon),
        bound_m=bound,
        core_lat=core_lat,
        core_lon=core_lon,
    )


def _check_polygon(lat: FloatArray, lon: FloatArray, clat: float, clon: float, limits: ShapeLimits, path: str) -> None:
    frame = LocalFrame(clat, clon)
    x, y = frame.forward(lat, lon)
    coords = np.column_stack([x, y])
    # All vertices on (nearly) one line: say so, rather than report the edges as crossing.
    hull = shapely.MultiPoint(coords).convex_hull
    if hull.area <= 0 or 2 * hull.area / hull.length < limits.min_size_m / 2:
        raise ValidationError.at(path, "the polygon is degenerate: its vertices are (nearly) on one line")
    poly = shapely.Polygon(coords)
    if not poly.is_valid:
        reason = explain_validity(poly)
        where = _where(reason, frame)
        if "Self-intersection" in reason:
            raise ValidationError.at(path, f"the polygon's edges cross each other{where}")
        raise ValidationError.at(path, f"the polygon is not a valid simple ring ({reason.split('[')[0]}){where}")
    if poly.area <= 0:
        raise ValidationError.at(path, "the polygon is degenerate: it has no area")
    # Thinner than min_size everywhere is degenerate too.
    if 2 * poly.area / poly.length < limits.min_size_m / 2:
        raise ValidationError.at(path, "the polygon is degenerate: its vertices are (nearly) on one line")


def _where(reason: str, frame: LocalFrame) -> str:
    """`` near lat …, lng …`` for the ``[x y]`` point in a GEOS validity reason (local metres)."""
    m = re.search(r"\[\s*(\S+)\s+(\S+)\s*\]", reason)
    if m is None:
        return ""
    try:
        lat, lon = frame.inverse(np.array([float(m[1])]), np.array([float(m[2])]))
    except ValueError:
        return ""
    return f" near lat {float(lat[0]):.6f}, lng {float(lon[0]):.6f}"


def _same(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return abs(a[0] - b[0]) < 1e-9 and abs(a[1] - b[1]) < 1e-9


def _distinct(pts: list[tuple[float, float]]) -> set[tuple[float, float]]:
    return {(round(a, 9), round(b, 9)) for a, b in pts}
