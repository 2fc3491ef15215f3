"""Hypothesis strategies for shapes, volumes and notices anywhere on the globe.

Shapes are generated as plain specs (kind, (lat, lon) points, buffer) with ``pyproj.Geod`` and then
built by the engine, either through :func:`deconflict.domain.shapes.make_shape` or by parsing the
F3548 JSON that describes them with :func:`deconflict.domain.parse.parse_volume4d`. The oracle reads
the spec, never the engine's shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st
from oracle import GEOD, OShape, oshape

from deconflict.domain.parse import parse_volume4d
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.domain.volumes import AltitudeBand, AltitudeReference, Volume4D

KINDS = ("polygon", "star", "circle", "corridor", "orbit")
UNITS = {"M": 1.0, "KM": 1000.0, "FT": 0.3048, "NM": 1852.0}


@dataclass(frozen=True)
class Spec:
    kind: str
    """polygon, circle, corridor or orbit (the engine's kinds)."""
    points: tuple[tuple[float, float], ...]
    buffer_m: float
    via_json: bool
    unit: str = "M"
    closed: bool = False

    @property
    def oracle(self) -> OShape:
        return oshape(self.kind, list(self.points), self.buffer_m)


def fwd(lat: float, lon: float, az: float, dist: float) -> tuple[float, float]:
    lo, la, _ = GEOD.fwd(lon, lat, az, dist)
    return float(la), float(lo)


# ---------------------------------------------------------------- places


def _face_edge_point(axis_i: int, axis_j: int, si: int, sj: int, t: float) -> tuple[float, float]:
    """A point on the boundary between two S2 cube faces (|v_i| = |v_j| >= |v_k|)."""
    v = [0.0, 0.0, 0.0]
    k = 3 - axis_i - axis_j
    v[axis_i], v[axis_j], v[k] = float(si), float(sj), t
    x, y, z = v
    return math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))


@st.composite
def face_edge(draw: st.DrawFn) -> tuple[float, float]:
    i, j = draw(st.sampled_from([(0, 1), (0, 2), (1, 2)]))
    si = draw(st.sampled_from([-1, 1]))
    sj = draw(st.sampled_from([-1, 1]))
    t = draw(st.sampled_from([-1.0, 1.0, 0.0]) | st.floats(-1, 1))  # ±1: a cube corner
    lat, lon = _face_edge_point(i, j, si, sj, t)
    return max(-88.0, min(88.0, lat)), lon


uniform_place = st.tuples(st.floats(-88, 88), st.floats(-180, 180))
high_latitude = st.tuples(
    st.floats(78, 88) | st.floats(-88, -78),
    st.floats(-180, 180),
)
antimeridian = st.tuples(
    st.floats(-88, 88),
    st.floats(179.7, 180.0) | st.floats(-180.0, -179.7),
)
places = st.one_of(uniform_place, high_latitude, antimeridian, face_edge())
"""Centres anywhere, with the awkward places (poles, antimeridian, S2 face edges) well represented."""


# ---------------------------------------------------------------- shapes


def _angles(draw: st.DrawFn, n: int, start: float | None = None) -> list[float]:
    """n increasing bearings with every gap under 180° (so the centre is inside the ring)."""
    w = [draw(st.floats(1.0, 1.8)) for _ in range(n)]
    total = sum(w)
    if start is None:
        start = draw(st.floats(0, 360))
    out, acc = [], start
    for wi in w:
        out.append(acc % 360.0)
        acc += 360.0 * wi / total
    return out


@st.composite
def specs(
    draw: st.DrawFn,
    center: tuple[float, float],
    size_m: st.SearchStrategy[float] | None = None,
    kinds: tuple[str, ...] = KINDS,
) -> Spec:
    """A shape about ``center`` reaching about ``size`` metres from it."""
    lat, lon = center
    size = draw(size_m if size_m is not None else st.floats(250, 10_000))
    kind = draw(st.sampled_from(kinds))
    via_json = draw(st.booleans())
    unit = draw(st.sampled_from(sorted(UNITS)))
    if kind in ("polygon", "star"):
        n = draw(st.integers(3, 12))
        radii = [size] * n if kind == "polygon" else [size * draw(st.floats(0.35, 1.0)) for _ in range(n)]
        pts = tuple(fwd(lat, lon, az, r) for az, r in zip(_angles(draw, n), radii, strict=True))
        return Spec("polygon", pts, 0.0, via_json, closed=draw(st.booleans()))
    if kind == "circle":
        return Spec("circle", ((lat, lon),), size, via_json, unit)
    if kind == "orbit":
        az = draw(st.floats(0, 360))
        half = size * draw(st.floats(0.3, 1.0)) / 2
        pts = (fwd(lat, lon, az, half), fwd(lat, lon, az + 180, half))
        return Spec("orbit", pts, draw(st.floats(50, max(50.0, size / 2))), via_json, unit)
    n = draw(st.integers(2, 5))
    heading = draw(st.floats(0, 360))
    leg = 2 * size / (n - 1)
    p = fwd(lat, lon, heading + 180, size / 2)
    pts_l = [p]
    for _ in range(n - 1):
        heading += draw(st.floats(-100, 100))
        p = fwd(p[0], p[1], heading, leg * draw(st.floats(0.3, 1.0)))
        pts_l.append(p)
    return Spec("corridor", tuple(pts_l), draw(st.floats(50, max(50.0, size / 2))), via_json, unit)


# ---------------------------------------------------------------- volumes


def rfc3339(t: float) -> str:
    dt = datetime.fromtimestamp(t, tz=UTC)
    return dt.isoformat(timespec="microseconds" if dt.microsecond else "seconds").replace("+00:00", "Z")


def _latlng(p: tuple[float, float]) -> dict[str, float]:
    return {"lat": p[0], "lng": p[1]}


def f3548(spec: Spec, lower_m: float, upper_m: float, ref: str, t0: float, t1: float) -> dict[str, Any]:
    """The F3548-21 Volume4D JSON of a spec (with our corridor/orbit outlines)."""
    factor = UNITS[spec.unit]
    pts = [_latlng(p) for p in spec.points]
    if spec.kind == "polygon":
        if spec.closed:
            pts.append(pts[0])
        outline: dict[str, Any] = {"outline_polygon": {"vertices": pts}}
    elif spec.kind == "circle":
        outline = {
            "outline_circle": {"center": pts[0], "radius": {"value": spec.buffer_m / factor, "units": spec.unit}}
        }
    elif spec.kind == "corridor":
        outline = {
            "outline_corridor": {"centerline": pts, "width": {"value": 2 * spec.buffer_m / factor, "units": spec.unit}}
        }
    else:
        outline = {"outline_orbit": {"points": pts, "width": {"value": 2 * spec.buffer_m / factor, "units": spec.unit}}}
    return {
        "volume": {
            **outline,
            "altitude_lower": {"value": lower_m, "reference": ref, "units": "M"},
            "altitude_upper": {"value": upper_m, "reference": ref, "units": "M"},
        },
        "time_start": {"value": rfc3339(t0), "format": "RFC3339"},
        "time_end": {"value": rfc3339(t1), "format": "RFC3339"},
    }


def volume(
    spec: Spec,
    lower_m: float = 0.0,
    upper_m: float = 1000.0,
    ref: AltitudeReference = AltitudeReference.W84,
    t0: float = 1_700_000_000.0,
    t1: float = 1_700_003_600.0,
) -> Volume4D:
    """The engine's volume for a spec, built through make_shape or through the F3548 parser.

    Flight levels (STD) cannot be given in metres in F3548 JSON, so STD bands use make_shape.
    """
    if spec.via_json and ref is not AltitudeReference.STD:
        v = parse_volume4d(f3548(spec, lower_m, upper_m, ref.value, t0, t1))
        assert v.altitude == AltitudeBand(lower_m, upper_m, ref)
        assert (v.time_start, v.time_end) == (t0, t1)
        assert math.isclose(v.shape.buffer_m, spec.buffer_m, rel_tol=1e-12, abs_tol=1e-9)
        return v
    shape = make_shape(ShapeKind(spec.kind), list(spec.points), spec.buffer_m)
    return Volume4D(shape=shape, altitude=AltitudeBand(lower_m, upper_m, ref), time_start=t0, time_end=t1)


@st.composite
def pairs(
    draw: st.DrawFn,
    size_m: st.SearchStrategy[float] | None = None,
    max_gap_m: float = 40_000.0,
) -> tuple[Spec, Spec]:
    """Two shapes, the second at a random bearing from the first and often close to it: the gap
    between their reaches is anywhere from full overlap to ``max_gap_m``, with near-touching
    gaps (within a few hundred metres) drawn often."""
    a_center = draw(places)
    a = draw(specs(a_center, size_m))
    b_size = draw(size_m if size_m is not None else st.floats(250, 10_000))
    reach_a = max(_reach(a, a_center), 1.0)
    gap = draw(
        st.one_of(
            st.floats(-reach_a - b_size, 0.0),
            st.floats(-300.0, 300.0),
            st.floats(0.0, max_gap_m),
        )
    )
    dist = max(0.0, reach_a + b_size + gap)
    b_center = fwd(a_center[0], a_center[1], draw(st.floats(0, 360)), dist)
    b = draw(specs(b_center, st.just(b_size)))
    return a, b


def _reach(spec: Spec, center: tuple[float, float]) -> float:
    n = len(spec.points)
    _, _, d = GEOD.inv([center[1]] * n, [center[0]] * n, [p[1] for p in spec.points], [p[0] for p in spec.points])
    return float(max(d)) + spec.buffer_m


def _fwd_az(lat: float, lon: float, az: float, dist: float) -> tuple[float, float, float]:
    """Destination and the forward azimuth there (continuing along the same geodesic)."""
    lo, la, back = GEOD.fwd(lon, lat, az, dist)
    return float(la), float(lo), (float(back) + 180.0) % 360.0


@st.composite
def touching_pairs(draw: st.DrawFn) -> tuple[Spec, Spec]:
    """Two shapes whose outlines touch, or miss or overlap each other by a hair (0 to 2 m).

    A point X is taken on the first shape's core (a vertex or a point along an edge), moved out by
    its buffer along the normal, then out again by the second shape's buffer plus the hair; the
    second shape's core starts exactly there (a circle's centre, a polygon's vertex, the first
    point of a centreline) and extends away from the first shape.
    """
    a_center = draw(places)
    a = draw(specs(a_center))
    if a.kind == "circle":
        (x_lat, x_lon), out = a.points[0], draw(st.floats(0, 360))
    else:
        pts = list(a.points)
        n_edges = len(pts) if a.kind == "polygon" else len(pts) - 1
        i = draw(st.integers(0, n_edges - 1))
        p, q = pts[i], pts[(i + 1) % len(pts)]
        az, _, length = GEOD.inv(p[1], p[0], q[1], q[0])
        frac = draw(st.sampled_from([0.0, 1.0]) | st.floats(0, 1))
        x_lat, x_lon, along = _fwd_az(p[0], p[1], float(az), frac * float(length))
        # Rings are generated clockwise (bearings increase), so the outside is on the left.
        left = a.kind == "polygon" or draw(st.booleans())
        out = along - 90.0 if left else along + 90.0
    rim_lat, rim_lon, out = _fwd_az(x_lat, x_lon, out, a.buffer_m)
    hair = draw(st.sampled_from([0.0, 1e-6, 1e-3, 0.01, 0.5, 2.0, -1e-3, -0.5]))
    kind = draw(st.sampled_from(["polygon", "circle", "corridor", "orbit"]))
    size = draw(st.floats(250, 10_000))
    buffer_b = 0.0 if kind == "polygon" else draw(st.floats(50, max(50.0, size / 2)))
    if kind == "circle":
        buffer_b = size
    y_lat, y_lon, out = _fwd_az(rim_lat, rim_lon, out, max(0.0, buffer_b + hair))
    if hair < 0 and buffer_b + hair < 0:
        y_lat, y_lon, out = _fwd_az(rim_lat, rim_lon, out + 180.0, -(buffer_b + hair))
        out = (out + 180.0) % 360.0
    via_json = draw(st.booleans())
    unit = draw(st.sampled_from(sorted(UNITS)))
    if kind == "circle":
        return a, Spec("circle", ((y_lat, y_lon),), buffer_b, via_json, unit)
    if kind == "polygon":
        c_lat, c_lon, _ = _fwd_az(y_lat, y_lon, out + draw(st.floats(-60, 60)), size)
        to_y, _, _ = GEOD.inv(c_lon, c_lat, y_lon, y_lat)
        n = draw(st.integers(3, 12))
        ring = [fwd(c_lat, c_lon, az, size) for az in _angles(draw, n, start=float(to_y))]
        ring[0] = (y_lat, y_lon)
        return a, Spec("polygon", tuple(ring), 0.0, via_json, closed=draw(st.booleans()))
    m = 2 if kind == "orbit" else draw(st.integers(2, 5))
    line = [(y_lat, y_lon)]
    heading = out
    for _ in range(m - 1):
        heading += draw(st.floats(-60, 60))
        nxt = fwd(*line[-1], heading, size * draw(st.floats(0.3, 1.0)))
        line.append(nxt)
    return a, Spec(kind, tuple(line), buffer_b, via_json, unit)
