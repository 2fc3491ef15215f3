"""The parties' webhooks and their delivery cursors in SQL."""

from __future__ import annotations

import sqlalchemy as sa

from deconflict.adapters.sql import tables as t
from deconflict.services.ports import Webhook


class WebhookRecords:
    """Webhooks (a mixin of :class:`~deconflict.adapters.sql.records.BrokerRecords`)."""

    conn: sa.Connection

    # ------------------------------------------------------------------ webhooks

    def set_webhook(self, party: str, url: str, secret: str, cursor: int) -> None:
        w = t.webhooks
        self.conn.execute(sa.delete(w).where(w.c.party == party))
        self.conn.execute(
            sa.insert(w).values(
                party=party, url=url, secret=secret, cursor=cursor, failures=0, next_attempt_at=0.0, last_error=None
            )
        )

    def remove_webhook(self, party: str) -> bool:
        return bool(self.conn.execute(sa.delete(t.webhooks).where(t.webhooks.c.party == party)).rowcount)

    def get_webhook(self, party: str) -> Webhook | None:
        row = self.conn.execute(sa.select(t.webhooks).where(t.webhooks.c.party == party)).mappings().first()
        return None if row is None else _webhook(row)

    def due_webhooks(self, now: float) -> list[Webhook]:
        w = t.webhooks
        rows = self.conn.execute(sa.select(w).where(w.c.next_attempt_at <= now).order_by(w.c.party)).mappings()
        return [_webhook(r) for r in rows]

    def webhook_delivered(self, party: str, cursor: int) -> None:
        w = t.webhooks
        self.conn.execute(
            sa.update(w)
            .where(w.c.party == party, w.c.cursor < cursor)
            .values(cursor=cursor, failures=0, next_attempt_at=0.0, last_error=None)
        )

    def webhook_failed(self, party: str, failures: int, next_attempt_at: float, error: str) -> None:
        w = t.webhooks
        self.conn.execute(
            sa.update(w)
            .where(w.c.party == party)
            .values(failures=failures, next_attempt_at=next_attempt_at, last_error=error[:1000])
        )


def _webhook(row: sa.RowMapping) -> Webhook:
    return Webhook(
        party=row["party"],
        url=row["url"],
        secret=row["secret"],
        cursor=int(row["cursor"]),
        failures=int(row["failures"]),
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
    )
