"""The broker's use cases: parties and credentials, notices and protected sites over the wire,
conflicts and their acknowledgements, the live event feed, and the audit export.

Every change runs in one transaction that holds the filing lock and appends its events to the
hash-chained log in that same transaction (:mod:`deconflict.domain.audit`), so the log never
misses a change and a change never happens without its log entry. What a caller sees of anything
is cut down by :mod:`deconflict.domain.disclosure`; errors about things a caller may not see are
the same as for things that do not exist.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from deconflict.domain.alerts import Alert, Changes, alert_json
from deconflict.domain.audit import (
    BrokerKey,
    Event,
    Receipt,
    build_export,
    canonical_json,
    next_event,
    sha256_hex,
    sign_receipt,
)
from deconflict.domain.disclosure import PUBLIC_EVENTS, Disclosure, DisclosurePolicy, Level
from deconflict.domain.errors import NotFoundError, ValidationError
from deconflict.domain.grid import SliceGrid
from deconflict.domain.hotline import (
    BROKER,
    AckState,
    HotlineSettings,
    Message,
    Priority,
    Recipient,
    Reference,
    message_json,
)
from deconflict.domain.message_disclosure import names_every_recipient
from deconflict.domain.parse import Said, format_time, parse_notices, parse_time
from deconflict.domain.parties import Party, Role, check_name, check_party_name
from deconflict.domain.policy import Limits, SeparationPolicy
from deconflict.domain.resolution import resolution_hints
from deconflict.domain.strategic import Conflict
from deconflict.domain.volumes import PROTECTED_SITE_KIND, Notice, NoticeState, Volume4D
from deconflict.services import probes
from deconflict.services.filing import FilingResult, NoticeService, Settings, detect
from deconflict.services.filing_flow import (
    Detected,
    conflict_keys,
    near_notices,
    preslice,
    settle,
    settle_near,
)
from deconflict.services.ports import (
    BrokerRepository,
    BrokerUnitOfWork,
    Clock,
    ConflictRecord,
    ConflictState,
    StreamEvent,
)
from deconflict.services.wire import conflict_json, notice_json

log = logging.getLogger(__name__)

EarlyHints = tuple[tuple[tuple[int, str | None, int, int], ...], dict[str, Any]]
"""Resolution hints made before the filing lock, with the conflict keys they were made for."""

TOKEN_PREFIX = "dcf_"
"""Bearer tokens the broker issues start with this, so a leaked one is easy to recognise."""

ADMIN_ACTOR = "admin"
"""The actor recorded for changes made on the broker's host (the ``deconflict party`` commands)."""
OWN_RECORD_EVENTS = frozenset(
    {
        "notice.filed",
        "notice.updated",
        "notice.activated",
        "notice.ended",
        "notice.cancelled",
        "webhook.set",
        "webhook.removed",
        "message.sent",
    }
)
"""Events whose payload holds only one party's own records (:func:`_record_owner`): that party's
export shows these in full."""
START_EVENT = "broker.started"
"""Logged by :meth:`Broker.record_start`; its ``previous_cycle_at`` says since when no broker watched."""
SITE_STAYS = "a protected site does not move: the notices that conflict with it are given the shifts that clear it"
"""Why a protected site's filing carries no hints."""
HINTS_WITHHELD = (
    "a shift that clears these conflicts would show where another party's notice ends, which the disclosure "
    "policy does not show you; change the notice and file it again to check"
)
MAX_LIST = 1000
"""Most notices or conflicts in one list response."""


class Unauthorized(Exception):
    """No credential, or one the broker does not know (HTTP 401)."""


class Forbidden(PermissionError):
    """A credential whose role or ownership does not allow the call (HTTP 403)."""


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the store keeps of a token. A plain SHA-256 suffices: tokens are 256 random bits, so
    there is nothing to brute-force that a slow hash would protect."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    replayed: bool = False
    """True when an ``Idempotency-Key`` retry returned the stored response."""


@dataclass(frozen=True)
class Prepared:
    """A filing or an update's new version, parsed and detected before the filing lock
    (:meth:`Broker.prepare`, :meth:`Broker.prepare_update`), to be written under it."""

    notice: Notice
    said: Said
    seen: Detected
    early: EarlyHints | None
    grid: SliceGrid


@dataclass(frozen=True)
class NoticeFilter:
    party: str | None = None
    state: NoticeState | None = None
    time_start: float | None = None
    time_end: float | None = None
    area: Any = None
    """A :class:`~deconflict.domain.shapes.Shape`; notices with a volume within 0 m of it match."""
    protected: bool | None = None


class _Tx:
    """One write transaction: the repository, the broker time, and the log's head."""

    def __init__(self, repo: BrokerRepository, now: float) -> None:
        self.repo = repo
        self.now = now
        self._head: Event | None = repo.last_event()
        self.appended = False

    def log(self, actor: str, type_: str, payload: dict[str, Any]) -> Event:
        # A random salt in every payload: a party's export shows other events as stubs (digests
        # only), and without it a digest of a guessable payload (a disclosure rule, a revocation)
        # could be found by trying the candidates.
        return self.log_many(actor, [(type_, payload)])[0]

    def log_many(self, actor: str, entries: Sequence[tuple[str, dict[str, Any]]]) -> list[Event]:
        """Log ``(type, payload)`` entries in order, chained as one :meth:`log` each, written in
        one statement (a filing with many conflicts logs two events for each)."""
        out = []
        head = self._head
        for type_, payload in entries:
            head = next_event(head, self.now, actor, type_, {**payload, "salt": secrets.token_hex(16)})
            out.append(head)
        if out:
            self.repo.append_events(out)
            self._head = head
            self.appended = True
        return out


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
    ) -> None:
        self.store = store
        self.clock = clock
        self._key = key
        self.settings = settings or Settings()
        self.policy = disclosure or DisclosurePolicy()
        self.limits = limits or Limits()
        self.hotline = hotline or HotlineSettings()
        self.notices = NoticeService(store, clock, self.settings, hints=False)
        self._operator = NoticeService(store, clock, self.settings, hints=True)
        self._unending: set[str] = set()
        """Past notices that could not be ended (each logged once)."""
        self.listeners: list[Callable[[], None]] = []
        """Called after every commit that appended events (wakes the live streams)."""

    @property
    def key(self) -> BrokerKey:
        """The signing key, loaded (or created) on first use: commands that sign nothing, such as
        ``deconflict party add``, never touch the key file."""
        if not isinstance(self._key, BrokerKey):
            self._key = self._key()
        return self._key

    # ------------------------------------------------------------------ plumbing

    def write(self, caller: Party | None = None) -> AbstractContextManager[_Tx]:
        """One write transaction under the filing lock, for the other services (the hotline)."""
        return self._write(caller)

    def disclosure(self, repo: BrokerRepository) -> Disclosure:
        """The disclosure in force (theater rules overridden by the admin's), for the other services."""
        return self._disclosure(repo)

    @contextmanager
    def _write(self, caller: Party | None = None) -> Iterator[_Tx]:
        """One write transaction under the filing lock. With ``caller``, the party must still be
        live once the lock is held: a revocation that lands between authentication and the write
        wins."""
        asked = time.perf_counter()
        with self.store.begin() as repo:
            repo.lock_for_filing()
            held = time.perf_counter()
            if caller is not None and caller.role is not Role.ADMIN:
                current = repo.get_party(caller.name)
                if current is None or current.revoked:
                    raise Unauthorized(f"party {caller.name!r} is revoked")
            tx = _Tx(repo, self.clock())
            yield tx
        # How long writers wait for each other (benchmarks/heavy_filing.py reads these lines).
        done = time.perf_counter()
        who = "-" if caller is None else caller.name
        log.debug("filing lock %s waited %.1f ms held %.1f ms", who, (held - asked) * 1e3, (done - held) * 1e3)
        if tx.appended:
            for wake in list(self.listeners):
                wake()

    def _disclosure(self, repo: BrokerRepository, grid: SliceGrid | None = None) -> Disclosure:
        """The disclosure in force; ``grid``: the theater's grid with slices already cut
        (:func:`~deconflict.services.filing_flow.preslice`)."""
        rules = dict(self.policy.rules)
        for (viewer, subject), level in repo.disclosure_rules().items():
            rules[(viewer, subject)] = Level.parse("level", level)
        parties = {p.name: p for p in repo.list_parties()}
        policy = replace(self.policy, rules=rules) if grid is None else replace(self.policy, rules=rules, grid=grid)
        return Disclosure(policy, parties)

    # ------------------------------------------------------------------ parties and credentials

    def authenticate(self, token: str) -> Party:
        with self.store.begin(write=False) as repo:
            party = repo.party_for_token(token_hash(token))
        if party is None:
            raise Unauthorized("unknown or revoked token")
        return party

    def party(self, name: str) -> Party:
        """A live party by name (used for identity-provider tokens, whose claim names the party)."""
        with self.store.begin(write=False) as repo:
            party = repo.get_party(name)
        if party is None or party.revoked:
            raise Unauthorized(f"party {name!r} is not registered at this broker or is revoked")
        return party

    def add_party(self, name: str, role: Role, coalition: str | None = None) -> tuple[Party, str]:
        """Register a party and issue its first token (returned once; only its hash is kept)."""
        check_party_name(name)
        if coalition is not None:
            check_name("coalition", coalition)
            if role in (Role.OBSERVER, Role.ADMIN):
                raise ValidationError.at("coalition", f"{role.a} does not belong to a coalition")
        party = Party(name, role, coalition)
        token = new_token()
        with self._write() as tx:
            if tx.repo.get_party(name) is not None:
                raise ValidationError.at("name", f"party {name!r} already exists")
            tx.repo.add_party(party, tx.now)
            tx.repo.add_credential(token_hash(token), name, tx.now)
            tx.log(ADMIN_ACTOR, "party.added", {"party": name, "role": role.value, "coalition": coalition})
        return party, token

    def list_parties(self) -> list[Party]:
        with self.store.begin(write=False) as repo:
            return repo.list_parties()

    def revoke_party(self, name: str) -> None:
        with self._write() as tx:
            self._existing(tx.repo, name)
            tx.repo.revoke_party(name, tx.now)
            tx.log(ADMIN_ACTOR, "party.revoked", {"party": name})

    def rotate_token(self, name: str) -> str:
        """Revoke every token of the party and issue a new one."""
        token = new_token()
        with self._write() as tx:
            party = self._existing(tx.repo, name)
            if party.revoked:
                raise ValidationError.at("name", f"party {name!r} is revoked")
            tx.repo.revoke_credentials(name, tx.now)
            tx.repo.add_credential(token_hash(token), name, tx.now)
            tx.log(ADMIN_ACTOR, "token.rotated", {"party": name})
        return token

    def set_disclosure(self, viewer: str, subject: str, level: Level | None, both_ways: bool = False) -> None:
        """Set a directed disclosure rule (``None`` removes it); logged, so no party can argue later
        about what it was shown."""
        with self._write() as tx:
            self._existing(tx.repo, viewer)
            self._existing(tx.repo, subject)
            pairs = [(viewer, subject)] + ([(subject, viewer)] if both_ways else [])
            for v, s in pairs:
                tx.repo.set_disclosure_rule(v, s, None if level is None else level.text)
                tx.log(
                    ADMIN_ACTOR,
                    "disclosure.set",
                    {"viewer": v, "subject": s, "level": None if level is None else level.text},
                )

    def disclosure_rules(self) -> dict[tuple[str, str], Level]:
        """The effective explicit rules: the theater configuration's, overridden by the admin's."""
        with self.store.begin(write=False) as repo:
            return dict(self._disclosure(repo).policy.rules)

    def _scope(self, repo: BrokerRepository, d: Disclosure, caller: Party, at_least: Level) -> set[str] | None:
        """The parties whose records the caller may see at ``at_least`` (``None``: all, for the
        admin), so that lists are narrowed in the database before disclosure cuts them down."""
        if caller.role is Role.ADMIN:
            return None
        names = {p.name for p in repo.list_parties()} | {caller.name}
        return {p for p in names if d.level(caller, p) >= at_least}

    def _existing(self, repo: BrokerRepository, name: str) -> Party:
        party = repo.get_party(name)
        if party is None:
            raise NotFoundError(f"party {name!r} does not exist")
        return party

    def record_policy(self, policy: dict[str, Any]) -> Event | None:
        """Log the theater's definitions (what counts as late, overdue, too close) when they differ
        from the last ones logged, so that no party can argue later about what counted. Returns the
        event, or ``None`` when nothing changed."""
        digest = sha256_hex(canonical_json(policy))
        with self._write() as tx:
            last = tx.repo.last_event_of_type("policy.recorded")
            previous = None if last is None else last.payload.get("policy_sha256")
            if previous == digest:
                return None
            return tx.log(
                "broker", "policy.recorded", {"policy": policy, "policy_sha256": digest, "previous_sha256": previous}
            )

    def policy_record(self) -> Event | None:
        """The last ``policy.recorded`` event: the definitions in force and since when."""
        with self.store.begin(write=False) as repo:
            return repo.last_event_of_type("policy.recorded")

    def record_start(self, version: str) -> None:
        """Log that the broker started, with the key it signs with and ``previous_cycle_at``, when
        a tactical cycle last ran on this store (``None``: never). From then to this event no
        broker watched the sky, and the compliance report does not count that time in alert spans."""
        with self._write() as tx:
            last = tx.repo.last_beat()
            tx.log(
                "broker",
                START_EVENT,
                {
                    "version": version,
                    "key_id": self.key.key_id(),
                    "public_key": self.key.public_key_b64(),
                    "previous_cycle_at": None if last is None else format_time(last),
                },
            )

    def beat(self, at: float) -> None:
        """A tactical cycle ran at ``at``: the store's heartbeat says so (its own short transaction,
        neither under the filing lock nor in the log)."""
        with self.store.begin() as repo:
            repo.beat(at)

    # ------------------------------------------------------------------ notices

    def _parse(self, caller: Party, body: Any, site: bool, said: Said | None = None) -> Notice:
        """The one notice in ``body``, the caller's where ``party`` is left out; each default
        applied is noted in ``said``."""
        if not isinstance(body, Mapping):
            raise ValidationError.at("", "must be one notice (a JSON object or a GeoJSON FeatureCollection)")
        if body.get("type") == "FeatureCollection" and isinstance(body.get("features"), list):
            body = {**body, "features": [_with_party(f, caller.name, i, said) for i, f in enumerate(body["features"])]}
        elif "party" not in body:
            body = {**body, "party": caller.name}
            if said is not None:
                said.append({"field": "party", "value": caller.name})
        notices = parse_notices(body, self.limits, said)
        if not notices:
            raise ValidationError.at("features", "needs at least one feature")
        if len(notices) != 1:
            raise ValidationError.at("", f"the body holds {len(notices)} notices; send one per request")
        n = in_party_namespace(notices[0])
        if n.party != caller.name:
            raise ValidationError.at(
                "party", f"must be the calling party {caller.name!r} (or left out), not {n.party!r}"
            )
        if site:
            return replace(n, kind=PROTECTED_SITE_KIND, protected=True)
        if n.protected:
            raise ValidationError.at(
                "kind", f"{PROTECTED_SITE_KIND!r} notices are filed at /v1/protected-sites by an authority"
            )
        return n

    def _filer(self, caller: Party, site: bool) -> None:
        if site and not caller.role.files_sites:
            raise Forbidden(f"only an authority files protected sites; {caller.name!r} is {caller.role.a}")
        if not caller.role.files_notices:
            raise Forbidden(f"{caller.role.a} does not file notices")

    def file(self, caller: Party, body: Any, *, site: bool = False, idempotency_key: str | None = None) -> Reply:
        """File a notice (or, with ``site``, a protected site) for the caller."""
        p = self.prepare(caller, body, site=site)
        digest = sha256_hex(canonical_json({"op": "file", "site": site, "body": body}))
        with self._write(caller) as tx:
            if idempotency_key is not None:
                prior = tx.repo.idempotent_response(caller.name, idempotency_key)
                if prior is not None:
                    if prior[0] != digest:
                        raise ValidationError.at(
                            "Idempotency-Key",
                            f"{idempotency_key!r} was already used for a different request; use a new key",
                        )
                    return Reply(prior[1], prior[2], replayed=True)
            body_out = self.file_prepared(tx, caller, p)
            if idempotency_key is not None:
                tx.repo.save_idempotent_response(caller.name, idempotency_key, digest, 201, body_out, tx.now)
            return Reply(201, body_out)

    def prepare(self, caller: Party, body: Any, *, site: bool = False) -> Prepared:
        """Before the filing lock: a filing's role check, parsing and detection (:meth:`_detect`)."""
        self._filer(caller, site)
        said: Said = []
        notice = self._parse(caller, body, site, said)
        return self._prepared(caller, notice, said, notice)

    def file_prepared(self, tx: _Tx, caller: Party, p: Prepared) -> dict[str, Any]:
        """Under the filing lock (``tx`` from :meth:`write`): file what :meth:`prepare` made, its
        conflicts brought up to date; the response body of ``POST /v1/notices``."""
        found = settle(tx.repo, p.seen, self.settings.separation, self.limits)
        result = self.notices.file_in(tx.repo, p.notice, now=tx.now, found=found)
        near = settle_near(tx.repo, p.seen)
        body_out = self._record(tx, caller, "notice.filed", result, p.grid, p.early, found, near)
        body_out["defaults"] = p.said
        return body_out

    def update(self, caller: Party, notice_id: str, body: Any, replaces_version: int | None, site: bool) -> Reply:
        self._filer(caller, site)
        if isinstance(body, Mapping) and "replaces_version" in body:
            if replaces_version is None:
                replaces_version = body["replaces_version"]
            elif body["replaces_version"] != replaces_version:
                given = body["replaces_version"]
                raise ValidationError.at("replaces_version", f"{given!r} differs from If-Match ({replaces_version})")
            body = {k: v for k, v in body.items() if k != "replaces_version"}
        said: Said = []
        notice = self._parse(caller, body, site, said)  # first: a misspelt replaces_version is an unknown key
        if replaces_version is None:
            raise ValidationError.at("replaces_version", "required: the version this update replaces")
        if isinstance(replaces_version, bool) or not isinstance(replaces_version, int) or replaces_version < 1:
            raise ValidationError.at("replaces_version", f"must be a whole number ≥ 1, got {replaces_version!r}")
        p = self._prepared_update(caller, notice_id, notice, said)
        with self._write(caller) as tx:
            return Reply(200, self.update_prepared(tx, caller, notice_id, replaces_version, p, site))

    def prepare_update(self, caller: Party, notice_id: str, body: Any, *, site: bool = False) -> Prepared:
        """Before the filing lock: an update's role check, parsing and detection of the new version
        (``body`` without ``replaces_version``: :meth:`update_prepared` takes it)."""
        self._filer(caller, site)
        said: Said = []
        notice = self._parse(caller, body, site, said)
        return self._prepared_update(caller, notice_id, notice, said)

    def _prepared_update(self, caller: Party, notice_id: str, notice: Notice, said: Said) -> Prepared:
        if notice.id is not None and notice.id != notice_id:
            raise ValidationError.at("id", f"must be {notice_id!r} (the notice in the URL) or left out")
        return self._prepared(caller, notice, said, replace(notice, id=notice_id))

    def _prepared(self, caller: Party, notice: Notice, said: Said, detect_as: Notice) -> Prepared:
        seen, early = self._detect(caller, detect_as)
        return Prepared(notice, said, seen, early, preslice(self.policy.grid, seen.conflicts))

    def update_prepared(
        self, tx: _Tx, caller: Party, notice_id: str, replaces_version: int, p: Prepared, site: bool
    ) -> dict[str, Any]:
        """Under the filing lock: write the new version :meth:`prepare_update` made; the response
        body of ``PUT /v1/notices/{id}``."""
        self._visible_notice(tx.repo, caller, notice_id, site)
        found = settle(tx.repo, p.seen, self.settings.separation, self.limits)
        result = self.notices.update_in(tx.repo, notice_id, replaces_version, p.notice, now=tx.now, found=found)
        near = settle_near(tx.repo, p.seen)
        body_out = self._record(tx, caller, "notice.updated", result, p.grid, p.early, found, near)
        # the id is the URL's, not a default
        body_out["defaults"] = [d for d in p.said if d["field"].rsplit(".", 1)[-1] != "id"]
        return body_out

    def set_state(
        self, caller: Party, notice_id: str, state: NoticeState, replaces_version: int | None, site: bool
    ) -> Reply:
        if not caller.role.files_notices:  # before the lock, and again in set_state_in for its other callers
            raise Forbidden(f"{caller.role.a} does not change notices")
        with self._write(caller) as tx:
            return Reply(200, self.set_state_in(tx, caller, notice_id, state, replaces_version, site))

    def set_state_in(
        self, tx: _Tx, caller: Party, notice_id: str, state: NoticeState, replaces_version: int | None, site: bool
    ) -> dict[str, Any]:
        """Under the filing lock: activate, end or cancel; the response body."""
        if not caller.role.files_notices:
            raise Forbidden(f"{caller.role.a} does not change notices")
        verb = {NoticeState.ACTIVE: "activated", NoticeState.ENDED: "ended", NoticeState.CANCELLED: "cancelled"}
        self._visible_notice(tx.repo, caller, notice_id, site)
        result = self.notices.set_state_in(tx.repo, notice_id, caller.name, state, replaces_version, now=tx.now)
        return self._record(tx, caller, f"notice.{verb[state]}", result)

    def _visible_notice(self, repo: BrokerRepository, caller: Party, notice_id: str, site: bool) -> Notice:
        """The notice if the caller may see it under this path; else the same 404 as a missing one."""
        # The same work whether the notice is missing or hidden (load the policy, read the owner),
        # so that not even the time taken tells a caller that a hidden notice exists.
        d = self._disclosure(repo)
        owner = repo.notice_owner(notice_id)
        visible = owner is not None and owner[1] == site and (owner[1] or d.level(caller, owner[0]) is Level.FULL)
        n = repo.get(notice_id) if visible else None
        if n is None:
            what = "protected site" if site else "notice"
            raise NotFoundError(f"{what} {notice_id!r} does not exist or is not visible to you")
        return n

    def _log_change(
        self, tx: _Tx, actor: str, type_: str, result: FilingResult, nj: dict[str, Any] | None = None
    ) -> Receipt:
        """Log a notice change and the conflicts it created, changed or resolved, and sign the
        receipt for the new version. ``nj``: ``notice_json(result.notice)`` when already made."""
        n = result.notice
        assert n.id is not None
        nj = notice_json(n) if nj is None else nj
        content_hash = sha256_hex(canonical_json(nj))
        ev = tx.log(
            actor,
            type_,
            {"notice": nj, "content_hash": content_hash, "lead_time_s": result.lead_time_s, "late": result.late},
        )
        receipt = sign_receipt(
            self.key,
            notice_id=n.id,
            version=n.version,
            party=n.party,
            content_hash=content_hash,
            received_at=tx.now,
            log_seq=ev.seq,
            log_hash=ev.hash,
        )
        tx.repo.save_receipt(receipt)
        kinds = (("created", result.created), ("updated", result.changed), ("resolved", result.resolved))
        tx.log_many(actor, [(f"conflict.{kind}", {"conflict": conflict_json(c)}) for kind, recs in kinds for c in recs])
        threads = []
        for c in result.created:
            starts_in = c.detail.time_start - tx.now
            threads.append(
                self._thread_message(
                    tx,
                    Reference("conflict", c.id),
                    (c.party_a, c.party_b),
                    self.hotline.conflict_deadline_s(starts_in),
                    Priority.IMMEDIATE if self.hotline.conflict_is_near(starts_in) else Priority.PRIORITY,
                    f"Conflict {c.id} on {format_time(c.detail.time_start)[:10]}",  # the day: no finer than existence
                    "The broker found a conflict that involves your activity. Read it at "
                    f"/v1/conflicts/{c.id} and acknowledge this message (received and understood; an "
                    "acknowledgement is never an approval).",
                )
            )
        self._send_threads(tx, [m for m in threads if m is not None])
        for c in result.resolved:
            tx.repo.stop_escalations("conflict", c.id)
        for c in result.changed:  # what was acknowledged is not what conflicts now: ask again
            tx.repo.clear_acks(c.id)
        return receipt

    def end_past_notices(self, limit: int = 100) -> int:
        """Move every live notice whose time has passed to ``ended`` on the broker's clock, as the
        broker (``notice.ended``, receipted): its open conflicts are resolved and their escalations
        stop. A notice ends once its last volume's end plus the separation time minimum has passed,
        so a conflict inside that buffer stays open while it can still matter. Each notice is ended
        in its own short transaction: one that cannot be ended (it is logged, once) holds up neither
        the others nor a filing for long. Returns how many were ended."""
        grace = self.settings.separation.time_s
        with self.store.begin(write=False) as repo:  # the common case, without the lock
            ids = repo.notices_ended_by(self.clock() - grace, limit)
        ended = 0
        for nid in ids:
            try:
                with self._write() as tx:
                    current = tx.repo.get(nid)
                    if current is None or not current.state.is_live or current.time_end > tx.now - grace:
                        continue  # changed since it was read
                    result = self.notices.set_state_in(tx.repo, nid, current.party, NoticeState.ENDED, now=tx.now)
                    self._log_change(tx, BROKER, "notice.ended", result)
                    ended += 1
            except Exception:  # the next sweep tries again; the others go on
                if nid not in self._unending:
                    self._unending.add(nid)
                    log.exception("could not end notice %r whose time has passed; trying again each sweep", nid)
        return ended

    def run_expiry(self, stop: threading.Event, interval_s: float = 1.0) -> None:
        """End past notices every ``interval_s`` until ``stop`` is set (the server's thread)."""
        while not stop.is_set():
            try:
                self.end_past_notices()
            except Exception:  # one failed sweep must not stop the next; it is logged and retried
                log.exception("ending past notices failed")
            stop.wait(interval_s)

    def file_as_operator(self, notice: Notice) -> tuple[FilingResult, Receipt]:
        """File a notice for the party it names, from the broker's host (``deconflict file`` and
        ``deconflict demo``): logged and receipted like any filing, with the admin as the actor.
        The result carries hints from every neighbour: the operator sees everything."""
        with self._write() as tx:
            if notice.id is not None and (old := tx.repo.get(notice.id)) is not None and old.party == notice.party:
                raise ValidationError.at(  # a store from before ids were kept as party:id
                    "id", f"notice {notice.id!r} of {notice.party} already exists; update it with its version instead"
                )
            result = self._operator.file_in(tx.repo, in_party_namespace(notice), now=tx.now)
            return result, self._log_change(tx, ADMIN_ACTOR, "notice.filed", result)

    def file_all_as_operator(self, notices: list[Notice]) -> list[tuple[FilingResult, Receipt]]:
        """File several notices as :meth:`file_as_operator` does, in one transaction: all are filed,
        or, when one is refused, none (``deconflict import``: nothing of a file is half-filed). A
        refusal names the notice as ``[i].<field>``."""
        out: list[tuple[FilingResult, Receipt]] = []
        with self._write() as tx:
            for i, notice in enumerate(notices):
                try:
                    if (
                        notice.id is not None
                        and (old := tx.repo.get(notice.id)) is not None
                        and old.party == notice.party
                    ):
                        raise ValidationError.at("id", f"notice {notice.id!r} of {notice.party} already exists")
                    result = self._operator.file_in(tx.repo, in_party_namespace(notice), now=tx.now)
                except ValidationError as e:
                    raise e.prefixed(f"[{i}]") from None
                out.append((result, self._log_change(tx, ADMIN_ACTOR, "notice.filed", result)))
        return out

    @property
    def _near(self) -> SeparationPolicy:
        """The minima within which a filing is near another notice, for the probe rule."""
        return probes.widened(self.settings.separation, self.policy.grid)

    def _detect(self, caller: Party, notice: Notice) -> tuple[Detected, EarlyHints | None]:
        """Before the filing lock (:mod:`~deconflict.services.filing_flow`), in one read
        transaction: ``notice``'s conflicts and, when the caller sees every conflicting party whole
        (or there is none), the notices near it for the probe rule; then the resolution hints for
        those conflicts. Otherwise neither is needed: a conflict with a party the caller does not
        see whole charges the probe budget anyway, and hints are withheld. Each is exact geometry
        (seconds for the heaviest filing the limits allow), which under the lock would stall every
        other party's filing; :meth:`_record` uses them when nothing they depend on changed."""
        sep = self.settings.separation
        with self.store.begin(write=False) as repo:
            # The position first: on PostgreSQL each statement may see later commits, and those
            # are after this position, so settle() and settle_near() check them again.
            seq = repo.last_seq()
            found = detect(repo, notice, sep)
            d = self._disclosure(repo)
            whole = all(c.b.protected or d.level(caller, c.b.party) is Level.FULL for c in found)
            near = near_notices(repo, notice, self._near) if whole else None
        seen = Detected(notice, found, seq, near, self._near if whole else None)
        if not (whole and found) or notice.protected:
            return seen, None
        pairs = [(c.volume_a, c.b.volumes[c.volume_b]) for c in found]
        return seen, (conflict_keys(found), self._hints_body(notice, pairs))

    def _record(
        self,
        tx: _Tx,
        caller: Party,
        type_: str,
        result: FilingResult,
        grid: SliceGrid | None = None,
        early: EarlyHints | None = None,
        found: list[Conflict] | None = None,
        near: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Log the change, sign its receipt, and build the caller's response (``grid``: the
        theater's grid with the slices found before the lock already cut; ``early``: hints made
        before the lock for the conflicts ``found`` under it, used when they are the same;
        ``near``: the notices near the change for the probe rule, found before the lock)."""
        n = result.notice
        nj = notice_json(n)
        receipt = self._log_change(tx, caller.name, type_, result, nj)
        d = self._disclosure(tx.repo, grid)
        probes.watch(tx, caller, type_, result, self.settings.separation, d, near)  # may refuse: nothing is written
        views = [v for v in (d.conflict_view(caller, conflict_json(c)) for c in result.conflicts) if v is not None]
        resolved = [v for v in (d.conflict_view(caller, conflict_json(c)) for c in result.resolved) if v is not None]
        # A shift that clears a conflict tells where the other notice ends, which the slice does not
        # show: hints only when every counterpart is visible whole (coalition, a full rule, a site).
        hints, withheld = None, None
        if result.conflicts and n.protected:
            withheld = SITE_STAYS
        elif result.conflicts:
            if all(v.get("disclosure", Level.FULL.text) == Level.FULL.text for v in views):
                if early is not None and found is not None and early[0] == conflict_keys(found):
                    hints = early[1]
                else:  # the conflicts changed since detection, or the caller's grants did
                    hints = self._hints(tx.repo, n, result.conflicts)
            else:
                withheld = HINTS_WITHHELD
        return {
            "notice": nj,
            "lead_time_s": round(result.lead_time_s, 3),
            "late": result.late,
            "min_notice_s": self.settings.notice.min_notice_s,
            "conflicts": views,
            "resolved": resolved,
            "hints": hints,
            "hints_withheld": withheld,
            "receipt": receipt.to_json(),
        }

    def _hints(self, repo: BrokerRepository, n: Notice, conflicts: list[ConflictRecord]) -> dict[str, Any]:
        # Only the conflicting volumes are taken into account: a hint computed from neighbours the
        # caller may not see would tell it where they are. A shifted notice is checked again when
        # it is filed.
        others = {c.notice_b: repo.get(c.notice_b) for c in conflicts}
        pairs = [(c.volume_a, o.volumes[c.volume_b]) for c in conflicts if (o := others[c.notice_b]) is not None]
        return self._hints_body(n, pairs)

    def _hints_body(self, n: Notice, pairs: list[tuple[int, Volume4D]]) -> dict[str, Any]:
        h = resolution_hints(n, pairs, self.settings.separation, self.settings.hints)
        return {
            "earlier_s": h.earlier_s,
            "later_s": h.later_s,
            "up_m": h.up_m,
            "down_m": h.down_m,
            "note": "each shift alone clears the conflicts listed; a changed notice is checked again when filed",
        }

    def get_notice(self, caller: Party, notice_id: str, site: bool = False) -> dict[str, Any]:
        with self.store.begin(write=False) as repo:
            n = self._visible_notice(repo, caller, notice_id, site)
            out = notice_json(n)
            if caller.role is Role.ADMIN or caller.name == n.party:
                receipt = repo.receipt(notice_id, n.version)
                out["receipt"] = None if receipt is None else receipt.to_json()
            return out

    def list_notices(
        self, caller: Party, f: NoticeFilter, cursor: str | None = None, limit: int = MAX_LIST
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the notices the caller may see, oldest filed first, and the cursor of the
        next page (``None`` at the end)."""
        from deconflict.domain.horizontal import separation

        with self.store.begin(write=False) as repo:
            d = self._disclosure(repo)
            scope = self._scope(repo, d, caller, Level.FULL)

            def fetch(after: tuple[float, str] | None, n: int) -> list[tuple[tuple[float, str], Notice]]:
                return repo.page_notices(
                    scope,
                    party=f.party,
                    state=f.state,
                    protected=f.protected,
                    time_start=f.time_start,
                    time_end=f.time_end,
                    after=after,
                    limit=n,
                )

            def view(row: tuple[tuple[float, str], Notice]) -> dict[str, Any] | None:
                n = row[1]
                if f.area is not None and not any(separation(v.shape, f.area).distance_m == 0 for v in n.volumes):
                    return None
                return d.notice_view(caller, notice_json(n))

            return _page(fetch, lambda row: row[0], view, cursor, limit)

    # ------------------------------------------------------------------ conflicts

    def list_conflicts(
        self, caller: Party, state: ConflictState | None = None, cursor: str | None = None, limit: int = MAX_LIST
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the conflicts the caller may see, oldest detected first, and the cursor of
        the next page (``None`` at the end)."""
        with self.store.begin(write=False) as repo:
            d = self._disclosure(repo)
            # a party sees its own conflicts; an observer those of the parties it is granted
            scope = {caller.name} if caller.role.files_notices else self._scope(repo, d, caller, Level.EXISTENCE)

            def view(c: ConflictRecord) -> dict[str, Any] | None:
                v = d.conflict_view(caller, conflict_json(c))
                return None if v is None else self._with_acks(repo, d, caller, c, v)

            return _page(
                lambda after, n: repo.page_conflicts(scope, state, after, n),
                lambda c: (c.detected_at, c.id),
                view,
                cursor,
                limit,
            )

    def get_conflict(self, caller: Party, conflict_id: str) -> dict[str, Any]:
        with self.store.begin(write=False) as repo:
            d = self._disclosure(repo)
            c, view = self._visible_conflict(repo, d, caller, conflict_id)
            return self._with_acks(repo, d, caller, c, view)

    def _visible_conflict(
        self, repo: BrokerRepository, d: Disclosure, caller: Party, conflict_id: str
    ) -> tuple[ConflictRecord, dict[str, Any]]:
        c = repo.get_conflict(conflict_id)
        view = None if c is None else d.conflict_view(caller, conflict_json(c))
        if c is None or view is None:
            raise NotFoundError(f"conflict {conflict_id!r} does not exist or is not visible to you")
        return c, view

    def _with_acks(
        self, repo: BrokerRepository, d: Disclosure, caller: Party, c: ConflictRecord, view: dict[str, Any]
    ) -> dict[str, Any]:
        named = {s.get("party") for s in view.get("sides", []) if not s.get("hidden")}
        acks = repo.acks_of(c.id)
        view["acknowledgements"] = [
            {"party": p if p in named else None, "at": format_time(t)}
            for p, t in sorted(acks.items(), key=lambda x: x[1])
        ]
        return view

    def acknowledge(self, caller: Party, conflict_id: str) -> Reply:
        """ "Received and understood" — never "approved"."""
        with self._write(caller) as tx:
            d = self._disclosure(tx.repo)
            c, view = self._visible_conflict(tx.repo, d, caller, conflict_id)
            if caller.name not in (c.party_a, c.party_b):
                raise Forbidden("only a party to the conflict acknowledges it")
            if caller.name in tx.repo.acks_of(c.id):
                return Reply(200, self._with_acks(tx.repo, d, caller, c, view))
            ev = tx.log(
                caller.name,
                "conflict.acknowledged",
                {"conflict": conflict_json(c), "party": caller.name, "ack": "received-and-understood"},
            )
            tx.repo.add_ack(c.id, caller.name, tx.now, ev.seq)
            self.ack_threads(tx, Reference("conflict", c.id), caller.name)
            return Reply(201, self._with_acks(tx.repo, d, caller, c, view))

    # ------------------------------------------------------------------ the broker's own threads

    def open_thread(
        self,
        tx: _Tx,
        ref: Reference,
        parties: Sequence[str],
        deadline_s: float,
        priority: Priority,
        subject: str,
        text: str,
    ) -> Message | None:
        """Open a hotline thread from the broker to ``parties`` about ``ref``, to be acknowledged
        within ``deadline_s`` (in the caller's transaction). Nothing when automatic threads are off."""
        m = self._thread_message(tx, ref, parties, deadline_s, priority, subject, text)
        if m is not None:
            self._send_threads(tx, [m])
        return m

    def _thread_message(
        self,
        tx: _Tx,
        ref: Reference,
        parties: Sequence[str],
        deadline_s: float,
        priority: Priority,
        subject: str,
        text: str,
    ) -> Message | None:
        """The first message of a broker thread (see :meth:`open_thread`), not yet stored."""
        if not self.hotline.auto_threads:
            return None
        deadline = tx.now + deadline_s
        mid = uuid.uuid4().hex
        recipients = tuple(Recipient(p, deadline, next_escalation_at=deadline) for p in sorted(set(parties)))
        return Message(mid, mid, BROKER, subject, text, priority, tx.now, recipients, ref=ref, auto=True)

    def _send_threads(self, tx: _Tx, messages: Sequence[Message]) -> None:
        """Store broker threads and log each one's ``message.sent``, in one statement each."""
        tx.repo.add_messages(messages)
        tx.log_many(BROKER, [("message.sent", {"message": message_json(m)}) for m in messages])

    def ack_threads(self, tx: _Tx, ref: Reference, party: str) -> None:
        """Acknowledging a conflict answers the broker's thread about it too."""
        for m in tx.repo.messages_about(ref.kind, ref.id):
            r = m.recipient(party) if m.auto else None
            if r is not None and r.understood_at is None:
                tx.repo.ack_message(m.id, party, AckState.UNDERSTOOD, tx.now)
                after = tx.repo.get_message(m.id)
                assert after is not None
                tx.log(
                    party,
                    "message.acknowledged",
                    {"message": message_json(after, tx.now), "party": party, "state": AckState.UNDERSTOOD.value},
                )

    # ------------------------------------------------------------------ tactical alerts

    def open_alerts(self) -> list[Alert]:
        with self.store.begin(write=False) as repo:
            return repo.open_alerts()

    def live_notices(self, time_start: float, time_end: float) -> list[Notice]:
        """Notices and sites that take part in checks (accepted or active) and reach into
        ``[time_start, time_end]``, read a page at a time in SQL (not the whole store)."""
        out: list[Notice] = []
        with self.store.begin(write=False) as repo:
            for state in (NoticeState.ACCEPTED, NoticeState.ACTIVE):
                after: tuple[float, str] | None = None
                while True:
                    rows = repo.page_notices(None, state=state, time_start=time_start, time_end=time_end, after=after)
                    out.extend(n for _, n in rows)
                    if len(rows) < MAX_LIST:
                        break
                    after = rows[-1][0]
        return out

    def record_alerts(self, changes: Changes) -> None:
        """Write alert changes and their events in one transaction (actor ``broker``)."""
        with self._write() as tx:
            for kind, alerts in (
                ("created", changes.created),
                ("updated", changes.updated),
                ("cleared", changes.cleared),
            ):
                for a in alerts:
                    tx.repo.save_alert(a)
                    tx.log("broker", f"alert.{kind}", {"alert": alert_json(a)})
            for a in changes.created:
                self.open_thread(
                    tx,
                    Reference("alert", a.id),
                    a.parties,
                    self.hotline.alert_deadline_s(a.severity),
                    Priority.FLASH if a.severity in ("high", "loss") else Priority.IMMEDIATE,
                    f"Tactical alert {a.id}: {a.kind.value}, severity {a.severity}",
                    f"The broker raised a {a.kind.value} alert that involves your aircraft or airspace. Read it "
                    f"at /v1/alerts and acknowledge this message (received and understood; an acknowledgement "
                    "is never an approval).",
                )
            for a in changes.cleared:
                tx.repo.stop_escalations("alert", a.id)

    def list_alerts(
        self, caller: Party, state: str | None = "open", cursor: str | None = None, limit: int = MAX_LIST
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the alerts the caller may see, oldest first, and the next page's cursor."""
        with self.store.begin(write=False) as repo:
            d = self._disclosure(repo)
            scope = {caller.name} if caller.role.files_notices else self._scope(repo, d, caller, Level.EXISTENCE)
            return _page(
                lambda after, n: repo.page_alerts(scope, state, after, n),
                lambda a: (a.detected_at, a.id),
                lambda a: d.alert_view(caller, alert_json(a)),
                cursor,
                limit,
            )

    # ------------------------------------------------------------------ live events and webhooks

    def visible_events(self, caller: Party, after: int, limit: int = 500) -> tuple[list[StreamEvent], int]:
        """The caller's view of the events after ``after``, oldest first, and the last seq scanned
        (so that a stream moves past events the caller may not see)."""
        with self.store.begin(write=False) as repo:
            events = repo.events_after(after, limit)
            if not events:
                return [], after
            d = self._disclosure(repo)
        out = []
        for e in events:
            data = d.event_view(caller, e.type, e.payload)
            if data is not None:
                data.pop("salt", None)  # only the log needs it (see _Tx.log)
                out.append(StreamEvent(e.seq, e.type, e.time, data))
        return out, events[-1].seq

    def last_seq(self) -> int:
        with self.store.begin(write=False) as repo:
            head = repo.last_event()
        return 0 if head is None else head.seq

    def set_webhook(self, caller: Party, url: str, secret: str) -> dict[str, Any]:
        if caller.role is Role.ADMIN:
            raise Forbidden("webhooks are for parties and observers")
        with self._write(caller) as tx:
            secret_digest = hashlib.sha256(secret.encode()).hexdigest()
            ev = tx.log(caller.name, "webhook.set", {"party": caller.name, "url": url, "secret_sha256": secret_digest})
            cursor = ev.seq  # deliveries start with the next event
            tx.repo.set_webhook(caller.name, url, secret, cursor)
        return {"party": caller.name, "url": url, "from_event": cursor + 1}

    def remove_webhook(self, caller: Party) -> None:
        with self._write(caller) as tx:
            if not tx.repo.remove_webhook(caller.name):
                raise NotFoundError(f"party {caller.name!r} has no webhook")
            tx.log(caller.name, "webhook.removed", {"party": caller.name})

    # ------------------------------------------------------------------ audit

    def export(self, caller: Party) -> dict[str, Any]:
        """The log for an audit: everything for an admin; for a party the events that carry only
        its own records (its notices' filings and changes, its webhook settings) in full, and
        every other one as a stub that keeps the chain checkable. Conflict events are stubs even
        when the party caused them: they carry the other side whole, which disclosure may hide."""
        with self.store.begin(write=False) as repo:
            show = export_show(caller, self._disclosure(repo))
            events = _all_events(repo)
            receipts = repo.receipts(None if caller.role is Role.ADMIN else caller.name)
        return build_export(events, receipts, self.key, self.clock(), show)

    def log_events(self) -> list[Event]:
        """The whole log, oldest first."""
        with self.store.begin(write=False) as repo:
            return _all_events(repo)


def export_show(caller: Party, d: Disclosure) -> Callable[[Event], bool]:
    """Which events ``caller``'s export shows in full (see :meth:`Broker.export`). A message the
    sender relayed to a party it may not name is a stub in the sender's export too."""
    if caller.role is Role.ADMIN:
        return lambda e: True

    def show(e: Event) -> bool:
        if e.type == "message.sent" and not names_every_recipient(d, caller, e.payload["message"]):
            return False
        return (e.type in OWN_RECORD_EVENTS and _record_owner(e) == caller.name) or e.type in PUBLIC_EVENTS

    return show


def _record_owner(e: Event) -> str | None:
    """Whose own record an event of :data:`OWN_RECORD_EVENTS` holds: the notice's party, the
    webhook's party, the message's sender. Not the actor: the operator files for a party from the
    broker's host, and the broker ends a party's notice when its time has passed."""
    if e.type.startswith("notice."):
        return str(e.payload["notice"]["party"])
    if e.type.startswith("webhook."):
        return str(e.payload["party"])
    if e.type == "message.sent":
        return str(e.payload["message"]["from"])
    return None


def _all_events(repo: BrokerRepository) -> list[Event]:
    events: list[Event] = []
    while batch := repo.events_after(events[-1].seq if events else 0, 5000):
        events.extend(batch)
    return events


Row = TypeVar("Row")


def _page(
    fetch: Callable[[tuple[float, str] | None, int], list[Row]],
    key: Callable[[Row], tuple[float, str]],
    view: Callable[[Row], dict[str, Any] | None],
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of what the caller may see: rows are read in key order after the cursor, ``limit``
    at a time, until ``limit`` of them have a view (``None``: not shown to this caller). Returns the
    views and the cursor of the next page (``None`` when the store has no more rows)."""
    after = decode_cursor(cursor)
    out: list[dict[str, Any]] = []
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


def in_party_namespace(n: Notice) -> Notice:
    """``n`` with the id its party chose kept as ``"<party>:<id>"``, the one form of a notice id
    everywhere (API, command line, events, receipts). Ids a party chooses live in its own namespace:
    a global one would let any party learn whether another filed a notice under a guessed id (by
    being refused that id).

    >>> in_party_namespace(Notice("ru-vks", (), id="vks-1")).id
    'ru-vks:vks-1'
    >>> in_party_namespace(Notice("ru-vks", (), id="ru-vks:vks-1")).id
    'ru-vks:vks-1'
    """
    if n.id is None or n.id.startswith(n.party + ":"):
        return n
    return replace(n, id=f"{n.party}:{n.id}")


def _with_party(feature: Any, party: str, i: int, said: Said | None) -> Any:
    """A GeoJSON feature with ``properties.party`` set to the caller when it is left out."""
    props = feature.get("properties") if isinstance(feature, Mapping) else None
    if isinstance(props, Mapping) and "party" not in props:
        if said is not None:
            said.append({"field": f"features[{i}].properties.party", "value": party})
        return {**feature, "properties": {**props, "party": party}}
    return feature


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
