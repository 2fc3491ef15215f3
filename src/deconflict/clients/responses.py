"""What a party's client makes of the broker's answers: :class:`ClientError` from a refused call
(its status, the broker's error code, the fields and reasons it named) or an unreachable broker, and
:class:`Event` from the live stream's server-sent events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from deconflict.domain.errors import DeconflictError


class ClientError(DeconflictError):
    """A call that failed. ``status`` is the HTTP status, or ``None`` when the broker was not reached
    (``reason`` then names the URL); ``field`` the first refused field, when the broker named one;
    ``fields`` every ``(field, reason)`` it named."""

    def __init__(
        self,
        status: int | None,
        reason: str,
        *,
        code: str | None = None,
        field: str | None = None,
        fields: tuple[tuple[str, str], ...] = (),
        current_version: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        self.status = status
        self.retry_after_s = retry_after_s
        self.reason = reason
        self.code = code
        if not fields and field is not None:
            fields = ((field, reason),)
        self.fields = fields
        self.field = field if field is not None else (fields[0][0] if fields else None)
        self.current_version = current_version
        super().__init__(self.line())

    @property
    def network(self) -> bool:
        """The broker was not reached, or failed (5xx): trying again later may help."""
        return self.status is None or self.status >= 500

    @property
    def transient(self) -> bool:
        """Worth the same request again later: the broker was not reached or gave no answer, was
        unavailable or overloaded (502, 503, 504), or asked to slow down (429). A refusal of the
        request itself (4xx) or a broker's failure on it (500) is not."""
        return self.status is None or self.status in (429, 502, 503, 504)

    def line(self) -> str:
        """One line for a terminal: the refused fields (``field: reason; …``), or the status and reason."""
        if self.fields:
            return "; ".join(f"{f}: {r}" if f else r for f, r in self.fields)
        if self.status is None:
            return self.reason
        code = f" {self.code}" if self.code else ""
        return f"{self.status}{code}: {self.reason}"


@dataclass(frozen=True)
class Event:
    """One live event: ``id`` is its sequence number in the broker's log."""

    id: int
    type: str
    time: str
    data: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "time": self.time, "data": self.data}


def error_of(r: httpx.Response) -> ClientError:
    try:
        body = r.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = r.text.strip().splitlines()[0][:200] if r.text.strip() else r.reason_phrase
        return ClientError(r.status_code, f"{text} ({r.request.method} {r.request.url})")
    detail = body.get("detail")
    fields: tuple[tuple[str, str], ...] = ()
    if isinstance(detail, list):
        fields = tuple((str(d.get("field", "")), str(d.get("reason", ""))) for d in detail if isinstance(d, dict))
    current = r.headers.get("X-Current-Version")
    after = r.headers.get("Retry-After", "")
    return ClientError(
        r.status_code,
        str(body.get("message") or body.get("error") or r.reason_phrase),
        code=str(body["error"]) if body.get("error") else None,
        fields=fields,
        current_version=int(current) if current and current.isdigit() else None,
        retry_after_s=float(after) if after.isdigit() else None,
    )


PASSING = frozenset({429, 502, 503, 504})
"""Statuses a stream that was connected waits out and retries: the broker or its store is down or
busy for a while. Any other error (a revoked token) ends the stream."""


def retry_after(r: httpx.Response, default: float) -> float:
    value = r.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else default


def parse_sse(lines: Iterator[str]) -> Iterator[Event | float | None]:
    """SSE lines → events; a ``retry:`` hint as seconds; ``None`` for a comment (keep-alive)."""
    fields: dict[str, str] = {}
    for line in lines:
        if not line:
            if "data" in fields:
                yield _event(fields)
            fields = {}
            continue
        if line.startswith(":"):
            yield None
            continue
        key, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if key == "retry" and value.isdigit():
            yield int(value) / 1000
        elif key == "data" and "data" in fields:
            fields["data"] += "\n" + value
        else:
            fields[key] = value


def _event(fields: dict[str, str]) -> Event:
    try:
        doc = json.loads(fields["data"])
    except ValueError:
        doc = {"data": {"text": fields["data"]}}
    if not isinstance(doc, dict):
        doc = {"data": {"value": doc}}
    seq = fields.get("id", str(doc.get("id", "0")))
    data = doc.get("data")
    return Event(
        id=int(seq) if seq.isdigit() else 0,
        type=str(fields.get("event") or doc.get("type") or "message"),
        time=str(doc.get("time", "")),
        data=data if isinstance(data, dict) else {"value": data},
    )


def reason_of(e: httpx.HTTPError) -> str:
    if isinstance(e, httpx.ConnectError):
        text = str(e)
        return "connection refused" if "refused" in text.lower() else (text or "cannot connect")
    if isinstance(e, httpx.TimeoutException):
        return "timed out"
    return str(e) or type(e).__name__
