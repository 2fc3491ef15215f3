"""4D volumes and notices: the domain model every other part speaks."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from deconflict.domain.schedule import Schedule
from deconflict.domain.shapes import Shape
from deconflict.domain.units import EpochSeconds, Metres


class AltitudeReference(StrEnum):
    """Vertical datum of an altitude band.

    ``W84`` is height above the WGS84 ellipsoid, ``AMSL`` height above mean sea level (the geoid),
    ``STD`` pressure altitude on the standard setting (1013.25 hPa), which is what a flight level
    is. ``AGL`` is refused: it needs terrain data the broker does not guess.
    """

    W84 = "W84"
    AMSL = "AMSL"
    STD = "STD"


@dataclass(frozen=True)
class AltitudeBand:
    lower_m: Metres
    upper_m: Metres
    reference: AltitudeReference = AltitudeReference.W84


@dataclass(frozen=True)
class Volume4D:
    """A shape × altitude band × time window (closed intervals).

    With a ``schedule`` the volume is active only in its daily windows within ``[time_start,
    time_end]``, which is then the envelope of its occurrences (:mod:`deconflict.domain.schedule`).
    """

    shape: Shape
    altitude: AltitudeBand
    time_start: EpochSeconds
    time_end: EpochSeconds
    schedule: Schedule | None = None


PROTECTED_SITE_KIND = "protected-site"
"""In notice files, a notice of this kind is a protected site (filed by an authority)."""
DESCRIPTION = "description"
"""The key of :attr:`Notice.extra` that holds the notice's description (``"description"`` in its
JSON; an ACO measure's ``AMPN`` text)."""
MAX_DESCRIPTION = 2000
"""The most characters a description may hold."""
NAME = "name"
"""The key of :attr:`Notice.extra` that holds the notice's name (``"name"`` in its JSON; an ACO
measure's ``NAME``, an ED-269 zone's ``name``)."""
MAX_NAME = 100
"""The most characters a name may hold."""
ACM_TYPE = "aco_acm"
"""The key of :attr:`Notice.extra` that holds an ACO measure's ``ACM`` type (``"acm_type"`` in the
notice's JSON)."""
MAX_ACM_TYPE = 16
"""The most characters an ACM type may hold."""


class NoticeState(StrEnum):
    ACCEPTED = "accepted"
    """Filed and checked; not yet flying."""
    ACTIVE = "active"
    """The party says the activity is under way."""
    ENDED = "ended"
    CANCELLED = "cancelled"

    @property
    def is_live(self) -> bool:
        """Whether the notice still takes part in conflict checks."""
        return self in (NoticeState.ACCEPTED, NoticeState.ACTIVE)


@dataclass(frozen=True)
class Notice:
    """A party's declared air activity. Information, never permission."""

    party: str
    volumes: tuple[Volume4D, ...]
    id: str | None = None
    kind: str = "activity"
    version: int = 1
    state: NoticeState = NoticeState.ACCEPTED
    received_at: EpochSeconds | None = None
    """When the broker received this version (stamped by the broker, never by the party)."""
    protected: bool = False
    """True for a protected site: conflicts with every notice of every party."""
    extra: dict[str, str] = field(default_factory=dict, compare=False)
    """Text the broker keeps and never reads: :data:`DESCRIPTION`, :data:`NAME` and :data:`ACM_TYPE`
    (the notice's words, shown with it: :mod:`deconflict.domain.notice_text`), and what a format
    needs for the way back (the ACO set a corridor or circle came from)."""

    @property
    def description(self) -> str | None:
        return self.extra.get(DESCRIPTION)

    @property
    def name(self) -> str | None:
        return self.extra.get(NAME)

    @property
    def acm_type(self) -> str | None:
        return self.extra.get(ACM_TYPE)

    @property
    def time_start(self) -> EpochSeconds:
        return min(v.time_start for v in self.volumes)

    @property
    def time_end(self) -> EpochSeconds:
        return max(v.time_end for v in self.volumes)
