"""An ACO measure's ``EFFLEVEL`` set and the header's ``PERIOD``, read into the altitude band and
time window of a notice (F3548 JSON, so the notice parser validates them as it validates any
filing; a measure's ``APERIOD`` is read by :mod:`deconflict.formats.aco_schedule`).

``EFFLEVEL/<qualifier>:<lower>-<upper>//``: the qualifier names the kind of each bound, two
letters each: ``FL`` a flight level (``FL200``), ``RA`` an altitude (``5000FTMSL``, ``1500MMSL``),
``BR`` the base reference ``SFC``. A volume holds one vertical reference, so ``FLFL`` and ``RARA``
are read as they are, and a band that mixes an altitude with a flight level (``RAFL``) is refused.
``SFC`` and ``UNL`` are read only by an explicit rule (:class:`LevelRules`), and heights above
ground (``AGL``) never: they need terrain data the broker does not have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from deconflict.domain.units import FLIGHT_LEVEL_M
from deconflict.formats.aco_text import AcoFieldError, AcoSet, read_time

QUALIFIERS = ("FLFL", "RARA", "RAFL", "BRRA", "BRFL")
"""The ``EFFLEVEL`` qualifiers read: lower kind then upper kind."""


@dataclass(frozen=True)
class LevelRules:
    """Explicit rules for bounds that are not altitudes: none applies unless the user gives it."""

    surface_m: float | None = None
    """``SFC`` taken as this height in metres, in the reference of the band's other bound (a flight
    level's pressure altitude or mean sea level). Choose it at or below the lowest ground under
    the measure, so the band only grows."""
    unlimited_fl: float | None = None
    """``UNL`` taken as this flight level."""


_FL = re.compile(r"FL(\d{1,3})")
_RA = re.compile(r"(\d+(?:\.\d+)?)(FT|M)(MSL|AGL)")


def read_band(s: AcoSet, rules: LevelRules) -> tuple[dict[str, Any], dict[str, Any]]:
    """``EFFLEVEL`` → (``altitude_lower``, ``altitude_upper``) as F3548 JSON."""
    if len(s.fields) != 1:
        raise AcoFieldError("1", f"EFFLEVEL takes one field <qualifier>:<lower>-<upper>, got {len(s.fields)}")
    name = s.field_name(0)
    qual, sep, rest = s.fields[0].partition(":")
    qual = qual.strip().upper()
    if not sep or qual not in QUALIFIERS:
        raise AcoFieldError(name, f"{qual!r} is not a level qualifier; use one of {', '.join(QUALIFIERS)}")
    low_text, dash, high_text = rest.strip().upper().partition("-")
    if not dash:
        raise AcoFieldError(name, f"{rest!r} is not a band <lower>-<upper> such as FL200-FL300")
    low = _bound(qual[:2], low_text, name, "lower")
    high = _bound(qual[2:], high_text, name, "upper")
    if high is None:  # UNL
        if rules.unlimited_fl is None:
            raise AcoFieldError(name, "UNL has no height: give --unlimited-fl N to read it as flight level N")
        high = {"value": rules.unlimited_fl, "reference": "STD", "units": "FL"}
    if low is None:  # SFC
        if rules.surface_m is None:
            raise AcoFieldError(
                name,
                "SFC is ground level, a height above ground the broker cannot place without terrain data; "
                "give --surface-m H to read it as H metres in the upper bound's reference",
            )
        if high["reference"] == "STD":
            low = {"value": rules.surface_m / FLIGHT_LEVEL_M, "reference": "STD", "units": "FL"}
        else:
            low = {"value": rules.surface_m, "reference": high["reference"], "units": "M"}
    if low["reference"] != high["reference"]:
        raise AcoFieldError(
            name,
            f"the band mixes an altitude above mean sea level with a flight level ({qual}); a volume has "
            "one vertical reference: write it as RARA or FLFL",
        )
    return low, high


def _bound(kind: str, text: str, name: str, which: str) -> dict[str, Any] | None:
    """One bound as F3548 JSON; ``None`` for ``SFC`` or ``UNL`` (resolved by a rule)."""
    text = text.strip()
    if text in ("UNL", "UNLTD") and which == "upper":
        return None
    if kind == "FL":
        m = _FL.fullmatch(text)
        if m is None:
            raise AcoFieldError(name, f"the {which} bound {text!r} is not a flight level such as FL200")
        return {"value": int(m[1]), "reference": "STD", "units": "FL"}
    if kind == "RA":
        m = _RA.fullmatch(text)
        if m is None:
            raise AcoFieldError(name, f"the {which} bound {text!r} is not an altitude such as 5000FTMSL")
        if m[3] == "AGL":
            raise AcoFieldError(
                name, f"the {which} bound {text!r} is above ground level: AGL needs terrain data; give MSL"
            )
        value = float(m[1])
        return {"value": int(value) if value.is_integer() else value, "reference": "AMSL", "units": m[2]}
    if text != "SFC":
        raise AcoFieldError(name, f"the {which} bound {text!r} is not SFC (a BR bound is the surface)")
    return None


def read_period(s: AcoSet) -> tuple[float, float]:
    """The header's ``PERIOD/<start>/<stop>//``."""
    if len(s.fields) != 2:
        raise AcoFieldError("1", f"PERIOD takes a start and a stop, got {len(s.fields)} field(s)")
    return _window(s, 0)


def _window(s: AcoSet, first: int) -> tuple[float, float]:
    start_text, stop_text = s.fields[first], s.fields[first + 1]
    for i, text in ((first, start_text), (first + 1, stop_text)):
        if text.upper() == "UFN":
            raise AcoFieldError(
                str(i + 1), "UFN (until further notice) is read in a measure's APERIOD, not in the header's PERIOD"
            )
    start = read_time(start_text, str(first + 1))
    stop = read_time(stop_text, str(first + 2))
    return start, stop
