"""Tactical alerts in the store: recording the detector's changes (with the broker's threads about
new alerts) and listing them as each caller may see them."""

from __future__ import annotations

from typing import Any

from deconflict.domain.alerts import Alert, AlertState, Changes, alert_json
from deconflict.domain.disclosure import Level
from deconflict.domain.event_types import EventType
from deconflict.domain.hotline import BROKER, Priority, Reference
from deconflict.domain.parties import Party
from deconflict.services.threads import BrokerThreads
from deconflict.services.transaction import MAX_LIST, BrokerCore, page


class Alerts:
    """The alerts the tactical service raises, kept and shown."""

    def __init__(self, core: BrokerCore, threads: BrokerThreads) -> None:
        self.core = core
        self.threads = threads

    def open_alerts(self) -> list[Alert]:
        with self.core.read() as repo:
            return repo.open_alerts()

    def record_alerts(self, changes: Changes) -> None:
        """Write alert changes and their events in one transaction (actor ``broker``)."""
        with self.core.write() as tx:
            for type_, alerts in (
                (EventType.ALERT_CREATED, changes.created),
                (EventType.ALERT_UPDATED, changes.updated),
                (EventType.ALERT_CLEARED, changes.cleared),
            ):
                for a in alerts:
                    tx.repo.save_alert(a)
                    tx.log(BROKER, type_, {"alert": alert_json(a)})
            for a in changes.created:
                self.threads.open_thread(
                    tx,
                    Reference("alert", a.id),
                    a.parties,
                    self.core.hotline.alert_deadline_s(a.severity),
                    Priority.FLASH if a.severity.urgent else Priority.IMMEDIATE,
                    f"Tactical alert {a.id}: {a.kind.value}, severity {a.severity}",
                    f"The broker raised a {a.kind.value} alert that involves your aircraft or airspace. Read it "
                    f"at /v1/alerts and acknowledge this message (received and understood; an acknowledgement "
                    "is never an approval).",
                )
            for a in changes.cleared:
                tx.repo.stop_escalations("alert", a.id)

    def list_alerts(
        self,
        caller: Party,
        state: AlertState | None = AlertState.OPEN,
        cursor: str | None = None,
        limit: int = MAX_LIST,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the alerts the caller may see, oldest first, and the next page's cursor."""
        with self.core.read() as repo:
            d = self.core.disclosure(repo)
            scope = {caller.name} if caller.role.files_notices else self.core.scope(repo, d, caller, Level.EXISTENCE)
            return page(
                lambda after, n: repo.page_alerts(scope, state, after, n),
                lambda a: (a.detected_at, a.id),
                lambda a: d.alert_view(caller, alert_json(a)),
                cursor,
                limit,
            )
