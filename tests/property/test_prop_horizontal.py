"""No false negatives in strategic horizontal detection, near-touching included, against the oracle.

For every generated pair the oracle gives ``d_o`` with ``d_o - s/2 <= true <= d_o``. Then:

- with the horizontal minimum ``H = d_o`` (and a hair above it) the pair is within the minimum
  (``true <= d_o <= H``), so :func:`volume_conflict` must report it, in both argument orders;
- a nanometre-scale hair *below* ``d_o`` is within the stated absolute tolerance (1 m), which the
  engine promises to accept, so it must be reported too;
- the reported ``min_distance_m`` is within the design's 0.5 % (+1 m) of the truth:
  ``d_o - s/2 - 0.005·d_o - 1 <= engine <= d_o + 0.005·d_o + 1``;
- false positives stay within the tolerance: a minimum far enough below the truth (beyond the
  0.5 % + 1 m the engine may add, and beyond its own 0.5 % + 1 m error) is not reported.
"""

from __future__ import annotations

import math

import oracle
from hypothesis import event, given, settings
from hypothesis import strategies as st
from prop_shapes import Spec, pairs, touching_pairs, volume

from deconflict.domain.policy import ABSOLUTE_TOLERANCE_M, RELATIVE_TOLERANCE, SeparationPolicy
from deconflict.domain.strategic import volume_conflict, volumes_within

STEP_M = 150.0
"""Oracle sampling step for shapes of 0.5–20 km."""
LARGE_STEP_M = 1000.0
"""Oracle sampling step for shapes of 60–600 km."""


def _band(d: float) -> int:
    return next(b for b in (10, 100, 1000, 10_000, 100_000, 10**9) if d <= b)


def check_pair(a: Spec, b: Spec, step_m: float) -> None:
    va, vb = volume(a), volume(b)
    o = oracle.distance(a.oracle, b.oracle, step_m)
    d_o = o.distance_m
    event(f"{a.kind}-{b.kind}")
    event("cores intersect" if o.intersect else "shapes overlap" if d_o == 0 else f"apart: ≤{_band(d_o)} m")
    info = f"oracle={o} a={a} b={b}"

    for h in (d_o, math.nextafter(d_o, math.inf), d_o * (1 + 1e-9), d_o + 1e-6, d_o * (1 - 1e-9)):
        policy = SeparationPolicy(horizontal_m=h)
        for x, y in ((va, vb), (vb, va)):
            c = volume_conflict(x, y, policy)
            assert c is not None, f"false negative at H={h!r}: {info}"
            assert volumes_within(x, y, policy), f"volumes_within: false negative at H={h!r}: {info}"

    c = volume_conflict(va, vb, SeparationPolicy(horizontal_m=d_o))
    assert c is not None
    engine = c.min_distance_m
    lo = d_o - o.error_m - RELATIVE_TOLERANCE * d_o - ABSOLUTE_TOLERANCE_M
    hi = d_o + RELATIVE_TOLERANCE * d_o + ABSOLUTE_TOLERANCE_M
    assert lo <= engine <= hi, f"engine distance {engine} outside [{lo}, {hi}]: {info}"
    if o.intersect:  # cores that meet (touching included, to float precision)
        assert engine <= 1e-3, f"cores intersect but engine says {engine}: {info}"

    # Bounded false positives: the true core distance is at least core_lo; the engine measures it
    # to 0.5 % + 1 m and declares up to (buffers + H)·1.005 + 1. Below that, it must stay silent.
    buffers = a.buffer_m + b.buffer_m
    core_lo = 0.0 if o.intersect else max(0.0, o.core_m - o.error_m)
    h_far = ((core_lo * (1 - RELATIVE_TOLERANCE) - 2 * ABSOLUTE_TOLERANCE_M) / (1 + RELATIVE_TOLERANCE)) - buffers - 1
    if h_far >= 0:
        assert volume_conflict(va, vb, SeparationPolicy(horizontal_m=h_far)) is None, f"H={h_far}: {info}"
        assert not volumes_within(va, vb, SeparationPolicy(horizontal_m=h_far)), f"volumes_within H={h_far}: {info}"


@given(pair=pairs())
@settings(max_examples=600, deadline=None)
def test_no_false_negatives_near_touching(pair: tuple[Spec, Spec]) -> None:
    check_pair(*pair, STEP_M)


@given(pair=pairs(size_m=st.floats(30_000, 300_000), max_gap_m=100_000.0))
@settings(max_examples=40, deadline=None)
def test_no_false_negatives_large_shapes(pair: tuple[Spec, Spec]) -> None:
    """Shapes up to the design's 1000 km extents keep 0.5 % accuracy and never miss."""
    check_pair(*pair, LARGE_STEP_M)


@given(pair=touching_pairs())
@settings(max_examples=400, deadline=None)
def test_no_false_negatives_touching(pair: tuple[Spec, Spec]) -> None:
    """Outlines that touch, or miss or overlap by a hair: at ``H = 0`` (or the hair) they conflict."""
    check_pair(*pair, STEP_M)
