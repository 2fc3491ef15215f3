"""``replay``: a recording played into a running broker, from the client side (registered twice, as
``deconflict replay`` and ``deconflict client replay``, like ``feed``: see
:mod:`deconflict.cli.client_feed`, whose options and helpers it shares)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from deconflict.cli.client_feed import URL_HELP, broker_and_token, hms, http_client, print_refusals
from deconflict.cli.common import err, readable_file, reading
from deconflict.cli.detect import positive
from deconflict.clients.recording import FeedFormat, load_recording, window
from deconflict.clients.replay import ReplaySummary, replay_states
from deconflict.clients.sender import (
    DEFAULT_URL,
    ReplayError,
    Sender,
    confirm_senders,
    parse_senders,
)
from deconflict.domain.tracks import TrackState
from deconflict.domain.volumes import AltitudeReference

__all__ = ["ReplayRuntime", "replay"]


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
    with http_client(runtime.client) as client:
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
        TextColumn("{task.fields[at]} / " + hms(span)),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    task = progress.add_task("replaying", total=max(span, 1e-9), at=hms(0))

    def on_batch(done_s: float, s: ReplaySummary) -> None:
        t = s.total()
        desc = f"sent {t.sent} · accepted {t.accepted} · rejected {t.rejected_total}"
        progress.update(task, completed=done_s, description=desc, at=hms(done_s))

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


def _print_summary(summary: ReplaySummary, states: int, span: float) -> None:
    t = summary.total()
    typer.echo(
        f"replayed {states} states of {summary.aircraft} aircraft ({hms(span)} of recording in "
        f"{hms(summary.wall_s)}, {summary.requests} request(s)) as {len(summary.parties)} part"
        f"{'y' if len(summary.parties) == 1 else 'ies'}: sent {t.sent}, accepted {t.accepted}, "
        f"rejected {t.rejected_total}"
    )
    if len(summary.parties) > 1:
        for name, p in summary.parties.items():
            typer.echo(f"  {name}: sent {p.sent}, accepted {p.accepted}, rejected {p.rejected_total}")
    print_refusals(t)
