"""Conflicts: list, read, acknowledge ("received and understood", never "approved")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from deconflict.api.deps import PAGING, BrokerDep, Caller, CursorQuery, LimitQuery, outcome_response, page
from deconflict.api.schemas_out import ConflictWithAcks
from deconflict.domain.errors import ValidationError
from deconflict.services.ports import ConflictState

router = APIRouter(prefix="/conflicts", tags=["conflicts"])

VIEW = (
    "Each conflict as the caller may see it: `disclosure` says how much (`full`, `conflicts-only`, `existence`); "
    "the other side is named with its notice id and the overlapping `slice` is shown under `conflicts-only` and "
    "`full`; under `existence` only the time window and a coarse area."
)


@router.get(
    "",
    summary="Conflicts that involve you (admin: all)",
    description=VIEW + " Oldest first, in pages: " + PAGING,
    response_model=list[ConflictWithAcks],
)
def list_conflicts(
    request: Request,
    caller: Caller,
    broker: BrokerDep,
    state: Annotated[ConflictState | None, Query(description="open or resolved; default both")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 1000,
) -> JSONResponse:
    items, next_cursor = broker.list_conflicts(caller, state, cursor, limit)
    return page(request, items, next_cursor)


@router.get(
    "/{conflict_id}",
    summary="Get a conflict",
    description=VIEW,
    response_model=None,
    responses={200: {"model": ConflictWithAcks}},
)
def get_conflict(caller: Caller, broker: BrokerDep, conflict_id: str) -> dict[str, Any]:
    return broker.get_conflict(caller, conflict_id)


async def no_body(request: Request) -> None:
    """An acknowledgement of a conflict has no fields: a body with any is refused, not ignored."""
    raw = (await request.body()).strip()
    if raw not in (b"", b"{}"):
        raise ValidationError.at(
            "body", "must be empty: acknowledging a conflict records received and understood, and takes no fields"
        )


@router.post(
    "/{conflict_id}/ack",
    summary="Acknowledge a conflict",
    description="Records that your party received and understood the conflict. It is never an approval of "
    "anything. 201 the first time, 200 when already acknowledged. Logged and sent to the other party. No body "
    "(or `{}`): any field is refused.",
    responses={
        200: {"model": ConflictWithAcks, "description": "Already acknowledged."},
        201: {"model": ConflictWithAcks, "description": "Acknowledged now."},
    },
)
def acknowledge(
    caller: Caller, broker: BrokerDep, conflict_id: str, _: Annotated[None, Depends(no_body)] = None
) -> JSONResponse:
    r = broker.acknowledge(caller, conflict_id)
    return outcome_response(r)
