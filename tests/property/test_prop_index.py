"""Index completeness: VolumeIndex finds exactly the conflicts that brute force finds.

Notices of several parties (and protected sites) are clustered around an awkward place (a pole, the
antimeridian, an S2 cube-face edge or corner, or anywhere), with windows straddling the 6-hour
bucket boundaries and random separation minima. For each query notice, the set of
``(stored key, query volume, stored volume)`` that :meth:`VolumeIndex.conflicts` returns must equal
the set from :func:`notice_conflicts` run against every live stored notice. Removing and replacing
notices must keep that true.

A second property checks the fact the index's completeness rests on: every point of a shape (its
core and its buffer's rim) lies within ``bound_m`` of its centre, and inside the S2 covering under
which the shape is stored.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import replace

import numpy as np
import oracle
import s2geometry as s2
from hypothesis import event, given, settings
from hypothesis import strategies as st
from prop_shapes import Spec, fwd, places, specs, volume

from deconflict.domain import cells
from deconflict.domain.horizontal import separation
from deconflict.domain.index import VolumeIndex
from deconflict.domain.policy import RELATIVE_TOLERANCE, SeparationPolicy
from deconflict.domain.strategic import may_conflict, notice_conflicts, time_gap_s, vertical_gap_m
from deconflict.domain.volumes import AltitudeReference, Notice, Volume4D

BUCKET_S = 6 * 3600
PARTIES = ("red", "blue", "authority")


@st.composite
def volumes_near(draw: st.DrawFn, hotspot: tuple[float, float]) -> Volume4D:
    center = fwd(*hotspot, draw(st.floats(0, 360)), draw(st.floats(0, 30_000)))
    spec = draw(specs(center, st.floats(250, 8_000)))
    ref = draw(st.sampled_from(list(AltitudeReference)))
    lo = float(draw(st.integers(0, 30)) * 100)
    hi = lo + float(draw(st.integers(0, 30)) * 100)
    # Start within 2 hours of a bucket boundary; windows from a minute to 14 hours, and now and
    # then one of weeks (keyed under long buckets, a week each: cells.store_buckets).
    t0 = float(BUCKET_S * draw(st.integers(78_800, 78_802)) + draw(st.integers(-7200, 7200)))
    t1 = t0 + float(draw(st.integers(60, 14 * 3600) | st.integers(8 * 86400, 40 * 86400)))
    if t1 - t0 > 14 * 3600:  # past the parser's window limit (a theater may allow it)
        return replace(volume(spec, lo, hi, ref, t0, t0 + 3600.0), time_end=t1)
    return volume(spec, lo, hi, ref, t0, t1)


@st.composite
def notices(draw: st.DrawFn, hotspot: tuple[float, float]) -> Notice:
    protected = draw(st.integers(0, 6)) == 0
    # An authority files protected sites and ordinary notices; a site may share a party with a notice.
    party = draw(st.sampled_from(PARTIES))
    vols = tuple(draw(st.lists(volumes_near(hotspot), min_size=1, max_size=3)))
    return Notice(party=party, volumes=vols, protected=protected)


policies = st.builds(
    SeparationPolicy,
    horizontal_m=st.floats(0, 30_000) | st.just(0.0),
    vertical_m=st.floats(0, 600) | st.just(0.0),
    time_s=st.floats(0, 7200) | st.just(0.0),
)


def brute(query: Notice, stored: dict[Hashable, Notice], policy: SeparationPolicy, exclude: Hashable | None) -> set:
    out = set()
    for key, n in stored.items():
        if key == exclude:
            continue
        found = {(key, c.volume_a, c.volume_b) for c in notice_conflicts(query, n, policy)}
        # The party rule, from the design: different parties, or exactly one protected site.
        if query.protected == n.protected and (query.protected or query.party == n.party):
            assert not found, "notices that must not be checked against each other conflict"
        out |= found
    return out


def indexed(idx: VolumeIndex, query: Notice, policy: SeparationPolicy, exclude: Hashable | None) -> set:
    key_of = {id(n): k for k, n in idx.notices()}
    conflicts = idx.conflicts(query, policy, exclude)
    assert all(c.a is query for c in conflicts)
    found = [(key_of[id(c.b)], c.volume_a, c.volume_b) for c in conflicts]
    assert len(found) == len(set(found)), "the index reported a conflict twice"
    return set(found)


def boundary_policy(data: st.DataObject, queries: list[Notice], stored: list[Notice]) -> SeparationPolicy:
    """Minima equal to the exact horizontal, vertical and time gaps of one (query, stored) volume
    pair, or a hair either side: the pair is then right at the edge of the policy, where an index
    that prunes with the wrong bound would lose it."""
    q = data.draw(st.sampled_from(queries))
    others = [n for n in stored if may_conflict(q, n)] or stored
    qa = data.draw(st.sampled_from(q.volumes))
    sb = data.draw(st.sampled_from([v for n in others for v in n.volumes]))
    h = separation(qa.shape, sb.shape).distance_m
    factor = data.draw(st.sampled_from([1.0, 1 + 1e-9, 1 - 1e-9, 1 + RELATIVE_TOLERANCE, 0.995, 0.99, 0.98]))
    probe = SeparationPolicy()
    allowance = probe.vertical_allowance_m(qa.altitude.reference, sb.altitude.reference)
    return SeparationPolicy(
        horizontal_m=h * factor,
        vertical_m=max(0.0, vertical_gap_m(qa, sb) - allowance),
        time_s=max(0.0, time_gap_s(qa, sb)),
    )


@given(data=st.data(), hotspot=places, policy=policies, at_boundary=st.booleans())
@settings(max_examples=150, deadline=None)
def test_index_finds_exactly_the_brute_force_conflicts(
    data: st.DataObject, hotspot: tuple[float, float], policy: SeparationPolicy, at_boundary: bool
) -> None:
    stored_list = data.draw(st.lists(notices(hotspot), min_size=1, max_size=10))
    queries = data.draw(st.lists(notices(hotspot), min_size=1, max_size=3))
    if at_boundary:
        policy = boundary_policy(data, queries, stored_list)
    idx = VolumeIndex()
    live: dict[Hashable, Notice] = {}
    for i, n in enumerate(stored_list):
        idx.add(f"n{i}", n)
        live[f"n{i}"] = n
    # Forget some, replace some (the old volumes must no longer be found).
    for key in data.draw(st.lists(st.sampled_from(sorted(live)), max_size=2, unique=True)):
        idx.remove(key)
        del live[key]
    if live and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(live)))
        live[key] = data.draw(notices(hotspot))
        idx.add(key, live[key])
    assert len(idx) == sum(len(n.volumes) for n in live.values())

    total = 0
    for q in queries:
        expect = brute(q, live, policy, None)
        assert indexed(idx, q, policy, None) == expect
        total += len(expect)
    # Stored notices as queries, excluding themselves (how a revision is checked).
    for key, n in live.items():
        expect = brute(n, live, policy, key)
        assert indexed(idx, n, policy, key) == expect
        total += len(expect)
    event(f"conflicts found: {'none' if total == 0 else '1-4' if total < 5 else '5+'}")


@given(data=st.data(), hotspot=places, seed=st.integers(0, 2**32 - 1))
@settings(max_examples=8, deadline=None)
def test_index_complete_after_bucket_merges(data: st.DataObject, hotspot: tuple[float, float], seed: int) -> None:
    """Enough volumes in one bucket that its insert tail (256 keys) is merged several times."""
    policy = SeparationPolicy(horizontal_m=5_000.0, vertical_m=300.0, time_s=600.0)
    idx = VolumeIndex()
    live: dict[Hashable, Notice] = {}
    rng = np.random.default_rng(seed)
    t0 = float(BUCKET_S * 78_800 + rng.integers(-3600, 3600))
    for i in range(int(rng.integers(150, 200))):
        lat, lon = fwd(*hotspot, float(rng.uniform(0, 360)), float(rng.uniform(0, 60_000)))
        spec = Spec("circle", ((lat, lon),), float(rng.uniform(200, 3_000)), via_json=False)
        v = volume(spec, 0.0, 1000.0, AltitudeReference.W84, t0 + 60 * (i % 7), t0 + 3600)
        n = Notice(party=PARTIES[i % 3], volumes=(v,))
        idx.add(i, n)
        live[i] = n
    for q in data.draw(st.lists(notices(hotspot), min_size=2, max_size=4)):
        assert indexed(idx, q, policy, None) == brute(q, live, policy, None)


def _in_covering(covering: list, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    out = []
    for a, b in zip(lat, lon, strict=True):
        leaf = s2.S2CellId(s2.S2LatLng.FromDegrees(float(a), float(b)).Normalized().ToPoint())
        out.append(any(c.contains(leaf) for c in covering))
    return np.array(out)


@given(center=places, data=st.data())
@settings(max_examples=80, deadline=None)
def test_shape_lies_within_its_bound_and_stored_cells(center: tuple[float, float], data: st.DataObject) -> None:
    spec = data.draw(specs(center, st.floats(250, 10_000) | st.floats(10_000, 300_000)))
    shape = volume(spec).shape
    lat, lon = oracle.samples(spec.oracle, step_m=max(50.0, shape.bound_m / 200))
    clat, clon = shape.center
    # Points on the buffer's rim around every sampled core point: straight away from the centre
    # (the farthest) and at 12 azimuths.
    if spec.buffer_m > 0:
        k = len(lat)
        _, back, _ = oracle.GEOD.inv(np.full(k, clon), np.full(k, clat), lon, lat)
        az = np.concatenate([np.asarray(back) + 180.0, np.tile(np.arange(0.0, 360.0, 30.0), k)])
        base = np.concatenate([np.arange(k), np.repeat(np.arange(k), 12)])
        rlon, rlat, _ = oracle.GEOD.fwd(lon[base], lat[base], az, np.full(len(az), spec.buffer_m))
        lat, lon = np.concatenate([lat, rlat]), np.concatenate([lon, rlon])
    _, _, d = oracle.GEOD.inv(np.full(len(lat), clon), np.full(len(lat), clat), lon, lat)
    assert float(np.max(d)) <= shape.bound_m, (float(np.max(d)), shape.bound_m)
    # The stored covering contains every point (checked on a subsample: S2 look-ups are slow).
    keep = np.linspace(0, len(lat) - 1, min(len(lat), 200)).astype(int)
    covering = cells.cap_cells(clat, clon, shape.bound_m)
    assert _in_covering(covering, lat[keep], lon[keep]).all()
    assert math.isfinite(shape.bound_m)
