"""Probing: filings that learn about other parties' notices, and how the theater bounds them.

Whether a filing conflicts with a notice its filer cannot see whole is a yes-or-no answer about
that notice, finer than any grid the slice is shown on: moving a notice's edge by less than a grid
step and watching the conflict come and go is a binary search. The theater bounds it with a
budget (``[disclosure.probes]``, shown at ``/v1/policy``): a party may make ``budget`` filings or
changes per ``period_s`` that come *near* such notices (within the separation minima widened by
the grid, conflict or not: a filing farther away gets the same answer whatever the notice is
within the grid, so it learns nothing finer); beyond it the broker refuses the change (429) and
writes nothing. A filing whose
volume is very large or long, or that meets ``flag_notices`` or more notices of one other party
at once, is flagged (``notice.probe_flagged``) to the admin, the filer and the parties it met.

>>> rules = ProbeRules(flag_extent_m=100_000, flag_window_s=86_400, flag_notices=3)
>>> rules.reasons(widest_m=450_000, longest_s=3_600, most_of_one_party=1)
['extent']
>>> rules.reasons(widest_m=1_000, longest_s=7 * 86_400, most_of_one_party=3)
['window', 'notices']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deconflict.domain.errors import ValidationError
from deconflict.domain.event_types import EventType
from deconflict.domain.grid import check_positive

CHARGED_EVENT = EventType.PROBE_CHARGED
"""Payload ``{"party", "notice", "version", "used", "budget", "period_s"}``: one filing or change
of ``party`` that came near notices it does not see whole (seen by the admin only: the party
reads its budget at ``/v1/policy`` and is told when it is spent)."""
FLAG_EVENT = EventType.NOTICE_PROBE_FLAGGED
"""Payload ``{"party", "notice", "version", "reasons", "touched": {party: [conflict ids]}}``."""


@dataclass(frozen=True)
class ProbeRules:
    """The theater's probing limits (``[disclosure.probes]``)."""

    budget: int = 50
    """Filings or changes per period that may meet notices the filer does not see whole."""
    period_s: float = 86_400.0
    flag_extent_m: float = 200_000.0
    """A volume whose outline reaches farther than this from its centre is flagged."""
    flag_window_s: float = 2 * 86_400.0
    """A volume longer than this is flagged."""
    flag_notices: int = 5
    """Meeting this many notices of one other party at once is flagged."""

    def __post_init__(self) -> None:
        for name in ("budget", "flag_notices"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError.at(f"disclosure.probes.{name}", f"must be a whole number ≥ 1, got {value!r}")
        for name in ("period_s", "flag_extent_m", "flag_window_s"):
            check_positive(f"disclosure.probes.{name}", getattr(self, name))

    def to_json(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "period_s": self.period_s,
            "flag_extent_m": self.flag_extent_m,
            "flag_window_s": self.flag_window_s,
            "flag_notices": self.flag_notices,
        }

    def reasons(self, widest_m: float, longest_s: float, most_of_one_party: int) -> list[str]:
        """Why a filing is flagged (empty: it is not): ``extent``, ``window``, ``notices``."""
        out = []
        if widest_m > self.flag_extent_m:
            out.append("extent")
        if longest_s > self.flag_window_s:
            out.append("window")
        if most_of_one_party >= self.flag_notices:
            out.append("notices")
        return out
