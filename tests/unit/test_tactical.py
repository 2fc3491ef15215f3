"""Tactical detection on worked examples, each computed by hand.

All examples sit on or near the equator, where BlueSky's flat earth gives ``dx = Re·Δλ`` and
``dy = Re·Δφ`` (``cos φ̄`` differs from 1 by less than 1e-5 here), so one degree is
``M = 6 371 000 · π/180 = 111 194.93 m``. R = 9260 m (5 NM), H = 304.8 m (1000 ft), look-ahead 300 s.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from deconflict.domain.errors import ValidationError
from deconflict.domain.tactical import Conflicts, States, TacticalPolicy, detect, detect_all_pairs, in_los

M = 6371000.0 * math.pi / 180
R = 9260.0
H = 304.8
DEFAULT = TacticalPolicy()
APPROX = {"rel": 1e-4, "abs": 1e-3}


def traffic(*rows: tuple[float, float, float, float, float, float], group: list[int] | None = None) -> States:
    """Rows of (lat, lon, alt_m, gs_mps, trk_deg, vs_mps)."""
    lat, lon, alt, gs, trk, vs = (list(c) for c in zip(*rows, strict=True))
    return States.from_arrays(lat=lat, lon=lon, alt_m=alt, gs_mps=gs, trk_deg=trk, vs_mps=vs, group=group)


def only(states: States, policy: TacticalPolicy = DEFAULT) -> Conflicts:
    """The single pair found, after checking that the broad phase and the reference agree."""
    c = detect(states, policy)
    ref = detect_all_pairs(states, policy)
    assert c.pairs() == ref.pairs()
    assert len(c) == 1, c.pairs()
    return c


def nothing(states: States, policy: TacticalPolicy = DEFAULT) -> None:
    assert len(detect(states, policy)) == 0
    assert len(detect_all_pairs(states, policy)) == 0


def test_head_on_at_the_same_level() -> None:
    # 0.5° apart (55 597.5 m), closing at 400 m/s: CPA at 139.0 s, enters at (d - R)/400.
    d = 0.5 * M
    c = only(traffic((0, 0, 10_000, 200, 90, 0), (0, 0.5, 10_000, 200, 270, 0)))
    assert (int(c.i[0]), int(c.j[0])) == (0, 1)
    assert float(c.tcpa_s[0]) == pytest.approx(d / 400, **APPROX)
    assert float(c.dcpa_m[0]) == pytest.approx(0.0, abs=1e-3)
    assert float(c.tin_s[0]) == pytest.approx((d - R) / 400, **APPROX)
    assert float(c.tout_s[0]) == pytest.approx((d + R) / 400, **APPROX)
    assert float(c.dist_m[0]) == pytest.approx(d, **APPROX)
    assert float(c.dalt_m[0]) == 0.0
    assert not c.los[0]


def crossing(delay_s: float) -> States:
    """A flies east at 200 m/s from (0, 0); B flies north at 150 m/s and reaches A's path at
    lon 0.3° ``delay_s`` after A does (A gets there at T = 0.3·M/200 = 166.79 s)."""
    t_a = 0.3 * M / 200
    south_m = 150 * (t_a + delay_s)
    return traffic((0, 0, 9_000, 200, 90, 0), (-south_m / M, 0.3, 9_000, 150, 0, 0))


def test_crossing_paths_that_meet() -> None:
    # Relative velocity (-200, 150), |v| = 250; the relative position is a 3-4-5 triangle.
    c = only(crossing(0.0))
    t_a = 0.3 * M / 200
    assert float(c.tcpa_s[0]) == pytest.approx(t_a, **APPROX)
    assert float(c.dcpa_m[0]) < 1.0
    assert float(c.tin_s[0]) == pytest.approx(t_a - R / 250, **APPROX)
    assert float(c.dist_m[0]) == pytest.approx(5 / 4 * 0.3 * M, **APPROX)


def test_crossing_behind_within_the_minimum() -> None:
    # B is 60 s (9000 m) late: the miss distance is 9000 · 200/250 = 7200 m < R, reached
    # 9000 · 150/250² = 21.6 s after T; entry √(R² - 7200²)/250 = 23.29 s before that.
    c = only(crossing(60.0))
    t_a = 0.3 * M / 200
    assert float(c.dcpa_m[0]) == pytest.approx(7200.0, rel=1e-4)
    assert float(c.tcpa_s[0]) == pytest.approx(t_a + 21.6, **APPROX)
    assert float(c.tin_s[0]) == pytest.approx(t_a + 21.6 - math.sqrt(R**2 - 7200**2) / 250, **APPROX)


def test_crossing_far_enough_behind_is_clear() -> None:
    # 90 s late: miss distance 13 500 · 0.8 = 10 800 m > R.
    nothing(crossing(90.0))


def test_overtaking_enters_within_the_look_ahead() -> None:
    # Same track, 250 m/s behind 200 m/s, 0.1° (11 119.5 m) apart: closing at 50 m/s.
    d = 0.1 * M
    c = only(traffic((0, 0, 11_000, 250, 90, 0), (0, 0.1, 11_000, 200, 90, 0)))
    assert float(c.tcpa_s[0]) == pytest.approx(d / 50, **APPROX)
    assert float(c.tin_s[0]) == pytest.approx((d - R) / 50, **APPROX)


def test_overtaking_too_slowly_to_enter_within_the_look_ahead() -> None:
    # 0.5° apart at 50 m/s: enters after (55 597 - 9260)/50 = 927 s > 300 s.
    nothing(traffic((0, 0, 11_000, 250, 90, 0), (0, 0.5, 11_000, 200, 90, 0)))


def test_parallel_inside_the_minimum_is_a_standing_loss_of_separation() -> None:
    # Same velocity, 8 km abreast: relative speed 0 (BlueSky's floor 1e-3 m/s), so the pair is in
    # loss of separation now and stays in it (exit far beyond any look-ahead).
    c = only(traffic((0, 0, 10_000, 200, 90, 0), (8000 / M, 0, 10_000, 200, 90, 0)))
    assert c.los[0]
    assert float(c.dist_m[0]) == pytest.approx(8000.0, rel=1e-9)
    assert float(c.dcpa_m[0]) == pytest.approx(8000.0, rel=1e-6)
    half = math.sqrt(R**2 - 8000**2) / 1e-3
    assert float(c.tin_s[0]) == pytest.approx(-half, rel=1e-6)
    assert float(c.tout_s[0]) == pytest.approx(half, rel=1e-6)


def test_parallel_outside_the_minimum_is_clear() -> None:
    nothing(traffic((0, 0, 10_000, 200, 90, 0), (10_000 / M, 0, 10_000, 200, 90, 0)))


def test_already_in_loss_of_separation_and_leaving() -> None:
    # 0.05° (5559.7 m) apart, flying apart at 400 m/s: CPA was 13.9 s ago, the pair leaves the
    # minimum at (R - d)/400 = 9.25 s, and is in conflict until then.
    d = 0.05 * M
    c = only(traffic((0, 0, 10_000, 200, 270, 0), (0, 0.05, 10_000, 200, 90, 0)))
    assert c.los[0]
    assert float(c.tcpa_s[0]) == pytest.approx(-d / 400, **APPROX)
    assert float(c.tin_s[0]) == pytest.approx(-(d + R) / 400, **APPROX)
    assert float(c.tout_s[0]) == pytest.approx((R - d) / 400, **APPROX)
    assert len(in_los(traffic((0, 0, 10_000, 200, 270, 0), (0, 0.05, 10_000, 200, 90, 0)))) == 1


def test_left_the_minimum_already() -> None:
    nothing(traffic((0, 0, 10_000, 200, 270, 0), (0, 9300 / M, 10_000, 200, 90, 0)))


def test_vertical_only_convergence() -> None:
    # Same place and velocity, B 1000 m above and descending at 10 m/s: in vertical loss of
    # separation from (1000 - H)/10 = 69.52 s to (1000 + H)/10 = 130.48 s.
    c = only(traffic((0, 0, 10_000, 200, 90, 0), (0, 0, 11_000, 200, 90, -10)))
    assert float(c.tin_s[0]) == pytest.approx((1000 - H) / 10, rel=1e-9)
    assert float(c.tout_s[0]) == pytest.approx((1000 + H) / 10, rel=1e-9)
    assert float(c.dalt_m[0]) == -1000.0
    assert not c.los[0]


def test_vertical_convergence_beyond_the_look_ahead() -> None:
    # 4000 m above at 10 m/s: enters at 369.5 s > 300 s.
    nothing(traffic((0, 0, 10_000, 200, 90, 0), (0, 0, 14_000, 200, 90, -10)))


def test_the_look_ahead_bounds_entry_not_cpa() -> None:
    # Head-on at 400 m/s, entering at 290 s: CPA at 313.2 s, beyond the look-ahead, still reported.
    d = 290 * 400 + R
    c = only(traffic((0, 0, 10_000, 200, 90, 0), (0, d / M, 10_000, 200, 270, 0)))
    assert float(c.tin_s[0]) == pytest.approx(290.0, **APPROX)
    assert float(c.tcpa_s[0]) == pytest.approx(d / 400, **APPROX) and float(c.tcpa_s[0]) > 300
    # entering at 310 s: not yet
    nothing(traffic((0, 0, 10_000, 200, 90, 0), (0, (310 * 400 + R) / M, 10_000, 200, 270, 0)))


def test_level_pair_exactly_at_the_vertical_minimum_is_separated() -> None:
    # Adjacent flight levels are standard separation: a level pair is in vertical conflict only
    # while |Δalt| < H. (BlueSky's numpy detector floors |Δvs| at 1e-6 m/s and would report the
    # gaps of H and H + 0.1 mm: the one documented difference.)
    head_on = ((0, 0, 10_000, 200, 90, 0), (0, 0.5, 10_000, 200, 270, 0))

    def at_gap(gap: float) -> States:
        (a, b) = head_on
        return traffic(a, (*b[:2], 10_000 + gap, *b[3:]))

    nothing(at_gap(H))
    nothing(at_gap(H + 1e-4))
    nothing(at_gap(H + 1.0))
    assert only(at_gap(H - 1e-4)).pairs() == {(0, 1)}
    assert only(at_gap(-(H - 1e-4))).pairs() == {(0, 1)}
    nothing(at_gap(-H))


def test_same_party_is_left_out_unless_all_pairs() -> None:
    rows = ((0, 0, 10_000, 200, 90, 0), (0, 0.5, 10_000, 200, 270, 0))
    nothing(traffic(*rows, group=[1, 1]))
    assert only(traffic(*rows, group=[1, 2])).pairs() == {(0, 1)}
    assert only(traffic(*rows, group=[1, 1]), TacticalPolicy(all_pairs=True)).pairs() == {(0, 1)}
    assert only(traffic(*rows)).pairs() == {(0, 1)}  # no groups: everyone is their own party


def test_all_pairs_of_three_sorted() -> None:
    # Three aircraft converging on one point from the west, east and south, two of one party.
    rows = (
        (0, -0.3, 10_000, 200, 90, 0),
        (0, 0.3, 10_000, 200, 270, 0),
        (-0.3, 0, 10_000, 200, 0, 0),
    )
    assert detect(traffic(*rows, group=[0, 0, 1])).pairs() == {(0, 2), (1, 2)}
    c = detect(traffic(*rows, group=[0, 0, 1]), TacticalPolicy(all_pairs=True))
    assert list(zip(c.i.tolist(), c.j.tolist(), strict=True)) == [(0, 1), (0, 2), (1, 2)]


def test_across_the_antimeridian() -> None:
    # 179.95° E and 179.95° W are 0.1° apart: closing at 400 m/s, entering at (11 119.5 - R)/400.
    c = only(traffic((0, 179.95, 10_000, 200, 90, 0), (0, -179.95, 10_000, 200, 270, 0)))
    assert float(c.tin_s[0]) == pytest.approx((0.1 * M - R) / 400, rel=1e-6)
    assert float(c.dist_m[0]) == pytest.approx(0.1 * M, rel=1e-6)


def test_identical_positions_and_velocities() -> None:
    c = only(traffic((45, 7, 10_000, 0, 0, 0), (45, 7, 10_000, 0, 0, 0)))
    assert c.los[0] and float(c.dist_m[0]) == 0.0


def test_no_aircraft_and_one_aircraft() -> None:
    empty = States.from_arrays(lat=[], lon=[], alt_m=[], gs_mps=[], trk_deg=[], vs_mps=[])
    assert len(detect(empty)) == 0 and len(detect_all_pairs(empty)) == 0
    nothing(traffic((0, 0, 10_000, 200, 90, 0)))


@pytest.mark.parametrize(
    ("cols", "field"),
    [
        ({"lat": [0.0, 0.0]}, "lon"),  # lon has 1 row, lat 2
        ({"lat": [91.0]}, "lat"),
        ({"alt_m": [math.nan]}, "alt_m"),
        ({"gs_mps": [-1.0]}, "gs_mps"),
        ({"trk_deg": [[0.0]]}, "trk_deg"),
        ({"group": [0.5]}, "group"),
    ],
)
def test_bad_states_name_the_field(cols: dict[str, list[float]], field: str) -> None:
    base: dict[str, object] = {"lat": [0.0], "lon": [0.0], "alt_m": [0.0], "gs_mps": [1.0], "trk_deg": [0.0]}
    base["vs_mps"] = [0.0]
    with pytest.raises(ValidationError) as e:
        States.from_arrays(**{**base, **cols})
    assert e.value.errors[0].path == field


@pytest.mark.parametrize("field", ["rpz_m", "hpz_m", "lookahead_s"])
@pytest.mark.parametrize("value", [0.0, -1.0, math.inf, math.nan])
def test_bad_policy_names_the_field(field: str, value: float) -> None:
    with pytest.raises(ValidationError) as e:
        TacticalPolicy(**{field: value})
    assert e.value.errors[0].path == field


def test_states_are_contiguous_float64_copies() -> None:
    lat = np.array([1, 2], dtype=np.int32)
    s = States.from_arrays(
        lat=lat, lon=[0, 0], alt_m=[0, 0], gs_mps=[0, 0], trk_deg=[0, 0], vs_mps=[0, 0], group=[3, 4]
    )
    assert s.lat.dtype == np.float64 and s.lat.flags.c_contiguous
    assert s.group is not None and s.group.dtype == np.int64
