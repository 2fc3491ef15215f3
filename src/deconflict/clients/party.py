"""A typed HTTP client for a remote broker, for parties: the calls of ``/v1`` as methods that
return parsed JSON, and the live event stream with resumption by ``Last-Event-ID``.

Every failure is one :class:`ClientError`: the HTTP status (``None`` when the broker could not be
reached), the broker's error code, and the field and reason it named. The client never prints, and
never puts its token in an error or a ``repr``. :class:`ClientError` and :class:`Event` are made in
:mod:`deconflict.clients.responses` and named here too, with the client that raises and yields them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from deconflict.clients.responses import PASSING, ClientError, Event, error_of, parse_sse, reason_of, retry_after

__all__ = ["DEFAULT_TIMEOUT_S", "HEARTBEAT_GRACE_S", "BrokerClient", "ClientError", "Event"]
"""The client and what its calls raise and yield (docs/client.md)."""

DEFAULT_TIMEOUT_S = 30.0
HEARTBEAT_GRACE_S = 45.0
"""The broker sends a comment at least every 15 s on an idle stream; a stream silent this long is
taken as dead and reconnected."""


class BrokerClient:
    """Calls one broker as one party. ``url`` is the broker's base URL (``http://host:8000``);
    ``transport`` lets a test route calls without a network."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url,
            headers={
                "Accept": "application/json",
                "User-Agent": f"deconflict-client/{_version()}",
                **({"Authorization": f"Bearer {token}"} if token else {}),
            },
            timeout=timeout_s,
            transport=transport,
        )

    def __repr__(self) -> str:  # never the token
        return f"BrokerClient({self.url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BrokerClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing

    def _send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            r = self._http.request(method, "/v1" + path, **kw)
        except httpx.HTTPError as e:
            raise ClientError(None, f"cannot reach the broker at {self.url}/v1{path}: {reason_of(e)}") from None
        if r.status_code >= 400:
            raise error_of(r)
        return r

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        r = self._send(method, path, **kw)
        try:
            return r.json()
        except ValueError:
            raise ClientError(
                r.status_code, f"the broker at {self.url} answered {path} with something not JSON"
            ) from None

    def _pages(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every item of a paged list, following ``X-Next-Cursor``."""
        out: list[dict[str, Any]] = []
        query = {k: v for k, v in params.items() if v is not None}
        while True:
            r = self._send("GET", path, params=query)
            out.extend(r.json())
            cursor = r.headers.get("X-Next-Cursor")
            if not cursor:
                return out
            query = {**query, "cursor": cursor}

    # ------------------------------------------------------------------ calls

    def ready(self, wait_s: float = 0.0, every_s: float = 0.2) -> None:
        """Return once ``/readyz`` answers 200 (the broker and its store are up), trying for up to
        ``wait_s``; else raise :class:`ClientError` with the last reason."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                r = self._http.get("/readyz", timeout=max(1.0, min(DEFAULT_TIMEOUT_S, wait_s)))
                if r.status_code == 200:
                    return
                why = f"it answered {r.status_code}"
            except httpx.HTTPError as e:
                why = reason_of(e)
            if time.monotonic() >= deadline:
                waited = f" after {wait_s:g} s" if wait_s else ""
                raise ClientError(None, f"the broker at {self.url} is not ready{waited}: {why}")
            time.sleep(every_s)

    def me(self) -> dict[str, Any]:
        """``{"party", "role", "coalition"}``: who the token belongs to."""
        out: dict[str, Any] = self._json("GET", "/me")
        return out

    def file(
        self,
        body: Any,
        *,
        site: bool = False,
        idempotency_key: str | None = None,
        retry_for_s: float = 0.0,
        on_retry: Callable[[ClientError, float], None] | None = None,
    ) -> dict[str, Any]:
        """File one notice (or protected site); the reply holds the notice, its conflicts and receipt.
        With ``idempotency_key`` a retry of the same body (after a timeout or a lost connection)
        gets the first filing's reply instead of filing it again.

        With ``retry_for_s`` > 0 the filing is tried again, for up to that many seconds, whenever it
        got no answer or a transient one (:attr:`ClientError.transient`), always under the same
        ``Idempotency-Key`` (a fresh random one unless given), so a filing whose answer was lost is
        answered, never filed twice. The wait between tries is the broker's ``Retry-After`` or a
        backoff from 0.5 s to 5 s, never past the deadline; ``on_retry(error, wait_s)`` is told of
        each. The last error is raised when the time is up; a refusal is raised at once."""
        if retry_for_s > 0 and idempotency_key is None:
            idempotency_key = f"dcf-client-{uuid.uuid4()}"
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else None
        path = "/protected-sites" if site else "/notices"
        deadline = time.monotonic() + retry_for_s
        backoff = 0.5
        while True:
            try:
                out: dict[str, Any] = self._json("POST", path, json=body, headers=headers)
                return out
            except ClientError as e:
                left = deadline - time.monotonic()
                if not e.transient or left <= 0:
                    raise
                wait = min(e.retry_after_s if e.retry_after_s is not None else backoff, left)
                if on_retry is not None:
                    on_retry(e, wait)
                time.sleep(wait)
                backoff = min(backoff * 2, 5.0)

    def update(self, notice_id: str, body: Any, version: int, *, site: bool = False) -> dict[str, Any]:
        """Replace a notice's volumes; ``version`` is the version it replaces (409 when stale)."""
        path = f"/{'protected-sites' if site else 'notices'}/{_seg(notice_id)}"
        out: dict[str, Any] = self._json("PUT", path, json=body, headers={"If-Match": f'"{version}"'})
        return out

    def set_state(self, notice_id: str, verb: str, version: int | None = None, *, site: bool = False) -> dict[str, Any]:
        """``verb``: ``activate``, ``end`` or ``cancel``."""
        base = f"/{'protected-sites' if site else 'notices'}/{_seg(notice_id)}"
        params = {} if version is None else {"replaces_version": str(version)}
        if verb == "cancel":
            out: dict[str, Any] = self._json("DELETE", base, params=params)
        else:
            out = self._json("POST", f"{base}/{verb}", params=params)
        return out

    def notices(self, **filters: str | None) -> list[dict[str, Any]]:
        """Notices you may see; filters ``party``, ``state``, ``start``, ``end``, ``bbox``."""
        return self._pages("/notices", {k: v for k, v in filters.items() if v is not None})

    def notice(self, notice_id: str) -> dict[str, Any]:
        out: dict[str, Any] = self._json("GET", f"/notices/{_seg(notice_id)}")
        return out

    def conflicts(self, state: str | None = None) -> list[dict[str, Any]]:
        return self._pages("/conflicts", {} if state is None else {"state": state})

    def conflict(self, conflict_id: str) -> dict[str, Any]:
        out: dict[str, Any] = self._json("GET", f"/conflicts/{_seg(conflict_id)}")
        return out

    def ack_conflict(self, conflict_id: str) -> tuple[bool, dict[str, Any]]:
        """Acknowledge (received and understood); ``True`` when this call recorded it (201)."""
        r = self._send("POST", f"/conflicts/{_seg(conflict_id)}/ack")
        return r.status_code == 201, r.json()

    def send(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send a hotline message: ``to``, ``subject``, ``text`` and the optional documented keys."""
        out: dict[str, Any] = self._json("POST", "/messages", json=body)
        return out

    def messages(self, box: str | None = None, thread: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("box", box), ("thread", thread)) if v is not None}
        return self._pages("/messages", params)

    def message(self, message_id: str) -> dict[str, Any]:
        out: dict[str, Any] = self._json("GET", f"/messages/{_seg(message_id)}")
        return out

    def ack_message(self, message_id: str, state: str = "understood") -> tuple[bool, dict[str, Any]]:
        """``state``: ``received`` or ``understood`` (never an approval); ``True`` when it changed."""
        r = self._send("POST", f"/messages/{_seg(message_id)}/ack", json={"state": state})
        return r.status_code == 201, r.json()

    def audit_key(self) -> dict[str, Any]:
        out: dict[str, Any] = self._json("GET", "/audit/key")
        return out

    def audit_export(self, after: int = 0) -> dict[str, Any]:
        """The export; with ``after``, only the events after that seq (an incremental export)."""
        out: dict[str, Any] = self._json("GET", "/audit/export", params={"after": str(after)} if after else None)
        return out

    def compliance(self, since: str | None = None, until: str | None = None, html: bool = False) -> Any:
        """The compliance report as JSON, or its HTML page (``str``) when ``html``."""
        params = {k: v for k, v in (("since", since), ("until", until)) if v is not None}
        if html:
            return self._send("GET", "/reports/compliance", params={**params, "format": "html"}).text
        return self._json("GET", "/reports/compliance", params=params)

    # ------------------------------------------------------------------ live events

    def events(
        self,
        after: int | None = None,
        *,
        idle_s: float | None = None,
        on_reconnect: Callable[[str, int | None, float], None] | None = None,
        max_delay_s: float = 10.0,
    ) -> Iterator[Event]:
        """The live stream: events after ``after`` (``None``: from the next one), for ever.

        A dropped connection is reconnected with ``Last-Event-ID`` (the last event received), so
        nothing is missed or repeated; ``on_reconnect(reason, last_id, delay_s)`` is told each time.
        The first connection's failure raises :class:`ClientError`, and so does any error but
        :data:`PASSING` on a reconnection (a revoked token); a :data:`PASSING` one (the store is
        down: 503) is waited out as its ``Retry-After`` asks, and the stream goes on. With ``idle_s``
        the stream ends once no event has come for that long.
        """
        last = after
        delay = 0.5
        connected_once = False
        tries = 0
        while True:
            tries += 1
            headers = {"Accept": "text/event-stream"}
            params: dict[str, str] = {}
            if connected_once and last is not None:
                headers["Last-Event-ID"] = str(last)
            elif last is not None:
                params["after"] = str(last)
            read_s = HEARTBEAT_GRACE_S if idle_s is None else min(idle_s, HEARTBEAT_GRACE_S)
            timeout = httpx.Timeout(DEFAULT_TIMEOUT_S, read=read_s)
            reason = "the broker closed the stream"
            quiet_since: float | None = None
            try:
                with self._http.stream("GET", "/v1/events", params=params, headers=headers, timeout=timeout) as r:
                    if r.status_code >= 400:
                        r.read()
                        if not (connected_once and r.status_code in PASSING):
                            raise error_of(r)
                        # the store or the broker is down for a while: wait as it asks, then go on
                        reason = f"the broker answers {r.status_code} ({error_of(r).reason})"
                        delay = min(max(retry_after(r, delay), 0.1), max_delay_s)
                        r.close()
                        raise _Passing
                    connected_once, delay = True, 0.5
                    quiet_since = time.monotonic()
                    for item in parse_sse(r.iter_lines()):
                        if isinstance(item, float):  # a retry: hint from the broker
                            delay = min(max(item, 0.1), max_delay_s)
                        elif isinstance(item, Event):
                            last = item.id
                            quiet_since = time.monotonic()
                            yield item
                        if idle_s is not None and time.monotonic() - quiet_since >= idle_s:
                            return
            except _Passing:
                pass
            except httpx.ReadTimeout:
                if idle_s is not None and quiet_since is not None and time.monotonic() - quiet_since >= idle_s:
                    return
                reason = "no word from the broker" if quiet_since is not None else "no answer from the broker"
            except httpx.HTTPError as e:
                if not connected_once:
                    raise ClientError(
                        None, f"cannot reach the broker at {self.url}/v1/events: {reason_of(e)}"
                    ) from None
                reason = f"connection lost ({reason_of(e)})"
            if not connected_once and tries >= 3:
                raise ClientError(None, f"cannot reach the broker at {self.url}/v1/events: {reason}")
            if on_reconnect is not None:
                on_reconnect(reason, last, delay)
            time.sleep(delay)
            delay = min(delay * 2, max_delay_s)


class _Passing(Exception):
    """A reconnection refused with a :data:`PASSING` status."""


def _version() -> str:
    from deconflict import __version__

    return __version__


def _seg(value: str) -> str:
    """A path segment, quoted (ids hold ``:``, which is fine, but never ``/`` or ``?``)."""
    from urllib.parse import quote

    return quote(value, safe=":@-._~")
