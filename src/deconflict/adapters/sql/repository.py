"""The filing ports' operations in SQL on one connection inside one transaction: notices, the
look-ups of those near a volume, conflicts; with the broker's records
(:class:`~deconflict.adapters.sql.records.BrokerRecords`) so that one transaction covers a filing
and everything it records.

Look-ups use the same S2 cell × time-bucket keys as the in-memory
:class:`~deconflict.domain.index.VolumeIndex`, stored in ``volume_cells`` under a B-tree on
``(bucket, cell)``; see :func:`~deconflict.adapters.sql.lookup.candidate_statement`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import sqlalchemy as sa

from deconflict.adapters.sql import prebuilt as q
from deconflict.adapters.sql import tables as t
from deconflict.adapters.sql.codec import EncodedAhead, listed_notice, notice_body
from deconflict.adapters.sql.lookup import among_statement, candidate_statement, reach_params
from deconflict.adapters.sql.records import BrokerRecords
from deconflict.adapters.sql.rows import conflict_page, conflict_record, conflict_row, notice_page, notice_row
from deconflict.domain import cells
from deconflict.domain.errors import StaleVersionError
from deconflict.domain.index import within_search
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.volumes import Notice, NoticeState, Volume4D
from deconflict.services.ports import Clock, ConflictRecord, ConflictState, ListedNotice

LOAD_CHUNK = 500
"""Notice ids per ``IN (…)`` list when loading candidates."""


class SqlRepository(BrokerRecords):
    """The :class:`~deconflict.services.ports.Repository` operations on one connection inside
    one transaction."""

    def __init__(
        self,
        conn: sa.Connection,
        clock: Clock,
        decode: Callable[[str], Notice],
        ahead: tuple[EncodedAhead, EncodedAhead] | None = None,
    ) -> None:
        self.conn = conn
        self._clock = clock
        self._decode = decode
        self._volumes, self._details = (EncodedAhead(0), EncodedAhead(0)) if ahead is None else ahead
        """Texts made before the filing lock
        (:meth:`~deconflict.adapters.sql.store.SqlStore.encode_ahead`): volumes, details."""

    # ------------------------------------------------------------------ notices

    def lock_for_filing(self) -> None:
        res = self.conn.execute(q.LOCK)
        if res.rowcount != 1:
            raise RuntimeError("the filing_lock row is missing: is the schema migrated (deconflict db upgrade)?")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A part of the transaction that a raise rolls back alone (SAVEPOINT … RELEASE)."""
        with self.conn.begin_nested():
            yield

    def get(self, notice_id: str) -> Notice | None:
        body = self.conn.execute(q.NOTICE_BODY, {"id": notice_id}).scalar()
        return None if body is None else self._decode(body)

    def notice_owner(self, notice_id: str) -> tuple[str, bool] | None:
        """(party, protected) of a notice, without reading its body."""
        row = self.conn.execute(q.NOTICE_OWNER, {"id": notice_id}).first()
        return None if row is None else (row.party, bool(row.protected))

    def add(self, notice: Notice) -> None:
        assert notice.id is not None
        now = self._clock()
        body = notice_body(notice, self._volumes.get(notice.volumes))
        self.conn.execute(q.INSERT_NOTICE, {**notice_row(notice, body), "created_at": now, "updated_at": now})
        self._keep_version(notice, body)
        self._index(notice)

    def replace(self, notice: Notice, replaces_version: int) -> None:
        assert notice.id is not None
        n = t.notices
        body = notice_body(notice, self._volumes.get(notice.volumes))
        res = self.conn.execute(
            sa.update(n)
            .where(n.c.id == notice.id, n.c.version == replaces_version)
            .values(**notice_row(notice, body), updated_at=self._clock())
        )
        if res.rowcount != 1:  # compare-and-set lost: someone else replaced it first
            current = self.conn.execute(sa.select(n.c.version).where(n.c.id == notice.id)).scalar()
            raise StaleVersionError(notice.id, replaces_version, current or 0)
        self._keep_version(notice, body)
        self.conn.execute(sa.delete(t.volume_cells).where(t.volume_cells.c.notice_id == notice.id))
        self.conn.execute(sa.delete(t.volumes).where(t.volumes.c.notice_id == notice.id))
        self._index(notice)

    def notices_ended_by(self, when: float, limit: int = 1000) -> list[str]:
        """Ids of live notices (accepted or active) whose last volume ended at or before ``when``,
        the earliest first."""
        n = t.notices
        stmt = (
            sa.select(n.c.id)
            .where(n.c.state.in_(("accepted", "active")), n.c.time_end <= when)
            .order_by(n.c.time_end, n.c.id)
            .limit(limit)
        )
        return [str(x) for x in self.conn.execute(stmt).scalars()]

    def versions(self, notice_id: str) -> list[Notice]:
        """Every stored version of a notice, oldest first."""
        nv = t.notice_versions
        rows = self.conn.execute(sa.select(nv.c.body).where(nv.c.notice_id == notice_id).order_by(nv.c.version))
        return [self._decode(body) for body in rows.scalars()]

    def list_notices(
        self,
        party: str | None = None,
        state: NoticeState | None = None,
        include_protected: bool = True,
        parties: Collection[str] | None = None,
    ) -> list[Notice]:
        """Notices oldest first; ``parties`` keeps those of these parties (and protected sites
        unless ``include_protected`` is false)."""
        n = t.notices
        stmt = sa.select(n.c.body).order_by(n.c.created_at, n.c.id)
        if parties is not None:
            keep = n.c.party.in_(sorted(parties))
            stmt = stmt.where(sa.or_(keep, n.c.protected) if include_protected else keep)
        if party is not None:
            stmt = stmt.where(n.c.party == party)
        if state is not None:
            stmt = stmt.where(n.c.state == state.value)
        if not include_protected:
            stmt = stmt.where(sa.not_(n.c.protected))
        return [self._decode(body) for body in self.conn.execute(stmt).scalars()]

    def page_notices(
        self,
        parties: Collection[str] | None,
        *,
        party: str | None = None,
        state: NoticeState | None = None,
        protected: bool | None = None,
        time_start: float | None = None,
        time_end: float | None = None,
        after: tuple[float, str] | None = None,
        limit: int = 1000,
    ) -> list[tuple[tuple[float, str], Notice]]:
        """One page of notices in (created_at, id) order after the key ``after``, with their keys:
        those of ``parties`` (``None``: all) and protected sites, filtered in SQL."""
        stmt = notice_page(parties, party, state, protected, time_start, time_end, after, limit)
        return [((row.created_at, row.id), self._decode(row.body)) for row in self.conn.execute(stmt)]

    def page_notice_texts(
        self,
        parties: Collection[str] | None,
        *,
        party: str | None = None,
        state: NoticeState | None = None,
        protected: bool | None = None,
        time_start: float | None = None,
        time_end: float | None = None,
        after: tuple[float, str] | None = None,
        limit: int = 1000,
    ) -> list[tuple[tuple[float, str], ListedNotice]]:
        """:meth:`page_notices` with each notice's wire form made from its stored text (no decoding)."""
        stmt = notice_page(parties, party, state, protected, time_start, time_end, after, limit)
        return [((row.created_at, row.id), listed_notice(row.body, self._decode)) for row in self.conn.execute(stmt)]

    def _keep_version(self, notice: Notice, body: str) -> None:
        self.conn.execute(
            q.INSERT_VERSION,
            {"notice_id": notice.id, "version": notice.version, "body": body, "received_at": notice.received_at},
        )

    def _index(self, notice: Notice) -> None:
        """Write the volume rows and, for a live notice, its cell keys (a notice that is no longer
        live keeps its volumes for reading but leaves the index)."""
        live = notice.state.is_live
        vol_rows: list[dict[str, Any]] = []
        cell_rows: list[dict[str, Any]] = []
        for i, v in enumerate(notice.volumes):
            lat, lon = v.shape.center
            vol_rows.append(
                {
                    "notice_id": notice.id,
                    "idx": i,
                    "time_start": v.time_start,
                    "time_end": v.time_end,
                    "alt_lower_m": v.altitude.lower_m,
                    "alt_upper_m": v.altitude.upper_m,
                    "alt_ref": v.altitude.reference.value,
                    "center_lat": lat,
                    "center_lon": lon,
                    "bound_m": v.shape.bound_m,
                    "party": notice.party,
                    "protected": notice.protected,
                    "live": live,
                }
            )
            if live:
                keys = cells.store_keys(lat, lon, v.shape.bound_m)
                cell_rows.extend(
                    {"notice_id": notice.id, "idx": i, "bucket": b, "cell": k}
                    for b in cells.store_buckets(v.time_start, v.time_end)
                    for k in keys
                )
        self.conn.execute(q.INSERT_VOLUMES, vol_rows)
        if cell_rows:
            self._insert_cells(cell_rows)

    def _insert_cells(self, rows: list[dict[str, Any]]) -> None:
        """The index rows: hundreds for a large, long volume (a key per cell and time bucket), and
        written under the filing lock. PostgreSQL takes them with ``COPY`` (a quarter of the time
        of a batch of inserts: 3 against 12 ms for 780 rows), SQLite with the driver's batch of
        plain tuples (1.6 against 2.6 ms through SQLAlchemy's, median of 40), any other engine with a batch."""
        cols = ("notice_id", "idx", "bucket", "cell")
        if self.conn.dialect.name == "sqlite":
            self.conn.exec_driver_sql(
                f"INSERT INTO volume_cells ({', '.join(cols)}) VALUES (?, ?, ?, ?)",
                [tuple(r[c] for c in cols) for r in rows],
            )
            return
        if self.conn.dialect.name != "postgresql":
            self.conn.execute(sa.insert(t.volume_cells), rows)
            return
        driver = self.conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cur, cur.copy(f"COPY volume_cells ({', '.join(cols)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(tuple(r[c] for c in cols))

    # ------------------------------------------------------------------ look-ups

    def candidates(
        self,
        volume: Volume4D,
        policy: SeparationPolicy,
        notice: Notice,
        time_margin_s: float = 0.0,
        vertical_margin_m: float = 0.0,
    ) -> list[tuple[Notice, int]]:
        rows: list[sa.Row[Any]] = []
        for stmt, params in candidate_statement(volume, policy, notice, time_margin_s, vertical_margin_m):
            rows.extend(self.conn.execute(stmt, params))
        return self._within_search(volume, policy, rows)

    def candidates_among(
        self, volume: Volume4D, policy: SeparationPolicy, notice: Notice, ids: Collection[str]
    ) -> list[tuple[Notice, int]]:
        """:meth:`candidates` among the notices ``ids`` only, read from their volume rows: under the
        filing lock, a notice changed since detection is decoded (its shapes rebuilt, tens of ms
        for the heaviest) only when it can be near the filing."""
        if not ids:
            return []
        params = reach_params(volume, policy, notice, 0.0, 0.0) | {"ids": sorted(ids)}
        rows = list(self.conn.execute(among_statement(notice.protected, notice.id is not None), params))
        return self._within_search(volume, policy, rows)

    def _within_search(
        self, volume: Volume4D, policy: SeparationPolicy, rows: list[sa.Row[Any]]
    ) -> list[tuple[Notice, int]]:
        """The rows' volumes whose centres are within the search distance of ``volume``, loaded."""
        if not rows:
            return []
        keep = within_search(
            volume,
            policy,
            np.array([r.center_lat for r in rows], float),
            np.array([r.center_lon for r in rows], float),
            np.array([r.bound_m for r in rows], float),
        )
        found = sorted({(r.notice_id, r.idx) for r, k in zip(rows, keep.tolist(), strict=True) if k})
        loaded = self._load({nid for nid, _ in found})
        return [(loaded[nid], j) for nid, j in found]

    def _load(self, ids: Iterable[str]) -> dict[str, Notice]:
        todo = sorted(ids)
        out: dict[str, Notice] = {}
        for i in range(0, len(todo), LOAD_CHUNK):
            rows = self.conn.execute(q.NOTICE_BODIES, {"ids": todo[i : i + LOAD_CHUNK]})
            out.update((row.id, self._decode(row.body)) for row in rows)
        return out

    # ------------------------------------------------------------------ conflicts

    def open_conflicts_of(self, notice_id: str) -> list[ConflictRecord]:
        return self._conflicts_of(notice_id, ConflictState.OPEN)

    def conflicts_of(self, notice_id: str) -> list[ConflictRecord]:
        return self._conflicts_of(notice_id, None)

    def _conflicts_of(self, notice_id: str, state: ConflictState | None) -> list[ConflictRecord]:
        if state is None:
            rows = self.conn.execute(q.CONFLICTS_OF, {"id": notice_id})
        else:
            rows = self.conn.execute(q.CONFLICTS_IN_STATE, {"id": notice_id, "state": state.value})
        recs = [conflict_record(row) for row in rows.mappings()]
        return sorted(recs, key=lambda r: (r.detected_at, r.id))  # in Python: collation-independent

    def save_conflict(self, record: ConflictRecord) -> None:
        c = t.conflicts
        row = conflict_row(record, self._details.get(record.detail))
        # UPDATE, else INSERT: portable, and safe because writers hold the filing lock.
        res = self.conn.execute(sa.update(c).where(c.c.id == record.id).values(**row))
        if res.rowcount == 0:
            self.conn.execute(sa.insert(c).values(id=record.id, **row))

    def add_conflicts(self, records: Sequence[ConflictRecord]) -> None:
        if records:
            rows = [{"id": r.id, **conflict_row(r, self._details.get(r.detail))} for r in records]
            self.conn.execute(q.INSERT_CONFLICT, rows)

    def page_conflicts(
        self,
        parties: Collection[str] | None,
        state: ConflictState | None = None,
        after: tuple[float, str] | None = None,
        limit: int = 1000,
    ) -> list[ConflictRecord]:
        """One page of conflicts in (detected_at, id) order after the key ``after``."""
        stmt = conflict_page(parties, state, after, limit)
        return [conflict_record(row) for row in self.conn.execute(stmt).mappings()]

    def get_conflict(self, conflict_id: str) -> ConflictRecord | None:
        c = t.conflicts
        row = self.conn.execute(sa.select(c).where(c.c.id == conflict_id)).mappings().first()
        return None if row is None else conflict_record(row)

    def list_conflicts(
        self, state: ConflictState | None = None, parties: Collection[str] | None = None
    ) -> list[ConflictRecord]:
        """Conflicts oldest first; ``parties`` keeps those with a side of one of these parties."""
        stmt = conflict_page(parties, state, None, None)
        return [conflict_record(row) for row in self.conn.execute(stmt).mappings()]
