"""The broker's settings as :func:`deconflict.config.load_config` builds them, and the theater
policy they amount to (``GET /v1/policy``).

The TOML file they are read from is described in :mod:`deconflict.config`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deconflict.domain.disclosure_policy import DisclosurePolicy
from deconflict.domain.hotline import HotlineSettings
from deconflict.domain.policy import Limits
from deconflict.services.filing import Settings
from deconflict.services.rate_settings import RateLimits
from deconflict.services.tactical_settings import TacticalSettings

DEFAULT_KEY_FILE = "deconflict-broker.key"


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 4_000_000
    """Larger request bodies are refused with 413 before they are read whole."""
    events_poll_s: float = 0.5
    """A live stream is woken at once by changes made in its own process; this is how often it
    also looks for events committed by other replicas sharing the database."""
    webhook_interval_s: float = 1.0
    webhooks_to_private: bool = False
    """Allow webhook URLs on plain http:// or on loopback, private or link-local addresses. Off by
    default: a party must not make the broker post into the broker's own network."""
    group_commit: bool = True
    """Filings that wait for the filing lock are written in one transaction, each in a savepoint,
    and committed once (:mod:`deconflict.services.group_commit`); off: one commit per filing."""


@dataclass(frozen=True)
class JwtSettings:
    """Accept bearer JWTs from an identity provider; the ``party_claim`` names a registered party."""

    issuer: str
    audience: str
    jwks_file: str | None = None
    jwks_url: str | None = None
    party_claim: str = "party"
    algorithms: tuple[str, ...] = ("RS256", "ES256", "EdDSA")


@dataclass(frozen=True)
class Config:
    db_url: str = ""
    settings: Settings = field(default_factory=Settings)
    limits: Limits = field(default_factory=Limits)
    disclosure: DisclosurePolicy = field(default_factory=DisclosurePolicy)
    key_file: str = DEFAULT_KEY_FILE
    server: ServerSettings = field(default_factory=ServerSettings)
    jwt: JwtSettings | None = None
    tactical: TacticalSettings = field(default_factory=TacticalSettings)
    hotline: HotlineSettings = field(default_factory=HotlineSettings)
    rate_limits: RateLimits = field(default_factory=RateLimits)


def theater_policy(config: Config) -> dict[str, Any]:
    """The definitions every party agreed to in advance: what makes two volumes or two aircraft
    too close, what counts as late notice, how long an acknowledgement may take. Shown at
    ``GET /v1/policy``; the broker logs it when it changes (``policy.recorded``)."""
    sep, t = config.settings.separation, config.tactical
    return {
        "separation": {"horizontal_m": sep.horizontal_m, "vertical_m": sep.vertical_m, "time_s": sep.time_s},
        "notice": {"min_notice_s": config.settings.notice.min_notice_s},
        "limits": limits_json(config.limits),
        "tactical": {
            "rpz_m": t.rpz_m,
            "hpz_m": t.hpz_m,
            "lookahead_s": t.lookahead_s,
            "conformance_grace_s": t.conformance_grace_s,
            "overhead_m": t.overhead_m,
            "track_timeout_s": t.track_timeout_s,
            "max_aircraft_per_party": t.max_aircraft_per_party,
            "states_per_s": t.states_per_s,
            "states_burst": t.states_burst,
        },
        "hotline": config.hotline.to_json(),
        "disclosure": {
            "default": config.disclosure.default.text,
            "grid": config.disclosure.grid.to_json(),
            "probes": config.disclosure.probes.to_json(),
        },
        "rate_limits": config.rate_limits.to_json(),
    }


def limits_json(limits: Limits) -> dict[str, Any]:
    """The limits on one filing, as ``GET /v1/policy`` states them."""
    return {
        "max_volumes_per_notice": limits.max_volumes_per_notice,
        "max_vertices": limits.shape.max_vertices,
        "max_vertices_per_notice": limits.max_vertices_per_notice,
        "max_extent_m": limits.shape.max_extent_m,
        "max_window_s": limits.max_window_s,
        "max_schedule_span_s": limits.max_schedule_span_s,
        "min_altitude_m": limits.min_altitude_m,
        "max_altitude_m": limits.max_altitude_m,
        "max_conflicts_per_filing": limits.max_conflicts_per_filing,
    }
