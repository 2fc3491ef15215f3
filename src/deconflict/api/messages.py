"""The hotline: messages between parties, acknowledged by a deadline ("received", "understood";
never "approved"), escalated when they are not."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from deconflict.api.deps import PAGING, Body, Caller, CursorQuery, LimitQuery, outcome_response, page, parse_json
from deconflict.api.schemas import Acknowledgement, MessageDraft, request_body
from deconflict.api.schemas_out import MessageOut
from deconflict.domain.errors import ValidationError
from deconflict.services.commands import parse_acknowledge_message, parse_send_message
from deconflict.services.hotline import Hotline

router = APIRouter(prefix="/messages", tags=["hotline"])


def get_hotline(request: Request) -> Hotline:
    hotline: Hotline = request.app.state.hotline
    return hotline


HotlineDep = Annotated[Hotline, Depends(get_hotline)]

MESSAGE_EXAMPLE = {
    "to": ["ru-vks"],
    "subject": "Sortie moved",
    "text": "Our notice us-af:strike-1 now starts at 08:30Z, 30 minutes later than filed.",
    "priority": "priority",
    "ref": {"kind": "notice", "id": "us-af:strike-1"},
    "ack_within_s": 900,
}

VIEW = (
    "A message as the caller may see it: `from`, `to` (each recipient with its acknowledgement `state` "
    "(`pending`, `received`, `understood`), `deadline`, and `standing`: `open`, `on-time`, `late`, `overdue` or "
    "`no-deadline`), subject, text, priority, `ref`, `thread_id`. A party is named to you only where the disclosure "
    "policy lets you name it (`conflicts-only` or more; an observer only by a grant): otherwise `from` or its "
    "recipient's `party` is null and `relayed` is true (the broker passed it on without names). Named recipients "
    "come first, sorted by name."
)


@router.post(
    "",
    status_code=201,
    summary="Send a message",
    description='To one party, several (`to: [names]`) or all (`to: "all"`), with a subject, a text, a '
    "`priority` (routine, priority, immediate, flash), an optional `ref` to a notice, conflict or alert, and an "
    "optional acknowledgement deadline `ack_within_s` (1 s to 7 days). `to` names only parties you may name; any "
    "other name, a revoked one and one that does not exist get the same 422. `in_reply_to` continues a thread "
    "(without `to`, the reply goes to the thread's other participants, also those you may not name: the broker "
    "relays it without names either way). A recipient that has not acknowledged by the "
    "deadline is escalated: an event to the sender, to the recipient again, and to admins and observers, repeated "
    "every `escalation_interval_s` (see `/v1/policy`) until it acknowledges. Logged. " + VIEW,
    openapi_extra=request_body(MessageDraft, MESSAGE_EXAMPLE),
    responses={201: {"model": MessageOut, "description": "The message as sent."}},
)
def send(caller: Caller, hotline: HotlineDep, body: Body) -> JSONResponse:
    r = hotline.send(parse_send_message(caller, body))
    return outcome_response(r)


@router.get(
    "",
    summary="Your messages: inbox, outbox, or a thread",
    description=VIEW + " Oldest first, in pages: " + PAGING,
    response_model=list[MessageOut],
)
def list_messages(
    request: Request,
    caller: Caller,
    hotline: HotlineDep,
    box: Annotated[
        Literal["inbox", "outbox"] | None, Query(description="inbox (to you), outbox (from you); default both")
    ] = None,
    thread: Annotated[str | None, Query(max_length=200, description="Only this thread (its first message id)")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 1000,
) -> JSONResponse:
    items, next_cursor = hotline.list(caller, box, thread, cursor, limit)
    return page(request, items, next_cursor)


@router.get(
    "/{message_id}",
    summary="Get a message",
    description=VIEW,
    response_model=None,
    responses={200: {"model": MessageOut}},
)
def get_message(caller: Caller, hotline: HotlineDep, message_id: str) -> dict[str, Any]:
    return hotline.get(caller, message_id)


async def optional_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError.at("body", "is not UTF-8 text") from None
    return parse_json(text, "body")


@router.post(
    "/{message_id}/ack",
    summary="Acknowledge a message",
    description='Body `{"state": "received"}` or `{"state": "understood"}` (the default, also for an empty body). '
    "An acknowledgement records that your party received (and understood) the message; it is never an approval "
    "of anything. Either state answers the deadline. 201 when it changes your state, 200 when it was already so. "
    "Logged and sent to the sender.",
    openapi_extra=request_body(Acknowledgement, {"state": "understood"}, required=False),
    responses={
        200: {"model": MessageOut, "description": "Already acknowledged so."},
        201: {"model": MessageOut, "description": "Your acknowledgement changed."},
    },
)
def acknowledge(
    caller: Caller, hotline: HotlineDep, message_id: str, body: Annotated[Any, Depends(optional_body)]
) -> JSONResponse:
    r = hotline.acknowledge(parse_acknowledge_message(caller, message_id, body))
    return outcome_response(r)
