"""A live BaseStation feed forwarded to a broker as it comes (:func:`forward_live`), behind
``deconflict feed``: a reader thread takes states off the :class:`LiveSource`, the main loop sends
them every batch period through :class:`~deconflict.clients.sender.Poster`, and Ctrl-C ends the
feed after the request under way.
"""

from __future__ import annotations

import contextlib
import math
import queue
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from deconflict.adapters.feeds import FeedStats, state_to_wire
from deconflict.adapters.feeds.sbs import SbsDecoder
from deconflict.adapters.feeds.sbs_socket import sbs_socket_states
from deconflict.clients.sender import DEFAULT_URL, BrokerUnavailable, PartyTally, Poster, ReplayError, Sender
from deconflict.domain.tracks import TrackState


class LiveSource(Protocol):
    """A live feed as :func:`forward_live` reads it."""

    @property
    def stats(self) -> FeedStats:
        """Lines read and skipped so far (read while the feed runs, from another thread)."""

    @property
    def connections(self) -> int:
        """Connections opened so far: more than one means the feed was reconnected."""

    def states(self, stop: threading.Event) -> Iterator[TrackState]:
        """States as they arrive, until ``stop`` is set; blocks between them."""

    def interrupt(self) -> None:
        """Wake a :meth:`states` blocked on input, once ``stop`` is set, so it ends at once."""


class SbsSource:
    """A BaseStation TCP server (dump1090 port 30003) as a :class:`LiveSource`: reconnects with a
    back-off of ``initial_backoff_s`` doubling to ``max_backoff_s`` (see
    :func:`~deconflict.adapters.feeds.sbs_socket.sbs_socket_lines`); times are read as UTC, less
    ``utc_offset_s``."""

    def __init__(
        self,
        address: tuple[str, int] | str,
        *,
        utc_offset_s: float = 0.0,
        initial_backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.address = address
        self.decoder = SbsDecoder(utc_offset_s=utc_offset_s)
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self._connections = 0
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    @property
    def stats(self) -> FeedStats:
        return self.decoder.stats

    @property
    def connections(self) -> int:
        return self._connections

    def states(self, stop: threading.Event) -> Iterator[TrackState]:
        return sbs_socket_states(
            self.address,
            stop,
            self.decoder,
            connect=self._connect,
            initial_backoff_s=self.initial_backoff_s,
            max_backoff_s=self.max_backoff_s,
        )

    def _connect(self, address: tuple[str, int], timeout: float) -> socket.socket:
        sock = socket.create_connection(address, timeout=timeout)
        with self._lock:
            self._sock = sock
            self._connections += 1
        return sock

    def interrupt(self) -> None:
        # The reader notices ``stop`` only between reads (up to a second apart); shutting the socket
        # down ends the read in progress, so Ctrl-C or --max-seconds stop the feed without that wait.
        with self._lock:
            sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed by the reader
                sock.shutdown(socket.SHUT_RDWR)


@dataclass
class FeedSummary:
    """The outcome of forwarding a live feed (mutable: it counts as the feed goes)."""

    party: str
    tally: PartyTally = field(default_factory=PartyTally)
    received: int = 0
    """States read from the feed."""
    dropped: int = 0
    """States not delivered because the broker was unreachable (or answered 5xx) through every retry."""
    aircraft: int = 0
    batches: int = 0
    requests: int = 0
    connections: int = 0
    wall_s: float = 0.0
    stats: FeedStats = field(default_factory=FeedStats)
    error: str | None = None
    """Why the feed ended early (the broker refused the token, or is not the tracks API); ``None``
    when it ran until stopped."""

    def json(self) -> dict[str, Any]:
        return {
            "party": self.party,
            **self.tally.json(),
            "received": self.received,
            "dropped": self.dropped,
            "aircraft": self.aircraft,
            "batches": self.batches,
            "requests": self.requests,
            "connections": self.connections,
            "lines": self.stats.lines,
            "skipped": self.stats.skipped_total,
            "wall_s": round(self.wall_s, 3),
            "error": self.error,
        }


_END = object()
"""Put on the queue by the reader thread when its source is done."""
STOP_POLL_S = 0.1
"""How often the feed's main loop looks whether Ctrl-C asked it to stop."""


class _CtrlC:
    """While in use, the first Ctrl-C only asks the feed to stop: a request to the broker that is
    under way finishes and is counted, where a ``KeyboardInterrupt`` would abandon it with its
    answer unread (the broker has the states, the summary would not say so). A second Ctrl-C
    interrupts as usual. Outside the main thread, where Python cannot take signals, it does nothing.

    The handler only sets an attribute: it runs between any two bytecodes of the main thread, so it
    must not take a lock that thread may hold.
    """

    def __init__(self) -> None:
        self.pressed = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, self._handle)
            # None: a handler set outside Python; Python's own raises KeyboardInterrupt.
            self._previous = previous if previous is not None else signal.default_int_handler
            self._installed = True
        return self

    def _handle(self, signum: int, frame: object) -> None:
        self.pressed = True
        signal.signal(signal.SIGINT, self._previous)

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)


READER_JOIN_S = 2.0
"""How long a stopped feed waits for its reader thread: the source is interrupted, so it ends at
once unless it is stuck in a connect, which times out after a second."""


def forward_live(
    source: LiveSource,
    sender: Sender,
    *,
    client: httpx.Client,
    url: str = DEFAULT_URL,
    batch_s: float = 1.0,
    max_s: float | None = None,
    stop: threading.Event | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_batch: Callable[[FeedSummary], None] | None = None,
    on_drop: Callable[[str], None] | None = None,
) -> FeedSummary:
    """Forward the states of a live ``source`` to the broker at ``url``, every ``batch_s`` seconds
    the states read since the last batch, until ``stop`` is set, ``max_s`` seconds have passed, or
    Ctrl-C (which ends the feed like ``stop``: a request under way finishes and is counted, and the
    states read so far are still sent; a second Ctrl-C interrupts at once).

    States keep the times the feed gave them: live data is current, and re-stamping would hide a
    receiver whose clock is off (the broker refuses its states as too old or ahead of its clock,
    and the summary says so). A reader thread takes the states off the source as they come, so a
    slow broker delays batches but never the reading.

    An empty batch is sent first, so that an unreachable broker, a refused token or a party that
    may not report tracks raise :class:`ReplayError` before anything else. Later, a broker that
    stays unreachable through the retries costs only that batch (counted as dropped, reported to
    ``on_drop``); a refused token or an answer that is not the tracks API ends the feed, with the
    reason in :attr:`FeedSummary.error`. ``on_batch(summary)`` is called after every batch.
    """
    stop = stop if stop is not None else threading.Event()
    poster = Poster(client, url, sleep)
    summary = FeedSummary(party=sender.party, stats=source.stats)
    poster.check(sender)
    seen: set[str] = set()

    def flush(pending: list[TrackState]) -> None:
        if not pending:
            return
        wire = [state_to_wire(s) for s in pending]
        seen.update(s.aircraft for s in pending)
        sent_before = summary.tally.sent
        try:
            poster.send(sender, wire, summary.tally)
        except BrokerUnavailable as e:
            # The states of a batch that could not be delivered are stale by the next one: drop
            # them rather than pile them up while the broker is away.
            summary.dropped += len(wire) - (summary.tally.sent - sent_before)
            if on_drop is not None:
                on_drop(str(e))
        except ReplayError as e:
            summary.error = str(e)
        summary.batches += 1
        summary.requests = poster.requests
        summary.aircraft = len(seen)
        summary.connections = source.connections
        summary.wall_s = time.monotonic() - t0
        if on_batch is not None:
            on_batch(summary)

    inbox: queue.Queue[object] = queue.Queue()
    crashed: list[BaseException] = []

    def read() -> None:
        try:
            for s in source.states(stop):
                inbox.put(s)
        except BaseException as e:  # handed to the main thread, which raises it
            crashed.append(e)
        finally:
            inbox.put(_END)

    t0 = time.monotonic()
    end = math.inf if max_s is None else t0 + max_s
    reader = threading.Thread(target=read, name="deconflict-feed-reader", daemon=True)
    reader.start()
    pending: list[TrackState] = []
    next_batch = t0 + batch_s
    try:
        with _CtrlC() as ctrl_c:
            while summary.error is None and not ctrl_c.pressed:
                now = time.monotonic()
                if now >= next_batch or now >= end:
                    # Cleared before sending, so that a second Ctrl-C during the request does not
                    # send the batch again at the end.
                    batch, pending = pending, []
                    flush(batch)
                    next_batch += batch_s
                    after = time.monotonic()
                    if next_batch <= after:
                        # Behind (a slow broker): the next batch a full period away, not a burst of catch-ups.
                        next_batch = after + batch_s
                    if now >= end:
                        break
                    continue
                try:
                    item = inbox.get(timeout=min(next_batch - now, end - now, STOP_POLL_S))
                except queue.Empty:
                    continue
                if not isinstance(item, TrackState):  # _END: the source is done
                    break
                pending.append(item)
                summary.received += 1
    except KeyboardInterrupt:
        pass  # a second Ctrl-C, or one outside the main thread: stop, and still send what was read
    finally:
        stop.set()
        source.interrupt()
    reader.join(READER_JOIN_S)
    while True:
        try:
            item = inbox.get_nowait()
        except queue.Empty:
            break
        if isinstance(item, TrackState):
            pending.append(item)
            summary.received += 1
    if summary.error is None:
        flush(pending)
    summary.requests = poster.requests
    summary.connections = source.connections
    summary.wall_s = time.monotonic() - t0
    if crashed:
        raise crashed[0]
    return summary
