"""Your aircraft, live: the picture ``GET /v1/tracks`` gives, pushed after every tactical cycle as
Server-Sent Events, for the console's moving markers. Other parties' aircraft never appear here
(they reach you only in alerts, as on ``GET /v1/tracks``)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from deconflict.api.deps import Caller
from deconflict.api.events import HEARTBEAT_S, REAUTH_S
from deconflict.domain.parties import Party
from deconflict.domain.times import format_time
from deconflict.services.broker import Unauthorized
from deconflict.services.tactical import TacticalService

router = APIRouter(tags=["tactical"])


def picture(tactical: TacticalService, caller: Party, cycle: int) -> str:
    """One ``tracks`` event: the cycle it follows, the broker's time and the caller's aircraft."""
    body: dict[str, Any] = {
        "cycle": cycle,
        "time": format_time(tactical.clock()),
        "aircraft": tactical.aircraft_of(caller),
    }
    return f"event: tracks\ndata: {json.dumps(body)}\n\n"


async def follow(request: Request, tactical: TacticalService, caller: Party) -> AsyncIterator[str]:
    """The picture now, then after every cycle, until the server stops, the client goes or the
    token is no longer good. The cycle counter is read every ``events_poll_s`` (in memory)."""
    stopping: asyncio.Event = request.app.state.stopping
    poll_s: float = request.app.state.events_poll_s
    reauthenticate: Callable[[], Party] = request.state.reauthenticate
    yield "retry: 2000\n: connected\n\n"
    seen = -1
    last_sent = last_auth = time.monotonic()
    while not stopping.is_set():
        if time.monotonic() - last_auth > REAUTH_S:
            try:
                caller = await anyio.to_thread.run_sync(reauthenticate)
            except Unauthorized:
                yield ": token no longer valid\n\n"
                break
            last_auth = time.monotonic()
        cycle = tactical.metrics.cycles
        if cycle != seen:
            seen = cycle
            yield await anyio.to_thread.run_sync(picture, tactical, caller, cycle)
            last_sent = time.monotonic()
        elif time.monotonic() - last_sent > HEARTBEAT_S:
            yield ": keep-alive\n\n"
            last_sent = time.monotonic()
        if await request.is_disconnected():
            break
        await asyncio.sleep(poll_s)


@router.get(
    "/tracks/live",
    summary="Your aircraft, live (Server-Sent Events)",
    description="The picture `GET /v1/tracks` gives (your own aircraft; admin: all), at once and again after "
    'every tactical detection cycle: `tracks` events whose data is `{"cycle": N, "time": …, "aircraft": '
    "[…]}`. No event ids and no replay: each event is the whole picture, so a client that reconnects just "
    "waits for the next one. Other parties' aircraft reach you only in alerts (`/v1/events`).",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An endless stream of pictures."}},
)
async def live_tracks(request: Request, caller: Caller) -> StreamingResponse:
    tactical: TacticalService = request.app.state.tactical
    return StreamingResponse(
        follow(request, tactical, caller),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
