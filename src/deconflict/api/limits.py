"""Per-party rate and concurrency limits: no party can stall the broker for the others.

Each party (the name a token authenticates as, so all of a party's tokens share its budget) has a
token bucket per class of request: ``heavy`` (the audit export and the compliance report),
``read`` (every other GET) and ``write`` (POST, PUT, PATCH, DELETE), and may have at most
``heavy_concurrent`` heavy requests in progress. Beyond a limit the request is refused with 429,
the limit named in the error, and ``Retry-After`` in whole seconds. The settings are
:class:`~deconflict.services.rate_settings.RateLimits`; the health endpoints are not limited.

The counts live in this process: with several replicas behind a load balancer each replica
limits on its own, so a party can get up to that many times the budget in all.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from deconflict.api.deps import Caller
from deconflict.domain.errors import DeconflictError
from deconflict.domain.parties import Party, Role
from deconflict.services.rate_settings import RateLimits

HEAVY_PATHS = frozenset({"/v1/audit/export", "/v1/reports/compliance"})


class RateLimited(DeconflictError):
    """A request over one of the caller's limits: ``limit`` names the setting, ``retry_after`` is
    the whole number of seconds after which the request would be accepted."""

    def __init__(self, limit: str, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.retry_after = retry_after


@dataclass
class _Bucket:
    tokens: float
    at: float


class Limiter:
    """The buckets and in-progress counts of every party; safe to call from any thread."""

    def __init__(self, settings: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._running: dict[str, int] = {}

    def exempt(self, party: Party) -> bool:
        return party.role is Role.ADMIN and self.settings.admin_exempt

    def take(self, party: Party, kind: str) -> None:
        """Count one ``read`` or ``write`` request of ``party``; :class:`RateLimited` when over."""
        if self.exempt(party):
            return
        s = self.settings
        per_s, burst = (s.read_per_s, s.read_burst) if kind == "read" else (s.write_per_s, s.write_burst)
        with self._lock:
            self._take(party.name, kind, per_s, burst, f"{kind}_per_s", f"{per_s:g} {kind}s per second")

    def admit_address(self, address: str) -> None:
        """Before a token is looked up: :class:`RateLimited` when ``address`` has used up its
        budget of refused tokens (``refused_per_minute``); nothing is counted here."""
        s = self.settings
        if s.refused_per_minute <= 0:
            return
        with self._lock:
            b = self._refill(("address", address), s.refused_per_minute / 60.0, s.refused_burst)
            if b.tokens < 1.0:
                wait = max(1, math.ceil((1.0 - b.tokens) * 60.0 / s.refused_per_minute))
                raise RateLimited(
                    "refused_per_minute",
                    f"too many requests from {address} were refused for their token (limit "
                    f"rate_limits.refused_per_minute = {s.refused_per_minute:g}, burst {s.refused_burst}); "
                    f"retry in {wait} s with a valid token",
                    wait,
                )

    def refused(self, address: str) -> None:
        """Count one request of ``address`` refused for its token."""
        s = self.settings
        if s.refused_per_minute <= 0:
            return
        with self._lock:
            b = self._refill(("address", address), s.refused_per_minute / 60.0, s.refused_burst)
            b.tokens = max(0.0, b.tokens - 1.0)

    def _refill(self, key: tuple[str, str], per_s: float, burst: int) -> _Bucket:
        now = self.clock()
        b = self._buckets.get(key)
        if b is None:
            b = self._buckets[key] = _Bucket(float(burst), now)
        b.tokens = min(float(burst), b.tokens + (now - b.at) * per_s)
        b.at = now
        return b

    def start_heavy(self, party: Party) -> HeavySlot:
        """Admit one export or report of ``party``: under its concurrency limit and its rate; the
        slot must be released when the response has been sent (:meth:`HeavySlot.release`)."""
        if self.exempt(party):
            return HeavySlot(None, party.name)
        s = self.settings
        with self._lock:
            running = self._running.get(party.name, 0)
            if running >= s.heavy_concurrent:
                raise RateLimited(
                    "heavy_concurrent",
                    f"party {party.name} already has {running} export(s) or report(s) in progress "
                    f"(limit rate_limits.heavy_concurrent = {s.heavy_concurrent}); retry when one has finished",
                    1,
                )
            self._take(
                party.name,
                "heavy",
                s.heavy_per_minute / 60.0,
                s.heavy_burst,
                "heavy_per_minute",
                f"{s.heavy_per_minute:g} exports and reports per minute (burst {s.heavy_burst})",
            )
            self._running[party.name] = running + 1
        return HeavySlot(self, party.name)

    def _release(self, name: str) -> None:
        with self._lock:
            n = self._running.get(name, 0) - 1
            if n > 0:
                self._running[name] = n
            else:
                self._running.pop(name, None)

    def running(self, name: str) -> int:
        with self._lock:
            return self._running.get(name, 0)

    def _take(self, name: str, kind: str, per_s: float, burst: int, limit: str, what: str) -> None:
        if per_s <= 0:
            return
        b = self._refill((name, kind), per_s, burst)
        if b.tokens < 1.0:
            wait = max(1, math.ceil((1.0 - b.tokens) / per_s))
            raise RateLimited(
                limit, f"party {name} is over its limit of {what} (rate_limits.{limit}); retry in {wait} s", wait
            )
        b.tokens -= 1.0


class HeavySlot:
    """One admitted heavy request; :meth:`release` (idempotent) frees it."""

    def __init__(self, limiter: Limiter | None, name: str) -> None:
        self._limiter = limiter
        self._name = name
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            limiter, self._limiter = self._limiter, None
        if limiter is not None:
            limiter._release(self._name)

    def __enter__(self) -> HeavySlot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:  # a response dropped before its body was sent still frees its slot
        self.release()


class Streamed:
    """The body of a streamed response that holds ``slot`` until it has been sent, or the client
    went away and the response was dropped, whichever comes first."""

    def __init__(self, chunks: Iterator[bytes], slot: HeavySlot) -> None:
        self._chunks = chunks
        self._slot = slot

    def __iter__(self) -> Streamed:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except BaseException:
            self._slot.release()
            raise

    def __del__(self) -> None:
        self._slot.release()


def get_limiter(request: Request) -> Limiter:
    limiter: Limiter = request.app.state.limiter
    return limiter


def limit_request(request: Request, caller: Caller) -> None:
    """Router-wide: counts a read or a write against the caller's bucket. The heavy endpoints
    are left to :func:`heavy_slot`, which they take themselves."""
    if request.url.path in HEAVY_PATHS:
        return
    kind = "read" if request.method in ("GET", "HEAD") else "write"
    get_limiter(request).take(caller, kind)


def heavy_slot(request: Request, caller: Caller) -> HeavySlot:
    return get_limiter(request).start_heavy(caller)


Heavy = Annotated[HeavySlot, Depends(heavy_slot)]


def retry_headers(e: RateLimited) -> dict[str, Any]:
    return {"Retry-After": str(e.retry_after)}
