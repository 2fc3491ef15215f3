"""The probe budget and the probe flag, applied in the transaction of a filing or an update.

See :mod:`deconflict.domain.probes` for the rules and docs/disclosure.md for the bound they give.
The count is read from the event log (``probe.charged``), so it holds across restarts and
replicas: the filing lock serializes the filings that read and extend it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol

from deconflict.domain.audit import Event
from deconflict.domain.disclosure import Disclosure
from deconflict.domain.disclosure_policy import Level
from deconflict.domain.errors import DeconflictError
from deconflict.domain.event_types import EventType
from deconflict.domain.grid import SliceGrid
from deconflict.domain.parties import Party
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.probes import CHARGED_EVENT, ProbeRules
from deconflict.domain.times import format_time
from deconflict.services.filing import FilingResult
from deconflict.services.filing_flow import near_notices
from deconflict.services.ports import BrokerRepository

WATCHED = frozenset({EventType.NOTICE_FILED, EventType.NOTICE_UPDATED})
"""Only a new shape or time can learn anything new: state changes are not charged or flagged."""


class ProbeBudgetSpent(DeconflictError):
    """The caller has used its probe budget for the period; nothing of the change is written."""

    field = "notice"

    def __init__(self, party: str, rules: ProbeRules, retry_at: float, now: float) -> None:
        self.retry_after_s = max(1, int(retry_at - now + 0.999))
        self.reason = (
            f"{party!r} has made {rules.budget} filings or changes in {rules.period_s:g} s that meet other "
            f"parties' notices (the theater's probe budget, see /v1/policy); the next is possible from "
            f"{format_time(retry_at)}"
        )
        super().__init__(f"{self.field}: {self.reason}")


class _Tx(Protocol):
    repo: BrokerRepository
    now: float

    def log(self, actor: str, type_: str, payload: dict[str, Any]) -> Event: ...


def widened(sep: SeparationPolicy, grid: SliceGrid) -> SeparationPolicy:
    """The minima within which a filing is *near* another notice: widened by the grid (twice the
    cell size, one altitude step, one time step)."""
    return replace(
        sep,
        horizontal_m=sep.horizontal_m + 2 * grid.cell_size_m,
        vertical_m=sep.vertical_m + grid.altitude_m,
        time_s=sep.time_s + grid.time_s,
    )


def watch(
    tx: _Tx,
    caller: Party,
    type_: str,
    result: FilingResult,
    sep: SeparationPolicy,
    d: Disclosure,
    near: Mapping[str, str] | None = None,
) -> None:
    """Charge ``caller``'s budget for a change that comes near notices it does not see whole
    (refusing it with :class:`ProbeBudgetSpent` when the budget is spent), and flag a large or
    sweeping one.

    *Near* is within the separation minima :func:`widened` by the grid: whether a filing farther
    away conflicts is the same for every notice that agrees with the hidden one to the grid's
    precision, so only near filings can learn anything finer, and each of them is charged whether
    or not it conflicts. ``near``: the notices near the change (id → party), found before the
    filing lock and brought up to date under it (:func:`~deconflict.services.filing_flow.settle_near`);
    without it they are found here, under the lock."""
    if type_ not in WATCHED:
        return
    n = result.notice
    rules = d.policy.probes
    touched: dict[str, list[str]] = {}
    notices: dict[str, set[str]] = {}
    for c in [*result.conflicts, *result.resolved]:
        mine_is_a = c.notice_a == n.id
        party, notice = (c.party_b, c.notice_b) if mine_is_a else (c.party_a, c.notice_a)
        if c.protected_side == ("b" if mine_is_a else "a") or d.level(caller, party) is Level.FULL:
            continue  # a protected site is public, a notice seen whole teaches nothing
        touched.setdefault(party, []).append(c.id)
        notices.setdefault(party, set()).add(notice)
    if touched or _near_hidden(tx.repo, caller, result, sep, d, near):
        _charge(tx, caller, n.id, n.version, rules)
    reasons = rules.reasons(
        widest_m=max(v.shape.bound_m for v in n.volumes),
        longest_s=max(v.time_end - v.time_start for v in n.volumes),
        most_of_one_party=max((len(s) for s in notices.values()), default=0),
    )
    if reasons:
        payload = {"party": caller.name, "notice": n.id, "version": n.version, "reasons": reasons, "touched": touched}
        tx.log(caller.name, EventType.NOTICE_PROBE_FLAGGED, payload)


def _near_hidden(
    repo: BrokerRepository,
    caller: Party,
    result: FilingResult,
    sep: SeparationPolicy,
    d: Disclosure,
    near: Mapping[str, str] | None,
) -> bool:
    if near is None:
        near = near_notices(repo, result.notice, widened(sep, d.policy.grid))
    # The levels as they are now, under the lock: a grant changed since detection counts.
    return any(d.level(caller, party) is not Level.FULL for party in near.values())


def _charge(tx: _Tx, caller: Party, notice: str | None, version: int, rules: ProbeRules) -> None:
    since = tx.now - rules.period_s
    # The caller's newest charges of the period, at most the budget (each is logged by the party it
    # charges): the count, and when the budget is spent, the charge whose end frees the next filing.
    prior = tx.repo.event_times(CHARGED_EVENT, caller.name, since, tx.now + 1, rules.budget)
    if len(prior) >= rules.budget:
        raise ProbeBudgetSpent(caller.name, rules, prior[rules.budget - 1] + rules.period_s, tx.now)
    tx.log(
        caller.name,
        EventType.PROBE_CHARGED,
        {
            "party": caller.name,
            "notice": notice,
            "version": version,
            "used": len(prior) + 1,
            "budget": rules.budget,
            "period_s": rules.period_s,
        },
    )
