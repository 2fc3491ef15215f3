"""Notices for the store tests: one of every shape, reference and state, and random theaters."""

from __future__ import annotations

import random

import numpy as np

from deconflict.domain.geodesy import destination
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.domain.units import FLIGHT_LEVEL_M
from deconflict.domain.volumes import AltitudeBand, AltitudeReference, Notice, Volume4D

T0 = 1_443_592_800.0
"""2015-09-30T06:00:00Z."""


def circle(
    lat: float,
    lon: float,
    radius_m: float = 5_000.0,
    t0: float = T0,
    t1: float = T0 + 3600.0,
    lo: float = 0.0,
    hi: float = 3_000.0,
    ref: AltitudeReference = AltitudeReference.W84,
) -> Volume4D:
    shape = make_shape(ShapeKind.CIRCLE, [(lat, lon)], radius_m)
    return Volume4D(shape, AltitudeBand(lo, hi, ref), t0, t1)


def ngon(lat: float, lon: float, radius_m: float, n: int = 6, turn_deg: float = 0.0) -> list[tuple[float, float]]:
    az = np.linspace(0.0, 360.0, n, endpoint=False) + turn_deg
    lats, lons = destination(lat, lon, az, np.full(n, radius_m))
    return list(zip(lats.tolist(), lons.tolist(), strict=True))


def every_kind_of_notice(party: str = "red") -> Notice:
    """One volume of each shape and altitude reference, with awkward (non-round) floats."""
    poly = make_shape(ShapeKind.POLYGON, ngon(35.1, 36.2, 8_000.0, 7, 3.3))
    corridor = make_shape(ShapeKind.CORRIDOR, [(35.0, 36.0), (35.2, 36.1), (35.3, 36.4)], 1_234.5)
    orbit = make_shape(ShapeKind.ORBIT, [(34.9, 36.0), (35.0, 36.3)], 4_000.25)
    ring = make_shape(ShapeKind.CIRCLE, [(35.05, 36.05)], 9_260.0)
    return Notice(
        party=party,
        kind="air patrol",
        volumes=(
            Volume4D(poly, AltitudeBand(152.4, 3048.0, AltitudeReference.W84), T0 + 0.123456789, T0 + 7200.987654321),
            Volume4D(corridor, AltitudeBand(0.0, 1000.0 / 3, AltitudeReference.AMSL), T0 + 1e-7, T0 + 99.5),
            Volume4D(
                orbit,
                AltitudeBand(245 * FLIGHT_LEVEL_M, 275.7 * FLIGHT_LEVEL_M, AltitudeReference.STD),
                T0 + 1 / 3,
                T0 + 86_400.0 / 7,
            ),
            Volume4D(ring, AltitudeBand(-100.0, 12_000.0), T0 - 3 * 86_400.0, T0 + 3 * 86_400.0),
        ),
        extra={"callsign": "VIPER 1", "ref": "ACO 30/09"},
    )


class Theater:
    """Random notices in a 250 km square, so that many of them conflict."""

    PARTIES = ("red", "blue", "green", "white")

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def volume(self) -> Volume4D:
        r = self.rng
        lat, lon = r.uniform(34.0, 36.2), r.uniform(35.5, 38.2)
        kind = r.choice(list(ShapeKind))
        size = r.uniform(500.0, 25_000.0)
        if kind is ShapeKind.CIRCLE:
            shape = make_shape(kind, [(lat, lon)], size)
        elif kind is ShapeKind.POLYGON:
            shape = make_shape(kind, ngon(lat, lon, size, r.randint(3, 9), r.uniform(0, 60)))
        else:
            az = r.uniform(0.0, 360.0)
            n = 2 if kind is ShapeKind.ORBIT else r.randint(2, 4)
            lats, lons = destination(lat, lon, np.full(n, az), np.linspace(0.0, 3 * size, n))
            shape = make_shape(kind, list(zip(lats.tolist(), lons.tolist(), strict=True)), r.uniform(500.0, 5_000.0))
        ref = r.choice(list(AltitudeReference))
        lo = r.uniform(0.0, 9_000.0)
        t0 = T0 + r.uniform(0.0, 3 * 86_400.0)
        return Volume4D(shape, AltitudeBand(lo, lo + r.uniform(50.0, 3_000.0), ref), t0, t0 + r.uniform(60.0, 6 * 3600))

    def notice(self, nid: str) -> Notice:
        r = self.rng
        vols = tuple(self.volume() for _ in range(r.choice((1, 1, 1, 2, 3))))
        if r.random() < 0.05:
            return Notice(party="authority", volumes=vols, id=nid, kind="protected site", protected=True)
        return Notice(party=r.choice(self.PARTIES), volumes=vols, id=nid)
