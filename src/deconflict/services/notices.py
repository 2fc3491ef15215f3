"""Filing, updating and changing the state of notices and protected sites: each change logged,
receipted and answered with the caller's view of its conflicts in one transaction under the filing
lock; an ``Idempotency-Key`` retry gets the stored response. Past notices are ended here too.

The bodies of :meth:`Notices.file` and :meth:`Notices.update` are the broker's filing path (with
:mod:`deconflict.services.filing_flow`): detection before the lock, settling under it. They take
commands parsed by the caller (:mod:`deconflict.services.commands`: ``parse_file_notice``,
``parse_update_notice``), never a raw body.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from deconflict.domain.audit import BrokerKey, Receipt, sha256_hex, sign_receipt
from deconflict.domain.disclosure import Disclosure
from deconflict.domain.disclosure_policy import DisclosurePolicy, Level
from deconflict.domain.errors import Forbidden, ValidationError
from deconflict.domain.event_types import EventType
from deconflict.domain.grid import SliceGrid
from deconflict.domain.hotline import HotlineSettings, Priority, Reference
from deconflict.domain.parties import Party
from deconflict.domain.policy import Limits
from deconflict.domain.strategic import Conflict
from deconflict.domain.times import format_time
from deconflict.domain.volumes import Notice, NoticeState
from deconflict.services import probes
from deconflict.services.commands import FileNotice, UpdateNotice, check_filer
from deconflict.services.filing import FilingResult, NoticeService, Settings
from deconflict.services.filing_flow import conflict_keys, settle, settle_near
from deconflict.services.filing_prepare import Prepared, hints_body, prepare
from deconflict.services.notice_views import visible_notice
from deconflict.services.ports import IDEMPOTENT_CREATED, BrokerRepository, BrokerUnitOfWork, ConflictRecord
from deconflict.services.threads import BrokerThreads
from deconflict.services.transaction import BrokerCore, Outcome, Transaction
from deconflict.services.wire import NOTHING_ENCODED, Encoded, conflict_json, notice_json

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

    def file(self, cmd: FileNotice) -> Outcome:
        """File a notice (or, with ``cmd.site``, a protected site) for the caller."""
        caller, key = cmd.caller, cmd.idempotency_key
        p = self.prepare(cmd)

        def under_lock(tx: Transaction) -> Outcome:
            if key is not None:
                prior = tx.repo.idempotent_response(caller.name, key)
                if prior is not None:
                    if prior[0] != cmd.digest:
                        raise ValidationError.at(
                            "Idempotency-Key", f"{key!r} was already used for a different request; use a new key"
                        )
                    return Outcome(prior[2], created=prior[1] == IDEMPOTENT_CREATED, replayed=True)
            body_out = self.file_prepared(tx, caller, p)
            if key is not None:
                assert cmd.digest is not None, "a FileNotice with an Idempotency-Key carries its digest"
                tx.repo.save_idempotent_response(caller.name, key, cmd.digest, IDEMPOTENT_CREATED, body_out, tx.now)
            return Outcome(created=True, body=body_out)

        # with the filings waiting for the lock at the same moment: one transaction, one COMMIT
        return self.core.queued(caller, under_lock)

    def prepare(self, cmd: FileNotice) -> Prepared:
        """Before the filing lock: a filing's detection (:mod:`~deconflict.services.filing_prepare`)."""
        check_filer(cmd.caller, cmd.site)  # as the parser did: a command made by hand is held to it too
        return prepare(self.core, cmd.caller, cmd.notice, list(cmd.said), cmd.notice)

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

    def update(self, cmd: UpdateNotice) -> Outcome:
        """Replace the volumes of the caller's notice with a new version (``cmd.replaces_version``
        required: the parser of ``PUT`` asks for it)."""
        if cmd.replaces_version is None:
            raise ValidationError.at("replaces_version", "required: the version this update replaces")
        p = self.prepare_update(cmd)
        replaces = cmd.replaces_version

        def under_lock(tx: Transaction) -> Outcome:
            return Outcome(body=self.update_prepared(tx, cmd.caller, cmd.notice_id, replaces, p, cmd.site))

        return self.core.queued(cmd.caller, under_lock)

    def prepare_update(self, cmd: UpdateNotice) -> Prepared:
        """Before the filing lock: detection of an update's new version (:meth:`update_prepared`
        takes the version it replaces)."""
        check_filer(cmd.caller, cmd.site)
        notice = cmd.notice
        return prepare(self.core, cmd.caller, notice, list(cmd.said), replace(notice, id=cmd.notice_id))

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
