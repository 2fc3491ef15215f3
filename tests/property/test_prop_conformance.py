"""``volume_hits`` samples finely only where coarse samples say an aircraft may be near the volume;
its answer must equal sampling every step of every path (the definition in ``docs/alerts.md``):
the same aircraft, each with the same first sampled time inside.

The oracle below is that definition written out: every aircraft, every step, the volume's exact
horizontal test, band and time window. Traffic is drawn around circles and polygons anywhere on
the globe (to ±89°, across the antimeridian), with climbs and descents through the band, time
windows that open and close within the look-ahead, and margins (a protected site's overhead).
"""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from builders import offset
from deconflict.domain.conformance import STEP_S, move, volume_hits
from deconflict.domain.geodesy import LocalFrame
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.domain.tactical import States
from deconflict.domain.volumes import AltitudeBand, AltitudeReference, Volume4D

T = 1_443_600_000.0


def oracle(ac: States, t: float, v: Volume4D, lookahead_s: float, margin_m: float) -> dict[int, float]:
    """Every aircraft's first sampled time inside, sampling every step of its whole path."""
    clat, clon = v.shape.center
    frame = LocalFrame(clat, clon)
    core = v.shape.core_in(frame)
    out = {}
    steps = np.arange(0.0, lookahead_s + 1e-9, STEP_S)
    for i in range(len(ac.lat)):
        tt = steps
        lat, lon = move(np.full(len(tt), ac.lat[i]), np.full(len(tt), ac.lon[i]), ac.gs_mps[i], ac.trk_deg[i], tt)
        x, y = frame.forward(lat, lon)
        horizontal = shapely.distance(shapely.points(x, y), core) <= v.shape.buffer_m + margin_m
        alt = ac.alt_m[i] + ac.vs_mps[i] * tt
        inside = (
            horizontal
            & (alt >= v.altitude.lower_m)
            & (alt <= v.altitude.upper_m)
            & (t + tt >= v.time_start)
            & (t + tt <= v.time_end)
        )
        if inside.any():
            out[i] = float(steps[int(np.argmax(inside))])
    return out


@st.composite
def scene(draw: st.DrawFn) -> tuple[States, Volume4D, float, float]:
    lat = draw(st.floats(-89, 89))
    lon = draw(st.floats(-180, 180))
    size = draw(st.floats(500, 150_000))
    if draw(st.booleans()):
        shape = make_shape(ShapeKind.CIRCLE, [(lat, lon)], size)
    else:  # a triangle or a notched quadrilateral around the centre
        n = draw(st.sampled_from([3, 4, 5]))
        pts = [
            offset(lat, lon, k * 360 / n + draw(st.floats(-20, 20)), size * draw(st.floats(0.3, 1.0))) for k in range(n)
        ]
        shape = make_shape(ShapeKind.POLYGON, pts)
    lo = draw(st.floats(0, 12_000))
    band = AltitudeBand(lo, lo + draw(st.floats(100, 8_000)), AltitudeReference.W84)
    start = T + draw(st.sampled_from([-3600.0, 0.0, 37.5, 150.0, 299.0]))
    end = start + draw(st.sampled_from([0.5, 20.0, 95.0, 3600.0]))
    volume = Volume4D(shape, band, start, end)
    n = draw(st.integers(1, 25))
    rows = []
    for _ in range(n):
        d = draw(st.floats(0, size + 250_000))
        bearing = draw(st.floats(0, 360))
        la, lo_ = offset(lat, lon, bearing, d)
        toward = (bearing + 180 + draw(st.floats(-40, 40))) % 360
        rows.append(
            (
                la,
                lo_,
                draw(st.floats(0, 16_000)),
                draw(st.sampled_from([0.0, 60.0, 230.0, 600.0])) + draw(st.floats(0, 50)),
                toward if draw(st.booleans()) else draw(st.floats(0, 360)),
                draw(st.sampled_from([0.0, 0.0, -40.0, 25.0, 80.0])),
            )
        )
    a = np.array(rows, dtype=float)
    ac = States.from_arrays(lat=a[:, 0], lon=a[:, 1], alt_m=a[:, 2], gs_mps=a[:, 3], trk_deg=a[:, 4], vs_mps=a[:, 5])
    lookahead = draw(st.sampled_from([300.0, 300.0, 45.0, 307.0]))
    margin = draw(st.sampled_from([0.0, 0.0, 2_000.0]))
    return ac, volume, lookahead, margin


@settings(max_examples=300, deadline=None)
@given(scene())
def test_volume_hits_equals_sampling_every_step(s: tuple[States, Volume4D, float, float]) -> None:
    ac, volume, lookahead, margin = s
    hits = volume_hits(ac, T, volume, lookahead, None, margin)
    got = dict(zip(hits.index.tolist(), hits.entry_s.tolist(), strict=True))
    assert got == oracle(ac, T, volume, lookahead, margin)
