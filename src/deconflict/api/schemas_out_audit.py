"""The response schemas of the audit log, its exports and the compliance reports, for the OpenAPI
document; see :mod:`deconflict.api.schemas_out`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from deconflict.api.schemas_out import Moment, Out, Receipt

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
