"""Tracks into a running broker, from the client side: ``replay`` (a recording played into a
running broker) and ``feed`` (a live BaseStation feed forwarded to a broker). Registered on the
main app in :mod:`deconflict.cli`.

Each is registered twice, as the same function: ``deconflict replay``/``feed`` take the broker's
URL and the token as their own options (``--url``, ``--token`` or ``DECONFLICT_TOKEN``), and
``deconflict client replay``/``feed`` take them like every client command (``deconflict client
--url URL --token TOKEN replay …``, ``DECONFLICT_URL``/``DECONFLICT_TOKEN``, or a profile), while
the command's own ``--token`` still gives several parties' tokens (``P1=TOKEN1,P2=TOKEN2``).

The commands parse, call and print; the work is in :mod:`deconflict.clients`, whose loops
take their sender (an ``httpx.Client``), clock and sleep as arguments. The commands find the same
seams in a :class:`ReplayRuntime` or :class:`FeedRuntime` given as the Click context object
(``obj=``), so tests drive them without waiting, and use the real ones otherwise.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from deconflict.cli.client_common import target, under_client
from deconflict.cli.common import err, readable_file, reading
from deconflict.cli.detect import positive
from deconflict.clients.live import FeedSummary, SbsSource, forward_live
from deconflict.clients.recording import FeedFormat, load_recording, window
from deconflict.clients.replay import ReplaySummary, replay_states
from deconflict.clients.sender import (
    DEFAULT_URL,
    PartyTally,
    ReplayError,
    Sender,
    confirm_senders,
    parse_senders,
)
from deconflict.domain.tracks import TrackState
from deconflict.domain.volumes import AltitudeReference

__all__ = ["FeedRuntime", "ReplayRuntime", "feed", "replay"]


URL_HELP = "The broker's base URL (under `deconflict client`: --url before the command, $DECONFLICT_URL or a profile)."


def broker_and_token(ctx: typer.Context, url: str, token: str | None) -> tuple[str, str | None]:
    """The broker's URL and the ``--token`` value the command goes on with.

    At the top level (``deconflict replay``) they are the command's own options. Under ``deconflict
    client`` the URL is the client's (``--url`` before the command, ``DECONFLICT_URL``, a profile);
    the token is the command's own ``--token`` when it is typed (it may name several parties'
    tokens), else the client's (``--token`` before the command, ``DECONFLICT_TOKEN``, a profile).
    """
    if not under_client(ctx):
        return url, token
    if _typed(ctx, "url"):
        raise err(
            f"option --url: under `deconflict client` the broker's URL goes before the command "
            f"(deconflict client --url URL {ctx.info_name} …), in DECONFLICT_URL or in a profile"
        )
    typed = token if _typed(ctx, "token") else None
    where = target(ctx, need_token=typed is None)
    return where.url, typed or where.token


def _typed(ctx: typer.Context, name: str) -> bool:
    """Whether option ``name`` was typed on the command line (not a default or the environment).
    By the enum's name: typer carries its own copy of Click, whose enum is not ``click``'s."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


# --------------------------------------------------------------------------------------- replay


@dataclass(frozen=True)
class ReplayRuntime:
    """The seams of ``replay``: pass one as the Click context object to drive the command in tests
    (``deconflict client replay`` finds it too: the client keeps its own options in its own context).

    ``clock`` is wall-clock epoch seconds: it both paces the replay and stamps the states, since
    the broker compares the stamps with its own wall clock.
    """

    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    client: httpx.Client | None = None
    """Sender; ``None`` opens an ``httpx.Client`` for the command's duration."""


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
    url: Annotated[str, typer.Option(help=URL_HELP)] = DEFAULT_URL,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="DECONFLICT_TOKEN",
            show_envvar=True,
            help="Bearer token, or P1=TOKEN1,P2=TOKEN2 with --parties-by-hash (under `deconflict client`: "
            "by default the client's token).",
        ),
    ] = None,
    fmt: Annotated[FeedFormat, typer.Option("--format", help="Recording format (auto: from the name and content).")] = (
        FeedFormat.AUTO
    ),
    batch_s: Annotated[
        float, typer.Option("--batch-s", help="Seconds of recording per batch (one request per party).")
    ] = 1.0,
    alt_ref: Annotated[
        AltitudeReference | None,
        typer.Option(
            "--alt-ref",
            help="Altitude reference of a CSV recording's rows that give none (STD pressure altitude, AMSL, "
            "W84 GNSS): required when the CSV has no alt_ref column or empty cells in it, since it is never "
            "guessed. Not for SBS-1 (Mode S altitude is barometric, STD, by definition) or OpenSky JSON "
            "(barometric altitude, STD, named as such): their altitudes say their reference.",
            show_default=False,
        ),
    ] = None,
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
    runtime = ctx.find_object(ReplayRuntime) or ReplayRuntime()
    url, token = broker_and_token(ctx, url, token)
    positive(speed, "--speed")
    positive(batch_s, "--batch-s")
    positive(duration_s, "--duration-s")
    if not (math.isfinite(start_s) and start_s >= 0):
        raise err(f"option --start-s: must be zero or more, got {start_s}")
    if not url.startswith(("http://", "https://")):
        raise err(f"option --url: {url!r} is not an http:// or https:// URL")
    try:
        senders = parse_senders(party, parties_by_hash, token)
    except ValueError as e:
        raise err(str(e)) from None
    console = Console(stderr=True)
    readable_file(file)
    with reading(file), console.status(f"reading {file}…"):
        states, stats = load_recording(file, fmt, alt_ref)
    if stats.skipped_total:
        kinds = ", ".join(f"{n} × {k}" for k, n in stats.skipped.most_common(5))
        console.print(f"{file}: skipped {stats.skipped_total} malformed line(s): {kinds}", markup=False)
    states = window(states, start_s, duration_s)
    if not states:
        raise err(f"{file}: no states to replay ({stats.lines} line(s) read)")
    with _http(runtime.client) as client:
        try:  # whose tokens these are, before the progress bar and the first batch
            confirm_senders(senders, client=client, url=url, sleep=runtime.sleep)
        except ReplayError as e:
            raise err(str(e)) from None
        summary = _replay(states, senders, client, url, speed, batch_s, runtime)
    if as_json:
        typer.echo(json.dumps({"file": str(file), **summary.json()}, indent=2))
        return
    _print_summary(summary, len(states), states[-1].time - states[0].time)


def _replay(
    states: list[TrackState],
    senders: list[Sender],
    client: httpx.Client,
    url: str,
    speed: float,
    batch_s: float,
    runtime: ReplayRuntime,
) -> ReplaySummary:
    """Play ``states`` into the broker with a progress bar (on stderr)."""
    console = Console(stderr=True)
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
                confirm=False,
            )
            progress.update(task, completed=max(span, 1e-9))  # a one-batch replay is done too
    except ReplayError as e:
        raise err(str(e)) from None
    return summary


@contextmanager
def _http(client: httpx.Client | None) -> Iterator[httpx.Client]:
    """``client`` (a test's), or one opened for the command and closed after it."""
    if client is not None:
        yield client
        return
    with httpx.Client(timeout=httpx.Timeout(10.0)) as own:
        yield own


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
    _print_refusals(t)


def _print_refusals(t: PartyTally) -> None:
    if t.not_kept:
        typer.echo(f"  {t.not_kept} state(s) not kept: older than the broker's latest report of their aircraft")
    if t.rejected:
        typer.echo("rejected, by reason (the first of each kind):")
        for reason, n in t.rejected.most_common():
            typer.echo(f"  {n:>8}  {t.examples.get(reason, reason)}")


# ----------------------------------------------------------------------------------------- feed


@dataclass(frozen=True)
class FeedRuntime:
    """The seams of ``feed``: pass one as the Click context object to drive the command in tests."""

    sleep: Callable[[float], None] = time.sleep
    """Waits between retries of a request to the broker."""
    client: httpx.Client | None = None
    """Sender; ``None`` opens an ``httpx.Client`` for the command's duration."""
    backoff_s: float = 1.0
    """First wait before reconnecting to the feed (doubling to 30 s)."""


def feed(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(
            help="BaseStation (SBS-1) TCP server: host:port or tcp://host:port (dump1090 serves it on port 30003).",
            show_default=False,
        ),
    ],
    party: Annotated[str, typer.Option(help="The party whose token is used; every aircraft is reported as its own.")],
    url: Annotated[str, typer.Option(help=URL_HELP)] = DEFAULT_URL,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="DECONFLICT_TOKEN",
            show_envvar=True,
            help="Bearer token of the party (under `deconflict client`: by default the client's token).",
        ),
    ] = None,
    batch_s: Annotated[
        float, typer.Option("--batch-s", help="Seconds between batches (one request with the states read since).")
    ] = 1.0,
    max_seconds: Annotated[
        float | None, typer.Option("--max-seconds", help="Stop after this many seconds (default: run until Ctrl-C).")
    ] = None,
    utc_offset_s: Annotated[
        float,
        typer.Option(
            "--utc-offset-s",
            help="The receiver's clock offset east of UTC in seconds, if its SBS times are local (7200 for UTC+2).",
        ),
    ] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Forward a live SBS-1/BaseStation feed to a running broker (POST /v1/tracks) until Ctrl-C.

    States keep the times the feed gives them (live data is current), so the receiver's clock must
    be right: the broker refuses states older than its track timeout or ahead of its clock. A
    dropped or refused connection to the feed is retried, waiting 1 s doubling to 30 s; a batch the
    broker cannot take after retries is dropped and the feed goes on.

    Exit status: 0 stopped (states the broker refused are counted in the summary), 2 bad input, a
    broker unreachable at the start, or a refused token.
    """
    from deconflict.adapters.feeds.sbs_socket import parse_address

    runtime = ctx.find_object(FeedRuntime) or FeedRuntime()
    url, token = broker_and_token(ctx, url, token)
    positive(batch_s, "--batch-s")
    positive(max_seconds, "--max-seconds")
    if not math.isfinite(utc_offset_s):
        raise err(f"option --utc-offset-s: must be a number of seconds, got {utc_offset_s}")
    if not url.startswith(("http://", "https://")):
        raise err(f"option --url: {url!r} is not an http:// or https:// URL")
    try:
        address = parse_address(source)
        (sender,) = parse_senders(party, None, token)
    except ValueError as e:
        raise err(str(e)) from None
    console = Console(stderr=True)
    where = f"{address[0]}:{address[1]}"
    live = SbsSource(address, utc_offset_s=utc_offset_s, initial_backoff_s=runtime.backoff_s)
    status = console.status(f"forwarding {where} to {url} as {sender.party}…")

    def on_batch(s: FeedSummary) -> None:
        t = s.tally
        status.update(
            f"{where}: {s.aircraft} aircraft · sent {t.sent} · accepted {t.accepted} · rejected {t.rejected_total}"
            + (f" · dropped {s.dropped}" if s.dropped else "")
        )

    def on_drop(problem: str) -> None:
        console.print(f"batch dropped: {problem}", markup=False, highlight=False)

    try:
        with _http(runtime.client) as client, status:
            summary = forward_live(
                live,
                sender,
                client=client,
                url=url,
                batch_s=batch_s,
                max_s=max_seconds,
                sleep=runtime.sleep,
                on_batch=on_batch,
                on_drop=on_drop,
            )
    except ReplayError as e:
        raise err(str(e)) from None
    if as_json:
        typer.echo(json.dumps({"source": where, **summary.json()}, indent=2))
    else:
        _print_feed_summary(summary, where)
    if summary.error is not None:
        raise err(summary.error)


def _print_feed_summary(summary: FeedSummary, where: str) -> None:
    t = summary.tally
    typer.echo(
        f"forwarded {summary.received} states of {summary.aircraft} aircraft from {where} in "
        f"{_hms(summary.wall_s)} ({summary.connections} connection(s), {summary.requests} request(s)) as party "
        f"{summary.party}: sent {t.sent}, accepted {t.accepted}, rejected {t.rejected_total}"
    )
    if summary.dropped:
        typer.echo(f"  {summary.dropped} state(s) dropped: the broker could not be reached")
    stats = summary.stats
    if stats.skipped_total:
        kinds = ", ".join(f"{n} × {k}" for k, n in stats.skipped.most_common(5))
        typer.echo(f"  {stats.skipped_total} malformed line(s) of {stats.lines} skipped: {kinds}")
    _print_refusals(t)
