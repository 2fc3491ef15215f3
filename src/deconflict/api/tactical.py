"""Tracks in, alerts out, and the broker's metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from deconflict.api.deps import PAGING, Body, BrokerDep, Caller, CursorQuery, LimitQuery, page
from deconflict.api.errors import problem
from deconflict.api.schemas import TrackBatch, request_body
from deconflict.api.schemas_out import Alert, LiveTrack, TrackIngest
from deconflict.domain.alerts import AlertState
from deconflict.domain.errors import Forbidden
from deconflict.domain.parties import Role
from deconflict.services.commands import parse_report_tracks
from deconflict.services.tactical import TacticalService

router = APIRouter(tags=["tactical"])

STATE_EXAMPLE = {
    "states": [
        {
            "aircraft": "3c6444",
            "callsign": "DLH4AB",
            "time": "2015-09-30T07:31:02Z",
            "lat": 35.31,
            "lon": 36.61,
            "alt_m": 7620,
            "alt_ref": "STD",
            "gs_mps": 231.5,
            "trk_deg": 272.0,
            "vs_mps": 0.0,
        }
    ]
}


def get_tactical(request: Request) -> TacticalService:
    t: TacticalService = request.app.state.tactical
    return t


def not_leading(request: Request) -> JSONResponse | None:
    """503 on a replica that does not lead: the picture lives in the leader's process (docs/deploy.md),
    and a track kept by another would be lost without a word."""
    if request.app.state.replica.leading:
        return None
    return problem(
        503,
        "not-leader",
        "this replica does not run the tactical picture: send tracks to the leader (GET /leaderz says which)",
        headers={"Retry-After": "1"},
    )


@router.post(
    "/tracks",
    summary="Report your aircraft's states",
    description='A batch `{"states": [...]}` of your own aircraft: `aircraft` (your id for it), `time` (RFC 3339 '
    "or epoch seconds), `lat`, `lon`, `alt_m` with `alt_ref` (W84, AMSL or STD), and optionally `gs_mps`, `trk_deg`, "
    "`vs_mps` (without them the velocity is derived from the aircraft's previous report) and `callsign`. Each bad "
    "state (NaN, an impossible speed, a time ahead of the broker's clock or older than the track timeout) is refused "
    "on its own with its field and reason; the others are kept. Tracks age out after the timeout (default 60 s). "
    "A report beyond the party's limits (`tactical.max_aircraft_per_party`, `states_per_s`, `states_burst` in "
    "`/v1/policy`) is refused whole with 429 `track-limit` (`Retry-After` for the rate); nothing of it is kept. "
    "Of several replicas, only the leader keeps the picture: the others answer 503 `not-leader` (docs/deploy.md).",
    openapi_extra=request_body(TrackBatch, STATE_EXAMPLE),
    response_model=None,
    responses={200: {"model": TrackIngest, "description": "How many states were kept; each refused one and why."}},
)
def report_tracks(request: Request, caller: Caller, body: Body) -> dict[str, Any] | JSONResponse:
    refused = not_leading(request)
    if refused is not None:
        return refused
    t = get_tactical(request)
    return t.ingest(parse_report_tracks(caller, body, t.clock(), t.settings.track_timeout_s))


@router.get(
    "/tracks",
    summary="Your aircraft in the live picture (admin: all)",
    description="Each of your aircraft not yet aged out, with its last report as the broker holds it: `time` of the "
    "report, `time_s_ago`, position, altitude and velocity (derived from its previous report where it gave none). "
    "Other parties' aircraft are never listed here; they reach you only in alerts. 503 `not-leader` on a replica "
    "that does not lead.",
    response_model=None,
    responses={200: {"model": list[LiveTrack]}},
)
def list_tracks(request: Request, caller: Caller) -> list[dict[str, Any]] | JSONResponse:
    return not_leading(request) or get_tactical(request).aircraft_of(caller)


@router.get(
    "/alerts",
    summary="Tactical alerts that concern you",
    description="Predicted losses of separation with another party's aircraft, incursions into another party's "
    "volumes or protected sites (yours, or into yours), and nonconformance of your own aircraft. Each as you may "
    "see it: the other aircraft's position and velocity always (you need them to stay clear), its party, id and "
    "callsign only where the disclosure policy shows that party. `?state=open` (default), `cleared` or `all`. "
    "Geometry is as of the alert's last change; live changes arrive on `/v1/events`. Oldest first, in pages: " + PAGING,
    response_model=list[Alert],
)
def list_alerts(
    request: Request,
    caller: Caller,
    broker: BrokerDep,
    state: Annotated[str, Query(pattern="^(open|cleared|all)$")] = "open",
    cursor: CursorQuery = None,
    limit: LimitQuery = 1000,
) -> JSONResponse:
    items, next_cursor = broker.list_alerts(caller, None if state == "all" else AlertState(state), cursor, limit)
    return page(request, items, next_cursor)


@router.get(
    "/metrics",
    summary="Prometheus metrics (admin)",
    description="Text exposition format: the last cycle's duration, cycles, aircraft, track states accepted and "
    "refused, open alerts by kind, and whether this replica leads (`deconflict_leader`, labelled with the "
    "replica's name: host, process id and a random part). Needs an admin token (scrape with "
    "`authorization: {credentials: ...}`): the number of aircraft is not for every party to read.",
    response_class=PlainTextResponse,
)
def metrics(request: Request, caller: Caller) -> PlainTextResponse:
    if caller.role is not Role.ADMIN:
        raise Forbidden("metrics are for the admin")
    replica = request.app.state.replica
    lead = (
        "# HELP deconflict_leader Whether this replica leads (runs the tactical cycle, escalation, webhooks).\n"
        "# TYPE deconflict_leader gauge\n"
        f'deconflict_leader{{replica="{replica.name}"}} {int(replica.leading)}\n'
    )
    return PlainTextResponse(get_tactical(request).prometheus() + lead, media_type="text/plain; version=0.0.4")
