"""The SQL store keeps what it is given, versions it, records conflicts, and writes nothing when
a transaction fails. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import pytest
import sqlalchemy as sa
from sqlstore_builders import T0, circle, every_kind_of_notice

from deconflict.adapters.sql import SqlRepository, SqlStore, codec
from deconflict.adapters.sql import rows as rows_module
from deconflict.adapters.sql import store as store_module
from deconflict.adapters.sql import tables as t
from deconflict.adapters.sql.codec import detail_json, notice_body
from deconflict.domain.errors import StaleVersionError
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.strategic import Conflict, volume_conflict
from deconflict.domain.volumes import Notice, NoticeState
from deconflict.services.filing import NoticeService
from deconflict.services.ports import ConflictRecord, ConflictState


def count(store: SqlStore, table: sa.Table, **where: object) -> int:
    stmt = sa.select(sa.func.count()).select_from(table)
    for column, value in where.items():
        stmt = stmt.where(table.c[column] == value)
    with store.engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def test_filed_notices_come_back_equal(store: SqlStore, clock: Callable[[], float]) -> None:
    svc = NoticeService(store, clock)
    red = svc.file(every_kind_of_notice("red")).notice
    blue = svc.file(replace(every_kind_of_notice("blue"), id="blue-1")).notice
    site = svc.file(Notice(party="un", volumes=(circle(33.5, 36.3, 2_000.0),), id="hospital", protected=True)).notice
    with store.begin(write=False) as repo:
        got = repo.get(red.id or "")
        assert got == red
        assert got is not None and got.volumes == red.volumes and got.extra == red.extra
        assert got.received_at == red.received_at and got.version == 1
        assert repo.get("blue-1") == blue
        assert repo.get("hospital") == site and site.protected
        assert repo.get("nope") is None
        assert repo.list_notices() == [red, blue, site]
        assert repo.list_notices(party="blue") == [blue]
        assert repo.list_notices(include_protected=False) == [red, blue]
        assert repo.list_notices(state=NoticeState.ACTIVE) == []
    assert count(store, t.volumes, notice_id="blue-1") == 4
    assert count(store, t.notice_versions) == 3


def test_update_keeps_every_version(store: SqlStore, clock: Callable[[], float]) -> None:
    svc = NoticeService(store, clock)
    v1 = svc.file(Notice(party="red", volumes=(circle(35.0, 36.0),), id="cap")).notice
    moved = Notice(party="red", volumes=(circle(35.5, 36.5), circle(35.6, 36.6)), kind="tanker track")
    v2 = svc.update("cap", 1, moved).notice
    assert v2.version == 2
    v3 = svc.set_state("cap", "red", NoticeState.ACTIVE, replaces_version=2).notice
    with store.begin() as repo:
        assert repo.get("cap") == v3
        assert repo.versions("cap") == [v1, v2, v3]
    assert count(store, t.volumes, notice_id="cap") == 2


def test_stale_version_is_refused_and_writes_nothing(store: SqlStore, clock: Callable[[], float]) -> None:
    svc = NoticeService(store, clock)
    svc.file(Notice(party="red", volumes=(circle(35.0, 36.0),), id="cap"))
    v2 = svc.update("cap", 1, Notice(party="red", volumes=(circle(35.1, 36.0),))).notice
    before = (count(store, t.notice_versions), count(store, t.volume_cells), count(store, t.filing_lock, n=2))

    with pytest.raises(StaleVersionError) as info:
        svc.update("cap", 1, Notice(party="red", volumes=(circle(36.0, 37.0),)))
    assert (info.value.expected, info.value.current) == (1, 2)

    # The repository's own compare-and-set, as a concurrent writer would meet it.
    with pytest.raises(StaleVersionError) as info, store.begin() as repo:
        repo.replace(replace(v2, version=2, volumes=(circle(36.0, 37.0),)), 1)
    assert (info.value.expected, info.value.current) == (1, 2)

    with store.begin() as repo:
        assert repo.get("cap") == v2
        assert repo.versions("cap")[-1] == v2
    assert (count(store, t.notice_versions), count(store, t.volume_cells), count(store, t.filing_lock, n=2)) == before


def test_conflicts_are_recorded_with_their_detail(store: SqlStore, clock: Callable[[], float]) -> None:
    svc = NoticeService(store, clock)
    svc.file(Notice(party="red", volumes=(circle(35.0, 36.0),), id="red-cap"))
    found = svc.file(Notice(party="blue", volumes=(circle(35.05, 36.0),), id="blue-cap")).conflicts
    assert len(found) == 1
    rec = found[0]
    assert (rec.notice_a, rec.notice_b, rec.state) == ("blue-cap", "red-cap", ConflictState.OPEN)
    with store.begin(write=False) as repo:
        assert repo.conflicts_of("red-cap") == [rec]
        assert repo.open_conflicts_of("blue-cap") == [rec]
        assert repo.list_conflicts(ConflictState.OPEN) == [rec]
        assert repo.list_conflicts(ConflictState.RESOLVED) == []
        stored = repo.conflicts_of("blue-cap")[0]
    assert stored.detail == rec.detail and stored.detail.area["type"] in ("Polygon", "MultiPolygon")


@pytest.mark.parametrize("how", ["update", "cancel"])
def test_clearing_a_conflict_resolves_it(store: SqlStore, clock: Callable[[], float], how: str) -> None:
    svc = NoticeService(store, clock)
    svc.file(Notice(party="red", volumes=(circle(35.0, 36.0),), id="red-cap"))
    (rec,) = svc.file(Notice(party="blue", volumes=(circle(35.05, 36.0),), id="blue-cap")).conflicts
    if how == "update":
        far = Notice(party="blue", volumes=(circle(35.05, 36.0, t0=T0 + 86_400, t1=T0 + 90_000),))
        result = svc.update("blue-cap", 1, far)
    else:
        result = svc.set_state("blue-cap", "blue", NoticeState.CANCELLED)
        assert count(store, t.volume_cells, notice_id="blue-cap") == 0  # out of the index
        assert count(store, t.volumes, notice_id="blue-cap", live=False) == 1  # still readable
    assert result.conflicts == [] and [r.id for r in result.resolved] == [rec.id]
    with store.begin(write=False) as repo:
        (done,) = repo.conflicts_of("red-cap")
        assert done.id == rec.id and done.state == ConflictState.RESOLVED and done.resolved_at is not None
        assert done.detected_at == rec.detected_at and repo.open_conflicts_of("red-cap") == []
        if how == "cancel":
            probe = Notice(party="green", volumes=(circle(35.05, 36.0),))
            found = {n.id for n, _ in repo.candidates(probe.volumes[0], SeparationPolicy(), probe)}
            assert found == {"red-cap"}


def test_a_failure_inside_a_transaction_leaves_nothing_written(store: SqlStore, clock: Callable[[], float]) -> None:
    svc = NoticeService(store, clock)
    red = svc.file(Notice(party="red", volumes=(circle(35.0, 36.0),), id="red-cap")).notice
    tables = (t.notices, t.notice_versions, t.volumes, t.volume_cells, t.conflicts, t.filing_lock)
    before = [count(store, tab) for tab in tables] + [count(store, t.filing_lock, n=1)]
    blue = Notice(party="blue", volumes=(circle(35.0, 36.0),), id="blue-cap", received_at=T0)
    detail = volume_conflict(blue.volumes[0], red.volumes[0], SeparationPolicy())
    assert detail is not None
    rec = ConflictRecord(
        id="c1",
        notice_a="blue-cap",
        party_a="blue",
        version_a=1,
        volume_a=0,
        notice_b="red-cap",
        party_b="red",
        version_b=1,
        volume_b=0,
        protected_site=False,
        detail=detail,
        state=ConflictState.OPEN,
        detected_at=T0,
        updated_at=T0,
    )
    with pytest.raises(RuntimeError, match="boom"), store.begin() as repo:
        repo.lock_for_filing()
        repo.add(blue)
        repo.save_conflict(rec)
        assert repo.conflicts_of("red-cap") == [rec]  # visible inside the transaction
        raise RuntimeError("boom")
    assert [count(store, tab) for tab in tables] + [count(store, t.filing_lock, n=1)] == before
    with store.begin() as repo:
        assert repo.get("blue-cap") is None and repo.conflicts_of("red-cap") == []


def test_a_filing_that_fails_midway_leaves_nothing_written(
    store: SqlStore, clock: Callable[[], float], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = NoticeService(store, clock)
    svc.file(Notice(party="red", volumes=(circle(35.0, 36.0),), id="red-cap"))
    before = [count(store, tab) for tab in (t.notices, t.notice_versions, t.volumes, t.volume_cells, t.conflicts)]

    def broken(self: SqlRepository, records: Sequence[ConflictRecord]) -> None:
        raise OSError("disk full")

    # A new conflict's record is written after the notice, its version, volumes and cells: the
    # failure comes when all of those are already in the transaction.
    monkeypatch.setattr(SqlRepository, "add_conflicts", broken)
    with pytest.raises(OSError, match="disk full"):
        svc.file(Notice(party="blue", volumes=(circle(35.0, 36.0),), id="blue-cap"))
    after = [count(store, tab) for tab in (t.notices, t.notice_versions, t.volumes, t.volume_cells, t.conflicts)]
    assert after == before


def test_an_index_batch_that_fails_midway_leaves_nothing_written(
    store: SqlStore, clock: Callable[[], float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cell keys go in one batch (SQLite: the driver's own, PostgreSQL: COPY); a row refused
    halfway through it takes the rows before it, and the whole filing, with it."""
    svc = NoticeService(store, clock)
    svc.file(Notice(party="red", volumes=(circle(35.0, 36.0),), id="red-cap"))
    tables = (t.notices, t.notice_versions, t.volumes, t.volume_cells, t.conflicts)
    before = [count(store, tab) for tab in tables]
    real = SqlRepository._insert_cells
    sent: list[int] = []

    def twice(self: SqlRepository, rows: list[dict[str, object]]) -> None:
        half = len(rows) // 2
        sent.append(len(rows))
        real(self, [*rows[:half], rows[0], *rows[half:]])  # a key again: refused by the primary key

    monkeypatch.setattr(SqlRepository, "_insert_cells", twice)
    big = Notice(party="blue", volumes=(circle(35.0, 36.0, 150_000.0),), id="blue-cap")
    with pytest.raises(Exception, match=r"UNIQUE constraint failed|duplicate key value"):
        svc.file(big)
    assert sent and sent[0] > 4
    assert [count(store, tab) for tab in tables] == before


def test_texts_made_before_the_lock_are_the_texts_written(
    store: SqlStore, clock: Callable[[], float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``encode_ahead`` makes a notice's volumes and its conflicts' details before the filing
    lock; under it the store encodes neither again, and writes exactly what it would have made."""
    svc = NoticeService(store, clock)
    red = svc.file(Notice(party="red", volumes=(circle(35.0, 36.0),), id="red-cap")).notice
    blue = every_kind_of_notice("blue")
    policy = SeparationPolicy()
    found = [
        Conflict(blue, i, red, 0, d)
        for i, v in enumerate(blue.volumes)
        if (d := volume_conflict(v, red.volumes[0], policy))
    ]
    assert found
    store.encode_ahead(blue, (c.detail for c in found))
    with monkeypatch.context() as m:
        for module in (codec, store_module, rows_module):
            for name in ("volumes_body", "detail_json"):
                if hasattr(module, name):
                    m.setattr(module, name, lambda *_: pytest.fail("encoded again under the lock"))
        with store.begin() as repo:
            repo.lock_for_filing()
            filed = NoticeService(store, clock, hints=False).file_in(repo, blue, found=found)
    assert len(filed.created) == len(found)
    with store.engine.connect() as conn:
        body = conn.execute(sa.select(t.notices.c.body).where(t.notices.c.id == filed.notice.id)).scalar_one()
        kept = conn.execute(sa.select(t.notice_versions.c.body)).scalars().all()
        rows = conn.execute(sa.select(t.conflicts.c.id, t.conflicts.c.detail)).all()
    assert body == notice_body(filed.notice) and body in kept
    by_id = {c.id: c.detail for c in filed.created}
    assert rows and all(text == detail_json(by_id[cid]) for cid, text in rows)
    with store.begin(write=False) as repo:
        assert repo.get(filed.notice.id or "") == filed.notice


def test_concurrent_replaces_of_one_version_let_exactly_one_win(
    store: SqlStore, open_sql: Callable[..., SqlStore], clock: Callable[[], float]
) -> None:
    v1 = NoticeService(store, clock).file(Notice(party="red", volumes=(circle(35.0, 36.0),), id="cap")).notice
    stores = [open_sql(), open_sql()]
    barrier = threading.Barrier(2, timeout=30)
    outcome: list[str] = ["", ""]

    def writer(i: int) -> None:
        try:
            barrier.wait()
            with stores[i].begin() as repo:
                repo.replace(replace(v1, version=2, volumes=(circle(35.0 + i, 36.0),)), 1)
                time.sleep(0.05)  # hold the row while the other one tries
            outcome[i] = "won"
        except StaleVersionError as e:
            outcome[i] = f"stale:{e.current}"

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(outcome) == ["stale:2", "won"]
    with store.begin() as repo:
        assert [n.version for n in repo.versions("cap")] == [1, 2]


RACES = 20


def file_together(services: list[NoticeService], notices: list[Notice]) -> list[int]:
    """File ``notices[i]`` through ``services[i]``, all at once; the number of conflicts each found."""
    barrier = threading.Barrier(len(notices), timeout=30)
    found = [-1] * len(notices)
    errors: list[BaseException] = []

    def file(i: int) -> None:
        try:
            barrier.wait()
            found[i] = len(services[i].file(notices[i]).conflicts)
        except BaseException as e:  # re-raised in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=file, args=(i,)) for i in range(len(notices))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    return found


def test_simultaneous_conflicting_filings_never_lose_the_conflict(open_sql: Callable[..., SqlStore]) -> None:
    """Two parties file conflicting notices at the same moment through two engines. The clock is
    read just after the filing lock is taken; making it slow widens the window in which, without
    the lock, both transactions would check before either has written."""
    stores = [open_sql(), open_sql()]
    stores[0].ensure_schema()

    def slow_clock() -> float:
        time.sleep(0.02)
        return T0 - 86_400.0

    services = [NoticeService(s, slow_clock) for s in stores]
    for k in range(RACES):
        t0 = T0 + k * 86_400.0  # each race on its own day: races do not meet
        ids = [f"race{k}-red", f"race{k}-blue"]
        notices = [
            Notice(party=party, volumes=(circle(35.0 + i * 0.01, 36.0, t0=t0, t1=t0 + 3600),), id=ids[i])
            for i, party in enumerate(("red", "blue"))
        ]
        found = file_together(services, notices)
        assert sorted(found) == [0, 1], f"race {k}: conflicts seen by the two filings: {found}"
        with stores[0].begin(write=False) as repo:
            a, b = repo.conflicts_of(ids[0]), repo.conflicts_of(ids[1])
            assert len(a) == 1 and a == b, f"race {k}: {a} / {b}"
            assert {a[0].notice_a, a[0].notice_b} == set(ids)
    with stores[1].begin(write=False) as repo:
        assert len(repo.list_conflicts()) == RACES


def test_the_heartbeat_starts_empty_and_only_moves_forward(store: SqlStore) -> None:
    with store.begin(write=False) as repo:
        assert repo.last_beat() is None
    for at in (T0 + 10, T0 + 5, T0 + 12.5):  # an older beat (another clock) never moves it back
        with store.begin() as repo:
            repo.beat(at)
    with store.begin(write=False) as repo:
        assert repo.last_beat() == T0 + 12.5


@pytest.mark.postgres
def test_postgresql_compresses_long_bodies_with_lz4_where_it_can(pg_url: str, clock: Callable[[], float]) -> None:
    """A heavy notice's body, version and logged event are each written under the filing lock;
    an insert of 110 kB took 2.75 ms with pglz, 0.38 ms with lz4 (issue 11 §6). PostgreSQL only:
    SQLite does not compress values."""
    store = SqlStore(pg_url, clock=clock)
    try:
        store.ensure_schema()
        long = Notice(party="red", volumes=(circle(35.0, 36.0),), id="long", extra={"remarks": "NOTAM E) " * 2000})
        NoticeService(store, clock).file(long)
        with store.engine.connect() as conn:
            built = conn.exec_driver_sql(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
            ).scalar()
            used = conn.execute(
                sa.select(sa.func.pg_column_compression(t.notices.c.body)).where(t.notices.c.id == "long")
            ).scalar()
    finally:
        store.close()
    assert used == ("lz4" if built else "pglz")
