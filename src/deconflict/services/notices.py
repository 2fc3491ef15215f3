"""Filing, updating and changing the state of notices and protected sites: each change logged,
receipted and answered with the caller's view of its conflicts in one transaction under the filing
lock; an ``Idempotency-Key`` retry gets the stored response. Past notices are ended here too.

The bodies of :meth:`Notices.file` and :meth:`Notices.update` are the broker's filing path (with
:mod:`deconflict.services.filing_flow`): detection before the lock, settling under it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from deconflict.domain.audit import BrokerKey, Receipt, canonical_json, sha256_hex, sign_receipt
from deconflict.domain.disclosure import Disclosure
from deconflict.domain.disclosure_policy import DisclosurePolicy, Level
from deconflict.domain.errors import Forbidden, ValidationError
from deconflict.domain.event_types import EventType
from deconflict.domain.fields import Said
from deconflict.domain.grid import SliceGrid
from deconflict.domain.hotline import HotlineSettings, Priority, Reference
from deconflict.domain.notice_json import parse_notices
from deconflict.domain.parties import Party
from deconflict.domain.policy import Limits
from deconflict.domain.strategic import Conflict
from deconflict.domain.times import format_time
from deconflict.domain.volumes import PROTECTED_SITE_KIND, Notice, NoticeState
from deconflict.services import probes
from deconflict.services.filing import FilingResult, NoticeService, Settings
from deconflict.services.filing_flow import conflict_keys, settle, settle_near
from deconflict.services.filing_prepare import Prepared, hints_body, prepare
from deconflict.services.notice_views import visible_notice
from deconflict.services.ports import BrokerRepository, BrokerUnitOfWork, ConflictRecord
from deconflict.services.threads import BrokerThreads
from deconflict.services.transaction import BrokerCore, Outcome, Transaction
from deconflict.services.wire import NOTHING_ENCODED, Encoded, conflict_json, notice_json

STORED_CREATED = 201
"""The status an Idempotency-Key's stored outcome keeps for a filing (the store's column holds the
first answer's HTTP status, as stores made before :class:`Outcome` wrote it)."""

log = logging.getLogger(__name__)

SITE_STAYS = "a protected site does not move: the notices that conflict with it are given the shifts that clear it"
"""Why a protected site's filing carries no hints."""
HINTS_WITHHELD = (
    "a shift that clears these conflicts would show where another party's notice ends, which the disclosure "
    "policy does not show you; change the notice and file it again to check"
)


class Notices:
    """Changes to notices and protected sites."""

    def __init__(self, core: BrokerCore, threads: BrokerThreads) -> None:
        self.core = core
        self.threads = threads
        self.notices = NoticeService(core.store, core.clock, core.settings, hints=False)
        self.operator = NoticeService(core.store, core.clock, core.settings, hints=True)
        """The notice rules as the operator files: hints from every neighbour (the host sees everything)."""

    # What the filing path reads, under the names it has always used (its bodies move verbatim).
    @property
    def store(self) -> BrokerUnitOfWork:
        return self.core.store

    @property
    def clock(self) -> Callable[[], float]:
        return self.core.clock

    @property
    def key(self) -> BrokerKey:
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

    def write(self, caller: Party | None = None) -> AbstractContextManager[Transaction]:
        return self.core.write(caller)

    def _disclosure(self, repo: BrokerRepository, grid: SliceGrid | None = None) -> Disclosure:
        return self.core.disclosure(repo, grid)

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

    def file(self, caller: Party, body: Any, *, site: bool = False, idempotency_key: str | None = None) -> Outcome:
        """File a notice (or, with ``site``, a protected site) for the caller."""
        p = self.prepare(caller, body, site=site)
        digest = sha256_hex(canonical_json({"op": "file", "site": site, "body": body}))
        with self.write(caller) as tx:
            if idempotency_key is not None:
                prior = tx.repo.idempotent_response(caller.name, idempotency_key)
                if prior is not None:
                    if prior[0] != digest:
                        raise ValidationError.at(
                            "Idempotency-Key",
                            f"{idempotency_key!r} was already used for a different request; use a new key",
                        )
                    return Outcome(prior[2], created=prior[1] == STORED_CREATED, replayed=True)
            body_out = self.file_prepared(tx, caller, p)
            if idempotency_key is not None:
                tx.repo.save_idempotent_response(caller.name, idempotency_key, digest, STORED_CREATED, body_out, tx.now)
            return Outcome(created=True, body=body_out)

    def prepare(self, caller: Party, body: Any, *, site: bool = False) -> Prepared:
        """Before the filing lock: a filing's role check, parsing and detection
        (:mod:`~deconflict.services.filing_prepare`)."""
        self._filer(caller, site)
        said: Said = []
        notice = self._parse(caller, body, site, said)
        return prepare(self.core, caller, notice, said, notice)

    def file_prepared(self, tx: Transaction, caller: Party, p: Prepared) -> dict[str, Any]:
        """Under the filing lock (``tx`` from the broker's ``write``): file what :meth:`prepare`
        made, its conflicts brought up to date; the response body of ``POST /v1/notices``."""
        changed = tx.repo.notices_changed_since(p.seen.seq)  # read once, for both
        found = settle(tx.repo, p.seen, self.settings.separation, self.limits, changed)
        result = self.notices.file_in(tx.repo, p.notice, now=tx.now, found=found)
        near = settle_near(tx.repo, p.seen, changed)
        body_out = self._record(tx, caller, EventType.NOTICE_FILED, result, p, found, near)
        body_out["defaults"] = p.said
        return body_out

    def update(self, caller: Party, notice_id: str, body: Any, replaces_version: int | None, site: bool) -> Outcome:
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
        with self.write(caller) as tx:
            return Outcome(body=self.update_prepared(tx, caller, notice_id, replaces_version, p, site))

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
        return prepare(self.core, caller, notice, said, replace(notice, id=notice_id))

    def update_prepared(
        self, tx: Transaction, caller: Party, notice_id: str, replaces_version: int, p: Prepared, site: bool
    ) -> dict[str, Any]:
        """Under the filing lock: write the new version :meth:`prepare_update` made; the response
        body of ``PUT /v1/notices/{id}``."""
        self._visible_notice(tx.repo, caller, notice_id, site)
        changed = tx.repo.notices_changed_since(p.seen.seq)
        found = settle(tx.repo, p.seen, self.settings.separation, self.limits, changed)
        result = self.notices.update_in(tx.repo, notice_id, replaces_version, p.notice, now=tx.now, found=found)
        near = settle_near(tx.repo, p.seen, changed)
        body_out = self._record(tx, caller, EventType.NOTICE_UPDATED, result, p, found, near)
        # the id is the URL's, not a default
        body_out["defaults"] = [d for d in p.said if d["field"].rsplit(".", 1)[-1] != "id"]
        return body_out

    def set_state(
        self, caller: Party, notice_id: str, state: NoticeState, replaces_version: int | None, site: bool
    ) -> Outcome:
        if not caller.role.files_notices:  # before the lock, and again in set_state_in for its other callers
            raise Forbidden(f"{caller.role.a} does not change notices")
        with self.write(caller) as tx:
            return Outcome(body=self.set_state_in(tx, caller, notice_id, state, replaces_version, site))

    def set_state_in(
        self,
        tx: Transaction,
        caller: Party,
        notice_id: str,
        state: NoticeState,
        replaces_version: int | None,
        site: bool,
    ) -> dict[str, Any]:
        """Under the filing lock: activate, end or cancel; the response body."""
        if not caller.role.files_notices:
            raise Forbidden(f"{caller.role.a} does not change notices")
        logged = {
            NoticeState.ACTIVE: EventType.NOTICE_ACTIVATED,
            NoticeState.ENDED: EventType.NOTICE_ENDED,
            NoticeState.CANCELLED: EventType.NOTICE_CANCELLED,
        }
        self._visible_notice(tx.repo, caller, notice_id, site)
        result = self.notices.set_state_in(tx.repo, notice_id, caller.name, state, replaces_version, now=tx.now)
        return self._record(tx, caller, logged[state], result)

    def _visible_notice(self, repo: BrokerRepository, caller: Party, notice_id: str, site: bool) -> Notice:
        """The notice if the caller may see it under this path; else the same 404 as a missing one."""
        return visible_notice(self.core, repo, caller, notice_id, site)

    def log_change(
        self,
        tx: Transaction,
        actor: str,
        type_: str,
        result: FilingResult,
        nj: dict[str, Any] | None = None,
        enc: Encoded = NOTHING_ENCODED,
    ) -> Receipt:
        """Log a notice change and the conflicts it created, changed or resolved, and sign the
        receipt for the new version. ``nj``: ``notice_json(result.notice, enc)`` when already made;
        ``enc``: the long forms made before the lock (:class:`~deconflict.services.wire.Encoded`)."""
        n = result.notice
        assert n.id is not None
        nj = notice_json(n, enc) if nj is None else nj
        nj_text = enc.notice_text(nj)
        content_hash = sha256_hex(nj_text)
        ev = tx.log(
            actor,
            type_,
            {"notice": nj, "content_hash": content_hash, "lead_time_s": result.lead_time_s, "late": result.late},
            {"notice": nj_text},
        )
        receipt = sign_receipt(
            self.core.signing_key(tx),
            notice_id=n.id,
            version=n.version,
            party=n.party,
            content_hash=content_hash,
            received_at=tx.now,
            log_seq=ev.seq,
            log_hash=ev.hash,
        )
        tx.repo.save_receipt(receipt)
        kinds = (
            (EventType.CONFLICT_CREATED, result.created),
            (EventType.CONFLICT_UPDATED, result.changed),
            (EventType.CONFLICT_RESOLVED, result.resolved),
        )
        tx.log_many(
            actor,
            [(kind, {"conflict": conflict_json(c, enc)}) for kind, recs in kinds for c in recs],
            lambda payload: {"conflict": enc.conflict_text(payload["conflict"])},
        )
        threads = []
        for c in result.created:
            starts_in = c.detail.time_start - tx.now
            threads.append(
                self.threads.thread_message(
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
        self.threads.send_threads(tx, [m for m in threads if m is not None])
        for c in result.resolved:
            tx.repo.stop_escalations("conflict", c.id)
        for c in result.changed:  # what was acknowledged is not what conflicts now: ask again
            tx.repo.clear_acks(c.id)
        return receipt

    def _record(
        self,
        tx: Transaction,
        caller: Party,
        type_: str,
        result: FilingResult,
        p: Prepared | None = None,
        found: list[Conflict] | None = None,
        near: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Log the change, sign its receipt, and build the caller's response. ``p``: what was made
        before the lock (the grid with the slices cut, hints for the conflicts ``found`` under it,
        used when they are the same); ``near``: the notices near the change for the probe rule."""
        n = result.notice
        enc = NOTHING_ENCODED if p is None else p.enc
        nj = notice_json(n, enc)
        receipt = self.log_change(tx, caller.name, type_, result, nj, enc)
        d = self._disclosure(tx.repo, None if p is None else p.grid)
        probes.watch(tx, caller, type_, result, self.settings.separation, d, near)  # may refuse: nothing is written
        views = [v for v in (d.conflict_view(caller, conflict_json(c, enc)) for c in result.conflicts) if v is not None]
        resolved = [v for v in (d.conflict_view(caller, conflict_json(c)) for c in result.resolved) if v is not None]
        # A shift that clears a conflict tells where the other notice ends, which the slice does not
        # show: hints only when every counterpart is visible whole (coalition, a full rule, a site).
        hints, withheld = None, None
        if result.conflicts and n.protected:
            withheld = SITE_STAYS
        elif result.conflicts:
            if all(v.get("disclosure", Level.FULL.text) == Level.FULL.text for v in views):
                if p is not None and p.early is not None and found is not None and p.early[0] == conflict_keys(found):
                    hints = p.early[1]
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
        return hints_body(self.settings, n, pairs)


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
