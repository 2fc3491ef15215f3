"""A brute-force oracle for the horizontal distance between two shapes, on the WGS84 ellipsoid.

It is written independently of the engine's projection code (``deconflict.domain.geodesy``,
``LocalFrame``, shapely): it reads only a shape's *defining* data (kind, points, buffer) and uses
nothing but :class:`pyproj.Geod` (distances and points along geodesics) plus a pyproj ``gnom``
projection (in which geodesics are straight lines) for inside/crossing tests, all in numpy.

How it measures
---------------
Every shape is a core (polygon region, polyline or point) grown by a buffer, so the distance between
two shapes is ``max(0, core_distance - buffer_a - buffer_b)``.

1. Each core's boundary is sampled along its geodesic edges: every defining vertex, and points on
   each edge (``Geod.inv`` + ``Geod.fwd``) spaced at most ``step_m`` apart along the edge.
2. If the cores intersect, the core distance is 0. They intersect when a sample of one core lies
   inside the other (a polygon), or when an edge of one core crosses an edge of the other; both are
   tested in a gnomonic projection (PROJ's ellipsoidal ``gnom``, Karney 2013) centred between them,
   where geodesics are straight lines (to micrometres at these sizes).
3. Otherwise the core distance is the minimum of ``Geod.inv`` over *all pairs* of samples (exact
   over all pairs: whole blocks of pairs are skipped only when the triangle inequality proves that
   none of them can beat the best pair found so far).
4. That minimum is sharpened by a golden-section search, for every vertex of one core, along every
   edge of the other (``Geod.fwd`` + ``Geod.inv``). Every distance it evaluates is between two
   points of the cores, so it can only lower the upper bound towards the truth, never below it; in
   practice it lands within micrometres of the true distance, which makes near-touching tests sharp.

Error bound
-----------
Every sample lies on the true core, so the sampled minimum is an **upper bound** on the true core
distance: ``true <= oracle``. It exceeds it by **at most step_m / 2**: on a surface of positive
curvature (the ellipsoid) two disjoint geodesic segments are nearest at an endpoint of one of them
(an interior nearest pair would be a geodesic perpendicular to both, which the second variation of
length, ``-∫K|V|²``, shows is not a minimum), endpoints are polygon/polyline vertices, which are
always sampled, and the nearest point on the other core is within ``step_m / 2`` of a sample along
its edge. Intersecting cores are caught exactly by step 2. Step 4 only lowers the bound, by
evaluating more points of the cores. Hence

    oracle - step_m / 2  <=  true distance  <=  oracle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyproj import Geod, Proj

GEOD = Geod(ellps="WGS84")

POLYGON = "polygon"
POINT = "point"
LINE = "line"


@dataclass(frozen=True)
class OShape:
    """A shape as the oracle sees it: a core and a buffer.

    ``kind`` is ``polygon`` (closed ring, region), ``line`` (open polyline: corridor centreline or
    orbit segment) or ``point`` (circle centre). ``lat``/``lon`` are the defining vertices in
    degrees (a polygon ring not closed).
    """

    kind: str
    lat: tuple[float, ...]
    lon: tuple[float, ...]
    buffer_m: float


@dataclass(frozen=True)
class OracleDistance:
    core_m: float
    """Upper bound on the true core distance, at most ``step_m / 2`` above it."""
    distance_m: float
    """``max(0, core_m - buffer_a - buffer_b)``: upper bound on the true shape distance, at most
    ``step_m / 2`` above it."""
    step_m: float
    intersect: bool
    """The cores were found to intersect (the distance is then exactly 0)."""
    sampled_m: float
    """The plain sampled all-pairs minimum (``core_m`` is this, sharpened by vertex–edge search)."""

    @property
    def error_m(self) -> float:
        return self.step_m / 2


def oshape(kind: str, points: list[tuple[float, float]], buffer_m: float = 0.0) -> OShape:
    """From the engine's vocabulary (polygon/circle/corridor/orbit) and (lat, lon) points."""
    core = {"polygon": POLYGON, "circle": POINT, "corridor": LINE, "orbit": LINE}[kind]
    pts = list(points)
    if core == POLYGON and len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    return OShape(core, tuple(p[0] for p in pts), tuple(p[1] for p in pts), float(buffer_m))


def _edges(s: OShape) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    lat = np.asarray(s.lat, float)
    lon = np.asarray(s.lon, float)
    if s.kind == POLYGON:
        return lat, lon, np.roll(lat, -1), np.roll(lon, -1)
    if s.kind == LINE:
        return lat[:-1], lon[:-1], lat[1:], lon[1:]
    return lat[:0], lon[:0], lat[:0], lon[:0]


def samples(s: OShape, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points on the core's boundary: all vertices, and along every geodesic edge at most
    ``step_m`` apart, in order along the boundary."""
    lat1, lon1, lat2, lon2 = _edges(s)
    if len(lat1) == 0:
        return np.asarray(s.lat, float), np.asarray(s.lon, float)
    az, _, length = GEOD.inv(lon1, lat1, lon2, lat2)
    n = np.maximum(1, np.ceil(np.asarray(length) / step_m).astype(int))
    edge = np.repeat(np.arange(len(lat1)), n)
    frac = np.concatenate([np.arange(k) / k for k in n])
    lo, la, _ = GEOD.fwd(lon1[edge], lat1[edge], np.asarray(az)[edge], frac * np.asarray(length)[edge])
    la, lo = np.asarray(la, float), np.asarray(lo, float)
    # frac 0 reproduces the start vertex exactly (distance 0 from it); use the vertex itself.
    start = frac == 0
    la[start], lo[start] = lat1[edge[start]], lon1[edge[start]]
    if s.kind == LINE:
        la = np.append(la, s.lat[-1])
        lo = np.append(lo, s.lon[-1])
    return la, lo


def _unit(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def _gnomonic(lat: np.ndarray, lon: np.ndarray) -> Proj:
    v = _unit(np.asarray(lat, float), np.asarray(lon, float)).mean(axis=0)
    v = v / np.linalg.norm(v)
    lat0 = math.degrees(math.asin(max(-1.0, min(1.0, float(v[2])))))
    lon0 = math.degrees(math.atan2(float(v[1]), float(v[0])))
    return Proj(proj="gnom", lat_0=lat0, lon_0=lon0, ellps="WGS84")


def _inside(px: np.ndarray, py: np.ndarray, vx: np.ndarray, vy: np.ndarray) -> np.ndarray:
    """Even-odd ray casting: which points (px, py) are inside the ring (vx, vy)."""
    x1, y1 = vx[None, :], vy[None, :]
    x2, y2 = np.roll(vx, -1)[None, :], np.roll(vy, -1)[None, :]
    x, y = px[:, None], py[:, None]
    straddle = (y1 > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xc = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    cross = straddle & (x < xc)
    return (cross.sum(axis=1) % 2) == 1


def _orient(
    ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray, cx: np.ndarray, cy: np.ndarray
) -> np.ndarray:
    return np.sign((bx - ax) * (cy - ay) - (by - ay) * (cx - ax))


def _segments_cross(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> bool:
    """Whether any segment of ``a`` meets any segment of ``b`` (touching counts)."""
    ax1, ay1, ax2, ay2 = (v[:, None] for v in a)
    bx1, by1, bx2, by2 = (v[None, :] for v in b)
    o1 = _orient(ax1, ay1, ax2, ay2, bx1, by1)
    o2 = _orient(ax1, ay1, ax2, ay2, bx2, by2)
    o3 = _orient(bx1, by1, bx2, by2, ax1, ay1)
    o4 = _orient(bx1, by1, bx2, by2, ax2, ay2)
    proper = (o1 * o2 <= 0) & (o3 * o4 <= 0)
    # All four orientations zero: collinear segments, which meet only if their extents overlap.
    collinear = (o1 == 0) & (o2 == 0) & (o3 == 0) & (o4 == 0)
    overlap = (
        (np.minimum(ax1, ax2) <= np.maximum(bx1, bx2))
        & (np.minimum(bx1, bx2) <= np.maximum(ax1, ax2))
        & (np.minimum(ay1, ay2) <= np.maximum(by1, by2))
        & (np.minimum(by1, by2) <= np.maximum(ay1, ay2))
    )
    return bool(np.any(proper & (~collinear | overlap)))


def cores_intersect(a: OShape, b: OShape, sa: tuple[np.ndarray, np.ndarray], sb: tuple[np.ndarray, np.ndarray]) -> bool:
    """Exact-enough intersection test of the two cores, in a gnomonic projection."""
    proj = _gnomonic(np.concatenate([sa[0], sb[0]]), np.concatenate([sa[1], sb[1]]))

    def xy(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = proj(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x, float), np.asarray(y, float)

    va = xy(np.asarray(a.lat), np.asarray(a.lon))
    vb = xy(np.asarray(b.lat), np.asarray(b.lon))
    pa = xy(*sa)
    pb = xy(*sb)
    if a.kind == POLYGON and _inside(pb[0], pb[1], va[0], va[1]).any():
        return True
    if b.kind == POLYGON and _inside(pa[0], pa[1], vb[0], vb[1]).any():
        return True
    if a.kind == POINT or b.kind == POINT:
        return False

    def segs(kind: str, v: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, ...]:
        x, y = v
        if kind == POLYGON:
            return x, y, np.roll(x, -1), np.roll(y, -1)
        return x[:-1], y[:-1], x[1:], y[1:]

    return _segments_cross(segs(a.kind, va), segs(b.kind, vb))


def _pair_min(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """All-pairs geodesic distances, (len1, len2)."""
    n1, n2 = len(lat1), len(lat2)
    _, _, d = GEOD.inv(np.repeat(lon1, n2), np.repeat(lat1, n2), np.tile(lon2, n1), np.tile(lat2, n1))
    return np.asarray(d, float).reshape(n1, n2)


BLOCK = 16


def min_pair_distance(sa: tuple[np.ndarray, np.ndarray], sb: tuple[np.ndarray, np.ndarray]) -> float:
    """``min`` of ``Geod.inv`` over all pairs of samples, skipping only blocks of pairs that the
    triangle inequality proves cannot contain a smaller pair."""
    lat_a, lon_a = sa
    lat_b, lon_b = sb
    if len(lat_a) * len(lat_b) <= 4096:
        return float(_pair_min(lat_a, lon_a, lat_b, lon_b).min())
    if len(lat_a) < len(lat_b):
        lat_a, lon_a, lat_b, lon_b = lat_b, lon_b, lat_a, lon_a
    # Blocks of consecutive samples of A, each with a representative and a radius (the largest
    # geodesic distance from the representative to a member: every member is within it).
    n = len(lat_a)
    starts = np.arange(0, n, BLOCK)
    reps = np.minimum(starts + BLOCK // 2, n - 1)
    block_of = np.arange(n) // BLOCK
    _, _, r = GEOD.inv(lon_a[reps[block_of]], lat_a[reps[block_of]], lon_a, lat_a)
    radius = np.zeros(len(starts))
    np.maximum.at(radius, block_of, np.asarray(r, float))
    d_rep = _pair_min(lat_a[reps], lon_a[reps], lat_b, lon_b)  # (blocks, len_b)
    best = float(d_rep.min())
    # A pair (member of block k, b_j) is at least d_rep[k, j] - radius[k] away.
    lower = d_rep - radius[:, None]
    for k in np.argsort(lower.min(axis=1)):
        if lower[k].min() >= best:
            break
        cols = np.nonzero(lower[k] < best)[0]
        members = np.arange(starts[k], min(starts[k] + BLOCK, n))
        d = _pair_min(lat_a[members], lon_a[members], lat_b[cols], lon_b[cols])
        best = min(best, float(d.min()))
    return best


GOLDEN = (math.sqrt(5) - 1) / 2


def vertex_edge_min(v: OShape, e: OShape, iterations: int = 60) -> float:
    """Smallest distance found from any vertex of ``v`` to any edge of ``e`` by golden-section
    search along the edge (all vertex–edge pairs at once).

    Every distance evaluated is between two points of the cores, so the result is an upper bound on
    the core distance whatever the search does; the distance from a point to a point moving along a
    short geodesic is unimodal, so in practice it converges to the exact vertex–edge distance.
    """
    lat1, lon1, lat2, lon2 = _edges(e)
    if len(lat1) == 0:
        return math.inf
    az, _, length = GEOD.inv(lon1, lat1, lon2, lat2)
    nv, ne = len(v.lat), len(lat1)
    vlat = np.repeat(np.asarray(v.lat, float), ne)
    vlon = np.repeat(np.asarray(v.lon, float), ne)
    elat, elon = np.tile(lat1, nv), np.tile(lon1, nv)
    eaz, elen = np.tile(np.asarray(az, float), nv), np.tile(np.asarray(length, float), nv)

    def f(t: np.ndarray) -> np.ndarray:
        lo, la, _ = GEOD.fwd(elon, elat, eaz, t)
        _, _, d = GEOD.inv(vlon, vlat, lo, la)
        return np.asarray(d, float)

    lo, hi = np.zeros(len(vlat)), elen.copy()
    best = np.minimum(f(lo), f(hi))
    m1, m2 = hi - GOLDEN * (hi - lo), lo + GOLDEN * (hi - lo)
    f1, f2 = f(m1), f(m2)
    for _ in range(iterations):
        best = np.minimum(best, np.minimum(f1, f2))
        left = f1 < f2  # the minimum is in [lo, m2]
        hi = np.where(left, m2, hi)
        lo = np.where(left, lo, m1)
        n1, n2 = hi - GOLDEN * (hi - lo), lo + GOLDEN * (hi - lo)
        # Reuse the surviving interior point; evaluate the new one.
        f_new = f(np.where(left, n1, n2))
        f1, f2 = np.where(left, f_new, f2), np.where(left, f1, f_new)
        m1, m2 = n1, n2
    return float(np.minimum(best, np.minimum(f1, f2)).min())


def distance(a: OShape, b: OShape, step_m: float) -> OracleDistance:
    """The oracle distance between two shapes; see the module docstring for its error bound."""
    sa = samples(a, step_m)
    sb = samples(b, step_m)
    if cores_intersect(a, b, sa, sb):
        return OracleDistance(0.0, 0.0, step_m, True, 0.0)
    sampled = min_pair_distance(sa, sb)
    core = min(sampled, vertex_edge_min(a, b), vertex_edge_min(b, a))
    return OracleDistance(core, max(0.0, core - a.buffer_m - b.buffer_m), step_m, False, sampled)


def geodesic_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    _, _, d = GEOD.inv(lon1, lat1, lon2, lat2)
    return float(d)
