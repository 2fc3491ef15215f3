"""The command line: thin wrappers that parse, call the core or a service, and print."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from deconflict.cli import aco as cli_aco  # noqa: F401 (its commands join the import and export groups)
from deconflict.cli import broker as cli_broker
from deconflict.cli import client as cli_client
from deconflict.cli import client_feed as cli_client_feed
from deconflict.cli import client_replay as cli_client_replay
from deconflict.cli import detect as cli_detect
from deconflict.cli import formats as cli_formats
from deconflict.cli import geozones as cli_geozones  # noqa: F401 (as aco)
from deconflict.cli import keys as cli_keys
from deconflict.cli.common import (
    ConfigOption,
    DbOption,
    JsonOption,
    config_or_exit,
    err,
    open_broker,
    open_existing,
    read_json,
    upgrade_store,
)
from deconflict.cli.filings import filing_summary
from deconflict.cli.render import Row, Side, print_conflicts, print_notices, row_json
from deconflict.config import Config
from deconflict.domain.errors import DeconflictError, ValidationError
from deconflict.domain.index import VolumeIndex
from deconflict.domain.notice_json import parse_notices
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.volumes import Notice
from deconflict.services.broker import Broker, in_party_namespace
from deconflict.services.filing import FilingResult
from deconflict.services.ports import ConflictRecord, ConflictState

app = typer.Typer(
    help="deconflict: a neutral airspace de-confliction broker. Notices are information, never permission.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Manage the store's schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.command()(cli_broker.serve)
app.command()(cli_detect.detect)
app.command()(cli_client_replay.replay)
app.command()(cli_client_feed.feed)
app.command()(cli_broker.report)
app.add_typer(cli_broker.party_app, name="party", no_args_is_help=True)
app.add_typer(cli_broker.token_app, name="token", no_args_is_help=True)
app.add_typer(cli_broker.disclosure_app, name="disclosure", no_args_is_help=True)
app.add_typer(cli_broker.audit_app, name="audit", no_args_is_help=True)
app.add_typer(cli_keys.key_app, name="key", no_args_is_help=True)
app.add_typer(cli_client.client_app, name="client", no_args_is_help=True)
app.add_typer(cli_formats.import_app, name="import")
app.add_typer(cli_formats.export_app, name="export")


def read_notice_files(files: list[Path], config: Config) -> list[tuple[str, Notice]]:
    """Notices from files, each named by its id as the broker keeps it (``party:id``) or ``FILE#n``;
    kind ``protected-site`` marks a site."""
    out: list[tuple[str, Notice]] = []
    for f in files:
        doc = read_json(f)
        try:
            notices = parse_notices(doc, config.limits)
        except ValidationError as e:
            raise err("\n".join(f"{f}: {err}" for err in e.errors)) from None
        for i, n in enumerate(notices):
            out.append((in_party_namespace(n).id or f"{f.name}#{i}", n))
    return out


@app.command()
def check(
    files: Annotated[
        list[Path], typer.Argument(help="Notice files: a notice, a JSON list, or a GeoJSON FeatureCollection.")
    ],
    horizontal_m: Annotated[
        float | None, typer.Option(help="Horizontal minimum in metres (default 9260 = 5 NM).")
    ] = None,
    vertical_m: Annotated[
        float | None, typer.Option(help="Vertical minimum in metres (default 304.8 = 1000 ft).")
    ] = None,
    time_s: Annotated[float | None, typer.Option(help="Time minimum in seconds (default 300).")] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Check notice files against each other offline.

    Exit status: 0 no conflicts, 1 conflicts, 2 bad input (the field and the reason on stderr).
    """
    cfg = config_or_exit(config, None)
    sep = cfg.settings.separation
    try:
        policy = SeparationPolicy(
            horizontal_m=sep.horizontal_m if horizontal_m is None else horizontal_m,
            vertical_m=sep.vertical_m if vertical_m is None else vertical_m,
            time_s=sep.time_s if time_s is None else time_s,
        )
    except ValidationError as e:
        raise err(f"option --{e.errors[0].path.replace('_', '-')}: {e.errors[0].reason}") from None
    named = read_notice_files(files, cfg)
    seen: dict[str, int] = {}
    index = VolumeIndex()
    rows: list[Row] = []
    for name, n in named:
        seen[name] = seen.get(name, 0) + 1
        key = name if seen[name] == 1 else f"{name}#{seen[name]}"
        n = replace(n, id=key)  # conflicts name the other side by it
        for c in index.conflicts(n, policy):
            rows.append(
                Row(
                    Side(n.party, key, c.volume_a, n.protected),
                    Side(c.b.party, str(c.b.id), c.volume_b, c.b.protected),
                    c.detail,
                )
            )
        index.add(key, n)
    if as_json:
        typer.echo(json.dumps([row_json(r) for r in rows], indent=2))
    else:
        console = Console()
        print_conflicts(console, rows, f"{len(rows)} conflict(s) among {len(named)} notice(s)")
    raise typer.Exit(1 if rows else 0)


def _record_row(c: ConflictRecord, sites: frozenset[str] = frozenset()) -> Row:
    """A stored conflict as an output row; ``sites`` are the ids of protected-site notices."""
    return Row(
        Side(c.party_a, c.notice_a, c.volume_a, c.notice_a in sites),
        Side(c.party_b, c.notice_b, c.volume_b, c.notice_b in sites),
        c.detail,
        id=c.id,
        state=c.state.value,
    )


def _sites(broker: Broker) -> frozenset[str]:
    return broker.operator.site_ids()


@app.command()
def demo(
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    once: Annotated[
        bool, typer.Option("--once", help="File the theater into the store, print the conflicts and exit.")
    ] = False,
    speed: Annotated[
        float | None, typer.Option(help="Live: how many times faster than real time the broker's clock runs.")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="Live: the broker-clock time to start at (RFC 3339; default the theater's).")
    ] = None,
    theater: Annotated[
        Path | None, typer.Option(help="Live: a theater file of your own (the format of the built-in one).")
    ] = None,
    host: Annotated[str, typer.Option(help="Live: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Live: port (0: any free one).")] = 8000,
) -> None:
    """Run the broker live on the demo theater (Syria, 30 Sep 2015) until Ctrl-C; --once files it and exits.

    Live (the default): a broker on a throwaway store and an accelerated clock, the parties' notices
    filed when they reached the broker, aircraft flying them, hotline answers; prints the console's
    URL and one login link per party. --once files every demo notice into the store at the time it
    reached the broker (lead times and late notices as they were), then lists the conflicts;
    running it again re-uses the notices already filed.
    """
    if not once:
        for name, given in (("--db", db), ("--json", as_json)):
            if given:
                raise err(f"{name}: only with --once (the live demo runs on a throwaway store)")
        _live_demo(config, speed, start, theater, host, port)
        return
    for name, value in (("--speed", speed), ("--start", start), ("--theater", theater)):
        if value is not None:
            raise err(f"{name}: only for the live demo (without --once)")
    from deconflict.demo.theater import acknowledge_theater, theater_filings

    cfg = config_or_exit(config, db)
    console = Console()
    clock_now = [0.0]
    broker = open_broker(cfg, clock=lambda: clock_now[0])
    results = []
    already = broker.operator.stored_ids()
    with console.status("filing the demo theater…"):
        for f in theater_filings(cfg.limits):
            # a store from before ids were kept as party:id holds the bare ones
            if in_party_namespace(f.notice).id not in already and f.notice.id not in already:
                clock_now[0] = f.filed_at
                results.append(broker.file_as_operator(f.notice)[0])
        acknowledge_theater(broker, clock_now)  # the parties answer some threads on time, some late
    notices = broker.operator.notices()
    records = broker.operator.conflicts(ConflictState.OPEN)
    sites = frozenset(str(n.id) for n in notices if n.protected)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "db": cfg.db_url,
                    "filed": len(results),
                    "conflicts": [row_json(_record_row(c, sites)) for c in records],
                },
                indent=2,
            )
        )
        return
    console.print(f"[bold]deconflict demo[/bold] — store: {cfg.db_url}")
    for r in results:
        console.print("filed " + filing_summary(r), markup=False, highlight=False)
    if not results:
        console.print(f" {len(notices)} notice(s) already filed in this store")
    print_conflicts(console, [_record_row(c, sites) for c in records], f"{len(records)} open conflict(s)")


def _live_demo(
    config: Path | None, speed: float | None, start: str | None, theater: Path | None, host: str, port: int
) -> None:
    from deconflict.cli.broker import _listen
    from deconflict.cli.demo import run_live
    from deconflict.demo.live import live_theater
    from deconflict.demo.theater import load_theater_doc, theater_filings, with_import_texts

    cfg = config_or_exit(config, None)
    doc = load_theater_doc()
    try:
        if theater is not None:
            doc = read_json(theater, "--theater")
            if not isinstance(doc, dict):
                raise err(f"--theater {theater}: must be a JSON object (the format of the built-in theater)")
            doc = with_import_texts(doc, lambda name: (theater.parent / name).read_text(encoding="utf-8"))
        live = live_theater(doc, start, speed)
        theater_filings(cfg.limits, doc)  # every notice and imported file read before anything starts
    except ValidationError as e:
        raise err(f"{'--theater ' + str(theater) if theater else 'theater'}: {e}") from None
    sock = _listen(host, port)
    try:
        run_live(cfg, live, host, sock.getsockname()[1], sock)
    except ValidationError as e:
        raise err(f"{'--theater ' + str(theater) if theater else 'theater'}: {e}") from None
    finally:
        sock.close()


@app.command("file")
def file_(
    files: Annotated[list[Path], typer.Argument(help="Notice files to file in the store.")],
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """File notices in the store (received now) and print their conflicts."""
    cfg = config_or_exit(config, db)
    named = read_notice_files(files, cfg)
    broker = open_broker(cfg)
    console = Console()
    out: list[FilingResult] = []
    for name, n in named:
        try:
            r = broker.file_as_operator(n)[0]
        except ValidationError as e:
            done = f" (the {len(out)} notice(s) before it were filed)" if out else ""
            raise err("\n".join(f"{name}: {x}" for x in e.errors) + done) from None
        out.append(r)
        if not as_json:
            console.print(filing_summary(r), markup=False, highlight=False)
    if as_json:
        sites = _sites(broker)
        typer.echo(
            json.dumps(
                [
                    {
                        "notice": r.notice.id,
                        "version": r.notice.version,
                        "late": r.late,
                        "lead_time_s": r.lead_time_s,
                        "conflicts": [row_json(_record_row(c, sites)) for c in r.conflicts],
                    }
                    for r in out
                ],
                indent=2,
            )
        )
    raise typer.Exit(1 if any(r.conflicts for r in out) else 0)


@app.command()
def notices(
    db: DbOption = None,
    config: ConfigOption = None,
    party: Annotated[str | None, typer.Option(help="Only this party's notices.")] = None,
) -> None:
    """List the notices in the store."""
    cfg = config_or_exit(config, db)
    broker = open_existing(cfg)
    rows = broker.operator.notices(party)
    print_notices(Console(), rows)


@app.command()
def conflicts(
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    all_: Annotated[bool, typer.Option("--all", help="Include resolved conflicts.")] = False,
) -> None:
    """List the conflicts in the store (open ones unless --all)."""
    cfg = config_or_exit(config, db)
    broker = open_existing(cfg)
    recs = broker.operator.conflicts(None if all_ else ConflictState.OPEN)
    sites = _sites(broker)
    rows = [_record_row(c, sites) for c in recs]
    if as_json:
        typer.echo(json.dumps([row_json(r) for r in rows], indent=2))
    else:
        print_conflicts(Console(), rows, f"{len(rows)} conflict(s)")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Bring the store's schema up to date (Alembic migrations); creates the store if there is none."""
    cfg = config_or_exit(None, db)
    upgrade_store(cfg.db_url)
    typer.echo(f"schema up to date: {cfg.db_url}")


def main() -> None:
    """The ``deconflict`` command: every error is one line on stderr and exit status 2, never a
    traceback (``DECONFLICT_DEBUG=1`` shows the traceback of an unexpected error)."""
    try:
        app()
    except DeconflictError as e:  # the tree of deconflict.domain.errors
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except Exception as e:
        if os.environ.get("DECONFLICT_DEBUG"):
            raise
        first = (str(e).splitlines() or [""])[0]
        print(f"error: {type(e).__name__}: {first} (DECONFLICT_DEBUG=1 shows where)", file=sys.stderr)
        sys.exit(2)
