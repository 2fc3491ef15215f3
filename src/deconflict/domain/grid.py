"""The published grid that a conflict's slice is shown on below ``full`` (docs/disclosure.md).

At ``conflicts-only`` a viewer sees the slice of another party's notice quantized *outward* to the
grid: the overlap as the S2 cells of level ``s2_level`` it touches (four sibling cells merged into
their parent), the altitude band and the time window widened to whole steps, and the gaps between
the two volumes rounded down (towards "closer"). The quantized slice always contains the exact one,
so keeping clear of it keeps clear of the conflict; and it is a function of the grid cells the
exact slice touches only, so it tells the viewer nothing finer than the grid. At ``existence`` the
time window is widened to ``existence_time_s`` steps (whole UTC days by default).

>>> g = SliceGrid(altitude_m=300, time_s=900)
>>> g.band(3120.0, 5999.0)
(3000.0, 6000.0)
>>> g.window("2015-09-30T07:55:10Z", "2015-09-30T08:05:00Z", g.time_s)
{'start': '2015-09-30T07:45:00Z', 'end': '2015-09-30T08:15:00Z'}
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import s2geometry as s2

from deconflict.domain.errors import ValidationError
from deconflict.domain.geodesy import MIN_CURVATURE_RADIUS_M
from deconflict.domain.times import format_time, parse_time

S2_RADIUS_M = 6_371_008.8
"""The IUGG mean radius (not :data:`deconflict.domain.units.EARTH_RADIUS_M`, the round figure the
tactical geometry uses): only for the grid's published nominal cell size and its drawing, unchanged
so that the published figures stay as they were."""
_DENSIFY_M = 2_000.0
"""The exact overlap's edges are split to this length before covering, so that reading its
straight lon/lat edges as great circles (as S2 does) moves them by centimetres at most."""
_RENDER_M = 5_000.0
"""A drawn cell edge has a vertex at least this often (an S2 cell of level 10 is some 9 km)."""
_MAX_EDGE_SPLIT = 256
MAX_CELLS = 4096
"""A bound on the work and the size of a view: an overlap that would need more cells of the grid's
level (one far wider than the theater's limits allow) is covered by coarser cells, which is
still outward and tells less."""


@dataclass(frozen=True)
class SliceGrid:
    """The grid of the theater policy (``[disclosure.grid]``), shown at ``/v1/policy``."""

    s2_level: int = 10
    """S2 cell level of the overlap (level 10: about 9 km across)."""
    altitude_m: float = 304.8
    """Altitude step (1000 ft)."""
    time_s: float = 900.0
    """Time step (15 min)."""
    distance_m: float = 10_000.0
    """Step of ``min_distance_m`` (rounded down)."""
    existence_time_s: float = 86_400.0
    """Time step at ``existence`` (whole UTC days)."""

    def __post_init__(self) -> None:
        if isinstance(self.s2_level, bool) or not isinstance(self.s2_level, int) or not 0 <= self.s2_level <= 20:
            raise ValidationError.at(
                "disclosure.grid.s2_level", f"must be a whole number 0 to 20, got {self.s2_level!r}"
            )
        for name in ("altitude_m", "time_s", "distance_m", "existence_time_s"):
            check_positive(f"disclosure.grid.{name}", getattr(self, name))

    @property
    def cell_size_m(self) -> float:
        """The nominal width of a cell of ``s2_level`` (square root of the average cell area)."""
        return math.sqrt(s2.S2Cell.AverageArea(self.s2_level)) * S2_RADIUS_M

    def to_json(self) -> dict[str, Any]:
        return {
            "s2_level": self.s2_level,
            "cell_size_m": round(self.cell_size_m),
            "altitude_m": self.altitude_m,
            "time_s": self.time_s,
            "distance_m": self.distance_m,
            "existence_time_s": self.existence_time_s,
        }

    def band(self, lower_m: float, upper_m: float) -> tuple[float, float]:
        """The altitude band widened to whole steps."""
        return _down(lower_m, self.altitude_m), _up(upper_m, self.altitude_m)

    def window(self, start: str, end: str, step_s: float) -> dict[str, str]:
        """An RFC 3339 time window widened to whole steps of ``step_s`` (from the epoch: UTC)."""
        return {
            "start": format_time(_down(parse_time(start, "start", within=None), step_s)),
            "end": format_time(_up(parse_time(end, "end", within=None), step_s)),
        }

    def slice(self, exact: Mapping[str, Any]) -> dict[str, Any]:
        """The slice a viewer at ``conflicts-only`` sees: ``exact`` quantized outward, and
        ``grid: true`` so that it is never mistaken for the exact one."""
        alt = exact["altitude"]
        lower, upper = self.band(alt["lower_m"], alt["upper_m"])
        window = exact["time_window"]
        return {
            "min_distance_m": _down(exact["min_distance_m"], self.distance_m),
            "vertical_gap_m": _down(exact["vertical_gap_m"], self.altitude_m),
            "time_gap_s": _down(exact["time_gap_s"], self.time_s),
            "altitude": {"lower_m": lower, "upper_m": upper},
            "time_window": self.window(window["start"], window["end"], self.time_s),
            "overlap": cells_geojson(covering(exact["overlap"], self.s2_level)),
            "grid": True,
        }


def check_positive(path: str, value: object) -> None:
    """Refuse ``value`` unless it is a finite number greater than 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not (value > 0 and math.isfinite(value)):
        raise ValidationError.at(path, f"must be a number greater than 0, got {value!r}")


def _down(x: float, step: float) -> float:
    """The greatest whole multiple of ``step`` (written to 6 decimals) that is not above ``x``."""
    k = math.floor(x / step)
    while (r := round(k * step, 6)) > x:
        k -= 1
    return float(r)


def _up(x: float, step: float) -> float:
    """The least whole multiple of ``step`` (written to 6 decimals) that is not below ``x``."""
    k = math.ceil(x / step)
    while (r := round(k * step, 6)) < x:
        k += 1
    return float(r)


def covering(geometry: Mapping[str, Any], level: int) -> list[s2.S2CellId]:
    """The S2 cells of ``level`` that a GeoJSON geometry touches, normalized (four siblings become
    their parent). Holes are ignored (covering them is outward); Features and collections are
    walked."""
    cov = s2.S2RegionCoverer()
    cov.set_min_level(0)
    cov.set_max_level(level)
    cov.set_max_cells(MAX_CELLS)
    ids: list[s2.S2CellId] = []
    for region in _regions(geometry):
        ids.extend(cov.GetCovering(region))
    union = s2.S2CellUnion(ids)  # the constructor normalizes
    return list(union.cell_ids())


def cells_geojson(cells: list[s2.S2CellId]) -> dict[str, Any]:
    """A GeoJSON MultiPolygon of ``cells``; each edge, a great-circle arc, is given a vertex every
    ``_RENDER_M`` at most (and at every corner of the finest cells along it), so that straight
    lon/lat segments follow it to within a metre. Interpolated with numpy, all cells that split
    their edges alike at once: a view of a 450 km overlap draws some 400 cells."""
    ordered = sorted(cells, key=lambda c: c.id())
    if not ordered:
        return {"type": "MultiPolygon", "coordinates": []}
    finest = max(c.level() for c in ordered)
    corners = np.array([[s2.S2Point_ToRaw(s2.S2Cell(c).GetVertex(k)) for k in range(4)] for c in ordered])
    nxt = np.roll(corners, -1, axis=1)
    lengths = np.linalg.norm(nxt - corners, axis=2).max(axis=1) * S2_RADIUS_M
    parts = [
        min(_MAX_EDGE_SPLIT, max(1 << (finest - c.level()), math.ceil(float(n) / _RENDER_M)))
        for c, n in zip(ordered, lengths, strict=True)
    ]
    polygons: list[Any] = [None] * len(ordered)
    for p in sorted(set(parts)):
        rows = [i for i, q in enumerate(parts) if q == p]
        f = (np.arange(p) / p)[None, None, :, None]
        a, b = corners[rows][:, :, None, :], nxt[rows][:, :, None, :]
        xyz = (a + (b - a) * f).reshape(len(rows), 4 * p, 3)
        lon = np.degrees(np.arctan2(xyz[..., 1], xyz[..., 0]))
        lat = np.degrees(np.arctan2(xyz[..., 2], np.hypot(xyz[..., 0], xyz[..., 1])))
        rings = np.round(np.stack([lon, lat], axis=-1), 7)
        rings = np.concatenate([rings, rings[:, :1]], axis=1).tolist()
        for i, ring in zip(rows, rings, strict=True):
            polygons[i] = [ring]
    return {"type": "MultiPolygon", "coordinates": polygons}


def _regions(node: Any) -> Iterator[Any]:
    """S2 regions that together contain a GeoJSON object: a point as the cap of a metre around it
    (a point on a cell edge gets both cells), a line as a polyline, a polygon as its outer ring."""
    if not isinstance(node, Mapping):
        return
    kind: Any = node.get("type")
    coords: Any = node.get("coordinates")
    if kind == "Point":
        yield s2.S2Cap(_point(coords), s2.S1Angle.Radians(1.0 / MIN_CURVATURE_RADIUS_M))
    elif kind == "MultiPoint":
        for c in coords:
            yield from _regions({"type": "Point", "coordinates": c})
    elif kind == "LineString":
        pts = _densified(coords, closed=False)
        if len(pts) < 2:
            yield from _regions({"type": "Point", "coordinates": coords[0]})
            return
        line = s2.S2Polyline()
        line.InitFromS2Points(pts)
        yield line
    elif kind == "MultiLineString":
        for c in coords:
            yield from _regions({"type": "LineString", "coordinates": c})
    elif kind == "Polygon":
        pts = _densified(coords[0], closed=True)
        if len(pts) < 3:  # degenerate: its points are all there is
            yield from _regions({"type": "LineString", "coordinates": coords[0]})
            return
        loop = s2.S2Loop(pts)
        loop.Normalize()
        yield s2.S2Polygon(loop)
    elif kind == "MultiPolygon":
        for c in coords:
            yield from _regions({"type": "Polygon", "coordinates": c})
    else:  # GeometryCollection, Feature, FeatureCollection
        for child in node.get("geometries") or node.get("features") or ():
            yield from _regions(child)
        if isinstance(node.get("geometry"), Mapping):
            yield from _regions(node["geometry"])


def _point(lonlat: list[float]) -> s2.S2Point:
    return s2.S2LatLng.FromDegrees(float(lonlat[1]), float(lonlat[0])).Normalized().ToPoint()


def _densified(line: list[list[float]], closed: bool) -> list[s2.S2Point]:
    """The points of a GeoJSON line or ring with points added every ``_DENSIFY_M`` along each
    edge, straight in longitude and latitude as GeoJSON draws it (S2 reads an edge as a great
    circle: on a 100 km edge the two part by hundreds of metres, on 2 km by centimetres)."""
    coords = [(float(p[0]), float(p[1])) for p in line]
    if closed and len(coords) > 1 and coords[0] == coords[-1]:
        coords.pop()
    out: list[s2.S2Point] = []
    for i, (lon_a, lat_a) in enumerate(coords):
        if not closed and i == len(coords) - 1:
            out.append(_point([lon_a, lat_a]))
            break
        lon_b, lat_b = coords[(i + 1) % len(coords)]
        if (lon_a, lat_a) == (lon_b, lat_b):
            continue
        length = s2.S1Angle(_point([lon_a, lat_a]), _point([lon_b, lat_b])).radians() * S2_RADIUS_M
        n = 1 if abs(lon_b - lon_a) > 180 else min(256, max(1, math.ceil(length / _DENSIFY_M)))
        out.extend(_point([lon_a + (lon_b - lon_a) * k / n, lat_a + (lat_b - lat_a) * k / n]) for k in range(n))
    return out


def _same(a: s2.S2Point, b: s2.S2Point) -> bool:
    return bool(s2.S1Angle(a, b).radians() < 1e-15)
