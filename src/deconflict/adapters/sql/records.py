"""The broker's records in SQL, one mixin per subject: parties and credentials
(:mod:`.parties`), the event log and receipts (:mod:`.events`), webhooks (:mod:`.webhooks`),
alerts (:mod:`.alerts`) and the hotline (:mod:`.hotline`). Together a base of
:class:`~deconflict.adapters.sql.repository.SqlRepository`, so that one transaction covers a filing
and everything it records."""

from __future__ import annotations

from deconflict.adapters.sql.alerts import AlertRecords
from deconflict.adapters.sql.events import EventRecords
from deconflict.adapters.sql.hotline import HotlineRecords
from deconflict.adapters.sql.parties import PartyRecords
from deconflict.adapters.sql.webhooks import WebhookRecords


class BrokerRecords(PartyRecords, EventRecords, WebhookRecords, AlertRecords, HotlineRecords):
    """The broker's records on one connection inside one transaction."""
