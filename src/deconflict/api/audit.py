"""The broker's public key and the audit export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from deconflict.api.deps import BrokerDep, Caller
from deconflict.api.schemas_out import AuditExport, AuditKey

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
    return {
        "alg": "Ed25519",
        "public_key": broker.key.public_key_b64(),
        "key_id": broker.key.key_id(),
        "public_key_pem": broker.key.public_key_pem().decode(),
    }


@router.get(
    "/export",
    summary="Export the event log",
    description="Admin: every event in full. A party: its own events in full and every other one as a stub "
    "(sequence number and hashes only) that keeps the chain checkable end to end, plus its receipts and the "
    "broker's signed head. Check it with `deconflict audit verify FILE --key KEY`.",
    response_model=None,
    responses={200: {"model": AuditExport}},
)
def export(caller: Caller, broker: BrokerDep) -> dict[str, Any]:
    return broker.export(caller)
