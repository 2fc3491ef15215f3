"""The broker's public key and the audit export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from deconflict.api.deps import BrokerDep, Caller
from deconflict.api.limits import Heavy, Streamed
from deconflict.api.schemas_out import Error
from deconflict.api.schemas_out_audit import AuditExport, AuditKey
from deconflict.services.export_stream import PAGE, stream_export

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get(
    "/key",
    summary="The broker's Ed25519 public key",
    description="Verifies receipts and exports (`deconflict audit verify FILE --key KEY`). Keep a copy obtained "
    "out of band: a key taken from the same export proves nothing about who signed it.",
    response_model=None,
    responses={200: {"model": AuditKey}},
)
def key(caller: Caller, broker: BrokerDep) -> dict[str, str]:
    signing = broker.published_key()
    return {
        "alg": "Ed25519",
        "public_key": signing.public_key_b64(),
        "key_id": signing.key_id(),
        "public_key_pem": signing.public_key_pem().decode(),
    }


@router.get(
    "/export",
    summary="Export the event log",
    description="Admin: every event in full. A party: its own events in full and every other one as a stub "
    "(sequence number and hashes only) that keeps the chain checkable end to end, plus its receipts and the "
    "broker's signed head. Check it with `deconflict audit verify FILE --key KEY`. `after=N` exports only the "
    "events after seq N (and their receipts), with `after` giving N and the hash of event N: keep your last "
    "export and fetch only what is new (`after` = its `head.seq`; the new export's `after.hash` must equal its "
    "`head.hash`). The body is streamed as the log is read. A heavy request: per party at most "
    "`rate_limits.heavy_concurrent` at a time and `heavy_per_minute` on average (429 with `Retry-After` beyond).",
    response_model=None,
    responses={
        200: {"model": AuditExport},
        409: {
            "model": Error,
            "description": "`after` is past the end of this log (`ahead-of-log`, naming its last seq): the export "
            "you hold is of another broker's log, or this log was restored from an older copy.",
        },
    },
)
def export(
    request: Request,
    caller: Caller,
    broker: BrokerDep,
    slot: Heavy,
    after: Annotated[
        int,
        Query(ge=0, le=2**62, description="Only the events after this sequence number (0, the default: all)."),
    ] = 0,
) -> StreamingResponse:
    try:
        chunks = stream_export(broker, caller, after, getattr(request.app.state, "export_page", PAGE))
    except BaseException:
        slot.release()
        raise
    return StreamingResponse(Streamed(chunks, slot), media_type="application/json")
