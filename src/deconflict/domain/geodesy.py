"""Geodesy on the WGS84 ellipsoid, vectorized with numpy and PROJ's geodesic solver.

The local frame is an ellipsoidal azimuthal equidistant projection built from the exact geodesic
direct/inverse problems (Karney's algorithms in PROJ): a point's plane coordinates are its geodesic
distance and azimuth from the frame's origin. Distances from the origin are exact; the distance
between two other points within ``rho`` of the origin is off by at most about ``(rho/R)^2 / 3``
(0.05 % at 250 km, 0.2 % at 500 km), inside the 0.5 % the design allows for extents up to 1000 km.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import numpy.typing as npt
from pyproj import Geod

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
WGS84_E2 = WGS84_F * (2 - WGS84_F)
MIN_CURVATURE_RADIUS_M = WGS84_A * (1 - WGS84_E2)
"""The smallest radius of curvature of the WGS84 ellipsoid (meridional, at the equator).

Geodetic latitude/longitude read as a unit sphere's coordinates (as S2 does) never give an angle
larger than ``geodesic_distance / MIN_CURVATURE_RADIUS_M``, because the ellipsoid's metric is
everywhere at least this radius times the sphere's. The spatial index relies on that bound.
"""


@cache
def geod() -> Geod:
    """The WGS84 geodesic solver (built once, on first use)."""
    return Geod(ellps="WGS84")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic distance in metres between two points.

    >>> round(distance_m(0.0, 0.0, 0.0, 1.0))
    111319
    """
    _, _, d = geod().inv(lon1, lat1, lon2, lat2)
    return float(d)


def distances_m(lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray) -> FloatArray:
    """Element-wise geodesic distances (broadcasting scalars)."""
    lat1, lon1, lat2, lon2 = np.broadcast_arrays(
        np.asarray(lat1, float),
        np.asarray(lon1, float),
        np.asarray(lat2, float),
        np.asarray(lon2, float),
    )
    if lat1.size == 0:
        return np.zeros(lat1.shape)
    _, _, d = geod().inv(lon1.ravel(), lat1.ravel(), lon2.ravel(), lat2.ravel())
    return np.asarray(d, dtype=float).reshape(lat1.shape)


def to_ecef_unit(lat: FloatArray, lon: FloatArray) -> FloatArray:
    """Unit vectors of the geodetic normals (n, 3); used for centroids."""
    la, lo = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def centroid(lat: FloatArray, lon: FloatArray) -> tuple[float, float]:
    """A central point of a set of points, safe across the antimeridian and near the poles."""
    v = to_ecef_unit(np.asarray(lat, float), np.asarray(lon, float)).mean(axis=0)
    n = float(np.linalg.norm(v))
    if n < 1e-12:  # points spread around the globe: no meaningful centre
        return float(np.asarray(lat, float)[0]), float(np.asarray(lon, float)[0])
    v = v / n
    return float(np.degrees(np.arcsin(np.clip(v[2], -1, 1)))), float(np.degrees(np.arctan2(v[1], v[0])))


def midpoint(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """The point halfway between two (lat, lon) points on the unit sphere (scalar, cheap).

    >>> [round(v, 6) for v in midpoint((0.0, 179.0), (0.0, -179.0))]
    [0.0, 180.0]
    """
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    x = math.cos(la1) * math.cos(lo1) + math.cos(la2) * math.cos(lo2)
    y = math.cos(la1) * math.sin(lo1) + math.cos(la2) * math.sin(lo2)
    z = math.sin(la1) + math.sin(la2)
    if math.hypot(x, y, z) < 1e-12:  # antipodal: any point of the great circle will do
        return a
    return math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))


def destination(lat: float, lon: float, azimuth_deg: FloatArray, dist_m: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Points reached by going ``dist_m`` along azimuths from one point: (lat, lon) arrays."""
    az = np.atleast_1d(np.asarray(azimuth_deg, float))
    d = np.broadcast_to(np.asarray(dist_m, float), az.shape)
    lons, lats, _ = geod().fwd(np.full(az.shape, lon), np.full(az.shape, lat), az, d)
    return np.asarray(lats, float), np.asarray(lons, float)


def densify(lat: FloatArray, lon: FloatArray, max_segment_m: float, closed: bool) -> tuple[FloatArray, FloatArray]:
    """Insert points along the geodesic edges so no segment is longer than ``max_segment_m``.

    Edges of polygons and corridors are geodesics (as in S2 and the DSS); a straight segment in the
    local frame follows a short geodesic to within centimetres, so densified edges can be treated as
    straight there.
    """
    lat = np.asarray(lat, float)
    lon = np.asarray(lon, float)
    n = len(lat)
    if n < 2:
        return lat, lon
    if closed:
        lat2, lon2 = np.roll(lat, -1), np.roll(lon, -1)
        m = n
    else:
        lat2, lon2 = lat[1:], lon[1:]
        m = n - 1
    g = geod()
    out_lat: list[float] = []
    out_lon: list[float] = []
    lengths = distances_m(lat[:m], lon[:m], lat2, lon2)
    for i in range(m):
        out_lat.append(float(lat[i]))
        out_lon.append(float(lon[i]))
        extra = int(np.ceil(lengths[i] / max_segment_m)) - 1
        if extra > 0:
            pts = g.npts(float(lon[i]), float(lat[i]), float(lon2[i]), float(lat2[i]), extra)
            for plon, plat in pts:
                out_lat.append(plat)
                out_lon.append(plon)
    if not closed:
        out_lat.append(float(lat[-1]))
        out_lon.append(float(lon[-1]))
    return np.array(out_lat), np.array(out_lon)


class LocalFrame:
    """An azimuthal equidistant plane (metres, x east, y north) around one origin.

    >>> f = LocalFrame(35.0, 36.0)
    >>> x, y = f.forward(np.array([35.0]), np.array([36.0]))
    >>> abs(float(x[0])), abs(float(y[0]))
    (0.0, 0.0)
    """

    __slots__ = ("lat0", "lon0")

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lat0 = float(lat0)
        self.lon0 = float(lon0)

    def forward(self, lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, FloatArray]:
        lat = np.atleast_1d(np.asarray(lat, float))
        lon = np.atleast_1d(np.asarray(lon, float))
        az, _, d = geod().inv(np.full(lat.shape, self.lon0), np.full(lat.shape, self.lat0), lon, lat)
        a = np.radians(np.asarray(az, float))
        d = np.asarray(d, float)
        return d * np.sin(a), d * np.cos(a)

    def inverse(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        x = np.atleast_1d(np.asarray(x, float))
        y = np.atleast_1d(np.asarray(y, float))
        az = np.degrees(np.arctan2(x, y))
        return destination(self.lat0, self.lon0, az, np.hypot(x, y))
