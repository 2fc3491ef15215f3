"""What every use case of the broker shares: the unit of work (:class:`Transaction`), the state
the use cases are built over (:class:`BrokerCore`), and the paging of lists.

Every change runs in one :class:`Transaction` that holds the filing lock and appends its events to
the hash-chained log (:mod:`deconflict.domain.audit`) in that same transaction, so the log never
misses a change and a change never happens without its log entry.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from deconflict.domain.audit import BrokerKey, Event, next_event
from deconflict.domain.canonical import canonical_json_with
from deconflict.domain.disclosure import Disclosure
from deconflict.domain.disclosure_policy import DisclosurePolicy, Level
from deconflict.domain.errors import DeconflictError, KeyRetiredError, NotFoundError, Unauthorized, ValidationError
from deconflict.domain.event_types import EventType
from deconflict.domain.grid import SliceGrid
from deconflict.domain.hotline import HotlineSettings
from deconflict.domain.parties import Party, Role
from deconflict.domain.policy import Limits
from deconflict.domain.times import parse_time
from deconflict.services.filing import Settings
from deconflict.services.group_commit import GroupCommit, Waiting
from deconflict.services.ports import BrokerRepository, BrokerUnitOfWork, Clock

log = logging.getLogger(__name__)

T = TypeVar("T")

ADMIN_ACTOR = "admin"
"""The actor recorded for changes made on the broker's host (the ``deconflict party`` commands)."""
MAX_LIST = 1000
"""Most notices or conflicts in one list response."""


@dataclass(frozen=True)
class Outcome:
    """What a change gives its caller: the record's view, and whether the change made it (a filing,
    a message, a first acknowledgement) or changed or confirmed one that was there. The API answers
    201 or 200 by it."""

    body: dict[str, Any]
    created: bool = False
    replayed: bool = False
    """True when an ``Idempotency-Key`` retry returned the stored outcome."""


class Transaction:
    """One write transaction: the repository, the broker time, and the log's head."""

    def __init__(self, repo: BrokerRepository, now: float) -> None:
        self.repo = repo
        self.now = now
        self._head: Event | None = repo.last_event()
        self.appended = False
        self.key_verified = False
        """Whether the key this broker signs with is known to be the one in force in this
        transaction (:meth:`BrokerCore.signing_key`)."""

    @property
    def head(self) -> Event | None:
        """The log's last event, this transaction's own included."""
        return self._head

    def log(self, actor: str, type_: str, payload: dict[str, Any], encoded: Mapping[str, bytes] | None = None) -> Event:
        """Log one event; ``encoded``: the canonical JSON of some of the payload's values by key,
        made already (:func:`~deconflict.domain.canonical.canonical_json_with`)."""
        # A random salt in every payload: a party's export shows other events as stubs (digests
        # only), and without it a digest of a guessable payload (a disclosure rule, a revocation)
        # could be found by trying the candidates.
        return self.log_many(actor, [(type_, payload)], None if encoded is None else lambda _: encoded)[0]

    def log_many(
        self,
        actor: str,
        entries: Sequence[tuple[str, dict[str, Any]]],
        encoded: Callable[[dict[str, Any]], Mapping[str, bytes]] | None = None,
    ) -> list[Event]:
        """Log ``(type, payload)`` entries in order, chained as one :meth:`log` each, written in
        one statement (a filing with many conflicts logs two events for each). ``encoded``: gives
        for a payload the canonical JSON of some of its values by key, as :meth:`log` takes it."""
        out = []
        head = self._head
        for type_, payload in entries:
            full = {**payload, "salt": secrets.token_hex(16)}
            known = None if encoded is None else encoded(payload)
            text = canonical_json_with(full, known) if known else None
            # str(): an EventType is logged as the plain text it stands for, the same bytes as before
            head = next_event(head, self.now, actor, str(type_), full, text)
            out.append(head)
        if out:
            self.repo.append_events(out)
            self._head = head
            self.appended = True
        return out


class BrokerCore:
    """The store, clock, key and settings every use case works with, and the two things they all
    do with them: open a :class:`Transaction` and work out the disclosure in force."""

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
        """``reload_key``: reads the key file again (never creating one), for a rotation that
        another process logged (:meth:`_follow_rotation`); ``group_commit``: filings waiting for the
        lock share a transaction (:meth:`queued`)."""
        self.store = store
        self.clock = clock
        self._key = key
        self._reload_key = reload_key
        self._verified_seq: int | None = None
        """A log position at which the key this broker signs with was the one in force: checked
        against the log's last rotation, or reached by this broker's own writes from such a point."""
        self.settings = settings or Settings()
        self.policy = disclosure or DisclosurePolicy()
        self.limits = limits or Limits()
        self.hotline = hotline or HotlineSettings()
        self.listeners: list[Callable[[], None]] = []
        """Called after every commit that appended events (wakes the live streams)."""
        self._group = GroupCommit(self) if group_commit else None

    @property
    def key(self) -> BrokerKey:
        """The signing key, loaded (or created) on first use: commands that sign nothing, such as
        ``deconflict party add``, never touch the key file."""
        if not isinstance(self._key, BrokerKey):
            self._key = self._key()
        return self._key

    def use_key(self, key: BrokerKey) -> None:
        """Sign with ``key`` from now on (after a rotation was logged)."""
        self._key = key

    def read(self) -> AbstractContextManager[BrokerRepository]:
        """One read transaction, without the filing lock."""
        return self.store.begin(write=False)

    def write(self, caller: Party | None = None) -> AbstractContextManager[Transaction]:
        """One write transaction under the filing lock. With ``caller``, the party must still be
        live once the lock is held: a revocation that lands between authentication and the write
        wins."""
        return self._write(caller)

    def queued(self, caller: Party | None, work: Callable[[Transaction], T]) -> T:
        """``work(tx)`` in a write transaction under the filing lock, as :meth:`write` runs a block,
        and with group commit on (the default) in one transaction with the other filings waiting
        for the lock at the same moment (:mod:`~deconflict.services.group_commit`): its value
        once that transaction committed."""
        if self._group is None:
            with self.write(caller) as tx:
                return work(tx)
        return self._group.run(caller, work)

    @contextmanager
    def _write(self, caller: Party | None = None) -> Iterator[Transaction]:
        asked = time.perf_counter()
        with self.store.begin() as repo:
            repo.lock_for_filing()
            held = time.perf_counter()
            tx = self._begin_in(repo, caller, self._verified_seq)
            yield tx
        # How long writers wait for each other (benchmarks/heavy_filing.py reads these lines).
        done = time.perf_counter()
        who = "-" if caller is None else caller.name
        log.debug("filing lock %s waited %.1f ms held %.1f ms", who, (held - asked) * 1e3, (done - held) * 1e3)
        self._committed([tx])

    def _begin_in(self, repo: BrokerRepository, caller: Party | None, verified_seq: int | None) -> Transaction:
        """A transaction in ``repo`` (the lock held) for ``caller``, who must still be live;
        ``verified_seq``: the log position at which this broker's key was known to be in force."""
        if caller is not None and caller.role is not Role.ADMIN:
            current = repo.get_party(caller.name)
            if current is None or current.revoked:
                raise Unauthorized(f"party {caller.name!r} is revoked")
        tx = Transaction(repo, self.clock())
        tx.key_verified = tx.head is None or tx.head.seq == verified_seq  # nobody else wrote since
        return tx

    def _committed(self, txs: Sequence[Transaction]) -> None:
        """After the COMMIT of ``txs`` (in log order): the key's position, and the live streams woken."""
        for tx in txs:
            if tx.key_verified and tx.head is not None:  # committed: the position is the log's for good
                self._verified_seq = tx.head.seq
        if any(tx.appended for tx in txs):
            for wake in list(self.listeners):
                wake()

    def write_batch(self, batch: Sequence[Waiting[Any]]) -> None:
        """Run a group commit's batch (:class:`~deconflict.services.group_commit.GroupCommit`): one
        store transaction under the filing lock, each item in a savepoint of its own (alone, without
        one), setting each item's value or error. An item that raises (a refusal such as a stale
        version or a spent probe budget, or a fault of its own) rolls back its savepoint alone and
        gets its error; the others go on. When the transaction itself is lost (the store no longer
        answers after the rollback: a dropped connection), or its COMMIT fails, the batch ends and
        every item that was not refused already gets that error, since none of them was written."""
        done: list[Waiting[Any]] = []
        locked_at = time.perf_counter()
        try:
            with self.store.begin() as repo:
                repo.lock_for_filing()
                locked_at = time.perf_counter()
                verified = self._verified_seq
                for w in batch:
                    try:
                        if len(batch) == 1:  # the common case without contention: no savepoint
                            w.tx = self._begin_in(repo, w.caller, verified)
                            w.value = w.work(w.tx)
                        else:
                            with repo.savepoint():
                                w.tx = self._begin_in(repo, w.caller, verified)
                                w.value = w.work(w.tx)
                    except Exception as e:
                        if len(batch) == 1:
                            raise
                        w.value, w.error, w.tx = None, e, None
                        if not isinstance(e, DeconflictError) and not _answers(repo):
                            raise e from None  # the batch ends with this item's error (the store's)
                        continue
                    done.append(w)
                    assert w.tx is not None
                    if w.tx.key_verified and w.tx.head is not None:
                        verified = w.tx.head.seq  # the next item follows this broker's own writes
        except Exception as e:
            for w in batch:
                if w.error is None:  # the same exception for each (a copy may not rebuild one: ValidationError)
                    w.value, w.error, w.tx = None, e, None
            return
        finally:
            # How long writers wait for each other (benchmarks/heavy_filing.py reads these lines).
            released = time.perf_counter()
            for w in batch:
                who = "-" if w.caller is None else w.caller.name
                waited, held = (locked_at - w.queued_at) * 1e3, (released - locked_at) * 1e3
                log.debug("filing lock %s waited %.1f ms held %.1f ms", who, waited, held)
        self._committed([w.tx for w in done if w.tx is not None])

    def signing_key(self, tx: Transaction) -> BrokerKey:
        """The key to sign with in ``tx``: this broker's, once it is known to be the one in force.
        If another process wrote since this broker last knew (a replica, ``deconflict key rotate``),
        the log's last rotation is looked up first (:meth:`_follow_rotation`); nothing is looked up
        for a write that signs nothing, nor when only this broker wrote."""
        if not tx.key_verified:
            self._follow_rotation(tx.repo)
            tx.key_verified = True
        return self.key

    def signing_key_at(self, repo: BrokerRepository, head: Event | None) -> BrokerKey:
        """The key to sign a read of the log up to ``head`` with (an export's checkpoint, the
        published key), checked as :meth:`signing_key` does."""
        if head is not None and head.seq != self._verified_seq:
            self._follow_rotation(repo)
            self._verified_seq = head.seq
        return self.key

    def _follow_rotation(self, repo: BrokerRepository) -> None:
        """If the log's last rotation put another key in force than this broker's (it was left
        running through ``deconflict key rotate``), sign with that key when the key file now holds
        it, and otherwise refuse (:class:`KeyRetiredError`) rather than sign with a retired key."""
        last = repo.last_event_of_type(EventType.KEY_ROTATED)
        wanted = None if last is None else last.payload.get("new_key_id")
        if last is None or wanted == self.key.key_id():
            return
        if self._reload_key is not None:
            try:
                fresh = self._reload_key()
            except ValidationError as e:  # being copied in place, unreadable: the log says which file
                log.error("the signing key was rotated at seq %d but the key file cannot be read: %s", last.seq, e)
                fresh = None
            if fresh is not None and fresh.key_id() == wanted:
                log.warning("key rotated at seq %d: signing with key %s from the key file", last.seq, wanted)
                self._key = fresh
                return
        raise KeyRetiredError(
            f"this broker signs with key {self.key.key_id()}, which the rotation at seq {last.seq} retired in favour "
            f"of key {wanted}; put the new key file in place ([audit] key_file) and try again"
        )

    def disclosure(self, repo: BrokerRepository, grid: SliceGrid | None = None) -> Disclosure:
        """The disclosure in force (theater rules overridden by the admin's); ``grid``: the
        theater's grid with slices already cut (:func:`~deconflict.services.filing_flow.preslice`)."""
        rules = dict(self.policy.rules)
        for (viewer, subject), level in repo.disclosure_rules().items():
            rules[(viewer, subject)] = Level.parse("level", level)
        parties = {p.name: p for p in repo.list_parties()}
        policy = replace(self.policy, rules=rules) if grid is None else replace(self.policy, rules=rules, grid=grid)
        return Disclosure(policy, parties)

    def scope(self, repo: BrokerRepository, d: Disclosure, caller: Party, at_least: Level) -> set[str] | None:
        """The parties whose records the caller may see at ``at_least`` (``None``: all, for the
        admin), so that lists are narrowed in the database before disclosure cuts them down."""
        if caller.role is Role.ADMIN:
            return None
        names = {p.name for p in repo.list_parties()} | {caller.name}
        return {p for p in names if d.level(caller, p) >= at_least}


def _answers(repo: BrokerRepository) -> bool:
    """Whether the transaction still answers (after an item's savepoint was rolled back for an
    error not its refusal): a dropped connection does not, and ends the batch."""
    try:
        repo.last_seq()
    except Exception:
        return False
    return True


def existing_party(repo: BrokerRepository, name: str) -> Party:
    """The party named ``name``, revoked or not; :class:`NotFoundError` when there is none."""
    party = repo.get_party(name)
    if party is None:
        raise NotFoundError(f"party {name!r} does not exist")
    return party


Row = TypeVar("Row")
View = TypeVar("View")


def page(
    fetch: Callable[[tuple[float, str] | None, int], list[Row]],
    key: Callable[[Row], tuple[float, str]],
    view: Callable[[Row], View | None],
    cursor: str | None,
    limit: int,
) -> tuple[list[View], str | None]:
    """One page of what the caller may see: rows are read in key order after the cursor, ``limit``
    at a time, until ``limit`` of them have a view (``None``: not shown to this caller). Returns the
    views and the cursor of the next page (``None`` when the store has no more rows)."""
    after = decode_cursor(cursor)
    out: list[View] = []
    while True:
        rows = fetch(after, limit)
        for row in rows:
            after = key(row)
            v = view(row)
            if v is not None:
                out.append(v)
                if len(out) == limit:
                    return out, encode_cursor(after)
        if len(rows) < limit:
            return out, None


def encode_cursor(key: tuple[float, str]) -> str:
    """An opaque page cursor for a (time, id) key.

    >>> decode_cursor(encode_cursor((1443571200.25, "ru-vks:a")))
    (1443571200.25, 'ru-vks:a')
    """
    return base64.urlsafe_b64encode(json.dumps([key[0], key[1]]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[float, str] | None:
    if cursor is None:
        return None
    try:
        t, key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(t, bool) or not isinstance(t, int | float) or not isinstance(key, str):
            raise ValueError
        return float(t), key
    except (ValueError, TypeError, UnicodeDecodeError):
        raise ValidationError.at(
            "cursor", "is not a cursor this broker gave out (use the X-Next-Cursor header)"
        ) from None


def parse_time_param(name: str, value: str | None) -> float | None:
    """An RFC 3339 query parameter as epoch seconds (``None`` when absent)."""
    return None if value is None else parse_time(value, name)
