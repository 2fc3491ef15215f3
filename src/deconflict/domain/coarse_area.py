"""The coarse area shown of a conflict at ``existence``: a GeoJSON geometry's bounding box rounded
outward to whole degrees."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any


def coarse_area(geometry: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A GeoJSON Polygon: the bounding box of ``geometry`` rounded outward to whole degrees.

    Reads the positions of any GeoJSON geometry (Point, LineString, Polygon, Multi*,
    GeometryCollection; also a Feature or FeatureCollection). A box that would be empty along an
    axis (a point on a whole degree) is widened to one degree. ``None`` when there are no positions.
    An area crossing the antimeridian gives a box spanning all longitudes: coarse, but it contains
    the area.

    >>> coarse_area({"type": "Point", "coordinates": [36.2021, 35.4127]})["coordinates"]
    [[[36, 35], [37, 35], [37, 36], [36, 36], [36, 35]]]
    """
    lons: list[float] = []
    lats: list[float] = []
    for lon, lat in _positions(geometry):
        if math.isfinite(lon) and math.isfinite(lat):
            lons.append(lon)
            lats.append(lat)
    if not lons:
        return None
    west, east = _outward(min(lons), max(lons), 180)
    south, north = _outward(min(lats), max(lats), 90)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _outward(low: float, high: float, limit: int) -> tuple[int, int]:
    lo = max(-limit, min(limit, math.floor(low)))
    hi = max(-limit, min(limit, math.ceil(high)))
    if hi == lo:
        # Keep the polygon non-degenerate; grow away from the limit so the box stays in range.
        if hi < limit:
            hi += 1
        else:
            lo -= 1
    return lo, hi


def _positions(node: Any) -> Iterator[tuple[float, float]]:
    """Every ``(lon, lat)`` in a GeoJSON object (a third coordinate, altitude, is dropped)."""
    if isinstance(node, Mapping):
        if "coordinates" in node:
            yield from _positions(node["coordinates"])
        for key in ("geometries", "features"):
            for child in node.get(key) or ():
                yield from _positions(child)
        if "geometry" in node:
            yield from _positions(node["geometry"])
    elif isinstance(node, list | tuple) and node:
        if _is_number(node[0]):
            if len(node) >= 2 and _is_number(node[1]):
                yield float(node[0]), float(node[1])
        else:
            for child in node:
                yield from _positions(child)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)
