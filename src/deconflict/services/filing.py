"""Use cases: file, update, cancel and end notices; every change and the conflicts it finds are
recorded in one transaction, so nothing is lost or half-written."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace

from deconflict.domain.errors import Forbidden, NotFoundError, StaleVersionError, ValidationError
from deconflict.domain.policy import NoticePolicy, SeparationPolicy
from deconflict.domain.resolution import HintBounds, ResolutionHints, resolution_hints
from deconflict.domain.schedule import first_active_from
from deconflict.domain.strategic import Conflict, may_conflict, volume_conflict
from deconflict.domain.times import format_time
from deconflict.domain.volumes import Notice, NoticeState, Volume4D
from deconflict.services.ports import Clock, ConflictRecord, ConflictState, Repository, UnitOfWork


class NotOwnerError(Forbidden):
    """Only the party that filed a notice may change it."""


@dataclass(frozen=True)
class Settings:
    separation: SeparationPolicy = field(default_factory=SeparationPolicy)
    notice: NoticePolicy = field(default_factory=NoticePolicy)
    hints: HintBounds = field(default_factory=HintBounds)


@dataclass(frozen=True)
class FilingResult:
    notice: Notice
    lead_time_s: float
    """How long before its first volume starts the broker received this version."""
    late: bool
    """Lead time under the policy's minimum notice (recorded, never refused)."""
    conflicts: list[ConflictRecord]
    """Open conflicts of the notice after this change."""
    resolved: list[ConflictRecord]
    """Conflicts this change cleared."""
    hints: ResolutionHints | None
    """Shifts that would clear every conflict, when there are conflicts."""
    created: list[ConflictRecord] = field(default_factory=list)
    """Conflicts this change found for the first time (a subset of ``conflicts``)."""
    changed: list[ConflictRecord] = field(default_factory=list)
    """Conflicts that still hold but whose sides or slice changed (a subset of ``conflicts``)."""


def refuse_ended(notice: Notice, now: float) -> None:
    """A notice is for activity to come or under way: one whose every volume has ended by the time
    the broker receives it is refused (it would be recorded as "late" with a negative lead time,
    and could never conflict with anything)."""
    last = max(range(len(notice.volumes)), key=lambda i: notice.volumes[i].time_end)
    end = notice.volumes[last].time_end
    if end <= now:
        raise ValidationError.at(
            f"volumes[{last}].time_end",
            f"{format_time(end)} has passed: the notice ended {_ago(now - end)} before the broker received it "
            f"({format_time(now)}); file only activity that has not ended",
        )


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def lead_time(notice: Notice) -> float:
    """From receipt to the start of the notice's first activity: its earliest volume's start or, for a
    recurring volume, the start of its first occurrence that has not ended when the notice is
    received (one under way gives a negative lead time, as an unscheduled window already begun)."""
    assert notice.received_at is not None
    if all(v.schedule is None for v in notice.volumes):
        return notice.time_start - notice.received_at
    return min(first_activity(v, notice.received_at) for v in notice.volumes) - notice.received_at


def first_activity(v: Volume4D, received_at: float) -> float:
    if v.schedule is None:
        return v.time_start
    first = first_active_from(v.schedule, v.time_start, v.time_end, received_at)
    if first is None:  # every occurrence has ended: the first one
        first = first_active_from(v.schedule, v.time_start, v.time_end, v.time_start)
    return v.time_start if first is None else first[0]


class NoticeService:
    """File notices and keep their conflicts up to date."""

    def __init__(self, uow: UnitOfWork, clock: Clock, settings: Settings | None = None, hints: bool = True) -> None:
        self.uow = uow
        self.clock = clock
        self.settings = settings or Settings()
        self.hints = hints
        """Whether results carry hints computed from every neighbour (the broker computes its own
        from the conflicts a caller may see, and turns these off)."""

    def file(self, notice: Notice) -> FilingResult:
        """File a new notice; an ``id`` already in use is refused (update it instead)."""
        with self.uow.begin() as repo:
            repo.lock_for_filing()
            return self.file_in(repo, notice)

    def update(self, notice_id: str, replaces_version: int, notice: Notice) -> FilingResult:
        """Replace a notice's volumes/kind; ``replaces_version`` must be the current version."""
        with self.uow.begin() as repo:
            repo.lock_for_filing()
            return self.update_in(repo, notice_id, replaces_version, notice)

    def set_state(
        self, notice_id: str, party: str, state: NoticeState, replaces_version: int | None = None
    ) -> FilingResult:
        """Activate, end or cancel a notice; ending or cancelling resolves its conflicts."""
        with self.uow.begin() as repo:
            repo.lock_for_filing()
            return self.set_state_in(repo, notice_id, party, state, replaces_version)

    # The ``*_in`` forms run inside a caller's transaction that already holds the filing lock, so
    # that the broker can record events, receipts and idempotency keys in the same transaction.

    def file_in(
        self, repo: Repository, notice: Notice, now: float | None = None, found: list[Conflict] | None = None
    ) -> FilingResult:
        """File ``notice`` in the caller's transaction; ``found``, when given, are its conflicts as
        detected and settled by the caller (:mod:`deconflict.services.filing_flow`)."""
        now = self.clock() if now is None else now
        refuse_ended(notice, now)
        nid = notice.id or uuid.uuid4().hex
        if repo.get(nid) is not None:
            raise ValidationError.at("id", f"notice {nid!r} already exists; update it with its version instead")
        stored = replace(notice, id=nid, version=1, received_at=now, state=NoticeState.ACCEPTED)
        repo.add(stored)
        return self._recheck(repo, stored, now, found)

    def update_in(
        self,
        repo: Repository,
        notice_id: str,
        replaces_version: int,
        notice: Notice,
        now: float | None = None,
        found: list[Conflict] | None = None,
    ) -> FilingResult:
        now = self.clock() if now is None else now
        current = self._owned(repo, notice_id, notice.party)
        if current.version != replaces_version:
            raise StaleVersionError(notice_id, replaces_version, current.version)
        if not current.state.is_live:
            raise ValidationError.at("state", f"notice {notice_id!r} is {current.state.value}; it cannot change")
        refuse_ended(notice, now)
        stored = replace(
            notice,
            id=notice_id,
            version=current.version + 1,
            received_at=now,
            state=current.state,
            protected=current.protected,
        )
        repo.replace(stored, replaces_version)
        return self._recheck(repo, stored, now, found)

    def set_state_in(
        self,
        repo: Repository,
        notice_id: str,
        party: str,
        state: NoticeState,
        replaces_version: int | None = None,
        now: float | None = None,
    ) -> FilingResult:
        now = self.clock() if now is None else now
        current = self._owned(repo, notice_id, party)
        if replaces_version is not None and current.version != replaces_version:
            raise StaleVersionError(notice_id, replaces_version, current.version)
        if not current.state.is_live:
            raise ValidationError.at("state", f"notice {notice_id!r} is already {current.state.value}")
        if state == NoticeState.ACCEPTED:
            raise ValidationError.at("state", "a notice cannot go back to accepted")
        if state == NoticeState.ACTIVE and current.state == NoticeState.ACTIVE:
            raise ValidationError.at("state", f"notice {notice_id!r} is already active")
        stored = replace(current, version=current.version + 1, state=state)
        repo.replace(stored, current.version)
        return self._recheck(repo, stored, now)

    def _owned(self, repo: Repository, notice_id: str, party: str) -> Notice:
        current = repo.get(notice_id)
        if current is None:
            raise NotFoundError(f"notice {notice_id!r} does not exist")
        if current.party != party:
            raise NotOwnerError(f"notice {notice_id!r} belongs to another party; only its owner may change it")
        return current

    def _recheck(
        self, repo: Repository, notice: Notice, now: float, found: list[Conflict] | None = None
    ) -> FilingResult:
        assert notice.id is not None
        policy = self.settings.separation
        if found is None:
            found = detect(repo, notice, policy) if notice.state.is_live else []
        previous = {c.pair_key(): c for c in repo.open_conflicts_of(notice.id)}
        current: list[ConflictRecord] = []
        created: list[ConflictRecord] = []
        changed: list[ConflictRecord] = []
        for c in found:
            assert c.b.id is not None
            rec = ConflictRecord(
                id=uuid.uuid4().hex,
                notice_a=notice.id,
                party_a=notice.party,
                version_a=notice.version,
                volume_a=c.volume_a,
                notice_b=c.b.id,
                party_b=c.b.party,
                version_b=c.b.version,
                volume_b=c.volume_b,
                protected_site=notice.protected or c.b.protected,
                protected_side="a" if notice.protected else "b" if c.b.protected else None,
                detail=c.detail,
                state=ConflictState.OPEN,
                detected_at=now,
                updated_at=now,
            )
            old = previous.pop(rec.pair_key(), None)
            if old is None:
                created.append(rec)
            else:  # the same pair still conflicts: keep its id and first detection
                rec = replace(rec, id=old.id, detected_at=old.detected_at)
                if replace(old, updated_at=now) != rec:
                    changed.append(rec)
                repo.save_conflict(rec)
            current.append(rec)
        repo.add_conflicts(created)  # new ids: one insert for all
        resolved = []
        for old in previous.values():
            done = replace(old, state=ConflictState.RESOLVED, resolved_at=now, updated_at=now)
            repo.save_conflict(done)
            resolved.append(done)
        # A protected site does not move (a hospital, a camp): the notices that conflict with it do.
        hints = self._hints(repo, notice) if current and self.hints and not notice.protected else None
        lt = lead_time(notice)
        return FilingResult(
            notice=notice,
            lead_time_s=lt,
            late=lt < self.settings.notice.min_notice_s,
            conflicts=current,
            resolved=resolved,
            hints=hints,
            created=created,
            changed=changed,
        )

    def _hints(self, repo: Repository, notice: Notice) -> ResolutionHints:
        b = self.settings.hints
        policy = self.settings.separation
        neighbours = []
        for i, v in enumerate(notice.volumes):
            for other, j in repo.candidates(v, policy, notice, b.max_time_shift_s, b.max_altitude_shift_m):
                if other.id != notice.id and may_conflict(notice, other):
                    neighbours.append((i, other.volumes[j]))
        return resolution_hints(notice, neighbours, policy, b)


def detect(repo: Repository, notice: Notice, policy: SeparationPolicy) -> list[Conflict]:
    """Exact conflicts of ``notice`` with the live notices in ``repo``."""
    out = []
    for i, v in enumerate(notice.volumes):
        for other, j in repo.candidates(v, policy, notice):
            if other.id == notice.id or not may_conflict(notice, other):
                continue
            detail = volume_conflict(v, other.volumes[j], policy)
            if detail is not None:
                out.append(Conflict(notice, i, other, j, detail))
    return out
