"""The wire schemas of the responses, for the OpenAPI document.

Routes name them with ``responses={200: {"model": ...}}`` (or ``response_model`` where they return
a ``JSONResponse``, which FastAPI does not re-validate): they document what is sent and never
filter or check it. What a caller sees is cut down by disclosure (``domain/disclosure.py``), so
many keys are present only for some callers; such keys are not ``required`` here, and keys that
are always present but may be ``null`` say so. The request schemas are in
:mod:`deconflict.api.schemas`; a test validates real responses against these.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from deconflict.api.schemas import AltitudeRef, MessageRef, Volume4D, no_null_defaults


class Out(BaseModel):
    """A response object. Keys that only some callers get are optional (``X | SkipJsonSchema[None]``)."""

    model_config = ConfigDict(json_schema_extra=no_null_defaults)


Moment = str
"""RFC 3339 in UTC with a ``Z``."""


class FieldReason(Out):
    field: str = Field(description="The field's path as written, e.g. `volumes[0].time_end`.")
    reason: str


class Error(Out):
    """Every refusal: 401, 403, 404, 409, 413, 422."""

    error: str = Field(
        description="`unauthorized`, `forbidden`, `not-found`, `stale-version`, `too-large`, `validation`, …"
    )
    message: str = Field(description="What went wrong, for a person.")
    detail: list[FieldReason] | SkipJsonSchema[None] = Field(
        default=None, description="With `validation`: each bad field (its path as written) and why."
    )


class Status(Out):
    status: str = Field(
        description="`ok`, `ready`, or (503) `unavailable`; on `/leaderz`, `leader`, or (503) `follower`."
    )
    reason: str | SkipJsonSchema[None] = Field(default=None, description="503 only: the kind of store failure.")


# ---------------------------------------------------------------- notices


class Receipt(Out):
    """The broker's signed word that it received this version of the notice, and where it logged it."""

    notice_id: str
    version: int
    party: str
    content_hash: str = Field(description="SHA-256 (hex) of the canonical JSON of the stored notice.")
    received_at: float = Field(description="Epoch seconds (UTC).")
    log_seq: int = Field(description="The log entry that records the filing.")
    log_hash: str
    key_id: str = Field(description="The signing key (see /v1/audit/key).")
    signature: str = Field(description="Ed25519 over the canonical JSON of the other fields, base64.")


NoticeState = Literal["accepted", "active", "ended", "cancelled"]


class StoredNotice(Out):
    """A notice as stored: its F3548-21 form (metres, or flight levels) and what the broker knows of it."""

    id: str = Field(description="`<party>:<id>`.")
    party: str
    kind: str
    name: str | SkipJsonSchema[None] = Field(default=None, description="What the filer calls it, when it said.")
    acm_type: str | SkipJsonSchema[None] = Field(
        default=None, description="Its ACO airspace control measure's type, when it gave one."
    )
    description: str | SkipJsonSchema[None] = Field(default=None, description="The filer's words, when it gave any.")
    volumes: list[Volume4D]
    version: int = Field(description="1 when filed, one more at each change.")
    state: NoticeState
    protected_site: bool
    received_at: Moment | None = Field(description="When the broker received this version.")


class NoticeWithReceipt(StoredNotice):
    """A notice as stored; its owner and the admin also get the signed receipt of this version."""

    receipt: Receipt | None = Field(
        default=None, description="Only for the owner and the admin (null when there is none)."
    )


class ConflictSide(Out):
    """One side of a conflict, shown at `conflicts-only` and above."""

    party: str
    notice: str
    version: int
    volume: int = Field(description="Index of the conflicting volume in the notice's `volumes`.")
    protected_site: bool


class Hidden(Out):
    """A side the caller may not see."""

    hidden: Literal[True]


class Altitudes(Out):
    lower_m: float = Field(description="Metres.")
    upper_m: float = Field(description="Metres.")


class TimeWindow(Out):
    start: Moment
    end: Moment


class Geometry(Out):
    """A GeoJSON geometry (RFC 7946), positions `[longitude, latitude]` in degrees."""

    type: Literal["Point", "Polygon", "MultiPolygon"]
    coordinates: list[Any]


class Slice(Out):
    """Where the two volumes, each grown by half the minimum, overlap, and the gaps between them."""

    min_distance_m: float = Field(description="Horizontal distance between the volumes, metres.")
    vertical_gap_m: float = Field(description="Metres.")
    time_gap_s: float = Field(description="Seconds.")
    altitude: Altitudes
    time_window: TimeWindow
    overlap: Geometry = Field(description="The overlap in plan (a point where the volumes only touch).")
    grid: bool | SkipJsonSchema[None] = Field(
        default=None,
        description="At `conflicts-only`: true, the slice is quantized outward to the grid of `/v1/policy` "
        "(the overlap as S2 cells, altitudes, times and gaps in whole steps); absent when exact.",
    )


Disclosed = Literal["existence", "conflicts-only", "full"]


class Conflict(Out):
    """A conflict as the caller may see it (the admin: whole, without `disclosure`). At `conflicts-only` and
    above: the sides and the `slice`; at `existence`: hidden sides, the `time_window` and a coarse `area`."""

    id: str
    state: Literal["open", "resolved"]
    detected_at: Moment
    updated_at: Moment | None
    resolved_at: Moment | None
    sides: list[ConflictSide | Hidden] = Field(min_length=2, max_length=2)
    slice: Slice | SkipJsonSchema[None] = Field(default=None, description="At `conflicts-only` and above.")
    time_window: TimeWindow | SkipJsonSchema[None] = Field(default=None, description="At `existence` only.")
    area: Geometry | None = Field(
        default=None, description="At `existence` only: the overlap's box, rounded outward to whole degrees."
    )
    disclosure: Disclosed | SkipJsonSchema[None] = Field(
        default=None, description="How much the caller sees (the lowest side); absent for the admin."
    )


class Acknowledged(Out):
    party: str | None = Field(description="Null where the caller may not see that side.")
    at: Moment


class ConflictWithAcks(Conflict):
    """A conflict as the caller may see it, with its acknowledgements ("received and understood")."""

    acknowledgements: list[Acknowledged]


class Hints(Out):
    """The smallest shift in each direction that clears every conflict listed (null: none within bounds)."""

    earlier_s: float | None = Field(description="Seconds earlier.")
    later_s: float | None = Field(description="Seconds later.")
    up_m: float | None = Field(description="Metres up.")
    down_m: float | None = Field(description="Metres down.")
    note: str


class DefaultApplied(Out):
    """A value the broker filled in because the body left it out (units never are: they are required)."""

    field: str = Field(description="The path as in the body, e.g. `volumes[0].time_start.format` or `kind`.")
    value: str = Field(
        description="What was used: the caller's name, `activity`, `STD`, `RFC3339`, or "
        "`assigned by the broker` for an id."
    )


class Filing(Out):
    """What a filing, a change or a state change answers."""

    notice: StoredNotice
    lead_time_s: float = Field(description="Seconds from receipt to the notice's start (negative: it started).")
    late: bool = Field(description="Under the theater's minimum notice: recorded, never refused.")
    min_notice_s: float = Field(description="The theater's minimum notice, seconds.")
    conflicts: list[Conflict] = Field(description="Its open conflicts as the caller may see them.")
    resolved: list[Conflict] = Field(description="Conflicts this change resolved.")
    hints: Hints | None = Field(description="Null without conflicts, or when `hints_withheld`.")
    hints_withheld: str | None = Field(description="Why there are no hints (a counterpart is not visible whole).")
    receipt: Receipt
    defaults: list[DefaultApplied] | SkipJsonSchema[None] = Field(
        default=None, description="Filings and updates (not state changes): every default the broker applied."
    )


# ---------------------------------------------------------------- the hotline


class RecipientState(Out):
    party: str | None = Field(description="Null where disclosure does not name that party to you (still delivered).")
    state: Literal["pending", "received", "understood"]
    deadline: Moment | None
    received_at: Moment | None
    understood_at: Moment | None
    escalations: int = Field(description="Escalation rounds so far.")
    standing: Literal["open", "on-time", "late", "overdue", "no-deadline"]


class MessageOut(Out):
    """A hotline message as the caller may see it."""

    model_config = ConfigDict(json_schema_extra=no_null_defaults, populate_by_name=True)
    id: str
    thread_id: str = Field(description="The id of the thread's first message.")
    in_reply_to: str | None
    from_: str | None = Field(
        alias="from",
        description="The sending party, `broker` for the broker's own threads, or null where disclosure does not "
        "name the sender to you (the broker relayed it).",
    )
    to: list[RecipientState]
    subject: str
    text: str
    priority: Literal["routine", "priority", "immediate", "flash"]
    ref: MessageRef | None
    auto: bool = Field(description="A thread the broker opened itself for a conflict or an alert.")
    sent_at: Moment
    relayed: bool = Field(
        description="True when this view leaves out a party's name (the sender's or a recipient's): the broker "
        "relayed the message between you and a party it does not name to you."
    )


# ---------------------------------------------------------------- tactical


class RejectedState(Out):
    index: int = Field(description="Its index in `states`.")
    field: str
    reason: str


class TrackIngest(Out):
    accepted: int
    rejected: list[RejectedState]


class LiveTrack(Out):
    """One of your aircraft as the broker holds its last report."""

    party: str
    aircraft: str
    callsign: str | None
    time: Moment = Field(description="The report's time.")
    time_s_ago: float = Field(description="Seconds since the report, by the broker's clock.")
    lat: float = Field(description="Degrees.")
    lon: float = Field(description="Degrees.")
    alt_m: float = Field(description="Metres, in `alt_ref`.")
    alt_ref: AltitudeRef
    gs_mps: float | None = Field(description="Ground speed, m/s (null: unknown yet).")
    trk_deg: float | None = Field(description="Track, degrees from true north.")
    vs_mps: float | None = Field(description="Vertical speed, m/s.")


class AircraftState(Out):
    lat: float = Field(description="Degrees, moved to the cycle's time.")
    lon: float = Field(description="Degrees.")
    alt_m: float = Field(description="Metres.")
    alt_ref: AltitudeRef
    gs_mps: float = Field(description="Ground speed, m/s.")
    trk_deg: float = Field(description="Degrees from true north.")
    vs_mps: float = Field(description="m/s.")
    velocity_known: bool = Field(description="False when the velocity was neither reported nor derived.")


class HiddenAircraft(AircraftState):
    """An aircraft whose party the caller may not see (`existence`): where it is and where it goes."""

    hidden: Literal[True]


class AlertAircraft(AircraftState):
    party: str
    aircraft: str
    callsign: str | None


class AlertVolume(Out):
    party: str
    notice: str
    volume: int = Field(description="Index in the notice's `volumes`.")
    protected_site: bool


class SeparationGeometry(Out):
    los: bool = Field(description="Separation already lost.")
    tcpa_s: float | None = Field(description="Seconds to the closest point of approach.")
    dcpa_m: float | None = Field(description="Distance at the closest point of approach, metres.")
    tin_s: float | None = Field(description="Seconds to loss of separation.")
    tout_s: float | None = Field(description="Seconds to its end.")
    dist_m: float | None = Field(description="Horizontal distance now, metres.")
    dalt_m: float | None = Field(description="Vertical distance now, metres.")


class IncursionGeometry(Out):
    inside: bool
    entry_s: float = Field(description="Seconds to entry (0: inside).")


class NonconformanceGeometry(Out):
    outside_s: float = Field(description="Seconds outside every volume its party declared for now.")


class Alert(Out):
    """A tactical alert as the caller may see it (the admin: whole, with `parties`)."""

    id: str
    kind: Literal["separation", "incursion", "nonconformance"]
    severity: Literal["low", "medium", "high", "loss"]
    state: Literal["open", "cleared"]
    detected_at: Moment
    updated_at: Moment
    cleared_at: Moment | None
    sides: list[AlertAircraft | HiddenAircraft | Hidden]
    volume: AlertVolume | Hidden | SkipJsonSchema[None] = Field(default=None, description="Incursions only.")
    geometry: SeparationGeometry | IncursionGeometry | NonconformanceGeometry | SkipJsonSchema[None] = Field(
        default=None, description="Absent only for an observer that does not see every side."
    )
    disclosure: Disclosed | SkipJsonSchema[None] = Field(
        default=None, description="Absent for the admin and for nonconformance."
    )
    parties: list[str] | SkipJsonSchema[None] = Field(default=None, description="Admin only.")
    last_found_at: Moment | None = Field(default=None, description="Admin only, on a cleared alert.")


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


# ---------------------------------------------------------------- audit


class AuditKey(Out):
    alg: Literal["Ed25519"]
    public_key: str = Field(description="Base64 of the raw 32-byte key.")
    key_id: str
    public_key_pem: str


class ExportKey(Out):
    alg: Literal["Ed25519"]
    public_key: str
    key_id: str


class Checkpoint(Out):
    """The signed head of the log."""

    seq: int
    hash: str
    time: float = Field(description="Epoch seconds.")
    key_id: str
    signature: str


class LogEvent(Out):
    seq: int
    time: float = Field(description="Epoch seconds.")
    actor: str
    type: str
    payload: dict[str, Any]
    payload_digest: str
    prev_hash: str
    hash: str


class EventStub(Out):
    """An event the reader may not see: only what keeps the chain checkable."""

    seq: int
    entry_digest: str
    prev_hash: str
    hash: str
    stub: Literal[True]


class ExportStart(Out):
    seq: int
    hash: str = Field(description="The hash of event `seq`: the first event's `prev_hash`.")


class AuditExport(Out):
    format: Literal["deconflict-audit/1"]
    exported_at: float = Field(description="Epoch seconds.")
    key: ExportKey
    head: Checkpoint
    after: ExportStart | SkipJsonSchema[None] = Field(
        None, description="Only in an incremental export (`after=N`): the event its first event follows."
    )
    events: list[LogEvent | EventStub]
    receipts: list[Receipt]


# ---------------------------------------------------------------- reports


class AckFigures(Out):
    on_time: int
    late: int
    missing: int
    pending: int
    median_time_to_ack_s: float | None


class PartyFigures(Out):
    party: str
    notices_filed: int
    lead_time_median_s: float | None
    lead_time_p10_s: float | None
    late_notices: int
    conflicts: int
    acknowledgements: AckFigures
    nonconformance_s: float
    nonconformance_minutes: float
    incursion_s: float
    incursion_minutes: float
    lead_times_s: list[float]
    ack_latencies_s: list[float]


class ReportFigures(Out):
    since: Moment
    until: Moment
    min_notice_s: float
    lead_time_percentile: float
    parties: list[PartyFigures]


class ReportLog(Out):
    seq: int = Field(description="The log entry that records this report.")
    hash: str
    as_of_seq: int = Field(description="The last log entry its facts were read from.")


class ComplianceReport(Out):
    report: ReportFigures
    report_sha256: str = Field(description="SHA-256 (hex) of the canonical JSON of `report`.")
    log: ReportLog


class WebhookSet(Out):
    party: str
    url: str
    from_event: int = Field(description="Deliveries start with this event.")
