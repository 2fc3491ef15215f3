"""The in-memory store: every port of the SQL store (:mod:`deconflict.services.ports`), for fast
tests of the service rules (a whole broker: ``bootstrap.build_memory_broker``) and benchmarks.

One ``begin()`` is one transaction over :class:`~deconflict.adapters.memory.tables.Staged` views of
the store's tables: its changes are applied when the block ends and dropped if it raises. A write
transaction holds the store's writer lock from start to end (one writer at a time, as SQLite's
``BEGIN IMMEDIATE`` and the filing lock give the SQL store); a read (``write=False``) takes no lock
and sees what is committed (PostgreSQL's read committed). The answers are the SQL store's: the same
order (oldest first by (created_at, id) and the like), pages, filters and rows touched, held so by
``tests/integration/test_sql_parity.py``, ``test_broker_parity.py`` and ``test_store_parity_records.py``.

What it does not copy: a notice's list key is the store's clock when it was stored, as in SQL, but
one put into ``notices`` by hand (``benchmarks/strategic.py``) has the key 0; a key already taken
raises :class:`~deconflict.adapters.memory.tables.DuplicateKey` where SQL raises an
``IntegrityError``, and an event whose seq is not after the log's last is refused (SQL refuses only
a seq taken)."""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from deconflict.adapters.memory.hotline import AlertRow, MemoryHotline
from deconflict.adapters.memory.lookup import near
from deconflict.adapters.memory.records import CredentialRow, IdempotentRow, MemoryRecords, PartyRow, ReceiptRow
from deconflict.adapters.memory.tables import DuplicateKey, LoggedEvent, Staged, StagedLog
from deconflict.domain.errors import StaleVersionError
from deconflict.domain.hotline import Message
from deconflict.domain.index import VolumeIndex
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.strategic import VolumeConflict
from deconflict.domain.volumes import Notice, NoticeState, Volume4D
from deconflict.services.ports import (
    BrokerRepository,
    BrokerUnitOfWork,
    Clock,
    ConflictRecord,
    ConflictState,
    ListedNotice,
    Repository,
    UnitOfWork,
    Webhook,
)
from deconflict.services.wire import notice_json, wire_text


class MemoryRepository(MemoryRecords, MemoryHotline):
    """The ports' operations inside one transaction of a :class:`MemoryStore`."""

    def __init__(self, store: MemoryStore) -> None:
        self._s = s = store
        m = s.mutex
        self.notices: Staged[str, Notice] = Staged("notices", s.notices, m)
        self.notice_times: Staged[str, tuple[float, float]] = Staged("notices", s.notice_times, m)
        self.notice_versions: Staged[tuple[str, int], Notice] = Staged("notice_versions", s.notice_versions, m)
        self.conflicts: Staged[str, ConflictRecord] = Staged("conflicts", s.conflicts, m)
        self.parties = Staged("parties", s.parties, m)
        self.credentials = Staged("credentials", s.credentials, m)
        self.log = StagedLog(s.events, m)
        self.heartbeat = Staged("heartbeat", s.heartbeat, m)
        self.receipt_rows = Staged("receipts", s.receipts, m)
        self.idempotency = Staged("idempotency_keys", s.idempotency, m)
        self.acks = Staged("conflict_acks", s.acks, m)
        self.webhooks = Staged("webhooks", s.webhooks, m)
        self.rules = Staged("disclosure_rules", s.rules, m)
        self.alerts = Staged("alerts", s.alerts, m)
        self.messages = Staged("messages", s.messages, m)
        self._tables: tuple[Staged[Any, Any], ...] = (
            self.notices,
            self.notice_times,
            self.notice_versions,
            self.conflicts,
            self.parties,
            self.credentials,
            self.heartbeat,
            self.receipt_rows,
            self.idempotency,
            self.acks,
            self.webhooks,
            self.rules,
            self.alerts,
            self.messages,
        )

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A part of the transaction that a raise rolls back alone: the staged changes as they were
        when it began are put back."""
        marks = [dict(t.changes) for t in self._tables]
        logged = len(self.log.new)
        try:
            yield
        except BaseException:
            for t, changes in zip(self._tables, marks, strict=True):
                t.changes = changes
            del self.log.new[logged:]
            raise

    def changed(self) -> bool:
        return bool(self.log.new) or any(t.changes for t in self._tables)

    def commit(self) -> None:
        """Apply every staged change (the caller holds the mutex), re-indexing the notices changed."""
        for t in self._tables:
            t.apply()
        self.log.apply()
        s = self._s
        for nid, n in self.notices.pending().items():
            if n.state.is_live:
                s.index.add(nid, n)
            else:
                s.index.remove(nid)
        for c in self.conflicts.pending().values():
            s.conflicts_by_notice.setdefault(c.notice_a, set()).add(c.id)
            s.conflicts_by_notice.setdefault(c.notice_b, set()).add(c.id)

    # ------------------------------------------------------------------ notices

    def lock_for_filing(self) -> None:
        return None  # a write transaction holds the store's writer lock from its start

    def get(self, notice_id: str) -> Notice | None:
        n = self.notices.get(notice_id)
        return None if n is None else _fresh(n)

    def notice_owner(self, notice_id: str) -> tuple[str, bool] | None:
        n = self.notices.get(notice_id)
        return None if n is None else (n.party, n.protected)

    def add(self, notice: Notice) -> None:
        assert notice.id is not None
        now = self._s.clock()
        self.notices.insert(notice.id, notice)
        self.notice_times.put(notice.id, (now, now))
        self.notice_versions.insert((notice.id, notice.version), notice)

    def replace(self, notice: Notice, replaces_version: int) -> None:
        assert notice.id is not None
        current = self.notices.get(notice.id)
        if current is None or current.version != replaces_version:
            raise StaleVersionError(notice.id, replaces_version, current.version if current else 0)
        self.notices.put(notice.id, notice)
        created = self._created_at(notice.id)
        self.notice_times.put(notice.id, (created, self._s.clock()))
        self.notice_versions.insert((notice.id, notice.version), notice)

    def versions(self, notice_id: str) -> list[Notice]:
        """Every stored version of a notice, oldest first."""
        found = [(k[1], n) for k, n in self.notice_versions.items() if k[0] == notice_id]
        return [_fresh(n) for _, n in sorted(found, key=lambda x: x[0])]

    def _created_at(self, notice_id: str) -> float:
        times = self.notice_times.get(notice_id)
        return 0.0 if times is None else times[0]  # 0: put in place by hand (benchmarks/strategic.py)

    def _keyed(self) -> list[tuple[tuple[float, str], Notice]]:
        """Every notice with its list key (created_at, id), in key order."""
        times = dict(self.notice_times.items())
        rows = [((times.get(nid, (0.0, 0.0))[0], nid), n) for nid, n in self.notices.items()]
        rows.sort(key=lambda r: r[0])
        return rows

    def list_notices(
        self,
        party: str | None = None,
        state: NoticeState | None = None,
        include_protected: bool = True,
        parties: Collection[str] | None = None,
    ) -> list[Notice]:
        """Notices oldest first; ``parties`` keeps those of these parties (and protected sites
        unless ``include_protected`` is false)."""
        return [
            _fresh(n)
            for _, n in self._keyed()
            if (party is None or n.party == party)
            and (state is None or n.state == state)
            and (include_protected or not n.protected)
            and (parties is None or n.party in parties or (include_protected and n.protected))
        ]

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
        those of ``parties`` (``None``: all) and protected sites."""
        out: list[tuple[tuple[float, str], Notice]] = []
        for key, n in self._keyed():
            if len(out) >= limit:
                break
            if (
                (parties is None or n.party in parties or n.protected)
                and (party is None or n.party == party)
                and (state is None or n.state == state)
                and (protected is None or n.protected == protected)
                and (time_start is None or n.time_end >= time_start)
                and (time_end is None or n.time_start <= time_end)
                and (after is None or key > after)
            ):
                out.append((key, _fresh(n)))
        return out

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
        """:meth:`page_notices`, each notice as its wire form's JSON text."""
        page = self.page_notices(
            parties,
            party=party,
            state=state,
            protected=protected,
            time_start=time_start,
            time_end=time_end,
            after=after,
            limit=limit,
        )
        return [(key, ListedNotice(n.party, n.protected, wire_text(notice_json(n)))) for key, n in page]

    # ------------------------------------------------------------------ look-ups

    def candidates(
        self,
        volume: Volume4D,
        policy: SeparationPolicy,
        notice: Notice,
        time_margin_s: float = 0.0,
        vertical_margin_m: float = 0.0,
    ) -> list[tuple[Notice, int]]:
        staged = self.notices.changes
        with self._s.mutex:
            hits = self._s.index.candidates(volume, policy, notice, time_margin_s, vertical_margin_m)
            found = {(str(k), j) for k, j in hits if k not in staged and k != notice.id}
        for nid, n in self.notices.pending().items():  # staged notices are few: judged one by one
            found.update((nid, j) for j in near(volume, policy, notice, n, time_margin_s, vertical_margin_m))
        return self._loaded(found)

    def candidates_among(
        self, volume: Volume4D, policy: SeparationPolicy, notice: Notice, ids: Collection[str]
    ) -> list[tuple[Notice, int]]:
        found: set[tuple[str, int]] = set()
        for nid in ids:
            n = self.notices.get(nid)
            if n is not None:
                found.update((nid, j) for j in near(volume, policy, notice, n, 0.0, 0.0))
        return self._loaded(found)

    def _loaded(self, found: Iterable[tuple[str, int]]) -> list[tuple[Notice, int]]:
        """(notice, volume) in (id, volume) order, as the SQL store gives them."""
        out = []
        for nid, j in sorted(found):
            n = self.notices.get(nid)
            if n is not None:
                out.append((n, j))
        return out

    # ------------------------------------------------------------------ conflicts

    def open_conflicts_of(self, notice_id: str) -> list[ConflictRecord]:
        return [c for c in self.conflicts_of(notice_id) if c.state == ConflictState.OPEN]

    def conflicts_of(self, notice_id: str) -> list[ConflictRecord]:
        with self._s.mutex:
            ids = set(self._s.conflicts_by_notice.get(notice_id, ()))
        ids.update(cid for cid, c in self.conflicts.pending().items() if c.involves(notice_id))
        found = [c for c in map(self.conflicts.get, ids) if c is not None]
        return sorted(found, key=lambda c: (c.detected_at, c.id))

    def save_conflict(self, record: ConflictRecord) -> None:
        self.conflicts.put(record.id, record)

    def add_conflicts(self, records: Sequence[ConflictRecord]) -> None:
        for r in records:
            self.conflicts.insert(r.id, r)

    def get_conflict(self, conflict_id: str) -> ConflictRecord | None:
        return self.conflicts.get(conflict_id)

    def page_conflicts(
        self,
        parties: Collection[str] | None,
        state: ConflictState | None = None,
        after: tuple[float, str] | None = None,
        limit: int = 1000,
    ) -> list[ConflictRecord]:
        """One page of conflicts in (detected_at, id) order after the key ``after``."""
        return self._conflicts_in_order(parties, state, after)[: max(limit, 0)]

    def list_conflicts(
        self, state: ConflictState | None = None, parties: Collection[str] | None = None
    ) -> list[ConflictRecord]:
        """Conflicts oldest first; ``parties`` keeps those with a side of one of these parties."""
        return self._conflicts_in_order(parties, state, None)

    def _conflicts_in_order(
        self, parties: Collection[str] | None, state: ConflictState | None, after: tuple[float, str] | None
    ) -> list[ConflictRecord]:
        found = self.conflicts.where(
            lambda c: (
                (parties is None or c.party_a in parties or c.party_b in parties)
                and (state is None or c.state == state)
                and (after is None or (c.detected_at, c.id) > after)
            )
        )
        return sorted(found, key=lambda c: (c.detected_at, c.id))


def _fresh(n: Notice) -> Notice:
    """The stored notice with an ``extra`` of its own (the rest is immutable), as the SQL store's
    decoding gives."""
    return replace(n, extra=dict(n.extra)) if n.extra else n


class MemoryStore:
    """Every table of the SQL store, in memory; one writer at a time."""

    def __init__(self, clock: Clock = time.time) -> None:
        self.clock = clock
        """The time a notice is stored at (its list key), as the SQL store's clock."""
        self.index = VolumeIndex()
        self.notices: dict[str, Notice] = {}
        self.notice_times: dict[str, tuple[float, float]] = {}
        """(created_at, updated_at) of each notice."""
        self.notice_versions: dict[tuple[str, int], Notice] = {}
        self.conflicts: dict[str, ConflictRecord] = {}
        self.conflicts_by_notice: dict[str, set[str]] = {}
        self.parties: dict[str, PartyRow] = {}
        self.credentials: dict[str, CredentialRow] = {}
        self.events: list[LoggedEvent] = []
        self.heartbeat: dict[int, float] = {}
        self.receipts: dict[tuple[str, int], ReceiptRow] = {}
        self.idempotency: dict[tuple[str, str], IdempotentRow] = {}
        self.acks: dict[tuple[str, str], tuple[float, int]] = {}
        self.webhooks: dict[str, Webhook] = {}
        self.rules: dict[tuple[str, str], str] = {}
        self.alerts: dict[str, AlertRow] = {}
        self.messages: dict[str, Message] = {}
        self.mutex = threading.Lock()
        """Held while a commit applies its changes, and by a reader while it copies a table."""
        self._writer = threading.Lock()
        self._writer_thread: int | None = None

    def encode_ahead(self, notice: Notice, details: Iterable[VolumeConflict]) -> None:
        """Nothing to make ahead: the store keeps the objects."""
        return None

    @contextmanager
    def begin(self, write: bool = True) -> Iterator[MemoryRepository]:
        """One transaction: commits when the block ends, rolls back if it raises. A write
        transaction holds the writer lock throughout; a read takes it only to commit, if it wrote."""
        if not write:
            repo = MemoryRepository(self)
            yield repo
            if repo.changed():
                with self._writing():
                    self._commit(repo)
            return
        with self._writing():
            repo = MemoryRepository(self)
            yield repo
            self._commit(repo)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        if self._writer_thread == threading.get_ident():
            raise RuntimeError("a write transaction inside another on the same thread would wait for itself")
        with self._writer:
            self._writer_thread = threading.get_ident()
            try:
                yield
            finally:
                self._writer_thread = None

    def _commit(self, repo: MemoryRepository) -> None:
        with self.mutex:
            repo.commit()


__all__ = ["DuplicateKey", "MemoryRepository", "MemoryStore"]

if TYPE_CHECKING:  # mypy proves the store provides the ports

    def _provides_ports(
        store: MemoryStore, repo: MemoryRepository
    ) -> tuple[UnitOfWork, Repository, BrokerUnitOfWork, BrokerRepository]:
        return store, repo, store, repo
