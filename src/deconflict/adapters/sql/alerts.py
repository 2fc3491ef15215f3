"""The tactical alerts and their parties in SQL."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa

from deconflict.adapters.sql import tables as t
from deconflict.domain.alerts import Alert, AlertKind


class AlertRecords:
    """Alerts (a mixin of :class:`~deconflict.adapters.sql.records.BrokerRecords`)."""

    conn: sa.Connection

    # ------------------------------------------------------------------ alerts

    def add_alerts(self, alerts: Sequence[Alert]) -> None:
        """Insert new alerts and their parties, in one statement each."""
        if not alerts:
            return
        self.conn.execute(sa.insert(t.alerts), [{"id": a.id, **_alert_row(a)} for a in alerts])
        self.conn.execute(
            sa.insert(t.alert_parties), [{"alert_id": a.id, "party": p} for a in alerts for p in set(a.parties)]
        )

    def update_alerts(self, alerts: Sequence[Alert]) -> None:
        """Write changed alerts (severity, body, state, times) by id, in one statement."""
        if not alerts:
            return
        a = t.alerts
        stmt = sa.update(a).where(a.c.id == sa.bindparam("b_id"))
        self.conn.execute(stmt, [{"b_id": x.id, **_alert_row(x)} for x in alerts])

    def count_open_alerts(self) -> int:
        return int(self.conn.execute(sa.select(sa.func.count()).where(t.alerts.c.state == "open")).scalar_one())

    def open_alerts(self) -> list[Alert]:
        a = t.alerts
        return [_alert(r) for r in self.conn.execute(sa.select(a).where(a.c.state == "open")).mappings()]

    def page_alerts(
        self,
        parties: Collection[str] | None,
        state: str | None = None,
        after: tuple[float, str] | None = None,
        limit: int = 1000,
    ) -> list[Alert]:
        """One page of alerts in (detected_at, id) order, of these parties (``None``: all)."""
        a = t.alerts
        stmt = sa.select(a).order_by(a.c.detected_at, a.c.id).limit(limit)
        if parties is not None:
            ap = t.alert_parties
            stmt = stmt.where(a.c.id.in_(sa.select(ap.c.alert_id).where(ap.c.party.in_(sorted(parties)))))
        if state is not None:
            stmt = stmt.where(a.c.state == state)
        if after is not None:
            t0, aid = after
            stmt = stmt.where(sa.or_(a.c.detected_at > t0, sa.and_(a.c.detected_at == t0, a.c.id > aid)))
        return [_alert(r) for r in self.conn.execute(stmt).mappings()]

    def earliest_alert_open_at(self, kinds: Collection[str], at: float) -> float | None:
        """When the oldest alert of ``kinds`` still open at ``at`` (not cleared before it) was
        detected; ``None`` when none was open then. Bounds how far back a report reads alert events."""
        a = t.alerts
        stmt = sa.select(sa.func.min(a.c.detected_at)).where(
            a.c.kind.in_(sorted(kinds)), a.c.detected_at < at, sa.or_(a.c.cleared_at.is_(None), a.c.cleared_at >= at)
        )
        value = self.conn.execute(stmt).scalar_one_or_none()
        return None if value is None else float(value)


def _alert_row(alert: Alert) -> dict[str, Any]:
    return {
        "key": alert.key,
        "kind": alert.kind.value,
        "severity": alert.severity.value,
        "parties": json.dumps(list(alert.parties)),
        "body": json.dumps(alert.body, separators=(",", ":")),
        "state": alert.state.value,
        "detected_at": alert.detected_at,
        "updated_at": alert.updated_at,
        "cleared_at": alert.cleared_at,
    }


def _alert(row: sa.RowMapping) -> Alert:
    return Alert(
        id=row["id"],
        key=row["key"],
        kind=AlertKind(row["kind"]),
        severity=row["severity"],
        parties=tuple(json.loads(row["parties"])),
        body=json.loads(row["body"]),
        state=row["state"],
        detected_at=row["detected_at"],
        updated_at=row["updated_at"],
        cleared_at=row["cleared_at"],
    )
