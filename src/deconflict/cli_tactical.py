"""Tactical commands: ``detect`` (the engine on one snapshot, offline) and ``replay`` (a recording
played into a running broker). Registered on the main app in :mod:`deconflict.cli`.

The replay loop itself (:func:`replay_states`) is a plain function with its sender (an
``httpx.Client``), clock and sleep passed in, so tests drive it without waiting; the command finds
the same seams in a :class:`ReplayRuntime` given as the Click context object (``obj=``), and uses
the real ones otherwise.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from deconflict.adapters.feeds import FeedStats, state_to_wire
from deconflict.domain import tactical
from deconflict.domain.errors import ValidationError
from deconflict.domain.tracks import TrackState
from deconflict.domain.volumes import AltitudeReference

MAX_STATES_PER_REQUEST = 1000
"""States in one ``POST /v1/tracks``: a batch of more is sent in several requests. Well under the
broker's own limits (10 000 states, 4 MB), so a dense recording never trips them."""
RETRY_DELAYS_S = (0.5, 1.0, 2.0)
"""Waits before retrying a request that failed in transport or with a 5xx: a broker restarting or
briefly overloaded should not end a long replay, a broker that stays down should end it soon."""
DEFAULT_URL = "http://127.0.0.1:8000"


def _err(message: str, code: int = 2) -> typer.Exit:
    """Print an error to stderr unwrapped (scripts grep it) and return the exit to raise."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def _positive(value: float | None, option: str) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise _err(f"option {option}: must be a positive number, got {value}")


# --------------------------------------------------------------------------------------- detect


def detect(
    states: Annotated[
        Path,
        typer.Argument(
            help="CSV snapshot: id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps and optionally party (SI units).",
            show_default=False,
        ),
    ],
    rpz_m: Annotated[
        float | None, typer.Option("--rpz-m", help="Horizontal protected radius in metres (default 9260 = 5 NM).")
    ] = None,
    hpz_m: Annotated[
        float | None,
        typer.Option("--hpz-m", help="Vertical protected half-height in metres (default 304.8 = 1000 ft)."),
    ] = None,
    lookahead_s: Annotated[
        float | None, typer.Option("--lookahead-s", help="Look-ahead in seconds (default 300).")
    ] = None,
    pairs_out: Annotated[
        Path | None,
        typer.Option(
            "--pairs-out", help="Write the pairs CSV here instead of to stdout (the summary then goes to stdout)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary and the pairs as JSON on stdout.")] = False,
) -> None:
    """Predict losses of separation among the aircraft of one snapshot, offline.

    Extrapolates every aircraft along a straight line (closest point of approach) and lists the
    pairs that come within the protected zone in the look-ahead. With a party column only pairs of
    different parties count; without it, all pairs. Pairs are written as CSV
    id_a,id_b,tcpa_s,dcpa_m with id_a < id_b, sorted.

    Exit status: 0 no conflicts, 1 conflicts, 2 bad input (the line, the column and the reason on stderr).
    """
    from deconflict.adapters.feeds.csv_states import read_snapshot

    for value, option in ((rpz_m, "--rpz-m"), (hpz_m, "--hpz-m"), (lookahead_s, "--lookahead-s")):
        _positive(value, option)
    try:
        snap = read_snapshot(states)
    except FileNotFoundError:
        raise _err(f"{states}: no such file") from None
    except OSError as e:
        raise _err(f"{states}: {e.strerror or e}") from None
    except ValidationError as e:
        raise _err("\n".join(str(x) for x in e.errors)) from None
    given = {"rpz_m": rpz_m, "hpz_m": hpz_m, "lookahead_s": lookahead_s}
    try:
        policy = tactical.TacticalPolicy(
            **{k: v for k, v in given.items() if v is not None}, all_pairs=snap.party is None
        )
    except ValidationError as e:
        raise _err(f"option --{e.errors[0].path.replace('_', '-')}: {e.errors[0].reason}") from None
    found = tactical.detect(
        tactical.States.from_arrays(
            lat=snap.lat,
            lon=snap.lon,
            alt_m=snap.alt_m,
            gs_mps=snap.gs_mps,
            trk_deg=snap.trk_deg,
            vs_mps=snap.vs_mps,
            group=snap.party_codes(),
        ),
        policy,
    )
    rows = _pair_rows(snap.ids, found)
    los = sum(1 for r in rows if r.los)
    scope = "all pairs" if snap.party is None else "pairs of different parties"
    summary = (
        f"{len(rows)} conflict(s) among {len(snap)} aircraft ({los} already in loss of separation); "
        f"rpz {policy.rpz_m:g} m, hpz {policy.hpz_m:g} m, look-ahead {policy.lookahead_s:g} s, {scope}"
    )
    if pairs_out is not None:
        try:
            with open(pairs_out, "w", newline="") as f:
                _write_pairs(f, rows)
        except OSError as e:
            raise _err(f"--pairs-out {pairs_out}: {e.strerror or e}") from None
    if as_json:
        doc = {
            "aircraft": len(snap),
            "conflicts": len(rows),
            "los": los,
            "policy": {"rpz_m": policy.rpz_m, "hpz_m": policy.hpz_m, "lookahead_s": policy.lookahead_s},
            "all_pairs": snap.party is None,
            "pairs": [
                {"id_a": r.id_a, "id_b": r.id_b, "tcpa_s": r.tcpa_s, "dcpa_m": r.dcpa_m, "los": r.los} for r in rows
            ],
        }
        typer.echo(json.dumps(doc, indent=2))
    elif pairs_out is not None:
        typer.echo(summary)
    else:
        _write_pairs(sys.stdout, rows)
        typer.echo(summary, err=True)
    raise typer.Exit(1 if rows else 0)


@dataclass(frozen=True)
class PairRow:
    """One conflict pair as ``detect`` writes it: ``id_a < id_b`` in string order."""

    id_a: str
    id_b: str
    tcpa_s: float
    dcpa_m: float
    los: bool


def _pair_rows(ids: Sequence[str], found: tactical.Conflicts) -> list[PairRow]:
    rows = []
    cols = (found.i.tolist(), found.j.tolist(), found.tcpa_s.tolist(), found.dcpa_m.tolist(), found.los.tolist())
    for i, j, tcpa, dcpa, los in zip(*cols, strict=True):
        a, b = ids[int(i)], ids[int(j)]
        if b < a:
            a, b = b, a
        # + 0.0 turns a -0.0 (a pair already at its closest point) into 0.0 in the CSV and the JSON
        rows.append(PairRow(a, b, round(float(tcpa), 3) + 0.0, round(float(dcpa), 3) + 0.0, bool(los)))
    rows.sort(key=lambda r: (r.id_a, r.id_b))
    return rows


def _write_pairs(out: Any, rows: Sequence[PairRow]) -> None:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["id_a", "id_b", "tcpa_s", "dcpa_m"])
    for r in rows:
        w.writerow([r.id_a, r.id_b, _one_decimal(r.tcpa_s), _one_decimal(r.dcpa_m)])


def _one_decimal(x: float) -> str:
    text = f"{x:.1f}"
    return "0.0" if text == "-0.0" else text


# --------------------------------------------------------------------------------------- replay


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
        def tally(t: PartyTally) -> dict[str, Any]:
            reasons = [{"reason": k, "count": n, "example": t.examples.get(k, k)} for k, n in t.rejected.most_common()]
            return {"sent": t.sent, "accepted": t.accepted, "rejected": t.rejected_total, "reasons": reasons}

        return {
            **tally(self.total()),
            "aircraft": self.aircraft,
            "batches": self.batches,
            "requests": self.requests,
            "recording_s": round(self.recording_s, 3),
            "wall_s": round(self.wall_s, 3),
            "parties": {name: tally(t) for name, t in self.parties.items()},
        }


class ReplayError(Exception):
    """A replay that cannot go on: the broker is unreachable, refuses the token, or answers
    something that is not the tracks API."""


@dataclass(frozen=True)
class ReplayRuntime:
    """The seams of ``replay``: pass one as the Click context object to drive the command in tests.

    ``clock`` is wall-clock epoch seconds: it both paces the replay and stamps the states, since
    the broker compares the stamps with its own wall clock.
    """

    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    client: httpx.Client | None = None
    """Sender; ``None`` opens an ``httpx.Client`` for the command's duration."""


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

    def _post(self, sender: Sender, wire: list[dict[str, Any]]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {sender.token}"}
        for attempt in range(len(RETRY_DELAYS_S) + 1):
            self.requests += 1
            try:
                r = self.client.post(self.endpoint, json={"states": wire}, headers=headers)
            except httpx.TransportError as e:
                problem = f"cannot reach the broker at {self.url} ({type(e).__name__}: {e})"
            else:
                if r.status_code < 500:
                    return r
                problem = f"the broker at {self.url} answered HTTP {r.status_code}: {_message(r)}"
            if attempt < len(RETRY_DELAYS_S):
                self.sleep(RETRY_DELAYS_S[attempt])
        raise ReplayError(f"{problem}; gave up after {len(RETRY_DELAYS_S) + 1} attempts")

    def _send(self, sender: Sender, wire: list[dict[str, Any]], tally: PartyTally) -> None:
        r = self._post(sender, wire)
        if r.status_code == 413 and len(wire) > 1:
            half = len(wire) // 2
            self._send(sender, wire[:half], tally)
            self._send(sender, wire[half:], tally)
            return
        tally.sent += len(wire)
        if r.status_code == 200:
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else None
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
    unreachable, refuses a token, or does not answer like the tracks API.
    """
    parties = [s.party for s in senders]
    by_party = {s.party: s for s in senders}
    summary = ReplaySummary(parties={p: PartyTally() for p in parties})
    if not states:
        return summary
    poster = _Poster(client, url, sleep)
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


def _window(states: list[TrackState], start_s: float, duration_s: float | None) -> list[TrackState]:
    if not states or (start_s == 0 and duration_s is None):
        return states
    lo = states[0].time + start_s
    hi = math.inf if duration_s is None else lo + duration_s
    return [s for s in states if lo <= s.time < hi]


def _hms(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def replay(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="Recording: SBS-1/BaseStation text, CSV, or OpenSky-style JSON (.json/.json.gz).")
    ],
    party: Annotated[
        str | None, typer.Option(help="The party whose token is used; every aircraft is replayed as its own.")
    ] = None,
    parties_by_hash: Annotated[
        str | None,
        typer.Option(
            "--parties-by-hash",
            help="P1,P2,…: split the aircraft between these parties by a stable hash of their id "
            "(each party's states are sent with its own token).",
        ),
    ] = None,
    speed: Annotated[float, typer.Option(help="Seconds of recording per wall-clock second.")] = 10.0,
    url: Annotated[str, typer.Option(help="The broker's base URL.")] = DEFAULT_URL,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="DECONFLICT_TOKEN",
            show_envvar=True,
            help="Bearer token, or P1=TOKEN1,P2=TOKEN2 with --parties-by-hash.",
        ),
    ] = None,
    fmt: Annotated[FeedFormat, typer.Option("--format", help="Recording format (auto: from the name and content).")] = (
        FeedFormat.AUTO
    ),
    batch_s: Annotated[
        float, typer.Option("--batch-s", help="Seconds of recording per batch (one request per party).")
    ] = 1.0,
    alt_ref: Annotated[
        AltitudeReference,
        typer.Option("--alt-ref", help="Altitude reference of CSV rows that give none (STD = pressure altitude)."),
    ] = AltitudeReference.STD,
    start_s: Annotated[float, typer.Option("--start-s", help="Skip this many seconds of the recording.")] = 0.0,
    duration_s: Annotated[
        float | None, typer.Option("--duration-s", help="Replay only this many seconds of the recording.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Play a recording into a running broker (POST /v1/tracks), paced by --speed.

    Every state is re-stamped to the wall-clock moment it is sent, so the broker sees live tracks
    (a recording's own times are far older than the track timeout). Velocities stay as recorded:
    with --speed above 1 aircraft move between reports faster than their velocity says.

    Exit status: 0 done (states the broker refused are counted in the summary), 2 bad input, an
    unreachable broker or a refused token.
    """
    runtime = ctx.obj if isinstance(ctx.obj, ReplayRuntime) else ReplayRuntime()
    _positive(speed, "--speed")
    _positive(batch_s, "--batch-s")
    _positive(duration_s, "--duration-s")
    if not (math.isfinite(start_s) and start_s >= 0):
        raise _err(f"option --start-s: must be zero or more, got {start_s}")
    if not url.startswith(("http://", "https://")):
        raise _err(f"option --url: {url!r} is not an http:// or https:// URL")
    try:
        senders = parse_senders(party, parties_by_hash, token)
    except ValueError as e:
        raise _err(str(e)) from None
    console = Console(stderr=True)
    try:
        with console.status(f"reading {file}…"):
            states, stats = load_recording(file, fmt, alt_ref)
    except FileNotFoundError:
        raise _err(f"{file}: no such file") from None
    except OSError as e:
        raise _err(f"{file}: {e.strerror or e}") from None
    except ValidationError as e:
        raise _err("\n".join(str(x) for x in e.errors)) from None
    if stats.skipped_total:
        kinds = ", ".join(f"{n} × {k}" for k, n in stats.skipped.most_common(5))
        console.print(f"{file}: skipped {stats.skipped_total} malformed line(s): {kinds}", markup=False)
    states = _window(states, start_s, duration_s)
    if not states:
        raise _err(f"{file}: no states to replay ({stats.lines} line(s) read)")
    span = states[-1].time - states[0].time
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[at]} / " + _hms(span)),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    task = progress.add_task("replaying", total=max(span, 1e-9), at=_hms(0))

    def on_batch(done_s: float, s: ReplaySummary) -> None:
        t = s.total()
        desc = f"sent {t.sent} · accepted {t.accepted} · rejected {t.rejected_total}"
        progress.update(task, completed=done_s, description=desc, at=_hms(done_s))

    own_client = runtime.client is None
    client = runtime.client if runtime.client is not None else httpx.Client(timeout=httpx.Timeout(10.0))
    try:
        with progress:
            summary = replay_states(
                states,
                senders,
                client=client,
                url=url,
                speed=speed,
                batch_s=batch_s,
                clock=runtime.clock,
                sleep=runtime.sleep,
                on_batch=on_batch,
            )
            progress.update(task, completed=max(span, 1e-9))  # a one-batch replay is done too
    except ReplayError as e:
        raise _err(str(e)) from None
    finally:
        if own_client:
            client.close()
    if as_json:
        typer.echo(json.dumps({"file": str(file), **summary.json()}, indent=2))
        return
    _print_summary(summary, len(states), span)


def _print_summary(summary: ReplaySummary, states: int, span: float) -> None:
    t = summary.total()
    typer.echo(
        f"replayed {states} states of {summary.aircraft} aircraft ({_hms(span)} of recording in "
        f"{_hms(summary.wall_s)}, {summary.requests} request(s)) as {len(summary.parties)} part"
        f"{'y' if len(summary.parties) == 1 else 'ies'}: sent {t.sent}, accepted {t.accepted}, "
        f"rejected {t.rejected_total}"
    )
    if len(summary.parties) > 1:
        for name, p in summary.parties.items():
            typer.echo(f"  {name}: sent {p.sent}, accepted {p.accepted}, rejected {p.rejected_total}")
    if t.not_kept:
        typer.echo(f"  {t.not_kept} state(s) not kept: older than the broker's latest report of their aircraft")
    if t.rejected:
        typer.echo("rejected, by reason (the first of each kind):")
        for reason, n in t.rejected.most_common():
            typer.echo(f"  {n:>8}  {t.examples.get(reason, reason)}")
