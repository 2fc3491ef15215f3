"""The wire schemas of the responses, for the OpenAPI document.

Routes name them with ``responses={200: {"model": ...}}`` (or ``response_model`` where they return
a ``JSONResponse``, which FastAPI does not re-validate): they document what is sent and never
filter or check it. What a caller sees is cut down by disclosure (``domain/disclosure.py``), so
many keys are present only for some callers; such keys are not ``required`` here, and keys that
are always present but may be ``null`` say so. The request schemas are in
:mod:`deconflict.api.schemas`; a test validates real responses against these. Here the errors,
notices and conflicts, the hotline, tactical and webhooks; who one is and the rules in force in
:mod:`deconflict.api.schemas_out_policy`; the audit log and reports in
:mod:`deconflict.api.schemas_out_audit`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from deconflict.api.schemas import MessageRef
from deconflict.api.schemas_base import no_null_defaults
from deconflict.api.schemas_volumes import AltitudeRef, Volume4D


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


class WebhookSet(Out):
    party: str
    url: str
    from_event: int = Field(description="Deliveries start with this event.")
