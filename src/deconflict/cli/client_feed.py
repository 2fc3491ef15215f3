"""Tracks into a running broker, from the client side: ``replay`` (a recording played into a
running broker) and ``feed`` (a live BaseStation feed forwarded to a broker). Registered on the
main app in :mod:`deconflict.cli`; ``replay`` is in :mod:`deconflict.cli.client_replay`.

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
from typing import Annotated

import httpx
import typer
from rich.console import Console

from deconflict.cli.client_common import target, under_client
from deconflict.cli.common import err
from deconflict.cli.detect import positive
from deconflict.clients.live import FeedSummary, SbsSource, forward_live
from deconflict.clients.sender import (
    DEFAULT_URL,
    PartyTally,
    ReplayError,
    parse_senders,
)

__all__ = ["FeedRuntime", "feed"]


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


def hms(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


@contextmanager
def http_client(client: httpx.Client | None) -> Iterator[httpx.Client]:
    """``client`` (a test's), or one opened for the command and closed after it."""
    if client is not None:
        yield client
        return
    with httpx.Client(timeout=httpx.Timeout(10.0)) as own:
        yield own


def print_refusals(t: PartyTally) -> None:
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
        with http_client(runtime.client) as client, status:
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
        f"{hms(summary.wall_s)} ({summary.connections} connection(s), {summary.requests} request(s)) as party "
        f"{summary.party}: sent {t.sent}, accepted {t.accepted}, rejected {t.rejected_total}"
    )
    if summary.dropped:
        typer.echo(f"  {summary.dropped} state(s) dropped: the broker could not be reached")
    stats = summary.stats
    if stats.skipped_total:
        kinds = ", ".join(f"{n} × {k}" for k, n in stats.skipped.most_common(5))
        typer.echo(f"  {stats.skipped_total} malformed line(s) of {stats.lines} skipped: {kinds}")
    print_refusals(t)
