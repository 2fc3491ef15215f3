"""Settings, read once in the composition root from a TOML file and the environment.

File (``--config FILE`` or ``DECONFLICT_CONFIG``)::

    [separation]            # what makes two volumes conflict
    horizontal_m = 9260     # 5 NM
    vertical_m = 304.8      # 1000 ft
    time_s = 300
    [notice]
    min_notice_s = 10800    # 3 h: shorter lead time marks a notice late
    [limits]
    max_vertices = 1000
    max_window_s = 604800   # 7 days
    max_extent_m = 1000000
    [hints]
    max_time_shift_s = 86400
    max_altitude_shift_m = 3000

Environment variables override single values: ``DECONFLICT_DB`` (store URL),
``DECONFLICT_HORIZONTAL_M``, ``DECONFLICT_VERTICAL_M``, ``DECONFLICT_TIME_S``,
``DECONFLICT_MIN_NOTICE_S``.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from deconflict.domain.errors import ValidationError
from deconflict.domain.policy import Limits, NoticePolicy, SeparationPolicy
from deconflict.domain.resolution import HintBounds
from deconflict.domain.shapes import ShapeLimits
from deconflict.services.filing import Settings

DEFAULT_DB_FILE = "deconflict.sqlite"


@dataclass(frozen=True)
class Config:
    db_url: str = ""
    settings: Settings = field(default_factory=Settings)
    limits: Limits = field(default_factory=Limits)


def db_url(value: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """A store URL from ``--db``, ``DECONFLICT_DB`` or the default SQLite file; a bare path
    becomes a SQLite URL.

    >>> db_url("broker.sqlite", {})
    'sqlite:///broker.sqlite'
    """
    env = os.environ if env is None else env
    raw = value or env.get("DECONFLICT_DB") or DEFAULT_DB_FILE
    return raw if "://" in raw else f"sqlite:///{raw}"


def _section(doc: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    sec = doc.get(name, {})
    if not isinstance(sec, Mapping):
        raise ValidationError.at(name, "must be a table")
    return sec


def _apply(obj: Any, sec: Mapping[str, Any], prefix: str) -> Any:
    names = {f.name: f for f in fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in sec.items():
        if key not in names:
            raise ValidationError.at(f"{prefix}.{key}", f"unknown setting; known: {', '.join(sorted(names))}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise ValidationError.at(f"{prefix}.{key}", f"must be a finite number ≥ 0, got {value!r}")
        current = getattr(obj, key)
        changes[key] = int(value) if isinstance(current, int) and not isinstance(current, bool) else float(value)
    return replace(obj, **changes)


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None, db: str | None = None) -> Config:
    """Build the configuration; a bad file or value is refused with the key and the reason."""
    env = os.environ if env is None else env
    doc: Mapping[str, Any] = {}
    path = path or env.get("DECONFLICT_CONFIG")
    if path:
        try:
            doc = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ValidationError.at("config", f"{path}: no such file") from None
        except tomllib.TOMLDecodeError as e:
            raise ValidationError.at("config", f"{path}: not valid TOML ({e})") from None
    sep = _apply(SeparationPolicy(), _section(doc, "separation"), "separation")
    notice = _apply(NoticePolicy(), _section(doc, "notice"), "notice")
    hints = _apply(HintBounds(), _section(doc, "hints"), "hints")
    lim_sec = dict(_section(doc, "limits"))
    shape_keys = {f.name for f in fields(ShapeLimits)}
    shape = _apply(ShapeLimits(), {k: v for k, v in lim_sec.items() if k in shape_keys}, "limits")
    limits = _apply(Limits(), {k: v for k, v in lim_sec.items() if k not in shape_keys}, "limits")
    limits = replace(limits, shape=shape)
    overrides = {
        "DECONFLICT_HORIZONTAL_M": "horizontal_m",
        "DECONFLICT_VERTICAL_M": "vertical_m",
        "DECONFLICT_TIME_S": "time_s",
    }
    for var, name in overrides.items():
        if var in env:
            sep = _apply(sep, {name: _env_number(env, var)}, "separation")
    if "DECONFLICT_MIN_NOTICE_S" in env:
        notice = _apply(notice, {"min_notice_s": _env_number(env, "DECONFLICT_MIN_NOTICE_S")}, "notice")
    return Config(db_url=db_url(db, env), settings=Settings(sep, notice, hints), limits=limits)


def _env_number(env: Mapping[str, str], var: str) -> float:
    try:
        return float(env[var])
    except ValueError:
        raise ValidationError.at(var, f"must be a number, got {env[var]!r}") from None
