"""What the filing use cases need from a store. The SQL store and the in-memory one both provide it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from deconflict.domain.alerts import Alert, AlertState
from deconflict.domain.audit import Event, Receipt
from deconflict.domain.hotline import AckState, Message
from deconflict.domain.parties import Party
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.strategic import VolumeConflict
from deconflict.domain.volumes import Notice, NoticeState, Volume4D

IDEMPOTENT_CREATED = 201
"""How ``save_idempotent_response``'s ``status`` marks an outcome that created its record (any other
value: one that changed or confirmed it). The store's column was first written with the answer's
HTTP status, and rows made then must still read so; it is the store's mark, not a status the use
cases choose (the API maps an :class:`~deconflict.services.transaction.Outcome` to one)."""

Clock = Callable[[], float]
"""Returns the broker's time as epoch seconds (injectable for tests)."""


class ConflictState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class ConflictRecord:
    """A stored conflict between volume ``volume_a`` of notice ``notice_a`` and volume ``volume_b``
    of ``notice_b``. ``notice_a`` is the notice whose filing found it."""

    id: str
    notice_a: str
    party_a: str
    version_a: int
    volume_a: int
    notice_b: str
    party_b: str
    version_b: int
    volume_b: int
    protected_site: bool
    """True when one side is a protected site."""
    detail: VolumeConflict
    state: ConflictState
    detected_at: float
    updated_at: float
    resolved_at: float | None = None
    protected_side: str | None = None
    """``"a"`` or ``"b"``: which side is the protected site (``None`` when neither)."""

    def pair_key(self) -> tuple[tuple[str, int], tuple[str, int]]:
        """Identifies the volume pair regardless of which side filed first."""
        x, y = (self.notice_a, self.volume_a), (self.notice_b, self.volume_b)
        return (x, y) if x <= y else (y, x)

    def involves(self, notice_id: str) -> bool:
        return notice_id in (self.notice_a, self.notice_b)


class Repository(Protocol):
    """Operations inside one transaction."""

    def lock_for_filing(self) -> None:
        """Serialize writers that check and record conflicts, so that of two notices filed at the
        same moment the second always sees the first (no lost conflict)."""

    def get(self, notice_id: str) -> Notice | None: ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A part of the transaction that an exception rolls back alone, leaving the rest (the
        group commit's filings each run in one)."""

    def add(self, notice: Notice) -> None:
        """Store a new notice (version 1) and index its volumes."""

    def replace(self, notice: Notice, replaces_version: int) -> None:
        """Store ``notice`` (version ``replaces_version + 1``) in place of the current version,
        re-indexing it; raise :class:`StaleVersionError` if the current version differs."""

    def candidates(
        self,
        volume: Volume4D,
        policy: SeparationPolicy,
        notice: Notice,
        time_margin_s: float = 0.0,
        vertical_margin_m: float = 0.0,
    ) -> list[tuple[Notice, int]]:
        """Live notices' volumes (notice, volume index) that may be within the policy of
        ``volume`` widened by the margins; a superset of the true conflicts, same-party
        volumes excluded as in :func:`deconflict.domain.strategic.may_conflict`."""

    def open_conflicts_of(self, notice_id: str) -> list[ConflictRecord]: ...

    def conflicts_of(self, notice_id: str) -> list[ConflictRecord]:
        """Open and resolved conflicts involving the notice."""

    def save_conflict(self, record: ConflictRecord) -> None:
        """Insert a conflict or update it by id."""

    def add_conflicts(self, records: Sequence[ConflictRecord]) -> None:
        """Insert new conflicts (ids not stored yet), in one statement where the store can."""

    def list_notices(
        self,
        party: str | None = None,
        state: NoticeState | None = None,
        include_protected: bool = True,
        parties: Collection[str] | None = None,
    ) -> list[Notice]:
        """Notices oldest first; ``parties`` keeps those of these parties (and protected sites
        unless ``include_protected`` is false)."""

    def list_conflicts(
        self, state: ConflictState | None = None, parties: Collection[str] | None = None
    ) -> list[ConflictRecord]:
        """Conflicts oldest first; ``parties`` keeps those with a side of one of these parties."""


class UnitOfWork(Protocol):
    """``with uow.begin() as repo:`` commits on success and rolls back on any error."""

    def begin(self) -> AbstractContextManager[Repository]: ...


@dataclass(frozen=True)
class StreamEvent:
    """One event of the log as a given party may see it (``data`` already cut down by disclosure):
    what a live stream and a webhook deliver."""

    seq: int
    type: str
    time: float
    data: dict[str, Any]


@dataclass(frozen=True)
class Webhook:
    """A party's webhook and its delivery state."""

    party: str
    url: str
    secret: str
    cursor: int
    """Sequence number of the last event delivered (or passed over as not visible)."""
    failures: int
    """Consecutive failed attempts."""
    next_attempt_at: float
    """Epoch seconds; 0 = now."""
    last_error: str | None = None


@dataclass(frozen=True)
class ListedNotice:
    """A notice in a list: its party, whether it is a protected site (what disclosure decides on),
    and its wire form (:func:`deconflict.services.wire.notice_json`) as JSON text."""

    party: str
    protected: bool
    text: str


class BrokerRepository(Repository, Protocol):
    """The broker's records, in the same transaction as the filing operations."""

    def get_conflict(self, conflict_id: str) -> ConflictRecord | None: ...
    def notice_owner(self, notice_id: str) -> tuple[str, bool] | None: ...
    def page_notices(
        self,
        parties: Collection[str] | None,
        *,
        party: str | None = None,
        state: NoticeState | None = None,
        protected: bool | None = None,
        time_start: float | None = None,
        time_end: float | None = None,
        after: tuple[float, str] | None = None,
        limit: int = 1000,
    ) -> list[tuple[tuple[float, str], Notice]]: ...
    def page_notice_texts(
        self,
        parties: Collection[str] | None,
        *,
        party: str | None = None,
        state: NoticeState | None = None,
        protected: bool | None = None,
        time_start: float | None = None,
        time_end: float | None = None,
        after: tuple[float, str] | None = None,
        limit: int = 1000,
    ) -> list[tuple[tuple[float, str], ListedNotice]]:
        """:meth:`page_notices`, each notice as its wire form's JSON text, made without decoding it."""

    def page_conflicts(
        self,
        parties: Collection[str] | None,
        state: ConflictState | None = None,
        after: tuple[float, str] | None = None,
        limit: int = 1000,
    ) -> list[ConflictRecord]: ...

    # parties and credentials
    def add_party(self, party: Party, now: float) -> None: ...
    def get_party(self, name: str) -> Party | None: ...
    def list_parties(self) -> list[Party]: ...
    def revoke_party(self, name: str, now: float) -> None: ...
    def add_credential(self, token_hash: str, party: str, now: float) -> None: ...
    def revoke_credentials(self, party: str, now: float) -> int: ...
    def party_for_token(self, token_hash: str) -> Party | None: ...

    # the event log and receipts
    def last_event(self) -> Event | None: ...
    def append_event(self, event: Event) -> None: ...
    def append_events(self, events: Sequence[Event]) -> None: ...
    def events_after(self, seq: int, limit: int = 500) -> list[Event]: ...
    def events_of_type(
        self, types: Collection[str], since: float | None, until: float, through_seq: int | None = None
    ) -> list[Event]: ...
    def event_times(self, type_: str, actor: str, since: float, until: float, limit: int) -> list[float]:
        """The times of the newest ``limit`` events of ``type_`` logged by ``actor`` with
        ``since < time < until``, newest first (a party's probe charges of the period)."""

    def earliest_alert_open_at(self, kinds: Collection[str], at: float) -> float | None: ...
    def beat(self, at: float) -> None: ...
    def last_beat(self) -> float | None: ...
    def save_receipt(self, receipt: Receipt) -> None: ...
    def receipts(self, party: str | None = None) -> list[Receipt]: ...
    def receipts_page(self, party: str | None, after_seq: int, upto_seq: int, limit: int) -> list[Receipt]: ...
    def receipt(self, notice_id: str, version: int) -> Receipt | None: ...

    # idempotency keys, acknowledgements, webhooks, disclosure rules
    def idempotent_response(self, party: str, key: str) -> tuple[str, int, dict[str, Any]] | None: ...
    def save_idempotent_response(
        self, party: str, key: str, digest: str, status: int, response: dict[str, Any], now: float
    ) -> None: ...
    def add_ack(self, conflict_id: str, party: str, now: float, seq: int) -> None: ...
    def acks_of(self, conflict_id: str) -> dict[str, float]: ...
    def clear_acks(self, conflict_id: str) -> None: ...
    def set_webhook(self, party: str, url: str, secret: str, cursor: int) -> None: ...
    def remove_webhook(self, party: str) -> bool: ...
    def due_webhooks(self, now: float) -> list[Webhook]: ...
    def webhook_delivered(self, party: str, cursor: int) -> None: ...
    def webhook_failed(self, party: str, failures: int, next_attempt_at: float, error: str) -> None: ...
    def add_alerts(self, alerts: Sequence[Alert]) -> None: ...
    def update_alerts(self, alerts: Sequence[Alert]) -> None: ...
    def count_open_alerts(self) -> int: ...
    def open_alerts(self) -> list[Alert]: ...
    def page_alerts(
        self,
        parties: Collection[str] | None,
        state: AlertState | None = None,
        after: tuple[float, str] | None = None,
        limit: int = 1000,
    ) -> list[Alert]: ...
    def set_disclosure_rule(self, viewer: str, subject: str, level: str | None) -> None: ...
    def disclosure_rules(self) -> dict[tuple[str, str], str]: ...

    # the hotline
    def add_message(self, m: Message) -> None: ...
    def add_messages(self, messages: Sequence[Message]) -> None: ...
    def get_message(self, message_id: str) -> Message | None: ...
    def page_messages(
        self,
        party: str | None,
        box: str | None = None,
        thread: str | None = None,
        after: tuple[float, str] | None = None,
        limit: int = 1000,
    ) -> list[Message]: ...
    def messages_about(self, ref_kind: str, ref_id: str) -> list[Message]: ...
    def ack_message(self, message_id: str, party: str, state: AckState, now: float) -> None: ...
    def notices_ended_by(self, when: float, limit: int = 1000) -> list[str]: ...
    def due_escalations(self, now: float, limit: int = 1000) -> list[tuple[Message, str]]: ...
    def set_escalation(self, message_id: str, party: str, rounds: int, next_at: float | None) -> None: ...
    def set_escalations(self, rows: Sequence[tuple[str, str, int, float | None]]) -> None: ...
    def stop_escalations(self, ref_kind: str, ref_id: str) -> None: ...
    def stop_escalations_of(self, ref_kind: str, ref_ids: Collection[str]) -> None: ...
    def last_event_of_type(self, type_: str) -> Event | None: ...
    def last_seq(self) -> int: ...
    def notices_changed_since(self, seq: int) -> set[str]: ...
    def candidates_among(
        self, volume: Volume4D, policy: SeparationPolicy, notice: Notice, ids: Collection[str]
    ) -> list[tuple[Notice, int]]:
        """:meth:`Repository.candidates` among the notices ``ids`` only (those changed since a
        snapshot), without reading the notices that cannot be near ``volume``."""


class BrokerUnitOfWork(Protocol):
    def begin(self, write: bool = True) -> AbstractContextManager[BrokerRepository]: ...
    def encode_ahead(self, notice: Notice, details: Iterable[VolumeConflict]) -> None:
        """Before the filing lock: make what the store will write for ``notice``'s volumes and
        these conflict details, for the writes under the lock to find made."""
