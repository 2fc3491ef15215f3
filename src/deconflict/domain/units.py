"""Units at the edges. Inside, everything is SI: metres, seconds, degrees WGS84, UTC."""

from __future__ import annotations

from typing import Annotated

Metres = Annotated[float, "m"]
Seconds = Annotated[float, "s"]
EpochSeconds = Annotated[float, "s since 1970-01-01T00:00:00Z"]

FOOT_M: Metres = 0.3048
"""International foot."""
NAUTICAL_MILE_M: Metres = 1852.0
"""International nautical mile."""
FLIGHT_LEVEL_M: Metres = 100 * FOOT_M
"""One flight level is 100 ft of pressure altitude in the ISA."""
EARTH_RADIUS_M: Metres = 6_371_000.0
"""The sphere of tactical detection, BlueSky's ``kwikqdrdist`` (not WGS84: see ``docs/tactical.md``
for its error), also used to derive velocities and move states forward a few seconds (over
seconds its error is far below the separation minima). ``domain/grid.py`` keeps the mean radius
for its cell sizes."""

LENGTH_UNITS: dict[str, float] = {"M": 1.0, "KM": 1000.0, "FT": FOOT_M, "NM": NAUTICAL_MILE_M}
"""Accepted length units (F3548 uses ``M``; the others are accepted and converted once)."""

ALTITUDE_UNITS: dict[str, float] = {"M": 1.0, "FT": FOOT_M, "FL": FLIGHT_LEVEL_M}
"""Accepted altitude units; ``FL`` takes a flight level number (``250`` = FL250)."""
