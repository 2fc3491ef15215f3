"""The compliance report: per party over a period, its hash recorded in the event log."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from deconflict.api.deps import BrokerDep, Caller
from deconflict.api.limits import Heavy
from deconflict.api.schemas_out_audit import ComplianceReport
from deconflict.report_html import render_html
from deconflict.services.reports import compliance

router = APIRouter(prefix="/reports", tags=["reports"])

REPORT_EXAMPLE = {
    "report": {
        "since": "2015-09-30T00:00:00Z",
        "until": "2015-10-01T00:00:00Z",
        "min_notice_s": 3600.0,
        "lead_time_percentile": 10.0,
        "parties": [
            {
                "party": "ru-vks",
                "notices_filed": 3,
                "lead_time_median_s": 1800.0,
                "lead_time_p10_s": 1080.0,
                "late_notices": 2,
                "conflicts": 1,
                "acknowledgements": {
                    "on_time": 1,
                    "late": 1,
                    "missing": 1,
                    "pending": 0,
                    "median_time_to_ack_s": 1230.0,
                },
                "nonconformance_s": 0.0,
                "nonconformance_minutes": 0.0,
                "incursion_s": 120.0,
                "incursion_minutes": 2.0,
                "lead_times_s": [900.0, 1800.0, 7200.0],
                "ack_latencies_s": [60.0, 2400.0],
            }
        ],
    },
    "report_sha256": "3f0c…",
    "log": {"seq": 412, "hash": "9a1e…", "as_of_seq": 411},
}


@router.get(
    "/compliance",
    summary="Compliance report per party",
    description="Per party over `[since, until)` (RFC 3339; `until` defaults to now and may not be later, "
    "`since` to 24 h before `until`): notices filed, lead time median and 10th percentile, late notices (under the "
    "minimum notice in force when filed), conflicts it was party to, acknowledgements on time / late / missing / "
    "pending with the median time to acknowledge, and nonconformance and incursion time (incursion counts only "
    "time inside). At most 31 days. Rows: the admin gets every party; anyone else the parties it sees whole "
    "(`full`: itself, its coalition, a rule, an observer's grant; 403 when none). Every report is "
    "recorded in the event log (`report.compliance`, with `report_sha256` = SHA-256 of the canonical JSON of "
    "`report`), and `log` gives that entry and `as_of_seq`, the last entry the facts were read from (a report "
    "is read without the filing lock, so filings made meanwhile come after it). `format=html` returns the page "
    "with its charts instead. A heavy request: per party at most `rate_limits.heavy_concurrent` at a "
    "time and `heavy_per_minute` on average (429 with `Retry-After` beyond).",
    responses={
        200: {
            "model": ComplianceReport,
            "content": {
                "application/json": {"example": REPORT_EXAMPLE},
                "text/html": {"schema": {"type": "string", "description": "The page with its charts."}},
            },
            "description": "The report, its hash and the log entry that records it.",
        }
    },
)
def compliance_report(
    caller: Caller,
    broker: BrokerDep,
    slot: Heavy,
    since: Annotated[str | None, Query(description="Start of the period (RFC 3339), included.")] = None,
    until: Annotated[str | None, Query(description="End of the period (RFC 3339), excluded; at most now.")] = None,
    format: Annotated[Literal["json", "html"], Query(description="`json` (default) or `html`.")] = "json",
) -> Response:
    with slot:
        r = compliance(broker, caller, since, until)
    if format == "html":
        return HTMLResponse(render_html(r.report, report_hash=r.sha256, log_seq=r.log_seq))
    return JSONResponse(r.to_json())
