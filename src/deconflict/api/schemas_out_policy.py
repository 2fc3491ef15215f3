"""The response schemas of who one is and the rules in force (``/v1/me``, ``/v1/policy``), for the
OpenAPI document; see :mod:`deconflict.api.schemas_out`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from deconflict.api.schemas_out import Moment, Out

# ---------------------------------------------------------------- who, what rules


class Me(Out):
    party: str
    role: Literal["party", "authority", "observer", "admin"]
    coalition: str | None


class SeparationMinima(Out):
    horizontal_m: float
    vertical_m: float
    time_s: float


class NoticePolicy(Out):
    min_notice_s: float


class TacticalPolicy(Out):
    rpz_m: float = Field(description="Horizontal protected radius, metres.")
    hpz_m: float = Field(description="Vertical protected half-height, metres.")
    lookahead_s: float
    conformance_grace_s: float
    overhead_m: float = Field(description="How far above a protected site counts as inside it, metres.")
    track_timeout_s: float
    max_aircraft_per_party: int = Field(description="Most live aircraft one party may have in the picture.")
    states_per_s: float = Field(description="Track states one party may report per second, on average.")
    states_burst: int = Field(description="Track states one party may report at once.")


class AckTier(Out):
    starts_within_s: float
    ack_within_s: float


class HotlinePolicy(Out):
    escalation_interval_s: float
    auto_threads: bool
    conflict_ack_tiers: list[AckTier]
    conflict_ack_s: float
    alert_ack_s: dict[str, float] = Field(description="Seconds, by severity.")


class SliceGridOut(Out):
    """The grid a slice is shown on below `full` (docs/disclosure.md)."""

    s2_level: int
    cell_size_m: float = Field(description="The nominal width of an S2 cell of that level.")
    altitude_m: float
    time_s: float
    distance_m: float
    existence_time_s: float


class ProbeRulesOut(Out):
    """The probe budget and flag thresholds (docs/disclosure.md)."""

    budget: int
    period_s: float
    flag_extent_m: float
    flag_window_s: float
    flag_notices: int


class DisclosureDefault(Out):
    default: Literal["none", "existence", "conflicts-only", "full"]
    grid: SliceGridOut
    probes: ProbeRulesOut


class RateLimitsPolicy(Out):
    heavy_per_minute: float = Field(description="Exports and reports a party may start per minute (0: no limit).")
    heavy_burst: int
    heavy_concurrent: int = Field(description="Exports and reports one party may have in progress at once.")
    read_per_s: float = Field(description="Other reads per second, per party (0: no limit).")
    read_burst: int
    write_per_s: float = Field(description="Writes per second, per party (0: no limit).")
    write_burst: int
    refused_per_minute: float = Field(
        description="Requests one client address may have refused for their token per minute (0: no limit); "
        "beyond, its requests get 429 before any token is looked up."
    )
    refused_burst: int
    admin_exempt: bool


class FilingLimits(Out):
    max_volumes_per_notice: int
    max_vertices: int = Field(description="Most vertices in one volume's outline.")
    max_vertices_per_notice: int = Field(description="Most vertices in all the volumes of one notice.")
    max_extent_m: float = Field(description="Largest outline: no point farther than half this from its centre.")
    max_window_s: float = Field(description="Longest time window of one volume.")
    max_schedule_span_s: float = Field(
        description="Longest envelope (time_start to time_end) of a volume with a recurring schedule."
    )
    min_altitude_m: float
    max_altitude_m: float
    max_conflicts_per_filing: int = Field(description="A filing or update with more conflicts is refused.")


class PolicyRecord(Out):
    seq: int
    hash: str
    time: Moment
    policy_sha256: str | None
    current: bool = Field(description="The recorded policy is the one in force.")


class Policy(Out):
    separation: SeparationMinima
    notice: NoticePolicy
    limits: FilingLimits
    tactical: TacticalPolicy
    hotline: HotlinePolicy
    disclosure: DisclosureDefault
    rate_limits: RateLimitsPolicy
    recorded: PolicyRecord | None = Field(description="The log entry that recorded this policy.")
