"""How much each party may ask of the broker (``[rate_limits]`` in the configuration).

Parties do not trust each other, and one broker serves them all: without limits one party looping
on the audit export or the compliance report slows every other party's filings. Each party gets a
token bucket per class of request (``heavy``: the export and the report; ``read``; ``write``) and
at most ``heavy_concurrent`` heavy requests at a time. A rate of 0 turns that bucket off.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from deconflict.domain.errors import ValidationError


@dataclass(frozen=True)
class RateLimits:
    heavy_per_minute: float = 6.0
    """Exports and reports a party may start per minute, on average (0: no rate limit)."""
    heavy_burst: int = 3
    """How many of them it may start at once after a quiet spell (the bucket's size)."""
    heavy_concurrent: int = 1
    """Exports and reports one party may have in progress at the same time."""
    read_per_s: float = 200.0
    """Other reads (GET) per second, per party (0: no limit)."""
    read_burst: int = 400
    write_per_s: float = 200.0
    """Writes (POST, PUT, PATCH, DELETE) per second, per party (0: no limit)."""
    write_burst: int = 400
    refused_per_minute: float = 60.0
    """Requests one client address may have refused for their token (missing, unknown, revoked,
    or an identity-provider token that does not verify) per minute, on average (0: no limit).
    Beyond it, that address's requests are refused with 429 before any token is looked up, so a
    flood of made-up tokens costs the broker no store look-ups."""
    refused_burst: int = 60
    admin_exempt: bool = True
    """The admin operates the broker (and can stop it): the limits keep parties from starving each
    other, not the operator from its own broker."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


RANGES = {
    "heavy_per_minute": (0.0, 6000.0),
    "heavy_burst": (1, 1000),
    "heavy_concurrent": (1, 100),
    "read_per_s": (0.0, 100_000.0),
    "read_burst": (1, 1_000_000),
    "write_per_s": (0.0, 100_000.0),
    "write_burst": (1, 1_000_000),
    "refused_per_minute": (0.0, 600_000.0),
    "refused_burst": (1, 1_000_000),
}


def parse_rate_limits(sec: Mapping[str, Any], env: Mapping[str, str] | None = None) -> RateLimits:
    """``[rate_limits]`` read into :class:`RateLimits`; ``DECONFLICT_RATE_<KEY>`` (upper case)
    overrides a key. A bad value is refused naming ``rate_limits.<key>`` and why.

    >>> parse_rate_limits({"heavy_concurrent": 2}, {"DECONFLICT_RATE_READ_PER_S": "5"}).read_per_s
    5.0
    >>> parse_rate_limits({"heavy_burst": 0})
    Traceback (most recent call last):
    ...
    deconflict.domain.errors.ValidationError: rate_limits.heavy_burst: must be between 1 and 1000, got 0
    """
    values: dict[str, Any] = dict(sec)
    for f in fields(RateLimits):
        var = f"DECONFLICT_RATE_{f.name.upper()}"
        if env is not None and var in env:
            values[f.name] = _env_value(var, env[var], f.name == "admin_exempt")
    known = {f.name for f in fields(RateLimits)}
    out: dict[str, Any] = {}
    for key, value in values.items():
        path = f"rate_limits.{key}"
        if key not in known:
            raise ValidationError.at(path, f"unknown setting; known: {', '.join(sorted(known))}")
        if key == "admin_exempt":
            if not isinstance(value, bool):
                raise ValidationError.at(path, f"must be true or false, got {value!r}")
            out[key] = value
            continue
        low, high = RANGES[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValidationError.at(path, f"must be a number, got {value!r}")
        if isinstance(low, int) and value != int(value):
            raise ValidationError.at(path, f"must be a whole number, got {value!r}")
        if not low <= value <= high:
            raise ValidationError.at(path, f"must be between {low} and {high}, got {value!r}")
        out[key] = int(value) if isinstance(low, int) else float(value)
    return RateLimits(**out)


def _env_value(var: str, text: str, boolean: bool) -> Any:
    if boolean:
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ValidationError.at(var, f"must be true or false, got {text!r}")
    try:
        return float(text)
    except ValueError:
        raise ValidationError.at(var, f"must be a number, got {text!r}") from None
