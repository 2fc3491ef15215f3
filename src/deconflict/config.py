"""Settings, read once in the composition root from a TOML file and the environment.

File (``--config FILE`` or ``DECONFLICT_CONFIG``)::

    [separation]            # what makes two volumes conflict
    horizontal_m = 9260     # 5 NM
    vertical_m = 304.8      # 1000 ft
    time_s = 300
    [notice]
    min_notice_s = 10800    # 3 h: shorter lead time marks a notice late
    [limits]
    max_vertices = 1000     # in one volume's outline
    max_vertices_per_notice = 2000
    max_volumes_per_notice = 100
    max_window_s = 604800   # 7 days
    max_schedule_span_s = 31622400  # 366 days: a scheduled volume's envelope (at most that)
    max_extent_m = 1000000
    max_conflicts_per_filing = 50
    [hints]
    max_time_shift_s = 86400
    max_altitude_shift_m = 3000
    [disclosure]            # need-to-know: see docs/disclosure.md
    default = "conflicts-only"
    pairs = [{parties = ["coalition-a", "ru-vks"], level = "existence"}]
    grants = [{viewer = "un-observer", subject = "ru-vks", level = "conflicts-only"}]
    [disclosure.grid]       # the grid a slice is shown on below full (docs/disclosure.md)
    s2_level = 10           # S2 cells of about 9 km
    altitude_m = 304.8
    time_s = 900
    distance_m = 10000
    existence_time_s = 86400
    [disclosure.probes]     # what filings may learn beyond the grid
    budget = 50             # filings or changes per period that meet notices not seen whole
    period_s = 86400
    flag_extent_m = 200000
    flag_window_s = 172800
    flag_notices = 5
    [audit]
    key_file = "deconflict-broker.key"   # Ed25519 signing key, created on first start
    [server]
    host = "127.0.0.1"
    port = 8000
    max_body_bytes = 4000000
    events_poll_s = 0.5     # fallback: how often a live stream looks for missed events (NOTIFY wakes it)
    webhook_interval_s = 1  # fallback: how often deliveries look for due webhooks
    group_commit = true     # filings waiting for the filing lock are committed together
    [tactical]              # live tracks and alerts (docs/tactical.md)
    rpz_m = 9260            # 5 NM
    hpz_m = 304.8           # 1000 ft
    lookahead_s = 300
    track_timeout_s = 60
    conformance_grace_s = 30
    cycle_s = 1
    cycle_min_gap_s = 0.2   # a kept report starts a cycle this long after the last one started, not a whole cycle_s
    run_cycles = true       # on the leading replica only (docs/deploy.md); false: never here
    all_pairs = false
    overhead_m = 0          # an aircraft this close to a protected site (in its band) is an incursion
    max_aircraft_per_party = 5000   # live aircraft one party may have in the picture
    states_per_s = 10000    # track states one party may report per second ...
    states_burst = 10000    # ... and at once
    [hotline]               # acknowledgement deadlines and escalation (docs/hotline.md)
    escalation_interval_s = 300
    auto_threads = true     # a thread with a deadline for every new conflict and tactical alert
    conflict_ack_s = 3600   # a conflict that starts later than every tier below
    conflict_ack_tiers = [{starts_within_s = 21600, ack_within_s = 900}]
    alert_ack_s = {low = 60, medium = 60, high = 60, loss = 60}
    [rate_limits]           # per party: docs/configuration.md
    heavy_per_minute = 6    # exports and reports
    heavy_burst = 3
    heavy_concurrent = 1
    read_per_s = 200
    read_burst = 400
    write_per_s = 200
    write_burst = 400
    admin_exempt = true
    [auth.jwt]              # optional: accept an identity provider's tokens too
    issuer = "https://idp.example"
    audience = "deconflict"
    jwks_file = "idp-jwks.json"         # or jwks_url = "https://idp.example/jwks.json"
    party_claim = "party"               # the claim that names the party

Environment variables override single values: ``DECONFLICT_DB`` (store URL),
``DECONFLICT_HORIZONTAL_M``, ``DECONFLICT_VERTICAL_M``, ``DECONFLICT_TIME_S``,
``DECONFLICT_MIN_NOTICE_S``, ``DECONFLICT_KEY_FILE``, ``DECONFLICT_RATE_<KEY>`` (a
``[rate_limits]`` key in upper case).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from deconflict.adapters.sql.engine import DEFAULT_DB_FILE
from deconflict.config_model import (
    DEFAULT_KEY_FILE,
    Config,
    JwtSettings,
    ServerSettings,
    limits_json,
    theater_policy,
)
from deconflict.config_sections import (
    apply_numbers,
    disclosure_policy,
    hotline_settings,
    jwt_settings,
    section,
    tactical_settings,
)
from deconflict.domain.errors import ValidationError
from deconflict.domain.policy import Limits, NoticePolicy, SeparationPolicy
from deconflict.domain.resolution import HintBounds
from deconflict.domain.schedule import MAX_SCHEDULE_SPAN_S
from deconflict.domain.shapes import ShapeLimits
from deconflict.services.filing import Settings
from deconflict.services.rate_settings import parse_rate_limits

__all__ = [
    "DEFAULT_DB_FILE",
    "DEFAULT_KEY_FILE",
    "KNOWN_SECTIONS",
    "SERVER_RANGES",
    "Config",
    "JwtSettings",
    "ServerSettings",
    "db_url",
    "default_key_file",
    "limits_json",
    "load_config",
    "theater_policy",
]

KNOWN_SECTIONS = frozenset(
    {
        "separation",
        "notice",
        "limits",
        "hints",
        "disclosure",
        "audit",
        "server",
        "auth",
        "tactical",
        "hotline",
        "rate_limits",
    }
)
"""A misspelt section would otherwise be ignored and its settings silently left at the defaults."""
SERVER_RANGES = (
    ("port", 1, 65535),
    ("max_body_bytes", 1024, 1_000_000_000),
    ("events_poll_s", 0.01, 60.0),
    ("webhook_interval_s", 0.01, 3600.0),
)


def db_url(value: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """A store URL from ``--db``, ``DECONFLICT_DB`` or the default SQLite file; a bare path
    becomes a SQLite URL.

    >>> db_url("broker.sqlite", {})
    'sqlite:///broker.sqlite'
    """
    env = os.environ if env is None else env
    raw = value or env.get("DECONFLICT_DB") or DEFAULT_DB_FILE
    return raw if "://" in raw else f"sqlite:///{raw}"


def default_key_file(url: str) -> str:
    """The signing key lives beside a SQLite store (the key signs what that store records), and in
    the current directory for a server database.

    >>> default_key_file("sqlite:////var/lib/deconflict/broker.sqlite")
    '/var/lib/deconflict/deconflict-broker.key'
    >>> default_key_file("sqlite:///deconflict.sqlite"), default_key_file("postgresql+psycopg://db/x")
    ('deconflict-broker.key', 'deconflict-broker.key')
    """
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        parent = Path(url.removeprefix("sqlite:///").split("?", 1)[0]).parent
        return str(parent / DEFAULT_KEY_FILE)
    return DEFAULT_KEY_FILE


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
    sep = apply_numbers(SeparationPolicy(), section(doc, "separation"), "separation")
    notice = apply_numbers(NoticePolicy(), section(doc, "notice"), "notice")
    hints = apply_numbers(HintBounds(), section(doc, "hints"), "hints")
    lim_sec = dict(section(doc, "limits"))
    shape_keys = {f.name for f in fields(ShapeLimits)}
    shape = apply_numbers(ShapeLimits(), {k: v for k, v in lim_sec.items() if k in shape_keys}, "limits")
    limits = apply_numbers(Limits(), {k: v for k, v in lim_sec.items() if k not in shape_keys}, "limits")
    limits = replace(limits, shape=shape)
    if limits.max_schedule_span_s > MAX_SCHEDULE_SPAN_S:
        raise ValidationError.at(
            "limits.max_schedule_span_s",
            f"must be at most {MAX_SCHEDULE_SPAN_S:.0f} (366 days), got {limits.max_schedule_span_s:g}",
        )
    overrides = {
        "DECONFLICT_HORIZONTAL_M": "horizontal_m",
        "DECONFLICT_VERTICAL_M": "vertical_m",
        "DECONFLICT_TIME_S": "time_s",
    }
    for var, name in overrides.items():
        if var in env:
            sep = apply_numbers(sep, {name: _env_number(env, var)}, "separation")
    if "DECONFLICT_MIN_NOTICE_S" in env:
        notice = apply_numbers(notice, {"min_notice_s": _env_number(env, "DECONFLICT_MIN_NOTICE_S")}, "notice")
    unknown = sorted(set(doc) - KNOWN_SECTIONS)
    if unknown:
        raise ValidationError.at(unknown[0], f"unknown section; known: {', '.join(sorted(KNOWN_SECTIONS))}")
    auth_unknown = sorted(set(section(doc, "auth")) - {"jwt"})
    if auth_unknown:
        raise ValidationError.at(f"auth.{auth_unknown[0]}", "unknown section; known: auth.jwt")
    server_sec = section(doc, "server")
    switches = ("webhooks_to_private", "group_commit")
    server = apply_numbers(
        ServerSettings(), {k: v for k, v in server_sec.items() if k != "host" and k not in switches}, "server"
    )
    for switch in switches:
        on = server_sec.get(switch, getattr(server, switch))
        if not isinstance(on, bool):
            raise ValidationError.at(f"server.{switch}", f"must be true or false, got {on!r}")
        server = replace(server, **{switch: on})
    for key, low, high in SERVER_RANGES:
        value = getattr(server, key)
        if not low <= value <= high:
            raise ValidationError.at(f"server.{key}", f"must be between {low} and {high}, got {value!r}")
    host = section(doc, "server").get("host", server.host)
    if not isinstance(host, str) or not host:
        raise ValidationError.at("server.host", f"must be a host name or address, got {host!r}")
    server = replace(server, host=host)
    audit = section(doc, "audit")
    audit_unknown = sorted(set(audit) - {"key_file"})
    if audit_unknown:
        raise ValidationError.at(f"audit.{audit_unknown[0]}", "unknown setting; known: key_file")
    url = db_url(db, env)
    key_file = env.get("DECONFLICT_KEY_FILE") or audit.get("key_file", default_key_file(url))
    if not isinstance(key_file, str) or not key_file:
        raise ValidationError.at("audit.key_file", f"must be a file path, got {key_file!r}")
    return Config(
        db_url=url,
        settings=Settings(sep, notice, hints),
        limits=limits,
        disclosure=disclosure_policy(section(doc, "disclosure")),
        key_file=key_file,
        server=server,
        jwt=jwt_settings(section(section(doc, "auth"), "jwt"), "auth.jwt"),
        tactical=tactical_settings(section(doc, "tactical")),
        hotline=hotline_settings(section(doc, "hotline")),
        rate_limits=parse_rate_limits(section(doc, "rate_limits"), env),
    )


def _env_number(env: Mapping[str, str], var: str) -> float:
    try:
        return float(env[var])
    except ValueError:
        raise ValidationError.at(var, f"must be a number, got {env[var]!r}") from None
