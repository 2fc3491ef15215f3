"""Notices whose time has passed end on the broker's clock (a leader's job: api/replicas.py), and
the operator's filings from the broker's host (``deconflict file``, ``import``, ``demo``)."""

from __future__ import annotations

import logging
import threading

from deconflict.domain.audit import Receipt
from deconflict.domain.errors import ValidationError
from deconflict.domain.event_types import EventType
from deconflict.domain.hotline import BROKER
from deconflict.domain.volumes import Notice, NoticeState
from deconflict.services.commands import in_party_namespace
from deconflict.services.filing import FilingResult
from deconflict.services.notices import Notices
from deconflict.services.transaction import ADMIN_ACTOR

log = logging.getLogger(__name__)


class Expiry:
    """Ends past notices, each in its own transaction, as the broker."""

    def __init__(self, notices: Notices) -> None:
        self.filings = notices
        self._unending: set[str] = set()
        """Past notices that could not be ended (each logged once)."""

    def end_past_notices(self, limit: int = 100) -> int:
        """Move every live notice whose time has passed to ``ended`` on the broker's clock, as the
        broker (``notice.ended``, receipted): its open conflicts are resolved and their escalations
        stop. A notice ends once its last volume's end plus the separation time minimum has passed,
        so a conflict inside that buffer stays open while it can still matter. Each notice is ended
        in its own short transaction: one that cannot be ended (it is logged, once) holds up neither
        the others nor a filing for long. Returns how many were ended."""
        grace = self.filings.settings.separation.time_s
        with self.filings.store.begin(write=False) as repo:  # the common case, without the lock
            ids = repo.notices_ended_by(self.filings.clock() - grace, limit)
        ended = 0
        for nid in ids:
            try:
                with self.filings.write() as tx:
                    current = tx.repo.get(nid)
                    if current is None or not current.state.is_live or current.time_end > tx.now - grace:
                        continue  # changed since it was read
                    result = self.filings.notices.set_state_in(
                        tx.repo, nid, current.party, NoticeState.ENDED, now=tx.now
                    )
                    self.filings.log_change(tx, BROKER, EventType.NOTICE_ENDED, result)
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


class OperatorFiling:
    """Filings from the broker's host, for the party each notice names: logged and receipted like
    any filing, with the admin as the actor."""

    def __init__(self, notices: Notices) -> None:
        self.filings = notices

    def file_as_operator(self, notice: Notice) -> tuple[FilingResult, Receipt]:
        """File a notice for the party it names, from the broker's host (``deconflict file`` and
        ``deconflict demo``): logged and receipted like any filing, with the admin as the actor.
        The result carries hints from every neighbour: the operator sees everything."""
        with self.filings.write() as tx:
            if notice.id is not None and (old := tx.repo.get(notice.id)) is not None and old.party == notice.party:
                raise ValidationError.at(  # a store from before ids were kept as party:id
                    "id", f"notice {notice.id!r} of {notice.party} already exists; update it with its version instead"
                )
            result = self.filings.operator.file_in(tx.repo, in_party_namespace(notice), now=tx.now)
            return result, self.filings.log_change(tx, ADMIN_ACTOR, EventType.NOTICE_FILED, result)

    def file_all_as_operator(self, notices: list[Notice]) -> list[tuple[FilingResult, Receipt]]:
        """File several notices as :meth:`file_as_operator` does, in one transaction: all are filed,
        or, when one is refused, none (``deconflict import``: nothing of a file is half-filed). A
        refusal names the notice as ``[i].<field>``."""
        out: list[tuple[FilingResult, Receipt]] = []
        with self.filings.write() as tx:
            for i, notice in enumerate(notices):
                try:
                    if (
                        notice.id is not None
                        and (old := tx.repo.get(notice.id)) is not None
                        and old.party == notice.party
                    ):
                        raise ValidationError.at("id", f"notice {notice.id!r} of {notice.party} already exists")
                    result = self.filings.operator.file_in(tx.repo, in_party_namespace(notice), now=tx.now)
                except ValidationError as e:
                    raise e.prefixed(f"[{i}]") from None
                out.append((result, self.filings.log_change(tx, ADMIN_ACTOR, EventType.NOTICE_FILED, result)))
        return out
