"""The SQL store finds exactly what the in-memory store finds: the same candidates for any look-up
and the same conflicts, resolutions and hints for a few hundred random filings, updates and
cancellations."""

from __future__ import annotations

from collections.abc import Callable

from sqlstore_builders import T0, Theater, circle

from clocks import TickingClock
from deconflict.adapters.memory import MemoryStore
from deconflict.adapters.sql import SqlStore
from deconflict.adapters.sql.lookup import candidate_statement
from deconflict.domain.policy import SeparationPolicy
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
