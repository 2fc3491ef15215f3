"""Vertical and time boundaries of strategic detection: touching counts, a hair beyond does not.

Altitudes, minima and times are dyadic (multiples of 2⁻⁸), so every gap the engine computes is
exact and the boundary cases ``gap == minimum`` really are on the boundary. Shapes are placed so
that they are always within the (generous) horizontal minimum, which the horizontal property
covers on its own; the vertical and time decisions are then the only ones left.
"""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st
from prop_shapes import fwd, places, specs, volume

from deconflict.domain.policy import GEOID_ALLOWANCE_M, PRESSURE_ALLOWANCE_M, SeparationPolicy
from deconflict.domain.strategic import volume_conflict, volumes_within
from deconflict.domain.volumes import AltitudeReference

HAIR = 2.0**-8
"""The smallest step of the dyadic grid: 3.9 mm or 3.9 ms."""
BUCKET_S = 6 * 3600
REFS = list(AltitudeReference)


def expected_allowance(a: AltitudeReference, b: AltitudeReference) -> float:
    """Written from the policy's documentation, not its code."""
    refs = {a, b}
    if len(refs) == 1:
        return 0.0
    if refs == {AltitudeReference.W84, AltitudeReference.AMSL}:
        return GEOID_ALLOWANCE_M
    if refs == {AltitudeReference.STD, AltitudeReference.AMSL}:
        return PRESSURE_ALLOWANCE_M
    return PRESSURE_ALLOWANCE_M + GEOID_ALLOWANCE_M  # STD against W84


def dyadic(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.integers(int(lo * 256), int(hi * 256)).map(lambda k: k / 256)


offsets = st.one_of(
    st.sampled_from([-HAIR, 0.0, HAIR]),
    st.sampled_from([-1.0, 1.0, 0.0]),
    dyadic(-3000, 3000),
)
"""Gap minus the effective minimum: on the boundary, a hair either side, or anywhere."""


@given(
    center=places,
    data=st.data(),
    ref_a=st.sampled_from(REFS),
    ref_b=st.sampled_from(REFS),
    v_min=dyadic(0, 1000) | st.sampled_from([0.0, 304.75]),
    t_min=dyadic(0, 3600) | st.sampled_from([0.0, 300.0]),
    dv=offsets,
    dt=offsets,
    b_above=st.booleans(),
    b_later=st.booleans(),
)
@settings(max_examples=300, deadline=None)
def test_conflict_iff_within_vertical_and_time_minima(
    center: tuple[float, float],
    data: st.DataObject,
    ref_a: AltitudeReference,
    ref_b: AltitudeReference,
    v_min: float,
    t_min: float,
    dv: float,
    dt: float,
    b_above: bool,
    b_later: bool,
) -> None:
    policy = SeparationPolicy(horizontal_m=60_000.0, vertical_m=v_min, time_s=t_min)
    allowance = policy.vertical_allowance_m(ref_a, ref_b)
    assert allowance == expected_allowance(ref_a, ref_b) == policy.vertical_allowance_m(ref_b, ref_a)

    # Two shapes within 25 km of each other (each reaches at most ~15 km): always within 60 km.
    sa = data.draw(specs(center, st.floats(250, 5_000)))
    sb = data.draw(
        specs(fwd(*center, data.draw(st.floats(0, 360)), data.draw(st.floats(0, 10_000))), st.floats(250, 5_000))
    )

    # Band a; band b placed so that the gap is exactly v_min + allowance + dv (negative: overlap).
    a_lo = data.draw(dyadic(8000, 12_000))
    a_hi = a_lo + data.draw(dyadic(0, 3000))
    gap = v_min + allowance + dv
    thick = data.draw(dyadic(0, 3000))
    if b_above:
        b_lo = a_hi + gap
        b_hi = max(b_lo, a_lo) + thick
    else:
        b_hi = a_lo - gap
        b_lo = min(b_hi, a_hi) - thick
    # Windows likewise, around a 6-hour bucket boundary.
    a_t0 = BUCKET_S * data.draw(st.integers(78_000, 80_000)) + data.draw(dyadic(-7200, 7200))
    a_t1 = a_t0 + data.draw(dyadic(1, 4 * 3600))
    tgap = t_min + dt
    length = data.draw(dyadic(1, 4 * 3600))
    if b_later:
        b_t0 = a_t1 + tgap
        b_t1 = max(b_t0, a_t0) + length
    else:
        b_t1 = a_t0 - tgap
        b_t0 = min(b_t1, a_t1) - length

    va = volume(sa, a_lo, a_hi, ref_a)
    vb = volume(sb, b_lo, b_hi, ref_b)
    va = dataclasses.replace(va, time_start=a_t0, time_end=a_t1)
    vb = dataclasses.replace(vb, time_start=b_t0, time_end=b_t1)

    # Ground truth, from the intervals themselves.
    true_vgap = max(b_lo - a_hi, a_lo - b_hi)
    true_tgap = max(b_t0 - a_t1, a_t0 - b_t1)
    expect = true_vgap <= v_min + allowance and true_tgap <= t_min
    if dv <= 0:
        assert true_vgap <= v_min + allowance
    if dt <= 0:
        assert true_tgap <= t_min
    for x, y in ((va, vb), (vb, va)):
        c = volume_conflict(x, y, policy)
        assert (c is not None) == expect, (true_vgap, v_min + allowance, true_tgap, t_min, c)
        assert volumes_within(x, y, policy) == expect
        if c is not None:
            assert c.vertical_gap_m == true_vgap
            assert c.time_gap_s == true_tgap
            # The slice is where both volumes, each grown by half the minima, overlap.
            assert c.altitude_lower_m <= c.altitude_upper_m
            assert c.time_start <= c.time_end


@given(center=places, data=st.data(), ref=st.sampled_from(REFS))
@settings(max_examples=60, deadline=None)
def test_touching_counts_with_zero_minima(
    center: tuple[float, float], data: st.DataObject, ref: AltitudeReference
) -> None:
    """Zero minima everywhere: bands and windows that only touch still conflict, a hair apart do not."""
    sa = data.draw(specs(center, st.floats(250, 5_000), kinds=("circle", "polygon")))
    va = volume(sa, 1000.0, 2000.0, ref, 1_700_000_000.0, 1_700_003_600.0)
    zero = SeparationPolicy(horizontal_m=0.0, vertical_m=0.0, time_s=0.0)
    # Same shape: overlapping plan; bands touch at 2000 m; windows touch at the end of a.
    vb = dataclasses.replace(va, altitude=dataclasses.replace(va.altitude, lower_m=2000.0, upper_m=2500.0))
    vb = dataclasses.replace(vb, time_start=1_700_003_600.0, time_end=1_700_007_200.0)
    assert volume_conflict(va, vb, zero) is not None
    assert volume_conflict(vb, va, zero) is not None
    above = dataclasses.replace(vb, altitude=dataclasses.replace(vb.altitude, lower_m=2000.0 + HAIR))
    assert volume_conflict(va, above, zero) is None
    later = dataclasses.replace(vb, time_start=1_700_003_600.0 + HAIR)
    assert volume_conflict(va, later, zero) is None
