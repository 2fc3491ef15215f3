"""Notices and protected sites as each caller may see them: one by id, a filtered page, and the
live ones the tactical checks use."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from deconflict.domain.disclosure_policy import Level
from deconflict.domain.errors import NotFoundError
from deconflict.domain.parties import Party, Role
from deconflict.domain.volumes import Notice, NoticeState
from deconflict.services.ports import BrokerRepository, ListedNotice
from deconflict.services.transaction import MAX_LIST, BrokerCore, page
from deconflict.services.wire import notice_json, wire_text


@dataclass(frozen=True)
class NoticeFilter:
    party: str | None = None
    state: NoticeState | None = None
    time_start: float | None = None
    time_end: float | None = None
    area: Any = None
    """A :class:`~deconflict.domain.shapes.Shape`; notices with a volume within 0 m of it match."""
    protected: bool | None = None

    def in_sql(self) -> dict[str, Any]:
        """The filters the store's page queries apply (all but ``area``, which is measured here)."""
        return {
            "party": self.party,
            "state": self.state,
            "protected": self.protected,
            "time_start": self.time_start,
            "time_end": self.time_end,
        }


def visible_notice(core: BrokerCore, repo: BrokerRepository, caller: Party, notice_id: str, site: bool) -> Notice:
    """The notice if the caller may see it under this path; else the same 404 as a missing one."""
    # The same work whether the notice is missing or hidden (load the policy, read the owner),
    # so that not even the time taken tells a caller that a hidden notice exists.
    d = core.disclosure(repo)
    owner = repo.notice_owner(notice_id)
    visible = owner is not None and owner[1] == site and d.sees_notice(caller, owner[0], owner[1])
    n = repo.get(notice_id) if visible else None
    if n is None:
        what = "protected site" if site else "notice"
        raise NotFoundError(f"{what} {notice_id!r} does not exist or is not visible to you")
    return n


class NoticeViews:
    """Reading notices."""

    def __init__(self, core: BrokerCore) -> None:
        self.core = core

    def get_notice(self, caller: Party, notice_id: str, site: bool = False) -> dict[str, Any]:
        with self.core.read() as repo:
            n = visible_notice(self.core, repo, caller, notice_id, site)
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
        texts, next_cursor = self.list_notice_texts(caller, f, cursor, limit)
        return [json.loads(text) for text in texts], next_cursor

    def list_notice_texts(
        self, caller: Party, f: NoticeFilter, cursor: str | None = None, limit: int = MAX_LIST
    ) -> tuple[list[str], str | None]:
        """:meth:`list_notices` with each notice as its JSON text: without an ``area``, the text
        is made from the stored one (the notices are shown whole or not at all, and only the
        party and the protected flag decide which); with one, each notice is decoded to measure it."""
        from deconflict.domain.horizontal import separation

        with self.core.read() as repo:
            d = self.core.disclosure(repo)
            scope = self.core.scope(repo, d, caller, Level.FULL)
            if f.area is None:

                def texts(after: tuple[float, str] | None, n: int) -> list[tuple[tuple[float, str], ListedNotice]]:
                    return repo.page_notice_texts(scope, after=after, limit=n, **f.in_sql())

                def shown(row: tuple[tuple[float, str], ListedNotice]) -> str | None:
                    listed = row[1]
                    return listed.text if d.sees_notice(caller, listed.party, listed.protected) else None

                return page(texts, lambda row: row[0], shown, cursor, limit)

            def fetch(after: tuple[float, str] | None, n: int) -> list[tuple[tuple[float, str], Notice]]:
                return repo.page_notices(scope, after=after, limit=n, **f.in_sql())

            def view(row: tuple[tuple[float, str], Notice]) -> str | None:
                n = row[1]
                if not any(separation(v.shape, f.area).distance_m == 0 for v in n.volumes):
                    return None
                seen = d.notice_view(caller, notice_json(n))
                return None if seen is None else wire_text(seen)

            return page(fetch, lambda row: row[0], view, cursor, limit)

    def live_notices(self, time_start: float, time_end: float) -> list[Notice]:
        """Notices and sites that take part in checks (accepted or active) and reach into
        ``[time_start, time_end]``, read a page at a time in SQL (not the whole store)."""
        out: list[Notice] = []
        with self.core.read() as repo:
            for state in (NoticeState.ACCEPTED, NoticeState.ACTIVE):
                after: tuple[float, str] | None = None
                while True:
                    rows = repo.page_notices(None, state=state, time_start=time_start, time_end=time_end, after=after)
                    out.extend(n for _, n in rows)
                    if len(rows) < MAX_LIST:
                        break
                    after = rows[-1][0]
        return out
