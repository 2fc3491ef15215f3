"""The theater's separation policy and limits. Every tunable is documented where it is defined."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from deconflict.domain.errors import ValidationError
from deconflict.domain.shapes import ShapeLimits
from deconflict.domain.units import FOOT_M, NAUTICAL_MILE_M
from deconflict.domain.volumes import AltitudeReference

DEFAULT_HORIZONTAL_M = 5 * NAUTICAL_MILE_M
"""5 NM, the usual en-route radar separation minimum."""
DEFAULT_VERTICAL_M = 1000 * FOOT_M
"""1000 ft, the usual vertical separation minimum."""
DEFAULT_TIME_S = 300.0
"""Five minutes between the end of one activity and the start of the other."""

GEOID_ALLOWANCE_M = 110.0
"""Added to the vertical minimum when one band is W84 and the other AMSL: the broker carries no
geoid model, and the geoid–ellipsoid separation stays within ±107 m worldwide (EGM2008)."""
PRESSURE_ALLOWANCE_M = 300.0
"""Added when a flight-level band (pressure altitude, ``STD``) meets a W84 or AMSL band: without
the local QNH the difference between pressure altitude and true altitude is unknown; 300 m covers
QNH from about 980 to 1046 hPa."""

RELATIVE_TOLERANCE = 0.005
"""Conflicts are declared up to 0.5 % beyond the horizontal minimum (plus 1 m), so that the local
projection's error can never hide a true conflict. This is the stated false-positive tolerance."""
ABSOLUTE_TOLERANCE_M = 1.0


@dataclass(frozen=True)
class SeparationPolicy:
    """Two volumes conflict when horizontal distance ≤ ``horizontal_m`` and the altitude-band gap
    ≤ ``vertical_m`` and the time-window gap ≤ ``time_s`` (touching counts, as in the DSS)."""

    horizontal_m: float = DEFAULT_HORIZONTAL_M
    vertical_m: float = DEFAULT_VERTICAL_M
    time_s: float = DEFAULT_TIME_S
    geoid_allowance_m: float = GEOID_ALLOWANCE_M
    pressure_allowance_m: float = PRESSURE_ALLOWANCE_M

    def __post_init__(self) -> None:
        for name in (
            "horizontal_m",
            "vertical_m",
            "time_s",
            "geoid_allowance_m",
            "pressure_allowance_m",
        ):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValidationError.at(name, f"must be a finite number ≥ 0, got {value!r}")

    def vertical_allowance_m(self, a: AltitudeReference, b: AltitudeReference) -> float:
        """Extra vertical distance to add when two bands use different references."""
        if a == b:
            return 0.0
        if AltitudeReference.STD in (a, b):
            other = b if a == AltitudeReference.STD else a
            return self.pressure_allowance_m + (self.geoid_allowance_m if other == AltitudeReference.W84 else 0.0)
        return self.geoid_allowance_m

    @property
    def reach_m(self) -> float:
        """How far the exact test may declare a conflict (horizontal minimum plus tolerance)."""
        return self.horizontal_m * (1 + RELATIVE_TOLERANCE) + ABSOLUTE_TOLERANCE_M

    @property
    def search_m(self) -> float:
        """A generous distance for index look-ups and pre-filters; never smaller than the reach."""
        return self.horizontal_m * 1.01 + 100.0

    @property
    def max_vertical_m(self) -> float:
        """Vertical minimum plus the largest reference allowance (pre-filter bound)."""
        return self.vertical_m + self.pressure_allowance_m + self.geoid_allowance_m


@dataclass(frozen=True)
class Limits:
    """Input limits that keep one bad notice from hurting everybody."""

    shape: ShapeLimits = field(default_factory=ShapeLimits)
    max_window_s: float = 7 * 86400.0
    """Longest time window of one volume."""
    max_schedule_span_s: float = 366 * 86400.0
    """Longest envelope of a volume with a recurring schedule (at most
    :data:`~deconflict.domain.schedule.MAX_SCHEDULE_SPAN_S`, a leap year)."""
    max_volumes_per_notice: int = 100
    max_vertices_per_notice: int = 2000
    """Most vertices in all the volumes of one notice together. Storing and logging a notice is
    JSON of every vertex, written under the filing lock (about 55 µs a vertex on a loaded 2-core
    machine: benchmarks/RESULTS.md), so this bounds how long one filing holds everyone else up."""
    max_conflicts_per_filing: int = 50
    """Most conflicts one filing or update may have: one with more is refused, nothing stored.
    Each conflict is a record, two log entries and an acknowledgement thread for another party,
    written under the filing lock (about 10 ms each on a loaded 2-core machine)."""
    min_altitude_m: float = -500.0
    """Lowest altitude accepted (the Dead Sea shore is at about -430 m)."""
    max_altitude_m: float = 100_000.0
    """Highest altitude accepted (the Kármán line)."""


@dataclass(frozen=True)
class NoticePolicy:
    min_notice_s: float = 3 * 3600.0
    """A notice whose first volume starts sooner than this after the broker received it is *late*.
    Late is recorded, never refused."""
