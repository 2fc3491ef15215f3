"""The store as the operator on the broker's host reads it (the command line's read commands):
every notice, site and conflict, uncut by disclosure, in one read-only transaction each. Parties
read through the API, never through these."""

from __future__ import annotations

from dataclasses import dataclass

from deconflict.domain.parties import Party
from deconflict.domain.volumes import Notice
from deconflict.services.ports import ConflictRecord, ConflictState
from deconflict.services.transaction import BrokerCore


@dataclass(frozen=True)
class ConflictPair:
    """A conflict with the two notices it is between, as stored (None: no longer stored)."""

    conflict: ConflictRecord
    notice_a: Notice | None
    notice_b: Notice | None


class OperatorReads:
    def __init__(self, core: BrokerCore) -> None:
        self.core = core

    def notices(self, party: str | None = None, *, live: bool = False) -> list[Notice]:
        """Every notice and site (of ``party``), or only the live ones."""
        with self.core.read() as repo:
            found = repo.list_notices(party=party)
        return [n for n in found if n.state.is_live] if live else found

    def notice(self, notice_id: str) -> Notice | None:
        with self.core.read() as repo:
            return repo.get(notice_id)

    def stored_ids(self) -> set[str]:
        """The ids of every notice and site ever filed here."""
        return {n.id for n in self.notices() if n.id is not None}

    def site_ids(self) -> frozenset[str]:
        return frozenset(n.id for n in self.notices() if n.protected and n.id is not None)

    def conflicts(self, state: ConflictState | None = None) -> list[ConflictRecord]:
        """Conflicts oldest first, in ``state`` (all when None)."""
        with self.core.read() as repo:
            return repo.list_conflicts(state=state)

    def conflict_pair(self, conflict_id: str) -> ConflictPair | None:
        """A conflict and both its notices, read together; None when there is no such conflict."""
        with self.core.read() as repo:
            c = repo.get_conflict(conflict_id)
            if c is None:
                return None
            return ConflictPair(c, repo.get(c.notice_a), repo.get(c.notice_b))

    def registered(self, name: str) -> Party | None:
        """The party of that name, revoked or not; None when there is none."""
        with self.core.read() as repo:
            return repo.get_party(name)
