"""Recurring schedules against a brute-force oracle that samples every minute.

Window bounds, envelopes and the time minimum are whole minutes, so two closed minute-aligned sets
come within the minimum exactly when some pair of their minute samples does: sampling every minute
is then an exact oracle, written from the documented meaning (docs/notices.md) and not from the
code: an instant is active when it lies in the envelope and in a window that starts on a listed
weekday (that day or, for a window crossing midnight, the day before).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.domain.index import VolumeIndex
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.schedule import DailyWindow, Schedule, active_at, first_active_from, first_meeting
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.domain.strategic import notice_conflicts, volume_conflict
from deconflict.domain.volumes import AltitudeBand, Notice, Volume4D
from deconflict.services.filing import lead_time

MIN = 60
DAY_MIN = 1440
BASE = 1_767_225_600  # 2026-01-01T00:00:00Z, a Thursday
WEEKDAY_OF_BASE = 3


def active_minutes(t0: int, t1: int, s: Schedule | None, lo: int, n: int) -> npt.NDArray[np.bool_]:
    """Minute samples ``lo, lo + 1, …`` (minutes since BASE): whether each is active."""
    m = np.arange(lo, lo + n)
    inside = (m >= t0) & (m <= t1)
    if s is None:
        return inside
    day = np.floor_divide(m, DAY_MIN)
    clock = m - day * DAY_MIN
    hit = np.zeros(n, bool)
    for w in s.windows:
        start, end = w.start_s // MIN, w.end_s // MIN
        for back in (0, 1):  # a window that started today, or yesterday and runs past midnight
            listed = np.isin((day - back + WEEKDAY_OF_BASE) % 7, list(s.days))
            c = clock + back * DAY_MIN
            length = end - start if end > start else end + DAY_MIN - start
            hit |= listed & (c >= start) & (c <= start + length)
    return inside & hit


def oracle_meet(a: tuple[int, int, Schedule | None], b: tuple[int, int, Schedule | None], reach: int) -> int | None:
    """The first minute of ``a`` active with an active minute of ``b`` within ``reach`` minutes."""
    lo = min(a[0], b[0]) - reach - 1
    n = max(a[1], b[1]) - lo + reach + 2
    xa = active_minutes(*a, lo, n)
    xb = active_minutes(*b, lo, n)
    grown = np.zeros(n, bool)
    for k in range(-reach, reach + 1):
        grown |= np.roll(xb, k) if k else xb  # the ends are inactive padding, so rolling wraps nothing
    both = np.flatnonzero(xa & grown)
    return int(lo + both[0]) if len(both) else None


windows = st.builds(
    lambda start, length: DailyWindow(start * MIN, (start + length) % DAY_MIN * MIN or 86400),
    st.integers(0, DAY_MIN - 1),
    st.one_of(st.integers(1, 180), st.integers(1, DAY_MIN - 1)),
)
schedules = st.builds(
    Schedule,
    st.lists(windows, min_size=1, max_size=3).map(tuple),
    st.sets(st.integers(0, 6), min_size=1).map(frozenset),
)


@st.composite
def timed(draw: st.DrawFn, max_days: int = 20) -> tuple[int, int, Schedule | None]:
    """(start, end, schedule) in minutes since BASE; a third of them without a schedule."""
    t0 = draw(st.integers(0, 10 * DAY_MIN))
    s = draw(st.none() | schedules | schedules)
    span = draw(st.integers(1, (max_days if s is not None else 2) * DAY_MIN))
    return t0, t0 + span, s


def seconds(x: tuple[int, int, Schedule | None]) -> tuple[float, float, Schedule | None]:
    return float(BASE + x[0] * MIN), float(BASE + x[1] * MIN), x[2]


@settings(max_examples=400, deadline=None)
@given(a=timed(), b=timed(), reach=st.sampled_from([0, 1, 5, 90]))
def test_first_meeting_matches_minute_sampling(
    a: tuple[int, int, Schedule | None], b: tuple[int, int, Schedule | None], reach: int
) -> None:
    got = first_meeting(seconds(a), seconds(b), reach * MIN)
    want = oracle_meet(a, b, reach)
    assert (got is None) == (want is None), (got, want)
    if got is None or want is None:
        return
    (x0, x1), (y0, y1) = got
    # the pair is within the minimum, and the first conflicting minute of a lies in its interval
    assert max(y0 - x1, x0 - y1) <= reach * MIN
    assert x0 <= BASE + want * MIN <= x1
    for t, v in ((x0, a), (x1, a), (y0, b), (y1, b)):
        tm = int((t - BASE) // MIN)
        assert active_minutes(v[0], v[1], v[2], tm, 1)[0], (t, v)


@settings(max_examples=300, deadline=None)
@given(a=timed(), t=st.integers(-DAY_MIN, 40 * DAY_MIN))
def test_active_at_and_first_occurrence_match_sampling(a: tuple[int, int, Schedule | None], t: int) -> None:
    s = a[2]
    if s is None:
        return
    t0, t1, _ = seconds(a)
    assert active_at(s, t0, t1, BASE + t * MIN) == bool(active_minutes(a[0], a[1], s, t, 1)[0])
    first = first_active_from(s, t0, t1, BASE + t * MIN)
    lo = max(t, a[0])
    later = np.flatnonzero(active_minutes(a[0], a[1], s, lo, max(a[1] - lo + 1, 0))) + lo  # active at or after t
    if first is None:
        assert not len(later)
        return
    assert len(later)
    # the first interval not ended by t: it holds the first active minute at or after t
    assert first[0] <= BASE + later[0] * MIN <= first[1]


def _volume(x: tuple[int, int, Schedule | None], lat: float) -> Volume4D:
    shape = make_shape(ShapeKind.CIRCLE, [(lat, 35.0)], 2000.0)
    t0, t1, s = seconds(x)
    return Volume4D(shape, AltitudeBand(0.0, 1000.0), t0, t1, s)


@settings(max_examples=150, deadline=None)
@given(
    xs=st.lists(st.tuples(timed(), st.sampled_from([33.0, 33.01, 33.5]), st.sampled_from("AB")), min_size=2, max_size=6)
)
def test_detection_with_schedules_matches_brute_force(
    xs: list[tuple[tuple[int, int, Schedule | None], float, str]],
) -> None:
    check_detection(xs)


def check_detection(xs: list[tuple[tuple[int, int, Schedule | None], float, str]]) -> None:
    """The index finds exactly the pairs the oracle finds: near in plan (33.0 and 33.01 are 1.1 km
    apart, 33.5 is 55 km away), of different parties, and active within five minutes."""
    policy = SeparationPolicy()
    notices = [Notice(party, (_volume(x, lat),), id=f"n{i}") for i, (x, lat, party) in enumerate(xs)]
    index = VolumeIndex()
    found = set()
    for n in notices:
        found |= {tuple(sorted((n.id, c.b.id))) for c in index.conflicts(n, policy)}
        index.add(n.id, n)
    want = set()
    for i, (x, lat, party) in enumerate(xs):
        for j in range(i):
            y, lat2, party2 = xs[j]
            if party != party2 and abs(lat - lat2) < 0.1 and oracle_meet(x, y, 5) is not None:
                want.add(tuple(sorted((f"n{i}", f"n{j}"))))
    assert found == want
    for i, a in enumerate(notices):  # the pairwise brute force agrees, with the slice of the first meeting
        for b in notices[:i]:
            cs = notice_conflicts(a, b, policy)
            assert bool(cs) == (tuple(sorted((a.id, b.id))) in want)
            for c in cs:
                d = volume_conflict(a.volumes[0], b.volumes[0], policy)
                assert d == c.detail and d.time_gap_s <= policy.time_s
                assert d.time_start <= d.time_end


# windows and ordinary windows that start or end a few minutes from a six-hour bucket boundary, so
# that a pair within the minimum often lies in different buckets
near_bucket_edge = st.builds(lambda k, d: (360 * k + d) % DAY_MIN, st.integers(0, 3), st.integers(-6, 6))
edge_schedules = st.builds(
    lambda start, length, days: Schedule((DailyWindow(start * MIN, (start + length) % DAY_MIN * MIN or 86400),), days),
    near_bucket_edge,
    st.integers(1, 300),
    st.sets(st.integers(0, 6), min_size=1).map(frozenset),
)


@st.composite
def over_a_year(draw: st.DrawFn) -> tuple[int, int, Schedule | None]:
    """A recurring envelope of up to a year (keyed by the week in the index), or an ordinary window
    anywhere in that year (keyed by six hours)."""
    if draw(st.booleans()):
        t0 = draw(st.integers(0, 10 * DAY_MIN))
        return t0, t0 + draw(st.integers(9 * DAY_MIN, 366 * DAY_MIN)), draw(schedules | edge_schedules)
    if draw(st.booleans()):  # ending or starting a few minutes from a bucket boundary
        edge = 360 * draw(st.integers(0, 370 * 4)) + draw(st.integers(-6, 6))
        length = draw(st.integers(1, 120))
        return (edge - length, edge, None) if draw(st.booleans()) else (edge, edge + length, None)
    t0 = draw(st.integers(0, 370 * DAY_MIN))
    return t0, t0 + draw(st.integers(1, 2 * DAY_MIN)), None


@settings(max_examples=120, deadline=None)
@given(
    xs=st.lists(st.tuples(over_a_year(), st.sampled_from([33.0, 33.01]), st.sampled_from("AB")), min_size=2, max_size=5)
)
def test_year_long_schedules_match_brute_force(xs: list[tuple[tuple[int, int, Schedule | None], float, str]]) -> None:
    """Long recurring envelopes and ordinary windows, filed in any order: the index finds exactly
    the pairs minute sampling finds, and the lead time of each is its first occurrence's."""
    check_detection(xs)
    for x, lat, party in xs:
        if x[2] is None:
            continue
        received = seconds(x)[0] - 3600.0
        n = Notice(party, (_volume(x, lat),), id="n", received_at=received)
        first = int(np.argmax(active_minutes(x[0], x[1], x[2], x[0], x[1] - x[0] + 1))) + x[0]
        assert lead_time(n) == BASE + first * MIN - received


@settings(max_examples=300, deadline=None)
@given(
    mark=st.integers(1, 365 * 4),
    start_off=st.integers(-3, 3),
    length=st.integers(1, 300),
    edge_off=st.integers(-7, 7),
    short=st.integers(1, 120),
    before=st.booleans(),
    days=st.just(frozenset(range(7))) | st.sets(st.integers(0, 6), min_size=1).map(frozenset),
)
def test_a_year_long_schedule_finds_an_ordinary_window_across_a_bucket_edge(
    mark: int, start_off: int, length: int, edge_off: int, short: int, before: bool, days: frozenset[int]
) -> None:
    """An ordinary window that ends just before an occurrence starts (or starts just after one
    ends), a six-hour bucket boundary between them: the year-long volume's look-up, which reads only
    the buckets near its occurrences, finds it exactly when minute sampling says they meet."""
    start = (360 * mark + start_off) % DAY_MIN
    s = Schedule((DailyWindow(start * MIN, (start + length) % DAY_MIN * MIN or 86400),), days)
    year = (0, 366 * DAY_MIN, s)
    if before:  # ends near the occurrence's start
        edge = 360 * mark + start_off + edge_off
        other: tuple[int, int, Schedule | None] = (edge - short, edge, None)
    else:  # starts near its end
        edge = 360 * mark + start_off + length + edge_off
        other = (edge, edge + short, None)
    check_detection([(other, 33.0, "A"), (year, 33.01, "B")])  # the year-long one filed last
