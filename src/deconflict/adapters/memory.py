"""The in-memory store: the same ports as the SQL store, for the offline ``check`` command, tests
and benchmarks. Transactions are copy-free: changes are staged and applied on commit."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager

from deconflict.domain.errors import StaleVersionError
from deconflict.domain.index import VolumeIndex
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.volumes import Notice, NoticeState, Volume4D
from deconflict.services.ports import ConflictRecord, ConflictState


class MemoryRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store
        self._notices: dict[str, Notice] = {}
        self._conflicts: dict[str, ConflictRecord] = {}

    def lock_for_filing(self) -> None:
        return None  # the store's lock is held for the whole transaction

    def get(self, notice_id: str) -> Notice | None:
        return self._notices.get(notice_id, self._s.notices.get(notice_id))

    def add(self, notice: Notice) -> None:
        assert notice.id is not None
        self._notices[notice.id] = notice

    def replace(self, notice: Notice, replaces_version: int) -> None:
        assert notice.id is not None
        current = self.get(notice.id)
        if current is None or current.version != replaces_version:
            raise StaleVersionError(notice.id, replaces_version, current.version if current else 0)
        self._notices[notice.id] = notice

    def candidates(
        self,
        volume: Volume4D,
        policy: SeparationPolicy,
        notice: Notice,
        time_margin_s: float = 0.0,
        vertical_margin_m: float = 0.0,
    ) -> list[tuple[Notice, int]]:
        out = []
        for key, j in self._s.index.candidates(volume, policy, notice, time_margin_s, vertical_margin_m):
            if key in self._notices:
                continue  # staged in this transaction: judged below from the staged version
            n = self._s.notices[str(key)]
            if n.state.is_live:
                out.append((n, j))
        for n in self._notices.values():  # staged notices are few: check them directly
            if n.state.is_live and n.id != notice.id:
                out.extend((n, j) for j in range(len(n.volumes)))
        return out

    def open_conflicts_of(self, notice_id: str) -> list[ConflictRecord]:
        return [c for c in self.conflicts_of(notice_id) if c.state == ConflictState.OPEN]

    def conflicts_of(self, notice_id: str) -> list[ConflictRecord]:
        merged = {cid: self._s.conflicts[cid] for cid in self._s.conflicts_by_notice.get(notice_id, ())}
        merged.update({c.id: c for c in self._conflicts.values() if c.involves(notice_id)})
        return sorted(merged.values(), key=lambda c: (c.detected_at, c.id))

    def save_conflict(self, record: ConflictRecord) -> None:
        self._conflicts[record.id] = record

    def add_conflicts(self, records: Sequence[ConflictRecord]) -> None:
        for r in records:
            self.save_conflict(r)

    def list_notices(
        self,
        party: str | None = None,
        state: NoticeState | None = None,
        include_protected: bool = True,
        parties: Collection[str] | None = None,
    ) -> list[Notice]:
        allm = {**self._s.notices, **self._notices}
        return [
            n
            for n in allm.values()
            if (party is None or n.party == party)
            and (state is None or n.state == state)
            and (include_protected or not n.protected)
            and (parties is None or n.party in parties or (include_protected and n.protected))
        ]

    def list_conflicts(
        self, state: ConflictState | None = None, parties: Collection[str] | None = None
    ) -> list[ConflictRecord]:
        allc = {**self._s.conflicts, **self._conflicts}
        return [
            c
            for c in allc.values()
            if (state is None or c.state == state) and (parties is None or {c.party_a, c.party_b} & set(parties))
        ]

    def _commit(self) -> None:
        for nid, n in self._notices.items():
            self._s.notices[nid] = n
            if n.state.is_live:
                self._s.index.add(nid, n)
            else:
                self._s.index.remove(nid)
        for c in self._conflicts.values():
            self._s.conflicts[c.id] = c
            self._s.conflicts_by_notice.setdefault(c.notice_a, set()).add(c.id)
            self._s.conflicts_by_notice.setdefault(c.notice_b, set()).add(c.id)


class MemoryStore:
    """Notices and conflicts in memory; one writer at a time."""

    def __init__(self) -> None:
        self.index = VolumeIndex()
        self.notices: dict[str, Notice] = {}
        self.conflicts: dict[str, ConflictRecord] = {}
        self.conflicts_by_notice: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def begin(self) -> Iterator[MemoryRepository]:
        with self._lock:
            repo = MemoryRepository(self)
            yield repo
            repo._commit()
