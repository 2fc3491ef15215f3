"""The audit export written as it is read: the log in pages, never the whole document in memory.

The document is the one :func:`~deconflict.domain.audit.build_export` builds (the same keys in the
same order, so ``deconflict audit verify`` reads either): the head is read and signed first, then
the events up to it are read ``PAGE`` at a time, each page in its own short read transaction (the
log only grows, so the events up to the head do not change meanwhile), then the receipts.

``after=N`` exports only the events after seq N (and the receipts they hold), with ``after``:
N and the hash of event N, which the first event's ``prev_hash`` must equal: a party that keeps
its last export fetches only what is new and ties the two together by that hash.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from deconflict.domain.audit import Event, export_header, sign_checkpoint
from deconflict.domain.errors import AheadOfLogError, ValidationError
from deconflict.domain.parties import Party, Role
from deconflict.services.broker import Broker
from deconflict.services.events import export_show

PAGE = 500
"""Events read (and written out) at a time."""


def _dumps(obj: Any) -> bytes:
    # As Starlette's JSONResponse writes a document, so a streamed export reads as the built one did.
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


def stream_export(broker: Broker, caller: Party, after: int = 0, page: int = PAGE) -> Iterator[bytes]:
    """``caller``'s export (see :meth:`Broker.export`) as chunks of JSON text. ``after`` past the
    end of the log is refused here, before anything is written."""
    if after < 0:
        raise ValidationError.at("after", f"must be a sequence number ≥ 0, got {after}")
    with broker.store.begin(write=False) as repo:
        last = repo.last_event()
        head_seq = 0 if last is None else last.seq
        if after > head_seq:
            raise AheadOfLogError("after", head_seq)
        start = None
        if after > 0:
            start = (after, repo.events_after(after - 1, 1)[0].hash)
        show = export_show(caller, broker.disclosure(repo))
        key = broker.core.signing_key_at(repo, last)
    header = export_header(key, sign_checkpoint(key, last, broker.clock()), start)
    party = None if caller.role is Role.ADMIN else caller.name
    return _body(broker, show, header, after, head_seq, party, page)


def _body(
    broker: Broker,
    show: Callable[[Event], bool],
    header: dict[str, Any],
    after: int,
    head_seq: int,
    party: str | None,
    page: int,
) -> Iterator[bytes]:
    yield _dumps(header)[:-1] + b',"events":['
    seq, sep = after, b""
    while seq < head_seq:
        with broker.store.begin(write=False) as repo:
            batch = [e for e in repo.events_after(seq, min(page, head_seq - seq)) if e.seq <= head_seq]
        if not batch:  # the log never shrinks; a store that lost events ends the export short, and it fails to verify
            break
        yield sep + b",".join(_dumps(e.to_json() if show(e) else e.to_stub()) for e in batch)
        seq, sep = batch[-1].seq, b","
    yield b'],"receipts":['
    seq, sep = after, b""
    while True:
        with broker.store.begin(write=False) as repo:
            receipts = repo.receipts_page(party, seq, head_seq, page)
        if not receipts:
            break
        yield sep + b",".join(_dumps(r.to_json()) for r in receipts)
        seq, sep = receipts[-1].log_seq, b","
    yield b"]}"
