"""The SQL store finds exactly what the in-memory store finds: the same candidates for any look-up
and the same conflicts, resolutions and hints for a few hundred random filings, updates and
cancellations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import sqlalchemy as sa
from sqlstore_builders import T0, Theater, circle

from clocks import TickingClock
from deconflict.adapters.memory import MemoryStore
from deconflict.adapters.sql import SqlStore
from deconflict.adapters.sql.lookup import candidate_statement
from deconflict.domain import cells
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.schedule import DailyWindow, Schedule
from deconflict.domain.strategic import notice_conflicts
from deconflict.domain.volumes import Notice, NoticeState
from deconflict.services.filing import FilingResult, NoticeService
from deconflict.services.ports import ConflictRecord

FILINGS = 250
CHANGES = 60
PROBES = 60


def summary(r: FilingResult) -> tuple[object, ...]:
    """What a filing tells its party, without the random conflict ids."""

    def key(c: ConflictRecord) -> tuple[object, ...]:
        return (c.pair_key(), c.version_a, c.version_b, c.state, c.protected_site, c.detail, c.detected_at)

    return (r.notice, r.late, sorted(map(key, r.conflicts)), sorted(map(key, r.resolved)), r.hints)


def by_id(n: Notice) -> str:
    return n.id or ""


def records(recs: list[ConflictRecord]) -> list[tuple[object, ...]]:
    return sorted(
        (c.pair_key(), c.notice_a, c.version_a, c.version_b, c.state, c.detail, c.detected_at, c.resolved_at)
        for c in recs
    )


def test_random_theater_gives_the_same_results_as_memory(store: SqlStore, clock: Callable[[], float]) -> None:
    theater = Theater(seed=20150930)
    now = TickingClock(1_443_500_001.0)
    mem = MemoryStore()
    services = [NoticeService(mem, now), NoticeService(store, now)]
    filed: list[Notice] = []
    n_conflicts = 0

    def both(call: Callable[[NoticeService], FilingResult]) -> FilingResult:
        start = now.t
        a = call(services[0])
        now.t = start  # both stores see the same broker time
        b = call(services[1])
        assert summary(a) == summary(b)
        return b

    for i in range(FILINGS):
        notice = theater.notice(f"n{i:03d}")
        r = both(lambda svc, n=notice: svc.file(n))
        filed.append(r.notice)
        n_conflicts += len(r.conflicts)
    assert n_conflicts > 50, "the theater should be busy enough to test something"

    rng = theater.rng
    for _ in range(CHANGES):
        current = rng.choice(filed)
        assert current.id is not None
        with store.begin(write=False) as repo:
            latest = repo.get(current.id)
        assert latest is not None
        if not latest.state.is_live:
            continue
        if rng.random() < 0.7:
            new = Notice(party=latest.party, volumes=(theater.volume(),), id=latest.id)
            both(lambda svc, n=latest, new=new: svc.update(n.id or "", n.version, new))
        else:
            state = rng.choice([NoticeState.ACTIVE, NoticeState.ENDED, NoticeState.CANCELLED])
            both(lambda svc, n=latest, s=state: svc.set_state(n.id or "", n.party, s))

    with mem.begin() as m, store.begin(write=False) as s:
        assert records(m.list_conflicts()) == records(s.list_conflicts())
        assert sorted(m.list_notices(), key=by_id) == sorted(s.list_notices(), key=by_id)
        policy = SeparationPolicy()
        widened = 0
        for k in range(PROBES):
            probe = theater.notice(f"probe{k}")
            margins = (3600.0, 1000.0) if k % 3 == 0 else (0.0, 0.0)
            for v in probe.volumes:
                want = {(n.id, j) for n, j in m.candidates(v, policy, probe, *margins)}
                got = [(n.id, j) for n, j in s.candidates(v, policy, probe, *margins)]
                assert len(got) == len(set(got)) and set(got) == want
                widened += len(got)
        assert widened > PROBES


def test_a_look_up_split_over_several_statements_finds_the_same(store: SqlStore, clock: Callable[[], float]) -> None:
    theater = Theater(seed=11)
    mem = MemoryStore()
    for i in range(80):
        n = theater.notice(f"n{i}")
        NoticeService(mem, clock).file(n)
        NoticeService(store, clock).file(n)
    week = circle(35.0, 36.8, 150_000.0, t0=T0, t1=T0 + 6.5 * 86_400)
    probe = Notice(party="red", volumes=(week,))
    policy, margins = SeparationPolicy(), (86_400.0, 3_000.0)
    assert len(candidate_statement(week, policy, probe, *margins)) > 1
    with mem.begin() as m, store.begin(write=False) as s:
        want = {(n.id, j) for n, j in m.candidates(week, policy, probe, *margins)}
        got = [(n.id, j) for n, j in s.candidates(week, policy, probe, *margins)]
    assert len(got) == len(set(got)) and set(got) == want and len(want) > 20


def test_year_long_schedules_are_keyed_by_the_week_and_found_the_same(
    store: SqlStore, clock: Callable[[], float]
) -> None:
    """Year-long recurring notices among ordinary ones (some of those months into the year): both
    stores give the same results, which are the brute force's; a year-long volume costs one key
    row per cell and week (53), not one per six hours (1464)."""
    theater = Theater(seed=366)
    rng = theater.rng
    now = TickingClock(1_443_500_001.0)
    mem = MemoryStore()
    services = [NoticeService(mem, now), NoticeService(store, now)]
    filed: list[Notice] = []
    for i in range(90):
        if i % 6 == 0:  # a year of daily windows on some weekdays
            t0 = T0 + rng.uniform(-5, 5) * 86_400.0
            start = rng.randrange(0, 86_400, 60)
            window = DailyWindow(start, (start + rng.randrange(60, 12 * 3600, 60)) % 86_400 or 86_400)
            days = frozenset(rng.sample(range(7), rng.randint(1, 7)))
            v = replace(
                circle(
                    rng.uniform(34.0, 36.2), rng.uniform(35.5, 38.2), 40_000.0, t0, t0 + 366 * 86_400.0, 0.0, 12_000.0
                ),
                schedule=Schedule((window,), days),
            )
            notice = Notice(party=rng.choice(Theater.PARTIES), volumes=(v,), id=f"y{i:03d}")
        else:
            notice = theater.notice(f"n{i:03d}")
            if i % 3 == 0:  # an ordinary notice later in the year
                later = rng.uniform(30, 360) * 86_400.0
                vols = tuple(
                    replace(v, time_start=v.time_start + later, time_end=v.time_end + later) for v in notice.volumes
                )
                notice = replace(notice, volumes=vols)
        start_t = now.t
        a = services[0].file(notice)
        now.t = start_t
        b = services[1].file(notice)
        assert summary(a) == summary(b)
        filed.append(b.notice)
    policy = SeparationPolicy()
    with mem.begin() as m, store.begin(write=False) as s:
        assert records(m.list_conflicts()) == records(s.list_conflicts())
        pairs = {c.pair_key() for c in s.list_conflicts()}
    want = set()
    for k, a in enumerate(filed):  # every pair of volumes, brute force
        for b in filed[:k]:
            for c in notice_conflicts(a, b, policy):
                x, y = (c.a.id or "", c.volume_a), (c.b.id or "", c.volume_b)
                want.add((x, y) if x <= y else (y, x))
    assert pairs == want
    assert sum(1 for a, b in want if "y" in (a[0][0], b[0][0])) > 5, "year-long notices should conflict"
    assert sum(1 for a, b in want if a[0][0] != b[0][0]) > 2, "and with ordinary ones"
    year = next(n for n in filed if n.id == "y000")
    v = year.volumes[0]
    keys = cells.store_keys(*v.shape.center, v.shape.bound_m)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT bucket FROM volume_cells WHERE notice_id = :n"), {"n": year.id}).all()
    assert len(rows) == len(keys) * 53 and all(b >= cells.LONG_BASE for (b,) in rows)
