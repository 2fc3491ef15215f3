"""Detect a filing's conflicts before taking the filing lock, then settle them under it.

Exact geometry is the slow part of a filing (seconds for the heaviest notice the limits allow),
and everything that writes waits on the filing lock. So the broker detects against a read
snapshot first, noting the log position it read at, and under the lock re-checks only the
notices filed, updated or ended since that position (every notice change logs a ``notice.*``
event in its own transaction, and writers append to the log in commit order while holding the
lock). The result is exactly what detection under the lock would find: conflicts with notices
unchanged since the snapshot are the same, and every changed notice is checked again in its
current version. Of the changed notices, only those whose volume rows are within reach of the
filing are read (``candidates_among``): reading one rebuilds its shapes. When nothing changed,
settling costs one indexed query.

What does not depend on the log is made before the lock too: the slices of the conflicts found,
quantized to the theater's grid (:class:`PreslicedGrid`), which are most of the time a filing with
many conflicts spends building its response.

A filing with more conflicts than :attr:`~deconflict.domain.policy.Limits.max_conflicts_per_filing`
is refused before anything is stored (docs/notices.md says why refusing, not truncating).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from deconflict.domain.errors import ValidationError
from deconflict.domain.grid import SliceGrid
from deconflict.domain.policy import Limits, SeparationPolicy
from deconflict.domain.strategic import Conflict, may_conflict, volume_conflict, volumes_within
from deconflict.domain.volumes import Notice
from deconflict.services.ports import BrokerRepository
from deconflict.services.wire import NOTHING_ENCODED, Encoded


@dataclass(frozen=True)
class Detected:
    """Conflicts of ``notice`` as of log position ``seq``; with ``near``, also the notices (id →
    party) within the widened minima the probe rule uses (:mod:`deconflict.services.probes`)."""

    notice: Notice
    conflicts: list[Conflict]
    seq: int
    near: dict[str, str] | None = None
    wide: SeparationPolicy | None = None


def near_notices(repo: BrokerRepository, notice: Notice, wide: SeparationPolicy) -> dict[str, str]:
    """The live notices (id → party) other than protected sites that ``notice`` comes within
    ``wide`` of (as :func:`~deconflict.services.filing.detect` with ``wide`` would find them, but
    with no slice made: only whether)."""
    near: dict[str, str] = {}
    for v in notice.volumes:
        for other, j in repo.candidates(v, wide, notice):
            if other.id is None or other.id in near or other.id == notice.id or other.protected:
                continue
            if may_conflict(notice, other) and volumes_within(v, other.volumes[j], wide):
                near[other.id] = other.party
    return near


def settle_near(repo: BrokerRepository, seen: Detected, changed: set[str] | None = None) -> dict[str, str] | None:
    """Under the filing lock: ``seen.near`` brought up to date with the notices changed since it
    was found (``None`` when it was not asked for; ``changed`` as for :func:`settle`)."""
    if seen.near is None or seen.wide is None:
        return None
    changed = repo.notices_changed_since(seen.seq) if changed is None else changed
    near = {nid: party for nid, party in seen.near.items() if nid not in changed}
    notice = seen.notice
    for v in notice.volumes:
        for other, j in repo.candidates_among(v, seen.wide, notice, changed):
            if other.id is None or other.id in near or other.protected:
                continue
            if may_conflict(notice, other) and volumes_within(v, other.volumes[j], seen.wide):
                near[other.id] = other.party
    return near


def settle(
    repo: BrokerRepository,
    seen: Detected,
    policy: SeparationPolicy,
    limits: Limits,
    changed: set[str] | None = None,
) -> list[Conflict]:
    """Under the filing lock: ``seen``'s conflicts brought up to date with the notices changed
    since it was detected (``changed``: ``repo.notices_changed_since(seen.seq)`` when the caller
    has read it already), refused when there are too many."""
    changed = repo.notices_changed_since(seen.seq) if changed is None else changed
    if not changed:
        refuse_too_many(seen.conflicts, limits)
        return seen.conflicts
    notice = seen.notice
    kept = [c for c in seen.conflicts if c.b.id not in changed]
    # Only the changed notices within reach are read: decoding one rebuilds its shapes (tens of
    # ms for the heaviest notice), which a filing far from it must not wait for under the lock.
    for i, v in enumerate(notice.volumes):
        for other, j in repo.candidates_among(v, policy, notice, changed):
            if may_conflict(notice, other):
                detail = volume_conflict(v, other.volumes[j], policy)
                if detail is not None:
                    kept.append(Conflict(notice, i, other, j, detail))
    kept.sort(key=lambda c: c.volume_a)  # stable: per volume, as detection finds them
    refuse_too_many(kept, limits)
    return kept


def conflict_keys(found: list[Conflict]) -> tuple[tuple[int, str | None, int, int], ...]:
    """What resolution hints depend on in ``found``: each conflicting volume pair, with the other
    notice's version (hints made before the lock are good under it only for the same keys)."""
    return tuple(sorted((c.volume_a, c.b.id, c.b.version, c.volume_b) for c in found))


def refuse_too_many(found: list[Conflict], limits: Limits) -> None:
    cap = limits.max_conflicts_per_filing
    if len(found) > cap:
        # No count and no notice: conflicts with parties the disclosure policy hides from the
        # filer must not be counted out to it (the refusal says only "more than the cap").
        raise ValidationError.at(
            "volumes",
            f"the notice has more than {cap} conflicts, the theater allows {cap} in one filing; nothing was "
            "stored: file it as smaller notices, or move it clear of the busiest airspace",
        )


@dataclass(frozen=True, eq=False)
class PreslicedGrid(SliceGrid):
    """``SliceGrid`` with some exact slices already quantized: :meth:`slice` answers those from
    ``done``, the rest as the grid does. Hashes as the grid it was made from. Made for one filing
    (its conflicts' slices), so each answer made before the lock is handed out once as it is and
    then decoded afresh: every caller gets its own copy, and the lock waits for neither an encoding
    of the exact slice nor a decoding of the answer."""

    done: Mapping[int, tuple[Mapping[str, Any], str]] = field(default_factory=dict, repr=False)
    """id of an exact slice's ``overlap`` → (the exact slice, its grid slice as JSON text). The
    overlap is the conflict detail's own area, the same object wherever the slice is made again."""
    fresh: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    """The same grid slices decoded, taken out as they are handed out."""

    def slice(self, exact: Mapping[str, Any]) -> dict[str, Any]:
        key = id(exact.get("overlap"))
        hit = self.done.get(key)
        if hit is None or hit[0] != exact:  # the overlap is the same object: compared by identity
            return super().slice(exact)
        first = self.fresh.pop(key, None)
        if first is not None:
            return first
        out: dict[str, Any] = json.loads(hit[1])
        return out


def preslice(grid: SliceGrid, found: list[Conflict], enc: Encoded = NOTHING_ENCODED) -> PreslicedGrid:
    """``grid`` with the slices of ``found`` quantized (before the filing lock: the S2 covering of
    each overlap is the costly part of a conflict's view); ``enc``: their forms made already."""
    done: dict[int, tuple[Mapping[str, Any], str]] = {}
    fresh: dict[int, dict[str, Any]] = {}
    for c in found:
        key = id(c.detail.area)
        if key not in done:
            exact = enc.slice_of(c.detail)
            fresh[key] = grid.slice(exact)
            done[key] = (exact, json.dumps(fresh[key], allow_nan=False))
    same = {f.name: getattr(grid, f.name) for f in fields(SliceGrid)}
    return PreslicedGrid(**same, done=done, fresh=fresh)
