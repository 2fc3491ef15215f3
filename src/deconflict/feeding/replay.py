"""Tracks into a running broker over HTTP: a recording played back (:func:`replay_states`), or a
live BaseStation feed forwarded as it comes (:func:`forward_live`).

Both send batches to ``POST /v1/tracks`` through one poster, which retries transient failures,
halves batches the broker finds too large and counts what it refuses by reason. Senders, clocks
and sleeps are passed in, so tests drive the loops without waiting; ``deconflict replay`` and
``deconflict feed`` (:mod:`deconflict.cli_client_feed`) only parse, call and print.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import queue
import re
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import httpx

from deconflict.adapters.feeds import FeedStats, state_to_wire
from deconflict.adapters.feeds.sbs import SbsDecoder, sbs_socket_states
from deconflict.domain.tracks import TrackState
from deconflict.domain.volumes import AltitudeReference

MAX_STATES_PER_REQUEST = 1000
"""States in one ``POST /v1/tracks``: a batch of more is sent in several requests. Well under the
broker's own limits (10 000 states, 4 MB), so a dense recording never trips them."""
RETRY_DELAYS_S = (0.5, 1.0, 2.0)
"""Waits before retrying a request that failed in transport or with a 5xx: a broker restarting or
briefly overloaded should not end a long replay, a broker that stays down should end it soon."""
DEFAULT_URL = "http://127.0.0.1:8000"

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
_STATE_PREFIX = re.compile(r"^states\[\d+\]\.?")


class FeedFormat(StrEnum):
    """Recording formats ``replay`` reads (``auto`` looks at the name, then at the first bytes)."""

    AUTO = "auto"
    SBS = "sbs"
    CSV = "csv"
    OPENSKY = "opensky"


@dataclass(frozen=True)
class Sender:
    """A party whose aircraft are replayed, and the bearer token it reports them with."""

    party: str
    token: str


@dataclass
class PartyTally:
    """What the broker said to one party's requests (mutable: it counts as the replay goes)."""

    sent: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    """Refused states by ``field: reason``, with numbers in the reason replaced by ``N`` so that
    "is 12.3 s old" and "is 13.1 s old" count as one reason."""
    examples: dict[str, str] = field(default_factory=dict)
    """The first refusal of each counted reason, word for word (``alt_m: must be between -500 and
    30000 m, got 40000.0``): the numbers a summary needs to be acted on."""

    def reject(self, field_path: str, reason: str, n: int = 1) -> None:
        """Count ``n`` refused states under ``field: reason`` (see :attr:`rejected`)."""
        name = _STATE_PREFIX.sub("", field_path) or "state"
        key = f"{name}: {_NUMBER.sub('N', reason)}"
        self.rejected[key] += n
        self.examples.setdefault(key, f"{name}: {reason}")

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    @property
    def not_kept(self) -> int:
        """Accepted by neither count: the broker keeps only the newest report of an aircraft."""
        return self.sent - self.accepted - self.rejected_total

    def json(self) -> dict[str, Any]:
        """Sent, accepted and refused counts, the reasons most frequent first."""
        reasons = [
            {"reason": k, "count": n, "example": self.examples.get(k, k)} for k, n in self.rejected.most_common()
        ]
        return {"sent": self.sent, "accepted": self.accepted, "rejected": self.rejected_total, "reasons": reasons}


@dataclass
class ReplaySummary:
    """The outcome of a replay, party by party."""

    parties: dict[str, PartyTally]
    aircraft: int = 0
    batches: int = 0
    requests: int = 0
    recording_s: float = 0.0
    wall_s: float = 0.0

    def total(self) -> PartyTally:
        t = PartyTally()
        for p in self.parties.values():
            t.sent += p.sent
            t.accepted += p.accepted
            t.rejected.update(p.rejected)
            t.examples = {**p.examples, **t.examples}
        return t

    def json(self) -> dict[str, Any]:
        return {
            **self.total().json(),
            "aircraft": self.aircraft,
            "batches": self.batches,
            "requests": self.requests,
            "recording_s": round(self.recording_s, 3),
            "wall_s": round(self.wall_s, 3),
            "parties": {name: t.json() for name, t in self.parties.items()},
        }


class ReplayError(Exception):
    """A replay that cannot go on: the broker is unreachable, refuses the token, or answers
    something that is not the tracks API."""


class BrokerUnavailable(ReplayError):
    """The broker could not be reached, or answered 5xx, through every retry. A replay ends on it
    like on any :class:`ReplayError`; a live feed drops the batch and goes on, since the broker may
    come back and the states that follow will be current again."""


def party_of(aircraft: str, parties: Sequence[str]) -> str:
    """The party an aircraft is replayed as when a recording is split between ``parties``: a stable
    hash of its id (SHA-256, not Python's ``hash``, which changes from run to run), so an aircraft
    stays with one party for the whole replay and across replays and machines.

    >>> party_of("3c6444", ["ru", "us"]) == party_of("3C6444", ["ru", "us"])
    True
    """
    if len(parties) == 1:
        return parties[0]
    digest = hashlib.sha256(aircraft.strip().lower().encode()).digest()
    return parties[int.from_bytes(digest[:8], "big") % len(parties)]


def batches(states: Sequence[TrackState], batch_s: float) -> Iterator[list[TrackState]]:
    """Time-sorted states in windows of ``batch_s`` seconds of recording, counted from the first
    state (empty windows are skipped).

    >>> [[s.time for s in b] for b in batches([TrackState("a", t, 0, 0, 0) for t in (0, .5, 1, 3.2)], 1.0)]
    [[0, 0.5], [1], [3.2]]
    """
    if not states:
        return
    t0 = states[0].time
    current: list[TrackState] = []
    window = 0
    for s in states:
        w = math.floor((s.time - t0) / batch_s)
        if w != window and current:
            yield current
            current = []
        window = w
        current.append(s)
    if current:
        yield current


def _message(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.text[:200] or r.reason_phrase
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, list) and detail and isinstance(detail[0], dict):
            d = detail[0]
            return f"{d.get('field', '')}: {d.get('reason', '')}".strip(": ")
        return str(body.get("message") or body.get("error") or body)[:200]
    return str(body)[:200]


def _is_json(r: httpx.Response) -> bool:
    return str(r.headers.get("content-type", "")).startswith("application/json")


class _Poster:
    """Sends one party's states to ``POST /v1/tracks``, retrying transient failures and halving
    batches the broker finds too large."""

    def __init__(self, client: httpx.Client, url: str, sleep: Callable[[float], None]) -> None:
        self.client = client
        self.url = url.rstrip("/")
        self.endpoint = self.url + "/v1/tracks"
        self.sleep = sleep
        self.requests = 0

    def send(self, sender: Sender, wire: list[dict[str, Any]], tally: PartyTally) -> None:
        for start in range(0, len(wire), MAX_STATES_PER_REQUEST):
            self._send(sender, wire[start : start + MAX_STATES_PER_REQUEST], tally)

    def check(self, sender: Sender) -> None:
        """Send an empty batch: the broker answers it like any other, so a wrong URL, a refused
        token or a party that may not report tracks shows before there is anything to send."""
        self.confirm(sender)
        self._send(sender, [], PartyTally())

    def confirm(self, sender: Sender) -> None:
        """Ask the broker whose token ``sender`` holds (``GET /v1/me``) and raise
        :class:`ReplayError` unless it is ``sender.party``'s: states sent with another party's
        token would be that party's aircraft, whatever ``--party`` said."""
        r = self._request("GET", self.url + "/v1/me", sender, None)
        if r.status_code == 401:
            raise ReplayError(f"party {sender.party}: the broker refused the token (401: {_message(r)})")
        body = r.json() if r.status_code == 200 and _is_json(r) else None
        if not isinstance(body, dict) or not isinstance(body.get("party"), str):
            raise ReplayError(
                f"{self.url}/v1/me answered HTTP {r.status_code} with {r.text[:200]!r}: is this a deconflict broker?"
            )
        if body["party"] != sender.party:
            raise ReplayError(
                f"--party {sender.party}: the token given for {sender.party} is {body['party']}'s; give "
                f"{sender.party}'s own token (states sent with it would be reported as {body['party']}'s aircraft)"
            )

    def _post(self, sender: Sender, wire: list[dict[str, Any]]) -> httpx.Response:
        return self._request("POST", self.endpoint, sender, {"states": wire}, count=True)

    def _request(
        self, method: str, endpoint: str, sender: Sender, body: dict[str, Any] | None, count: bool = False
    ) -> httpx.Response:
        """One request, retried on a transport failure or a 5xx; with ``count`` every attempt counts
        in :attr:`requests` (the requests that carry states)."""
        headers = {"Authorization": f"Bearer {sender.token}"}
        for attempt in range(len(RETRY_DELAYS_S) + 1):
            if count:
                self.requests += 1
            try:
                r = self.client.request(method, endpoint, json=body, headers=headers)
            except httpx.TransportError as e:
                problem = f"cannot reach the broker at {self.url} ({type(e).__name__}: {e})"
            else:
                if r.status_code < 500:
                    return r
                problem = f"the broker at {self.url} answered HTTP {r.status_code}: {_message(r)}"
            if attempt < len(RETRY_DELAYS_S):
                self.sleep(RETRY_DELAYS_S[attempt])
        raise BrokerUnavailable(f"{problem}; gave up after {len(RETRY_DELAYS_S) + 1} attempts")

    def _send(self, sender: Sender, wire: list[dict[str, Any]], tally: PartyTally) -> None:
        r = self._post(sender, wire)
        if r.status_code == 413 and len(wire) > 1:
            half = len(wire) // 2
            self._send(sender, wire[:half], tally)
            self._send(sender, wire[half:], tally)
            return
        tally.sent += len(wire)
        if r.status_code == 200:
            body = r.json() if _is_json(r) else None
            if not isinstance(body, dict) or not isinstance(body.get("accepted"), int):
                raise ReplayError(f"{self.endpoint} answered 200 with {r.text[:200]!r}: is this a deconflict broker?")
            tally.accepted += body["accepted"]
            for item in body.get("rejected") or []:
                if isinstance(item, dict):
                    tally.reject(str(item.get("field", "")), str(item.get("reason", "")))
            return
        if r.status_code == 401:
            raise ReplayError(f"party {sender.party}: the broker refused the token (401: {_message(r)})")
        if r.status_code == 403:
            raise ReplayError(f"party {sender.party}: may not report tracks (403: {_message(r)})")
        if r.status_code in (413, 422):
            # The whole request was refused: count its states under the broker's reason and go on.
            tally.reject("request", f"HTTP {r.status_code}: {_message(r)}", len(wire))
            return
        raise ReplayError(f"{self.endpoint} answered HTTP {r.status_code}: {_message(r)}")


def replay_states(
    states: Sequence[TrackState],
    senders: Sequence[Sender],
    *,
    client: httpx.Client,
    url: str = DEFAULT_URL,
    speed: float = 10.0,
    batch_s: float = 1.0,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    on_batch: Callable[[float, ReplaySummary], None] | None = None,
    confirm: bool = True,
) -> ReplaySummary:
    """Play time-sorted ``states`` into the broker at ``url``, ``speed`` seconds of recording per
    wall-clock second, in batches of ``batch_s`` seconds of recording.

    Each batch is sent when its last state is due. Every state is re-stamped to the wall-clock
    moment it stands for at that point: the send time, less its distance in (paced) time from the
    batch's last state. A recording is hours or years old and the broker refuses states older than
    its track timeout (or ahead of its clock), and predicts conflicts from *now*: re-stamping makes
    the recording a live picture. Velocities stay as recorded.

    With several senders each aircraft goes to ``party_of(aircraft, parties)``, and each party's
    part of a batch is sent with its own token. ``on_batch(recording seconds done, summary)`` is
    called after every batch (for a progress bar). Raises :class:`ReplayError` when the broker is
    unreachable, refuses a token, or does not answer like the tracks API, and before anything is
    sent when a token is not its party's (:func:`confirm_senders`; ``confirm=False`` when the
    caller has done that already).
    """
    parties = [s.party for s in senders]
    by_party = {s.party: s for s in senders}
    summary = ReplaySummary(parties={p: PartyTally() for p in parties})
    if not states:
        return summary
    poster = _Poster(client, url, sleep)
    if confirm:
        confirm_senders(senders, client=client, url=url, sleep=sleep)
    owner: dict[str, str] = {}
    t0 = states[0].time
    w0 = clock()
    for batch in batches(states, batch_s):
        t_last = batch[-1].time
        delay = w0 + (t_last - t0) / speed - clock()
        if delay > 0:
            sleep(delay)
        sent_at = clock()
        parts: dict[str, list[dict[str, Any]]] = {p: [] for p in parties}
        for s in batch:
            p = owner.get(s.aircraft)
            if p is None:
                p = owner[s.aircraft] = party_of(s.aircraft, parties)
            parts[p].append(state_to_wire(s, time=sent_at - (t_last - s.time) / speed))
        for p, wire in parts.items():
            if wire:
                poster.send(by_party[p], wire, summary.parties[p])
        summary.batches += 1
        summary.requests = poster.requests
        summary.recording_s = t_last - t0
        summary.wall_s = clock() - w0
        if on_batch is not None:
            on_batch(t_last - t0, summary)
    summary.aircraft = len(owner)
    return summary


def confirm_senders(
    senders: Sequence[Sender],
    *,
    client: httpx.Client,
    url: str = DEFAULT_URL,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Ask the broker at ``url`` whose each sender's token is (``GET /v1/me``); raise
    :class:`ReplayError` naming both parties when a token is another party's, and when the broker
    refuses a token or cannot be reached."""
    poster = _Poster(client, url, sleep)
    for sender in senders:
        poster.confirm(sender)


def parse_senders(party: str | None, parties_by_hash: str | None, token: str | None) -> list[Sender]:
    """The senders from ``--party`` or ``--parties-by-hash`` and ``--token``.

    ``token`` is one token for every party, or ``P1=TOKEN1,P2=TOKEN2`` (a bare token among them is
    the default for the parties not named). Raises :class:`ValueError` naming the option at fault.

    >>> parse_senders(None, "ru,us", "ru=dcf_a,dcf_b")
    [Sender(party='ru', token='dcf_a'), Sender(party='us', token='dcf_b')]
    """
    if (party is None) == (parties_by_hash is None):
        raise ValueError("give --party P, or --parties-by-hash P1,P2 to split the aircraft between parties")
    names = (
        [party.strip()] if party is not None else [p.strip() for p in (parties_by_hash or "").split(",") if p.strip()]
    )
    if not names or not all(names):
        raise ValueError("--party/--parties-by-hash: no party named")
    if len(set(names)) != len(names):
        raise ValueError("--parties-by-hash: a party is named twice")
    own: dict[str, str] = {}
    default: str | None = None
    for item in (token or "").split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        # Broker tokens never contain '=' (URL-safe base64 without padding), so NAME=... is a
        # party's token; anything else is the token for everyone.
        if sep and name in names:
            if not value:
                raise ValueError(f"--token: empty token for party {name}")
            own[name] = value
        elif sep:
            raise ValueError(f"--token names {name!r}, which is not among the parties ({', '.join(names)})")
        elif default is not None:
            raise ValueError("--token: two tokens without a party; write P1=TOKEN1,P2=TOKEN2")
        else:
            default = item
    senders = []
    for name in names:
        tok = own.get(name, default)
        if tok is None:
            raise ValueError(f"no token for party {name}: give --token {name}=TOKEN (or set DECONFLICT_TOKEN)")
        senders.append(Sender(name, tok))
    return senders


_SBS_START = re.compile(rb"\s*(MSG|SEL|ID|AIR|STA|CLK),", re.ASCII)


def sniff_format(path: Path) -> FeedFormat:
    """The format of a recording from its name, else from its first bytes."""
    name = path.name.lower()
    if name.endswith((".json", ".json.gz", ".jsonl", ".jsonl.gz")):
        return FeedFormat.OPENSKY
    if name.endswith(".csv"):
        return FeedFormat.CSV
    if name.endswith((".sbs", ".sbs1", ".basestation")):
        return FeedFormat.SBS
    with open(path, "rb") as f:
        head = f.read(512)
    if head[:2] == b"\x1f\x8b" or head.lstrip()[:1] in (b"[", b"{"):
        return FeedFormat.OPENSKY
    if _SBS_START.match(head):
        return FeedFormat.SBS
    return FeedFormat.CSV


def load_recording(path: Path, fmt: FeedFormat, alt_ref: AltitudeReference) -> tuple[list[TrackState], FeedStats]:
    """The states of a recording, sorted by time, and what its reader skipped.

    Raises :class:`ValidationError` for a CSV or JSON that cannot be read as a recording, and
    :class:`OSError` for a file that cannot be read at all.
    """
    from deconflict.adapters.feeds import csv_states, opensky, sbs

    if fmt is FeedFormat.AUTO:
        fmt = sniff_format(path)
    stats = FeedStats()
    if fmt is FeedFormat.SBS:
        states, stats = sbs.read_sbs_file(path)
        states = sorted(states, key=lambda s: s.time)
    elif fmt is FeedFormat.OPENSKY:
        states = opensky.read_opensky(path, stats=stats)
    else:
        states = csv_states.read_recording_csv(path, default_alt_ref=alt_ref)
        stats.lines = stats.states = len(states)
    return states, stats


def window(states: list[TrackState], start_s: float, duration_s: float | None) -> list[TrackState]:
    """The time-sorted ``states`` from ``start_s`` seconds after the first, for ``duration_s``
    seconds (to the end when ``None``)."""
    if not states or (start_s == 0 and duration_s is None):
        return states
    lo = states[0].time + start_s
    hi = math.inf if duration_s is None else lo + duration_s
    return [s for s in states if lo <= s.time < hi]


# ------------------------------------------------------------------------------------ live feeds


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
    :func:`~deconflict.adapters.feeds.sbs.sbs_socket_lines`); times are read as UTC, less
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
    poster = _Poster(client, url, sleep)
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
