"""Altitudes as the airspace formats write them (``SFC``, ``GND``, ``UNL``, ``FL95``, ``2500ft MSL``)
and the explicit rules that turn a floor and a ceiling into one of our bands (see
:mod:`deconflict.formats.openair` for the rules; NOTAM ``F)``/``G)`` use the same)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from deconflict.domain.policy import PRESSURE_ALLOWANCE_M, Limits

FT_M = 0.3048
FL_M = 30.48
_FL = re.compile(r"FL\s*(\d+(?:\.\d+)?)")
_HEIGHT = re.compile(r"(-?\d+(?:\.\d+)?)\s*(FT|F|M)?\s*(AMSL|MSL|ALT|AGL|AGND|GND|SFC|ASFC)?")


@dataclass(frozen=True)
class Alt:
    """A floor or ceiling as written: the surface, unlimited, a flight level or a height AMSL."""

    kind: str  # "sfc", "unl", "fl" or "amsl"
    value: float = 0.0  # flight level number or metres AMSL


def parse_alt(text: str) -> Alt:
    """An ``AL``/``AH`` value: ``SFC``, ``GND``, ``UNL``, ``FL95``, ``2500ft MSL``, ``800 m AMSL``."""
    t = " ".join(text.strip().upper().split())
    if t in ("SFC", "GND"):
        return Alt("sfc")
    if t in ("UNL", "UNLIM", "UNLTD", "UNLIMITED"):
        return Alt("unl")
    if m := _FL.fullmatch(t):
        return Alt("fl", float(m[1]))
    m = _HEIGHT.fullmatch(t)
    if m is None:
        raise ValueError(f"{text.strip()!r} is not an altitude (SFC, GND, UNL, FL95, 2500ft MSL)")
    value, unit, ref = float(m[1]), m[2], m[3]
    if ref in ("AGL", "AGND", "GND", "SFC", "ASFC"):
        if value == 0:
            return Alt("sfc")
        raise ValueError(f"{text.strip()!r}: a height above ground needs terrain data the broker does not have")
    if unit is None:
        raise ValueError(f"{text.strip()!r}: no unit; write ft or m")
    if ref is None:
        raise ValueError(f"{text.strip()!r}: no reference; write MSL (AGL is refused)")
    return Alt("amsl", value * (FT_M if unit in ("FT", "F") else 1.0))


def band(
    lo: Alt, hi: Alt, limits: Limits, names: tuple[str, str] = ("AL", "AH")
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """F3548 ``altitude_lower``/``altitude_upper`` for a floor and a ceiling, and the rules applied
    (named by the fields ``names`` of the floor and ceiling; a refusal starts with one of them)."""
    fl, cl = names
    if hi.kind == "sfc":
        raise ValueError(f"{cl}: the surface as a ceiling needs terrain data the broker does not have")
    if lo.kind == "unl":
        raise ValueError(f"{fl}: UNL cannot be a floor")
    if lo.kind == "fl" and hi.kind in ("fl", "unl"):
        top = math.floor(limits.max_altitude_m / FL_M) if hi.kind == "unl" else hi.value
        notes = [f"{cl} UNL is FL{top}, the theater's highest altitude"] if hi.kind == "unl" else []
        return _std(lo.value), _std(top), notes
    said: list[str] = []
    lo_m, hi_m = lo.value, hi.value
    if lo.kind == "sfc":
        lo_m = limits.min_altitude_m
        said.append(f"{fl} SFC is {lo_m:g} m AMSL, the theater's lowest altitude")
    elif lo.kind == "fl":
        lo_m = lo.value * FL_M - PRESSURE_ALLOWANCE_M
        said.append(f"{fl} FL{lo.value:g} is {lo_m:g} m AMSL (standard pressure less {PRESSURE_ALLOWANCE_M:g} m)")
    if hi.kind == "unl":
        hi_m = limits.max_altitude_m
        said.append(f"{cl} UNL is {hi_m:g} m AMSL, the theater's highest altitude")
    elif hi.kind == "fl":
        hi_m = hi.value * FL_M + PRESSURE_ALLOWANCE_M
        said.append(f"{cl} FL{hi.value:g} is {hi_m:g} m AMSL (standard pressure plus {PRESSURE_ALLOWANCE_M:g} m)")
    return _amsl(lo_m), _amsl(hi_m), said


def _std(fl: float) -> dict[str, Any]:
    return {"value": fl, "reference": "STD", "units": "FL"}


def _amsl(m: float) -> dict[str, Any]:
    return {"value": m, "reference": "AMSL", "units": "M"}
