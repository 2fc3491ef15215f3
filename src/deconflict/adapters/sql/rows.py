"""The rows of notices and conflicts and the queries of their pages, as
:class:`~deconflict.adapters.sql.repository.SqlRepository` writes and reads them."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa

from deconflict.adapters.sql import tables as t
from deconflict.adapters.sql.codec import detail_from_json, detail_json
from deconflict.domain.volumes import Notice, NoticeState
from deconflict.services.ports import ConflictRecord, ConflictState


def notice_page(
    parties: Collection[str] | None,
    party: str | None,
    state: NoticeState | None,
    protected: bool | None,
    time_start: float | None,
    time_end: float | None,
    after: tuple[float, str] | None,
    limit: int,
) -> sa.Select[Any]:
    """The query of :meth:`~deconflict.adapters.sql.repository.SqlRepository.page_notices`:
    (created_at, id, body) in key order."""
    n = t.notices
    stmt = sa.select(n.c.created_at, n.c.id, n.c.body).order_by(n.c.created_at, n.c.id).limit(limit)
    if parties is not None:
        stmt = stmt.where(sa.or_(n.c.party.in_(sorted(parties)), n.c.protected))
    if party is not None:
        stmt = stmt.where(n.c.party == party)
    if state is not None:
        stmt = stmt.where(n.c.state == state.value)
    if protected is not None:
        stmt = stmt.where(n.c.protected == protected)
    if time_start is not None:
        stmt = stmt.where(n.c.time_end >= time_start)
    if time_end is not None:
        stmt = stmt.where(n.c.time_start <= time_end)
    if after is not None:
        t0, nid = after
        stmt = stmt.where(sa.or_(n.c.created_at > t0, sa.and_(n.c.created_at == t0, n.c.id > nid)))
    return stmt


def conflict_page(
    parties: Collection[str] | None, state: ConflictState | None, after: tuple[float, str] | None, limit: int | None
) -> sa.Select[Any]:
    """Conflicts in (detected_at, id) order: those with a side of one of ``parties``, in ``state``,
    after the key ``after``; at most ``limit`` (all when None)."""
    c = t.conflicts
    stmt = sa.select(c).order_by(c.c.detected_at, c.c.id).limit(limit)
    if parties is not None:
        names = sorted(parties)
        stmt = stmt.where(sa.or_(c.c.party_a.in_(names), c.c.party_b.in_(names)))
    if state is not None:
        stmt = stmt.where(c.c.state == state.value)
    if after is not None:
        t0, cid = after
        stmt = stmt.where(sa.or_(c.c.detected_at > t0, sa.and_(c.c.detected_at == t0, c.c.id > cid)))
    return stmt


def notice_row(n: Notice, body: str) -> dict[str, Any]:
    return {
        "id": n.id,
        "party": n.party,
        "kind": n.kind,
        "version": n.version,
        "state": n.state.value,
        "protected": n.protected,
        "received_at": n.received_at,
        "time_start": n.time_start,
        "time_end": n.time_end,
        "body": body,
    }


def conflict_row(r: ConflictRecord, detail: str | None = None) -> dict[str, Any]:
    return {
        "notice_a": r.notice_a,
        "party_a": r.party_a,
        "version_a": r.version_a,
        "volume_a": r.volume_a,
        "notice_b": r.notice_b,
        "party_b": r.party_b,
        "version_b": r.version_b,
        "volume_b": r.volume_b,
        "protected_site": r.protected_site,
        "detail": detail_json(r.detail) if detail is None else detail,
        "state": r.state.value,
        "detected_at": r.detected_at,
        "updated_at": r.updated_at,
        "resolved_at": r.resolved_at,
        "protected_side": r.protected_side,
    }


def conflict_record(row: sa.RowMapping) -> ConflictRecord:
    return ConflictRecord(
        id=row["id"],
        notice_a=row["notice_a"],
        party_a=row["party_a"],
        version_a=row["version_a"],
        volume_a=row["volume_a"],
        notice_b=row["notice_b"],
        party_b=row["party_b"],
        version_b=row["version_b"],
        volume_b=row["volume_b"],
        protected_site=bool(row["protected_site"]),
        detail=detail_from_json(row["detail"]),
        state=ConflictState(row["state"]),
        detected_at=row["detected_at"],
        updated_at=row["updated_at"],
        resolved_at=row["resolved_at"],
        protected_side=row["protected_side"],
    )
