"""Two reads every filing makes under the filing lock must not grow with the log.

- ``notices_changed_since(seq)``: the notices changed after a filing's snapshot (usually none). It
  used to let SQLite search the ``(type, time)`` index for every notice event ever logged and skip
  those before ``seq``: a filing into a log of 1M notices read 1M index entries.
- The probe budget's count of the filer's charges in the period: it used to read and decode every
  party's ``probe.charged`` events of the period to keep the filer's.

Counted in SQLite virtual-machine steps (the progress handler), not in time: the reads must cost
the same with 200 or 4 000 earlier events."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from deconflict.adapters.sql import SqlStore
from deconflict.adapters.sql import tables as t

T0 = 1_443_571_200.0


def fill_log(store: SqlStore, n: int, start_seq: int = 1) -> int:
    """``n`` notice events and ``n`` probe charges of another party (raw rows: only these reads'
    columns matter); the last seq."""
    rows = []
    seq = start_seq
    for i in range(n):
        for type_, actor, payload in (
            ("notice.filed", "blue", {"notice": {"id": f"blue:n{seq}"}}),
            ("probe.charged", "blue", {"party": "blue", "notice": f"blue:n{seq}"}),
        ):
            rows.append(
                {
                    "seq": seq,
                    "time": T0 + i,
                    "actor": actor,
                    "type": type_,
                    "payload": json.dumps(payload),
                    "payload_digest": "-",
                    "prev_hash": "-",
                    "hash": "-",
                }
            )
            seq += 1
    with store.engine.begin() as c:
        c.execute(sa.insert(t.events), rows)
    return seq - 1


@contextmanager
def counting_steps(conn: sa.Connection) -> Iterator[Callable[[], int]]:
    """Counts the SQLite VM steps run on ``conn`` (in hundreds) while the block runs."""
    raw: Any = conn.connection.dbapi_connection
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0

    raw.set_progress_handler(tick, 100)
    try:
        yield lambda: steps[0]
    finally:
        raw.set_progress_handler(None, 0)


def steps_of(store: SqlStore, read: Callable[[Any], object]) -> int:
    with store.begin() as repo, counting_steps(repo.conn) as steps:
        read(repo)
        return steps()


def test_the_reads_of_a_filing_do_not_grow_with_the_log(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'log.sqlite'}")
    store.ensure_schema()
    try:
        last = fill_log(store, 100)

        def changed(repo: Any) -> object:
            return repo.notices_changed_since(last)

        def charges(repo: Any) -> object:
            return repo.event_times("probe.charged", "red", T0 - 1, T0 + 10**6, 50)

        small = (steps_of(store, changed), steps_of(store, charges))
        last = fill_log(store, 2000, last + 1)
        large = (steps_of(store, changed), steps_of(store, charges))
        # 20 times the log: the same work, give or take the B-tree's depth
        assert large[0] <= small[0] + 5, (small, large)
        assert large[1] <= small[1] + 5, (small, large)
    finally:
        store.close()
