"""Reading the configuration file's sections into their settings (for :func:`deconflict.config.load_config`):
each bad key or value refused with its path (``hotline.conflict_ack_tiers[0].ack_within_s``) and
the reason."""

import math
from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from deconflict.config_model import (
    JwtSettings,
)
from deconflict.domain.alerts import Severity
from deconflict.domain.disclosure_policy import DisclosurePolicy, Level
from deconflict.domain.errors import ValidationError
from deconflict.domain.grid import SliceGrid
from deconflict.domain.hotline import ConflictDeadline, HotlineSettings
from deconflict.domain.parties import check_name
from deconflict.domain.probes import ProbeRules
from deconflict.services.tactical_settings import TacticalSettings


def section(doc: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    sec = doc.get(name, {})
    if not isinstance(sec, Mapping):
        raise ValidationError.at(name, "must be a table")
    return sec


def apply_numbers(obj: Any, sec: Mapping[str, Any], prefix: str) -> Any:
    names = {f.name: f for f in fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in sec.items():
        if key not in names:
            raise ValidationError.at(f"{prefix}.{key}", f"unknown setting; known: {', '.join(sorted(names))}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise ValidationError.at(f"{prefix}.{key}", f"must be a finite number ≥ 0, got {value!r}")
        current = getattr(obj, key)
        if isinstance(current, int) and not isinstance(current, bool):
            if value != int(value):
                raise ValidationError.at(f"{prefix}.{key}", f"must be a whole number, got {value!r}")
            changes[key] = int(value)
        else:
            changes[key] = float(value)
    return replace(obj, **changes)


def seconds(path: str, value: object, low: float = 1.0, high: float = 7 * 86400.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError.at(path, f"must be a number of seconds, got {value!r}")
    if not low <= value <= high:
        raise ValidationError.at(path, f"must be between {low:g} and {high:g} s, got {value!r}")
    return float(value)


def hotline_settings(sec: Mapping[str, Any]) -> HotlineSettings:
    known = ("escalation_interval_s", "auto_threads", "conflict_ack_s", "conflict_ack_tiers", "alert_ack_s", "tick_s")
    for key in sec:
        if key not in known:
            raise ValidationError.at(f"hotline.{key}", f"unknown setting; known: {', '.join(sorted(known))}")
    d = HotlineSettings()
    auto = sec.get("auto_threads", d.auto_threads)
    if not isinstance(auto, bool):
        raise ValidationError.at("hotline.auto_threads", f"must be true or false, got {auto!r}")
    tiers = d.conflict_tiers
    if "conflict_ack_tiers" in sec:
        raw = sec["conflict_ack_tiers"]
        if not isinstance(raw, list) or not all(isinstance(x, Mapping) for x in raw):
            raise ValidationError.at("hotline.conflict_ack_tiers", "must be a list of tables")
        out = []
        for i, tier in enumerate(raw):
            path = f"hotline.conflict_ack_tiers[{i}]"
            unknown = sorted(set(tier) - {"starts_within_s", "ack_within_s"})
            if unknown:
                raise ValidationError.at(
                    f"{path}.{unknown[0]}", "unknown setting; known: ack_within_s, starts_within_s"
                )
            for key in ("starts_within_s", "ack_within_s"):
                if key not in tier:
                    raise ValidationError.at(f"{path}.{key}", "required")
            out.append(
                ConflictDeadline(
                    seconds(f"{path}.starts_within_s", tier["starts_within_s"], 0.0, 30 * 86400.0),
                    seconds(f"{path}.ack_within_s", tier["ack_within_s"]),
                )
            )
        tiers = tuple(out)
    alert = dict(d.alert_ack_s)
    if "alert_ack_s" in sec:
        raw_alert = sec["alert_ack_s"]
        if not isinstance(raw_alert, Mapping):
            raise ValidationError.at("hotline.alert_ack_s", "must be a table of severity = seconds")
        for key, value in raw_alert.items():
            if key not in set(Severity):
                raise ValidationError.at(
                    f"hotline.alert_ack_s.{key}", f"unknown severity; known: {', '.join(Severity)}"
                )
            alert[key] = seconds(f"hotline.alert_ack_s.{key}", value)
    return HotlineSettings(
        escalation_interval_s=seconds(
            "hotline.escalation_interval_s", sec.get("escalation_interval_s", d.escalation_interval_s)
        ),
        auto_threads=auto,
        conflict_tiers=tiers,
        conflict_ack_s=seconds("hotline.conflict_ack_s", sec.get("conflict_ack_s", d.conflict_ack_s)),
        alert_ack_s=alert,
        tick_s=seconds("hotline.tick_s", sec.get("tick_s", d.tick_s), 0.01, 3600.0),
    )


def tactical_settings(sec: Mapping[str, Any]) -> TacticalSettings:
    flags = ("all_pairs", "run_cycles")
    out: TacticalSettings = apply_numbers(
        TacticalSettings(), {k: v for k, v in sec.items() if k not in flags}, "tactical"
    )
    for key in (
        "rpz_m",
        "hpz_m",
        "lookahead_s",
        "track_timeout_s",
        "cycle_s",
        "cycle_min_gap_s",
        "notices_refresh_s",
        "max_aircraft_per_party",
        "states_per_s",
        "states_burst",
    ):
        if getattr(out, key) <= 0:
            raise ValidationError.at(f"tactical.{key}", "must be greater than 0")
    if out.cycle_min_gap_s > out.cycle_s:
        if "cycle_min_gap_s" in sec:
            raise ValidationError.at(
                "tactical.cycle_min_gap_s", f"must be at most cycle_s ({out.cycle_s:g}), got {out.cycle_min_gap_s:g}"
            )
        out = replace(out, cycle_min_gap_s=out.cycle_s)  # a faster period, the gap left alone: it follows
    values = {}
    for flag in flags:
        value = sec.get(flag, getattr(out, flag))
        if not isinstance(value, bool):
            raise ValidationError.at(f"tactical.{flag}", f"must be true or false, got {value!r}")
        values[flag] = value
    return replace(out, **values)


def disclosure_policy(sec: Mapping[str, Any]) -> DisclosurePolicy:
    unknown = set(sec) - {"default", "pairs", "grants", "grid", "probes"}
    if unknown:
        raise ValidationError.at(
            f"disclosure.{sorted(unknown)[0]}", "unknown setting; known: default, pairs, grants, grid, probes"
        )
    default = Level.parse("disclosure.default", str(sec.get("default", Level.CONFLICTS_ONLY.text)))
    grid = apply_numbers(SliceGrid(), section(sec, "grid"), "disclosure.grid")
    probes = apply_numbers(ProbeRules(), section(sec, "probes"), "disclosure.probes")
    policy = DisclosurePolicy(default, grid=grid, probes=probes)
    for i, pair in enumerate(entries(sec, "pairs")):
        path = f"disclosure.pairs[{i}]"
        parties = pair.get("parties")
        if not isinstance(parties, list) or len(parties) != 2 or not all(isinstance(x, str) for x in parties):
            raise ValidationError.at(f"{path}.parties", "must be a list of two party names")
        a, b = (check_name(f"{path}.parties", x) for x in parties)
        policy = policy.with_pair(a, b, Level.parse(f"{path}.level", str(pair.get("level", ""))))
    for i, grant in enumerate(entries(sec, "grants")):
        path = f"disclosure.grants[{i}]"
        viewer = check_name(f"{path}.viewer", str(grant.get("viewer", "")))
        subject = check_name(f"{path}.subject", str(grant.get("subject", "")))
        policy = policy.with_grant(viewer, subject, Level.parse(f"{path}.level", str(grant.get("level", ""))))
    return policy


def entries(sec: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = sec.get(key, [])
    if not isinstance(value, list) or not all(isinstance(x, Mapping) for x in value):
        raise ValidationError.at(f"disclosure.{key}", "must be a list of tables")
    return value


def jwt_settings(sec: Mapping[str, Any], path: str) -> JwtSettings | None:
    if not sec:
        return None
    known = {f.name for f in fields(JwtSettings)}
    for key, value in sec.items():
        if key not in known:
            raise ValidationError.at(f"{path}.{key}", f"unknown setting; known: {', '.join(sorted(known))}")
        if key == "algorithms":
            if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
                raise ValidationError.at(f"{path}.algorithms", "must be a list of algorithm names")
        elif not isinstance(value, str) or not value:
            raise ValidationError.at(f"{path}.{key}", f"must be a non-empty string, got {value!r}")
    for key in ("issuer", "audience"):
        if key not in sec:
            raise ValidationError.at(f"{path}.{key}", "required when [auth.jwt] is set")
    if ("jwks_file" in sec) == ("jwks_url" in sec):
        raise ValidationError.at(f"{path}.jwks_file", "set exactly one of jwks_file and jwks_url")
    args = dict(sec)
    if "algorithms" in args:
        args["algorithms"] = tuple(args["algorithms"])
    return JwtSettings(**args)
