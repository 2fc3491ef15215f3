"""Conflicts as each caller may see them, and their acknowledgements ("received and understood")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deconflict.domain.disclosure import Disclosure
from deconflict.domain.disclosure_policy import Level
from deconflict.domain.errors import Forbidden, NotFoundError, ValidationError
from deconflict.domain.event_types import EventType
from deconflict.domain.hotline import Reference
from deconflict.domain.parties import Party
from deconflict.domain.resolution import ResolutionHints, resolution_hints
from deconflict.domain.times import format_time
from deconflict.domain.volumes import Notice
from deconflict.services.ports import BrokerRepository, ConflictRecord, ConflictState
from deconflict.services.threads import BrokerThreads
from deconflict.services.transaction import MAX_LIST, BrokerCore, Outcome, page
from deconflict.services.wire import conflict_json


class Conflicts:
    """Reading and acknowledging conflicts."""

    def __init__(self, core: BrokerCore, threads: BrokerThreads) -> None:
        self.core = core
        self.threads = threads

    def list_conflicts(
        self, caller: Party, state: ConflictState | None = None, cursor: str | None = None, limit: int = MAX_LIST
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the conflicts the caller may see, oldest detected first, and the cursor of
        the next page (``None`` at the end)."""
        with self.core.read() as repo:
            d = self.core.disclosure(repo)
            # a party sees its own conflicts; an observer those of the parties it is granted
            scope = {caller.name} if caller.role.files_notices else self.core.scope(repo, d, caller, Level.EXISTENCE)

            def view(c: ConflictRecord) -> dict[str, Any] | None:
                v = d.conflict_view(caller, conflict_json(c))
                return None if v is None else self._with_acks(repo, d, caller, c, v)

            return page(
                lambda after, n: repo.page_conflicts(scope, state, after, n),
                lambda c: (c.detected_at, c.id),
                view,
                cursor,
                limit,
            )

    def get_conflict(self, caller: Party, conflict_id: str) -> dict[str, Any]:
        with self.core.read() as repo:
            d = self.core.disclosure(repo)
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

    def acknowledge(self, caller: Party, conflict_id: str) -> Outcome:
        """ "Received and understood" — never "approved"."""
        with self.core.write(caller) as tx:
            d = self.core.disclosure(tx.repo)
            c, view = self._visible_conflict(tx.repo, d, caller, conflict_id)
            if caller.name not in (c.party_a, c.party_b):
                raise Forbidden("only a party to the conflict acknowledges it")
            if caller.name in tx.repo.acks_of(c.id):
                return Outcome(body=self._with_acks(tx.repo, d, caller, c, view))
            ev = tx.log(
                caller.name,
                EventType.CONFLICT_ACKNOWLEDGED,
                {"conflict": conflict_json(c), "party": caller.name, "ack": "received-and-understood"},
            )
            tx.repo.add_ack(c.id, caller.name, tx.now, ev.seq)
            self.threads.ack_threads(tx, Reference("conflict", c.id), caller.name)
            return Outcome(created=True, body=self._with_acks(tx.repo, d, caller, c, view))

    def resolution_of(self, caller: Party, conflict_id: str) -> Resolution:
        """The caller's side of a conflict it may see, and the shifts of it that alone clear the
        conflict (for an ACMREQ draft). Only a side asks; a protected site does not move; and the
        shifts tell where the other notice ends, so they are given only when the caller sees the
        other side whole (a coalition partner, a full rule, a site), as a filing's hints are."""
        with self.core.read() as repo:
            d = self.core.disclosure(repo)
            c, view = self._visible_conflict(repo, d, caller, conflict_id)
            if caller.name not in (c.party_a, c.party_b):
                raise Forbidden("only a party to the conflict drafts its resolution")
            mine, theirs = (c.notice_a, c.notice_b) if caller.name == c.party_a else (c.notice_b, c.notice_a)
            i, j = (c.volume_a, c.volume_b) if caller.name == c.party_a else (c.volume_b, c.volume_a)
            notice, other = repo.get(mine), repo.get(theirs)
        if notice is None or other is None:
            raise NotFoundError(f"conflict {conflict_id!r}: a notice of it is no longer stored")
        if notice.protected:
            raise ValidationError.at("conflict", SITE_DOES_NOT_MOVE)
        if view.get("disclosure", Level.FULL.text) != Level.FULL.text:
            raise Forbidden(SHIFTS_WITHHELD)
        s = self.core.settings
        return Resolution(c.id, notice, resolution_hints(notice, [(i, other.volumes[j])], s.separation, s.hints))


SITE_DOES_NOT_MOVE = "your side of this conflict is a protected site, which does not move"
SHIFTS_WITHHELD = (
    "a shift that clears this conflict would show where the other party's notice ends, which the disclosure "
    "policy does not show you"
)


@dataclass(frozen=True)
class Resolution:
    """A side of a conflict and the shifts of it that alone clear the conflict."""

    conflict_id: str
    notice: Notice
    hints: ResolutionHints
