"""A theater's disclosure policy: the levels a viewer may see a subject party's activity at
(:class:`Level`), the default between parties and the directed per-pair rules
(:class:`DisclosurePolicy`). :class:`~deconflict.domain.disclosure.Disclosure` applies it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import IntEnum
from types import MappingProxyType

from deconflict.domain.errors import ValidationError
from deconflict.domain.grid import SliceGrid
from deconflict.domain.probes import ProbeRules


class Level(IntEnum):
    """How much a viewer sees of a subject party's activity; a higher level shows more.

    >>> Level.parse("default", "conflicts-only")
    <Level.CONFLICTS_ONLY: 2>
    >>> Level.FULL.text
    'full'
    """

    NONE = 0
    """Nothing (observers without a grant). An involved party is still told that a conflict exists."""
    EXISTENCE = 1
    """Only that a conflict exists, with its time window in whole grid steps (days) and a coarse
    (whole-degree) area."""
    CONFLICTS_ONLY = 2
    """The other side's party, notice id and the overlapping slice, on the published grid, of
    conflicts involving the viewer."""
    FULL = 3
    """The subject's notices whole."""

    @property
    def text(self) -> str:
        """The word used in configuration and on the wire: ``none``, ``existence``, ``conflicts-only``, ``full``."""
        return self.name.lower().replace("_", "-")

    @classmethod
    def parse(cls, field: str, text: str) -> Level:
        """The level named ``text``, else a :class:`ValidationError` on ``field`` listing the valid words."""
        for level in cls:
            if level.text == text:
                return level
        words = ", ".join(level.text for level in cls)
        raise ValidationError.at(field, f"{text!r} is not a disclosure level: use one of {words}")


@dataclass(frozen=True)
class DisclosurePolicy:
    """A theater's disclosure policy: a default between parties and directed per-pair rules.

    ``rules`` maps ``(viewer, subject)`` party names to the level the viewer gets on the subject's
    activity. A rule wins over the coalition and observer defaults; only "it is your own" and
    "you are the admin" win over a rule. The mapping is copied and frozen on construction.
    ``grid`` is the published grid a slice is shown on below ``full``; ``probes`` the budget and
    flag thresholds that bound what filings learn beyond it (:mod:`deconflict.domain.probes`).

    >>> p = DisclosurePolicy().with_grant("un-observer", "us-af", Level.FULL)
    >>> p.rules[("un-observer", "us-af")].text, ("us-af", "un-observer") in p.rules
    ('full', False)
    """

    default: Level = Level.CONFLICTS_ONLY
    """The level between parties (roles ``party``/``authority``) that no rule or coalition covers."""
    rules: Mapping[tuple[str, str], Level] = field(default_factory=dict)
    grid: SliceGrid = field(default_factory=SliceGrid)
    probes: ProbeRules = field(default_factory=ProbeRules)

    def __post_init__(self) -> None:
        # Coerce and freeze: a policy is shared by every request, so nobody may change it in place,
        # and a plain int must not slip through where comparisons expect a Level.
        object.__setattr__(self, "default", Level(self.default))
        frozen = {(str(viewer), str(subject)): Level(level) for (viewer, subject), level in self.rules.items()}
        object.__setattr__(self, "rules", MappingProxyType(frozen))

    def __hash__(self) -> int:
        # The generated hash would hash the mapping proxy, which is unhashable.
        return hash((self.default, frozenset(self.rules.items()), self.grid, self.probes))

    def with_grant(self, viewer: str, subject: str, level: Level) -> DisclosurePolicy:
        """This policy with the one-way rule ``viewer`` sees ``subject`` at ``level``."""
        return replace(self, rules={**self.rules, (viewer, subject): level})

    def with_pair(self, a: str, b: str, level: Level) -> DisclosurePolicy:
        """This policy with ``a`` and ``b`` seeing each other at ``level`` (both directions)."""
        return replace(self, rules={**self.rules, (a, b): level, (b, a): level})
