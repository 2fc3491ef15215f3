"""Tactical alerts in the store: recording the detector's changes (with the broker's threads about
new alerts) and listing them as each caller may see them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from deconflict.domain.alerts import Alert, AlertState, Changes, alert_json, delivery_order
from deconflict.domain.disclosure_policy import Level
from deconflict.domain.event_types import EventType
from deconflict.domain.hotline import BROKER, Message, Priority, Reference
from deconflict.domain.parties import Party
from deconflict.services.threads import BrokerThreads
from deconflict.services.transaction import MAX_LIST, BrokerCore, Transaction, page

CHUNK = 500
"""Most alert changes written in one transaction (the first, most urgent, reach the streams while
the rest of a heavy cycle is being written)."""


class Alerts:
    """The alerts the tactical service raises, kept and shown."""

    def __init__(self, core: BrokerCore, threads: BrokerThreads) -> None:
        self.core = core
        self.threads = threads

    def open_alerts(self) -> list[Alert]:
        with self.core.read() as repo:
            return repo.open_alerts()

    def count_open_alerts(self) -> int:
        with self.core.read() as repo:
            return repo.count_open_alerts()

    def record_alerts(self, changes: Changes) -> Iterator[list[Alert]]:
        """Write alert changes with their events and the broker's threads about new alerts (actor
        ``broker``), most urgent first (:func:`~deconflict.domain.alerts.delivery_order`), in
        transactions of at most :data:`CHUNK` changes: the first commits, and reaches the live
        streams, while the rest are still being written. Yields each chunk once it is committed;
        a chunk is written whole or not at all."""
        logged = {
            "created": EventType.ALERT_CREATED,
            "updated": EventType.ALERT_UPDATED,
            "cleared": EventType.ALERT_CLEARED,
        }
        how = {a.id: "created" for a in changes.created} | {a.id: "updated" for a in changes.updated}
        how |= {a.id: "cleared" for a in changes.cleared}
        ordered = [(how[a.id], a) for a in delivery_order([*changes.created, *changes.updated, *changes.cleared])]
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start : start + CHUNK]
            with self.core.write() as tx:
                created = [a for change, a in chunk if change == "created"]
                tx.repo.add_alerts(created)
                tx.repo.update_alerts([a for change, a in chunk if change != "created"])
                tx.log_many(BROKER, [(logged[change], {"alert": alert_json(a)}) for change, a in chunk])
                messages = [m for m in (self._thread(tx, a) for a in created) if m is not None]
                if messages:
                    self.threads.send_threads(tx, messages)
                tx.repo.stop_escalations_of("alert", [a.id for change, a in chunk if change == "cleared"])
            yield [a for _, a in chunk]

    def _thread(self, tx: Transaction, a: Alert) -> Message | None:
        return self.threads.thread_message(
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
