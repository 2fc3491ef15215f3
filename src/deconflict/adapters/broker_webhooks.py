"""The webhook deliverer's store over the broker: webhook rows from the store, events cut down by
the broker's disclosure for each party."""

from __future__ import annotations

from deconflict.adapters.webhooks import OutgoingEvent
from deconflict.services.broker import Broker
from deconflict.services.ports import BrokerUnitOfWork, Webhook


class BrokerWebhookStore:
    """:class:`~deconflict.adapters.webhooks.WebhookStore` for a running broker."""

    def __init__(self, broker: Broker, store: BrokerUnitOfWork) -> None:
        self.broker = broker
        self.store = store

    def due_webhooks(self, now: float) -> list[Webhook]:
        with self.store.begin(write=False) as repo:
            return repo.due_webhooks(now)

    def visible_events(self, party: str, after_seq: int, limit: int) -> tuple[list[OutgoingEvent], int]:
        with self.store.begin(write=False) as repo:
            viewer = repo.get_party(party)
        if viewer is None or viewer.revoked:  # a revoked party's deliveries stop
            return [], after_seq
        return self.broker.visible_events(viewer, after_seq, limit)

    def delivered(self, party: str, cursor: int) -> None:
        with self.store.begin() as repo:
            repo.webhook_delivered(party, cursor)

    def failed(self, party: str, failures: int, next_attempt_at: float, error: str) -> None:
        with self.store.begin() as repo:
            repo.webhook_failed(party, failures, next_attempt_at, error)
