"""The in-memory store's tables and their per-transaction views.

A table is a plain dict kept by the :class:`~deconflict.adapters.memory.store.MemoryStore`. A
transaction never changes it: it reads and writes through a :class:`Staged` view, whose changes
are applied on commit (all tables at once, under the store's mutex) and dropped on rollback, so a
block that raises leaves nothing behind. The event log is a list in ``seq`` order, staged the same
way by :class:`StagedLog`."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_GONE: Any = object()
"""A staged deletion."""


class DuplicateKey(Exception):
    """An insert of a key the table holds already (where SQL raises an ``IntegrityError``)."""

    def __init__(self, table: str, key: object) -> None:
        super().__init__(f"{table}: key {key!r} exists")
        self.table, self.key = table, key


class Staged(Generic[K, V]):
    """One transaction's view of a table: the committed rows with its own changes over them."""

    def __init__(self, name: str, base: dict[K, V], mutex: threading.Lock) -> None:
        self.name = name
        self._base = base
        self._mutex = mutex
        self.changes: dict[K, V] = {}
        """Staged rows by key; a deleted key holds ``_GONE``."""

    def get(self, key: K) -> V | None:
        v = self.changes.get(key, None)
        if v is None:
            if key in self.changes:
                return None
            return self._base.get(key)
        return None if v is _GONE else v

    def __contains__(self, key: K) -> bool:
        return self.get(key) is not None

    def put(self, key: K, value: V) -> None:
        self.changes[key] = value

    def insert(self, key: K, value: V) -> None:
        """A new row; :class:`DuplicateKey` when ``key`` is taken."""
        if self.get(key) is not None:
            raise DuplicateKey(self.name, key)
        self.changes[key] = value

    def delete(self, key: K) -> bool:
        """Remove a row; whether there was one."""
        had = self.get(key) is not None
        if had:
            self.changes[key] = _GONE
        return had

    def items(self) -> list[tuple[K, V]]:
        """Every row, in the order keys were first stored (rows staged new come last)."""
        with self._mutex:
            merged = dict(self._base)
        for k, v in self.changes.items():
            if v is _GONE:
                merged.pop(k, None)
            else:
                merged[k] = v
        return list(merged.items())

    def values(self) -> list[V]:
        return [v for _, v in self.items()]

    def where(self, keep: Callable[[V], bool]) -> list[V]:
        return [v for v in self.values() if keep(v)]

    def pending(self) -> dict[K, V]:
        """The rows this transaction stored (not those it deleted)."""
        return {k: v for k, v in self.changes.items() if v is not _GONE}

    def apply(self) -> None:
        """Write the staged changes into the table (the caller holds the mutex)."""
        for k, v in self.changes.items():
            if v is _GONE:
                self._base.pop(k, None)
            else:
                self._base[k] = v


@dataclass(frozen=True)
class LoggedEvent:
    """An event as the log keeps it: its payload as the canonical text that was hashed (as the SQL
    store keeps it), and the notice it is about for the notice events."""

    seq: int
    time: float
    actor: str
    type: str
    payload: str
    payload_digest: str
    prev_hash: str
    hash: str
    notice_id: str | None


class StagedLog:
    """One transaction's view of the event log: the committed events and those it appended."""

    def __init__(self, base: list[LoggedEvent], mutex: threading.Lock) -> None:
        self._base = base
        self._mutex = mutex
        self.new: list[LoggedEvent] = []

    def all(self) -> list[LoggedEvent]:
        with self._mutex:
            committed = list(self._base)
        return committed + self.new

    def last(self) -> LoggedEvent | None:
        if self.new:
            return self.new[-1]
        with self._mutex:
            return self._base[-1] if self._base else None

    def append(self, e: LoggedEvent) -> None:
        last = self.last()
        if last is not None and e.seq <= last.seq:
            raise DuplicateKey("events", e.seq)
        self.new.append(e)

    def after(self, seq: int) -> list[LoggedEvent]:
        """The events with a greater ``seq``, in order."""
        with self._mutex:
            i = bisect.bisect_right(self._base, seq, key=lambda e: e.seq)
            committed = self._base[i:]
        return committed + [e for e in self.new if e.seq > seq]

    def apply(self) -> None:
        self._base.extend(self.new)
