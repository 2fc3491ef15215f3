"""Commands that run or administer the broker: ``serve``, ``party``, ``token``, ``disclosure``,
``audit``. Registered on the main app in :mod:`deconflict.cli`."""

from __future__ import annotations

import errno
import io
import json
import socket
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from deconflict.adapters.sql import SqlStore
from deconflict.cli.common import (
    ConfigOption,
    DbOption,
    config_or_exit,
    err,
    open_broker,
    open_existing,
    read_json,
    read_text,
    say_verification,
    writable_file,
    write_text,
)
from deconflict.cli.render import print_parties, print_report, print_rules
from deconflict.cli.serve_workers import MAX_WORKERS, run_workers
from deconflict.domain.disclosure_policy import Level
from deconflict.domain.errors import NotFoundError, ValidationError
from deconflict.domain.parties import Role

party_app = typer.Typer(help="Register parties and issue their credentials (run on the broker's host).")
token_app = typer.Typer(help="Manage bearer tokens.")
disclosure_app = typer.Typer(help="Need-to-know rules: who sees how much of whom (see docs/disclosure.md).")
audit_app = typer.Typer(help="Export and verify the hash-chained event log.")


def serve(
    db: DbOption = None,
    config: ConfigOption = None,
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on (default: server.host in the configuration, else 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default: server.port in the configuration, else 8000).")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="Processes serving the port, as replicas of one broker (PostgreSQL only; "
            "about one per core: docs/deploy.md)."
        ),
    ] = 1,
) -> None:
    """Run the broker: the HTTP API (docs at /docs), live events and webhooks.

    Takes the address first (exit 2 if another process holds it, before anything is created), then
    brings the store's schema up to date and creates the signing key on first start.
    """
    import uvicorn

    from deconflict import __version__
    from deconflict.api import create_app
    from deconflict.cli.runtime import tune_for_serving
    from deconflict.config import theater_policy

    cfg = config_or_exit(config, db)
    if not 1 <= workers <= MAX_WORKERS:
        raise err(f"--workers {workers}: must be 1 to {MAX_WORKERS}")
    if workers > 1 and not cfg.db_url.startswith("postgresql"):
        raise err(f"--workers {workers}: needs PostgreSQL; SQLite lets one process write (docs/deploy.md)")
    h = host or cfg.server.host
    p = cfg.server.port if port is None else port
    sock = _listen(h, p)  # served as is: no other process can take the port in between
    try:
        broker = open_broker(cfg)
        try:
            broker.check_key()  # the key the log's last rotation put in force, or none was rotated
        except ValidationError as e:
            raise err(str(e)) from None
        broker.record_start(__version__)
        broker.record_policy(theater_policy(cfg))  # logged only when the agreed definitions changed
        if workers > 1:
            typer.echo(f"deconflict {__version__}: store {cfg.db_url}, key {cfg.key_file} ({broker.key.key_id()})")
            typer.echo(f"API and docs: http://{h}:{p}/docs ({workers} worker processes)")
            if isinstance(broker.store, SqlStore):
                broker.store.close()  # each worker opens its own
            run_workers(sock, h, p, workers, cfg.db_url, config)
            return
        app = create_app(broker, cfg)
        tune_for_serving()  # after start-up: see deconflict/runtime.py
        typer.echo(f"deconflict {__version__}: store {cfg.db_url}, key {cfg.key_file} ({broker.key.key_id()})")
        typer.echo(f"API and docs: http://{h}:{p}/docs")
        server = uvicorn.Server(uvicorn.Config(app, host=h, port=p, log_level="info", timeout_graceful_shutdown=2))
        server.run(sockets=[sock])
    finally:
        sock.close()


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` as uvicorn binds one (IPv6 when the host has a colon), or
    exit 2 saying why not."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if not 0 <= port <= 65535:
        raise err(f"--port {port}: must be 0 to 65535")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart need not wait out TIME_WAIT
    try:
        sock.bind((host, port))
    except socket.gaierror as e:
        sock.close()
        raise err(f"--host {host}: cannot resolve it ({e.strerror or e})") from None
    except (OSError, UnicodeError) as e:
        sock.close()
        in_use = isinstance(e, OSError) and e.errno == errno.EADDRINUSE
        why = "address already in use (another process listens there)" if in_use else getattr(e, "strerror", None) or e
        raise err(f"cannot listen on {where}: {why}; choose another --port or --host") from None
    sock.set_inheritable(True)
    return sock


@party_app.command("add")
def party_add(
    name: Annotated[str, typer.Argument(help="Party name: a-z 0-9 . _ - (e.g. ru-vks).")],
    role: Annotated[Role, typer.Option(help="party, authority (also files protected sites), observer or admin.")],
    coalition: Annotated[str | None, typer.Option(help="Coalition name: members see each other in full.")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Register a party and print its bearer token. The token is shown once; only its hash is kept."""
    broker = open_broker(config_or_exit(config, db))
    try:
        party, token = broker.add_party(name, role, coalition)
    except ValidationError as e:
        raise err(str(e)) from None
    typer.echo(f"added {party.name} ({party.role.value}{', coalition ' + coalition if coalition else ''})", err=True)
    typer.echo(token)


@party_app.command("list")
def party_list(db: DbOption = None, config: ConfigOption = None, as_json: bool = typer.Option(False, "--json")) -> None:
    """List the registered parties."""
    parties = open_existing(config_or_exit(config, db)).list_parties()
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {"name": p.name, "role": p.role.value, "coalition": p.coalition, "revoked": p.revoked}
                    for p in parties
                ],
                indent=2,
            )
        )
        return
    print_parties(Console(), parties)


@party_app.command("revoke")
def party_revoke(name: str, db: DbOption = None, config: ConfigOption = None) -> None:
    """Revoke a party: its tokens stop working at once. Its notices and history stay."""
    try:
        open_existing(config_or_exit(config, db), write=True).revoke_party(name)
    except NotFoundError as e:
        raise err(str(e)) from None
    typer.echo(f"revoked {name}")


@token_app.command("rotate")
def token_rotate(name: str, db: DbOption = None, config: ConfigOption = None) -> None:
    """Issue a new token for a party and revoke its old ones; prints the new token once."""
    try:
        token = open_existing(config_or_exit(config, db), write=True).rotate_token(name)
    except (NotFoundError, ValidationError) as e:
        raise err(str(e)) from None
    typer.echo(token)


@disclosure_app.command("set")
def disclosure_set(
    viewer: Annotated[str, typer.Argument(help="The party or observer that sees.")],
    subject: Annotated[str, typer.Argument(help="The party whose activity is seen.")],
    level: Annotated[str, typer.Argument(help="full, conflicts-only, existence, none, or 'default' to remove.")],
    both_ways: Annotated[bool, typer.Option("--both-ways", help="Set the same level from subject to viewer.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Set what VIEWER sees of SUBJECT (an observer grant, or a pair's level). Logged as an event."""
    try:
        lvl = None if level == "default" else Level.parse("level", level)
        open_existing(config_or_exit(config, db), write=True).set_disclosure(viewer, subject, lvl, both_ways)
    except (NotFoundError, ValidationError) as e:
        raise err(str(e)) from None
    typer.echo(f"{viewer} sees {subject}: {level}")


@disclosure_app.command("list")
def disclosure_list(db: DbOption = None, config: ConfigOption = None) -> None:
    """The explicit rules in force (configuration, overridden by `disclosure set`)."""
    broker = open_existing(config_or_exit(config, db))
    rules = broker.disclosure_rules()
    listed = [(v, s, level.text) for (v, s), level in sorted(rules.items())]
    print_rules(Console(), broker.policy.default.text, listed)


@audit_app.command("export")
def audit_export(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (default: stdout).")] = Path("-"),
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Export the whole log (as an admin would get it from /v1/audit/export), signed."""
    from deconflict.domain.parties import Party

    if str(out) != "-":
        writable_file(out, "--out")
    broker = open_existing(config_or_exit(config, db))
    try:
        text = json.dumps(broker.export(Party("admin", Role.ADMIN)), indent=1)
    except ValidationError as e:  # the key file is missing or unreadable
        raise err(str(e)) from None
    if str(out) == "-":
        typer.echo(text)
    else:
        write_text(out, text, "--out")
        typer.echo(f"wrote {out}", err=True)


@audit_app.command("verify")
def audit_verify(
    file: Annotated[Path, typer.Argument(help="An export from /v1/audit/export or `deconflict audit export`.")],
    key: Annotated[
        str | None,
        typer.Option(help="The broker's public key (base64 or PEM, or a file holding it), obtained out of band."),
    ] = None,
) -> None:
    """Check an export: every event's hash, the chain linking them, the signed head, every receipt.

    Exit status: 0 when everything checks against the key given with --key; 1 when something was
    edited, removed, inserted, reordered or forged (each problem is printed with where it is); 2 when
    the file or the key cannot be read; 3 when, without --key, the export is consistent with the key
    it carries but that key is not trusted: whoever rewrites a log can re-sign it with a key of their
    own, so only --key with the broker's key obtained out of band makes the check a full one.
    """
    from deconflict.domain.audit import load_public_key, verify_export

    doc = read_json(file)
    expected = None
    if key is not None:
        as_file = Path(key).exists()
        text = read_text(Path(key), "--key") if as_file else key
        try:
            expected = load_public_key(text)
        except ValidationError as e:
            reason = e.errors[0].reason
            if as_file:
                raise err(f"--key: {reason} (read from {key})") from None
            if "/" in key or key.endswith((".pub", ".pem", ".key")):
                raise err(f"--key {key}: no such file, and not a key either ({reason})") from None
            raise err(f"--key: {reason}") from None
    if not isinstance(doc, dict):
        raise err(f"{file}: not an audit export (expected a JSON object)")
    say_verification(verify_export(doc, expected), str(file))


def report(
    since: Annotated[
        str | None, typer.Option(help="Start of the period, RFC 3339, included (default: 24 h before --until).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="End of the period, RFC 3339, excluded (default: now; not later).")
    ] = None,
    format_: Annotated[str, typer.Option("--format", help="table, json or html.")] = "table",
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (default: stdout).")] = Path("-"),
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Compliance per party over a period: notices and lead times, late notices, conflicts,
    acknowledgements on time / late / missing, nonconformance and incursion minutes.

    Drawn up as the admin (every party) and recorded in the event log with its hash, like a report
    fetched from /v1/reports/compliance.
    """
    from deconflict.domain.parties import Party
    from deconflict.report_html import render_html, render_table
    from deconflict.services.reports import compliance

    if format_ not in ("table", "json", "html"):
        raise err(f"--format: must be table, json or html, got {format_!r}")
    to_file = str(out) != "-"
    if to_file:  # a report that cannot be written is not drawn up and logged
        writable_file(out, "--out")
    broker = open_existing(config_or_exit(config, db))
    try:
        r = compliance(broker, Party("admin", Role.ADMIN), since, until)
    except ValidationError as e:
        raise err("\n".join(f"--{x.path}: {x.reason}" for x in e.errors)) from None
    footer = f"report sha256 {r.sha256}, recorded in the event log at seq {r.log_seq}"
    if format_ == "table":
        if not to_file:
            print_report(Console(), r.report)
            Console().print(footer, markup=False, highlight=False)
            return
        console = Console(file=io.StringIO(), record=True, width=160)
        console.print(render_table(r.report))
        text = console.export_text()
    elif format_ == "json":
        text = json.dumps(r.to_json(), indent=1) + "\n"
    else:
        text = render_html(r.report, report_hash=r.sha256, log_seq=r.log_seq)
    if not to_file:
        typer.echo(text, nl=False)
        return
    write_text(out, text, "--out", f"; the report was logged: {footer}")
    typer.echo(f"wrote {out}; {footer}", err=True)
