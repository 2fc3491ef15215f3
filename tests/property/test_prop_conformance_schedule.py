"""``volume_hits`` with a recurring schedule against a brute-force oracle that samples every second
of every path and evaluates the schedule directly from its documented meaning (docs/notices.md):
an instant is active when it lies in the envelope and in a window that starts on a listed weekday
(that day or, for a window crossing midnight, the day before); closed intervals.

Windows open and close within the look-ahead (and at its ends), cross midnight, sit on the
weekday that starts at the sampled moment or the one before, and the envelope cuts them; traffic
is the same as for unscheduled volumes (tests/property/test_prop_conformance.py). The answer must
be the same aircraft, each with the same first sampled time inside. The incursion and
nonconformance checks of a tactical cycle both read this answer.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from builders import offset
from deconflict.domain.conformance import STEP_S, active_within, move, volume_hits
from deconflict.domain.geodesy import LocalFrame
from deconflict.domain.schedule import DAY_S, DailyWindow, Schedule
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.domain.tactical import States
from deconflict.domain.volumes import AltitudeBand, AltitudeReference, Volume4D

T = 1_767_225_600.0 + 3 * DAY_S + 15 * 3600  # 2026-01-04 (a Sunday) 15:00:00Z


def active(v: Volume4D, x: float) -> bool:
    """The schedule evaluated directly at instant ``x``."""
    if not v.time_start <= x <= v.time_end:
        return False
    if v.schedule is None:
        return True
    day = math.floor(x / DAY_S)
    for back in (0, 1):
        d = day - back
        if (d + 3) % 7 not in v.schedule.days:  # 1970-01-01 was a Thursday (weekday 3, Monday 0)
            continue
        for w in v.schedule.windows:
            start = d * DAY_S + w.start_s
            length = w.end_s - w.start_s if w.end_s > w.start_s else w.end_s + DAY_S - w.start_s
            if start <= x <= start + length:
                return True
    return False


def oracle(ac: States, t: float, v: Volume4D, lookahead_s: float) -> dict[int, float]:
    clat, clon = v.shape.center
    frame = LocalFrame(clat, clon)
    core = v.shape.core_in(frame)
    steps = np.arange(0.0, lookahead_s + 1e-9, STEP_S)
    when = np.array([active(v, t + s) for s in steps])
    out = {}
    for i in range(len(ac.lat)):
        n = len(steps)
        lat, lon = move(np.full(n, ac.lat[i]), np.full(n, ac.lon[i]), ac.gs_mps[i], ac.trk_deg[i], steps)
        x, y = frame.forward(lat, lon)
        horizontal = shapely.distance(shapely.points(x, y), core) <= v.shape.buffer_m
        alt = ac.alt_m[i] + ac.vs_mps[i] * steps
        inside = horizontal & (alt >= v.altitude.lower_m) & (alt <= v.altitude.upper_m) & when
        if inside.any():
            out[i] = float(steps[int(np.argmax(inside))])
    return out


# window edges near the sampled moment (15:00 on a Sunday), so that they open and close within the
# look-ahead, and anywhere in the day
near_edge = st.integers(-400, 700).map(lambda s: 15 * 3600 + s)
clock = st.one_of(near_edge, st.integers(0, DAY_S - 1))


@st.composite
def schedule(draw: st.DrawFn) -> Schedule:
    windows = []
    for k in range(draw(st.integers(1, 3))):
        start = draw(near_edge if k == 0 else clock)  # the first opens or closes near the moment
        end = draw(st.one_of(near_edge, clock, st.just(start + draw(st.integers(1, 900)))))
        end = end % DAY_S or DAY_S
        if end == start:
            end = start + 1
        windows.append(DailyWindow(start, end))
    # the sampled moment is a Sunday (6): its windows, Saturday's running past midnight, Monday's
    days = draw(st.sampled_from([{6}, {5, 6}, {5}, {0}, {6, 0}]) | st.sets(st.integers(0, 6), min_size=1))
    return Schedule(tuple(windows), frozenset(days))


@st.composite
def scene(draw: st.DrawFn) -> tuple[States, Volume4D, float]:
    lat = draw(st.floats(-80, 80))
    lon = draw(st.floats(-180, 180))
    size = draw(st.floats(500, 60_000))
    shape = make_shape(ShapeKind.CIRCLE, [(lat, lon)], size)
    lo = draw(st.floats(0, 6_000))
    band = AltitudeBand(lo, lo + draw(st.floats(300, 8_000)), AltitudeReference.W84)
    start = T + draw(st.sampled_from([-30 * DAY_S, -3600.0, 0.0, 37.5, 150.0]))
    end = draw(st.sampled_from([T + 200.0, T + 3600.0, start + 366 * DAY_S]))
    volume = Volume4D(shape, band, start, max(end, start + 1.0), draw(schedule()))
    rows = []
    for _ in range(draw(st.integers(1, 15))):
        d = draw(st.floats(0, size * 1.2) | st.floats(0, size + 100_000))  # many start inside
        bearing = draw(st.floats(0, 360))
        la, lo_ = offset(lat, lon, bearing, d)
        toward = (bearing + 180 + draw(st.floats(-30, 30))) % 360
        inside_band = draw(st.booleans())
        rows.append(
            (
                la,
                lo_,
                draw(st.floats(band.lower_m, band.upper_m)) if inside_band else draw(st.floats(0, 16_000)),
                draw(st.sampled_from([0.0, 0.0, 0.0, 60.0, 230.0, 600.0])) + draw(st.sampled_from([0.0, 0.0, 10.0])),
                toward if draw(st.booleans()) else draw(st.floats(0, 360)),
                draw(st.sampled_from([0.0, 0.0, -20.0, 25.0])),
            )
        )
    a = np.array(rows, dtype=float)
    ac = States.from_arrays(lat=a[:, 0], lon=a[:, 1], alt_m=a[:, 2], gs_mps=a[:, 3], trk_deg=a[:, 4], vs_mps=a[:, 5])
    return ac, volume, draw(st.sampled_from([300.0, 45.0, 0.0]))


@settings(max_examples=400, deadline=None)
@given(scene())
def test_scheduled_volume_hits_equal_sampling_every_second(s: tuple[States, Volume4D, float]) -> None:
    ac, volume, lookahead = s
    hits = volume_hits(ac, T, volume, lookahead)
    got = dict(zip(hits.index.tolist(), hits.entry_s.tolist(), strict=True))
    assert got == oracle(ac, T, volume, lookahead)


@settings(max_examples=300, deadline=None)
@given(schedule(), st.integers(-DAY_S, DAY_S), st.integers(0, 2000))
def test_active_within_is_some_second_active(s: Schedule, shift: int, length: int) -> None:
    """Whether a volume is active at some second of a span: what the nonconformance check asks of
    an aircraft's own volume at the moment (a span of length 0), and what skips a volume early."""
    shape = make_shape(ShapeKind.CIRCLE, [(0.0, 0.0)], 1000.0)
    v = Volume4D(shape, AltitudeBand(0.0, 1000.0), T - 600.0, T + 90_000.0, s)
    lo = T + shift
    assert active_within(v, lo, lo + length) == any(active(v, lo + k) for k in range(length + 1))
