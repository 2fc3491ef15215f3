"""Tactical commands: ``detect`` (the engine on one snapshot, offline), ``replay`` (a recording
played into a running broker) and ``feed`` (a live BaseStation feed forwarded to a broker).
Registered on the main app in :mod:`deconflict.cli`.

The commands parse, call and print; the work is in :mod:`deconflict.services.replay`, whose loops
take their sender (an ``httpx.Client``), clock and sleep as arguments. The commands find the same
seams in a :class:`ReplayRuntime` or :class:`FeedRuntime` given as the Click context object
(``obj=``), so tests drive them without waiting, and use the real ones otherwise.
"""

from __future__ import annotations

import csv
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from deconflict.cli_common import err, readable_file, writable_file
from deconflict.domain import tactical
from deconflict.domain.errors import ValidationError
from deconflict.domain.volumes import AltitudeReference
from deconflict.services.replay import (
    DEFAULT_URL,
    FeedFormat,
    FeedSummary,
    PartyTally,
    ReplayError,
    ReplaySummary,
    SbsSource,
    Sender,
    confirm_senders,
    forward_live,
    load_recording,
    parse_senders,
    party_of,
    replay_states,
    window,
)

# Sender, party_of and replay_states were defined here before the replay machinery moved to
# deconflict.services.replay; they stay importable from here for the code that still does so.
__all__ = ["FeedRuntime", "ReplayRuntime", "Sender", "detect", "feed", "party_of", "replay", "replay_states"]


def _positive(value: float | None, option: str) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise err(f"option {option}: must be a positive number, got {value}")


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
    readable_file(states)
    if pairs_out is not None:
        writable_file(pairs_out, "--pairs-out")
    try:
        snap = read_snapshot(states)
    except FileNotFoundError:
        raise err(f"{states}: no such file") from None
    except OSError as e:
        raise err(f"{states}: {e.strerror or e}") from None
    except ValidationError as e:
        raise err("\n".join(str(x) for x in e.errors)) from None
    given = {"rpz_m": rpz_m, "hpz_m": hpz_m, "lookahead_s": lookahead_s}
    try:
        policy = tactical.TacticalPolicy(
            **{k: v for k, v in given.items() if v is not None}, all_pairs=snap.party is None
        )
    except ValidationError as e:
        raise err(f"option --{e.errors[0].path.replace('_', '-')}: {e.errors[0].reason}") from None
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
            raise err(f"--pairs-out {pairs_out}: {e.strerror or e}") from None
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
        raise err(f"option --start-s: must be zero or more, got {start_s}")
    if not url.startswith(("http://", "https://")):
        raise err(f"option --url: {url!r} is not an http:// or https:// URL")
    try:
        senders = parse_senders(party, parties_by_hash, token)
    except ValueError as e:
        raise err(str(e)) from None
    console = Console(stderr=True)
    readable_file(file)
    try:
        with console.status(f"reading {file}…"):
            states, stats = load_recording(file, fmt, alt_ref)
    except FileNotFoundError:
        raise err(f"{file}: no such file") from None
    except OSError as e:
        raise err(f"{file}: {e.strerror or e}") from None
    except ValidationError as e:
        raise err("\n".join(str(x) for x in e.errors)) from None
    if stats.skipped_total:
        kinds = ", ".join(f"{n} × {k}" for k, n in stats.skipped.most_common(5))
        console.print(f"{file}: skipped {stats.skipped_total} malformed line(s): {kinds}", markup=False)
    states = window(states, start_s, duration_s)
    if not states:
        raise err(f"{file}: no states to replay ({stats.lines} line(s) read)")
    try:  # whose tokens these are, before the progress bar and the first batch
        _with_client(runtime.client, lambda c: confirm_senders(senders, client=c, url=url, sleep=runtime.sleep))
    except ReplayError as e:
        raise err(str(e)) from None
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
                confirm=False,
            )
            progress.update(task, completed=max(span, 1e-9))  # a one-batch replay is done too
    except ReplayError as e:
        raise err(str(e)) from None
    finally:
        if own_client:
            client.close()
    if as_json:
        typer.echo(json.dumps({"file": str(file), **summary.json()}, indent=2))
        return
    _print_summary(summary, len(states), span)


def _with_client(client: httpx.Client | None, use: Callable[[httpx.Client], None]) -> None:
    """``use(client)``, or ``use`` a client opened for the call when ``client`` is ``None``."""
    if client is not None:
        use(client)
        return
    with httpx.Client(timeout=httpx.Timeout(10.0)) as own:
        use(own)


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
    url: Annotated[str, typer.Option(help="The broker's base URL.")] = DEFAULT_URL,
    token: Annotated[
        str | None, typer.Option(envvar="DECONFLICT_TOKEN", show_envvar=True, help="Bearer token of the party.")
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
    from deconflict.adapters.feeds.sbs import parse_address

    runtime = ctx.obj if isinstance(ctx.obj, FeedRuntime) else FeedRuntime()
    _positive(batch_s, "--batch-s")
    _positive(max_seconds, "--max-seconds")
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

    own_client = runtime.client is None
    client = runtime.client if runtime.client is not None else httpx.Client(timeout=httpx.Timeout(10.0))
    try:
        with status:
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
    finally:
        if own_client:
            client.close()
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
