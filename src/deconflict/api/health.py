"""Who is up and who you are: liveness, readiness and leadership (no token needed), and the
caller's identity and the theater's agreed policy."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from deconflict.api.deps import BrokerDep, Caller
from deconflict.api.schemas_out import Status
from deconflict.api.schemas_out_policy import Me, Policy
from deconflict.config import theater_policy
from deconflict.domain.times import format_time

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    summary="The process is up",
    description='No token needed. Always `{"status": "ok"}` while the process serves requests.',
    response_model=None,
    responses={200: {"model": Status}},
)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The store answers",
    description='No token needed. 200 `{"status": "ready"}` when the store answers a query, else 503 with '
    "the kind of failure. Says nothing about the log or the traffic.",
    responses={200: {"model": Status}, 503: {"model": Status, "description": "The store does not answer."}},
)
def readyz(broker: BrokerDep) -> JSONResponse:
    # Says nothing about the log (not even its length): without a token, the tempo of
    # activity is not anyone's to read.
    try:
        broker.last_seq()
    except Exception as e:  # any store failure means not ready; say which kind
        log.warning("not ready: %s", e)
        return JSONResponse({"status": "unavailable", "reason": type(e).__name__}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get(
    "/leaderz",
    summary="This replica leads",
    description='No token needed. 200 `{"status": "leader"}` on the replica that runs the tactical cycle, the '
    'hotline\'s escalation and webhook deliveries; 503 `{"status": "follower"}` on the others (a load balancer '
    "sends `POST /v1/tracks` to the leader by it). A broker on SQLite is one process and always leads. See "
    "docs/deploy.md.",
    responses={200: {"model": Status}, 503: {"model": Status, "description": "Another replica leads."}},
)
def leaderz(request: Request) -> JSONResponse:
    if request.app.state.replica.leading:
        return JSONResponse({"status": "leader"})
    return JSONResponse({"status": "follower"}, status_code=503)


@router.get(
    "/v1/me",
    summary="Who you are to the broker",
    description="The party your token names, its role (`party`, `authority`, `observer`, `admin`) and coalition.",
    response_model=None,
    responses={200: {"model": Me}},
)
def me(caller: Caller) -> dict[str, Any]:
    return {"party": caller.name, "role": caller.role.value, "coalition": caller.coalition}


@router.get(
    "/v1/policy",
    summary="The theater's agreed definitions",
    description="Separation minima, minimum notice, the tactical minima and the protected sites' overhead "
    "distance, the hotline's acknowledgement deadlines and escalation interval, and the disclosure default: "
    "the thresholds that turn an event into a violation. `recorded` names the log event that recorded them "
    "(`policy.recorded`, visible to every party in its export): any change is itself a logged event.",
    response_model=None,
    responses={200: {"model": Policy}},
)
def policy(request: Request, caller: Caller, broker: BrokerDep) -> dict[str, Any]:
    doc = theater_policy(request.app.state.config)
    ev = broker.policy_record()
    recorded = None
    if ev is not None:
        recorded = {
            "seq": ev.seq,
            "hash": ev.hash,
            "time": format_time(ev.time),
            "policy_sha256": ev.payload.get("policy_sha256"),
            "current": ev.payload.get("policy") == doc,
        }
    return {**doc, "recorded": recorded}
