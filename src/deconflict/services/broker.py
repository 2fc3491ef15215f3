"""The neutral broker: one object that holds every use case, for the API, the CLI and the tests.

Each use case lives in its own module over a shared :class:`~deconflict.services.transaction.BrokerCore`
(the store, clock, key and settings; the write transaction under the filing lock; the disclosure
in force):

- :mod:`~deconflict.services.parties`: parties, tokens, disclosure rules;
- :mod:`~deconflict.services.notices`: filing, updating, state changes, idempotency;
- :mod:`~deconflict.services.expiry`: past notices ended, and the operator's filings from the host;
- :mod:`~deconflict.services.notice_views`: reading notices;
- :mod:`~deconflict.services.conflicts`: conflicts and their acknowledgements;
- :mod:`~deconflict.services.threads`: the broker's own hotline threads;
- :mod:`~deconflict.services.alerts_view`: tactical alerts kept and listed;
- :mod:`~deconflict.services.events`: the live stream, webhooks, the export, the broker's records;
- :mod:`~deconflict.services.operator_reads`: the store as the operator on the broker's host reads it.

:class:`Broker` only composes them and offers their methods under the names callers use. What a
caller sees of anything is cut down by :mod:`deconflict.domain.disclosure`; errors about things a
caller may not see are the same as for things that do not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from deconflict.domain.audit import BrokerKey
from deconflict.domain.disclosure import Disclosure
from deconflict.domain.disclosure_policy import DisclosurePolicy
from deconflict.domain.errors import Forbidden, Unauthorized
from deconflict.domain.grid import SliceGrid
from deconflict.domain.hotline import HotlineSettings
from deconflict.domain.parties import Party
from deconflict.domain.policy import Limits
from deconflict.services.alerts_view import Alerts
from deconflict.services.commands import in_party_namespace
from deconflict.services.conflicts import Conflicts
from deconflict.services.events import OWN_RECORD_EVENTS, START_EVENT, Events, export_show
from deconflict.services.expiry import Expiry, OperatorFiling
from deconflict.services.filing import NoticeService, Settings
from deconflict.services.notice_views import NoticeFilter, NoticeViews
from deconflict.services.notices import HINTS_WITHHELD, SITE_STAYS, Notices
from deconflict.services.operator_reads import OperatorReads
from deconflict.services.parties import TOKEN_PREFIX, Parties, new_token, token_hash
from deconflict.services.ports import BrokerRepository, BrokerUnitOfWork, Clock
from deconflict.services.threads import BrokerThreads
from deconflict.services.transaction import (
    ADMIN_ACTOR,
    MAX_LIST,
    BrokerCore,
    Outcome,
    Transaction,
    parse_time_param,
)

__all__ = [
    "ADMIN_ACTOR",
    "HINTS_WITHHELD",
    "MAX_LIST",
    "OWN_RECORD_EVENTS",
    "SITE_STAYS",
    "START_EVENT",
    "TOKEN_PREFIX",
    "Broker",
    "Forbidden",
    "NoticeFilter",
    "Outcome",
    "Unauthorized",
    "export_show",
    "in_party_namespace",
    "new_token",
    "parse_time_param",
    "token_hash",
]


class Broker:
    """The neutral broker. Built once in :mod:`deconflict.bootstrap`."""

    def __init__(
        self,
        store: BrokerUnitOfWork,
        clock: Clock,
        key: BrokerKey | Callable[[], BrokerKey],
        settings: Settings | None = None,
        disclosure: DisclosurePolicy | None = None,
        limits: Limits | None = None,
        hotline: HotlineSettings | None = None,
        reload_key: Callable[[], BrokerKey] | None = None,
        group_commit: bool = True,
    ) -> None:
        self.core = core = BrokerCore(
            store, clock, key, settings, disclosure, limits, hotline, reload_key, group_commit=group_commit
        )
        self.threads = threads = BrokerThreads(core)
        self.parties = parties = Parties(core)
        self.filings = filings = Notices(core, threads)
        self.notice_views = views = NoticeViews(core)
        self.conflicts = conflicts = Conflicts(core, threads)
        self.alerts = alerts = Alerts(core, threads)
        self.events = events = Events(core)
        self.operator = OperatorReads(core)
        """What the command line's read commands show the operator (no disclosure: the host's view)."""

        self.notices: NoticeService = filings.notices
        """The notice rules over the store (no log, no receipts): the CLI's store commands use them."""

        # Parties and credentials.
        self.authenticate = parties.authenticate
        self.party = parties.party
        self.add_party = parties.add_party
        self.list_parties = parties.list_parties
        self.revoke_party = parties.revoke_party
        self.rotate_token = parties.rotate_token
        self.set_disclosure = parties.set_disclosure
        self.disclosure_rules = parties.disclosure_rules
        # Notices and protected sites.
        self.file = filings.file
        self.update = filings.update
        self.set_state = filings.set_state
        # The same in two halves, for several changes in one transaction (imports): made ready
        # before the filing lock, written under it (a transaction from ``write``).
        self.prepare = filings.prepare
        self.file_prepared = filings.file_prepared
        self.prepare_update = filings.prepare_update
        self.update_prepared = filings.update_prepared
        self.set_state_in = filings.set_state_in
        expiry, operator = Expiry(filings), OperatorFiling(filings)
        self.end_past_notices = expiry.end_past_notices
        self.run_expiry = expiry.run_expiry
        self.file_as_operator = operator.file_as_operator
        self.file_all_as_operator = operator.file_all_as_operator
        self.get_notice = views.get_notice
        self.list_notices = views.list_notices
        self.list_notice_texts = views.list_notice_texts
        self.live_notices = views.live_notices
        # Conflicts, the broker's threads, alerts.
        self.list_conflicts = conflicts.list_conflicts
        self.get_conflict = conflicts.get_conflict
        self.acknowledge = conflicts.acknowledge
        self.resolution_of = conflicts.resolution_of
        self.open_thread = threads.open_thread
        self.ack_threads = threads.ack_threads
        self.open_alerts = alerts.open_alerts
        self.record_alerts = alerts.record_alerts
        self.count_open_alerts = alerts.count_open_alerts
        self.list_alerts = alerts.list_alerts
        # The log: the broker's records, the stream, webhooks, the export.
        self.record_policy = events.record_policy
        self.policy_record = events.policy_record
        self.record_start = events.record_start
        self.rotate_key = events.rotate_key
        self.check_key = events.check_key
        self.beat = events.beat
        self.visible_events = events.visible_events
        self.last_seq = events.last_seq
        self.set_webhook = events.set_webhook
        self.remove_webhook = events.remove_webhook
        self.export = events.export
        self.published_key = events.published_key
        self.log_events = events.log_events

    @property
    def store(self) -> BrokerUnitOfWork:
        return self.core.store

    @property
    def clock(self) -> Clock:
        return self.core.clock

    @property
    def key(self) -> BrokerKey:
        """The signing key, loaded (or created) on first use."""
        return self.core.key

    @property
    def settings(self) -> Settings:
        return self.core.settings

    @property
    def policy(self) -> DisclosurePolicy:
        return self.core.policy

    @property
    def limits(self) -> Limits:
        return self.core.limits

    @property
    def hotline(self) -> HotlineSettings:
        return self.core.hotline

    @property
    def listeners(self) -> list[Callable[[], None]]:
        """Called after every commit that appended events (wakes the live streams)."""
        return self.core.listeners

    def write(self, caller: Party | None = None) -> AbstractContextManager[Transaction]:
        """One write transaction under the filing lock, for the other services (the hotline)."""
        return self.core.write(caller)

    def disclosure(self, repo: BrokerRepository, grid: SliceGrid | None = None) -> Disclosure:
        """The disclosure in force (theater rules overridden by the admin's), for the other services."""
        return self.core.disclosure(repo, grid)
