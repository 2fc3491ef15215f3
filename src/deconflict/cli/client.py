"""``deconflict client``: a party's commands against a remote broker, over its HTTP API.

The broker's URL and the party's token come from ``--url``/``--token``, else ``DECONFLICT_URL``/
``DECONFLICT_TOKEN``, else a profile in the client file (``--client-config`` or
``DECONFLICT_CLIENT_CONFIG``, default ``~/.config/deconflict/client.toml``; see docs/client.md).
The token is never printed. Exit status: 0 done, 1 conflicts found (``file``, ``update``) or an
audit that does not verify, 2 bad input or a refusal by the broker (its field and reason on one
stderr line), 3 an audit checked only against the key inside the export (as ``audit verify``), 4
the broker could not be reached or failed (5xx).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from deconflict.cli import client_feed as feeding
from deconflict.cli import client_live as live
from deconflict.cli import client_replay as replaying
from deconflict.cli.client_common import CLIENT_META, IdsOption, calling, out, say, show_list, target
from deconflict.cli.client_render import (
    conflict_lines,
    filing_line,
    notice_lines,
    notices_table,
)
from deconflict.cli.common import JsonOption, err, read_json
from deconflict.clients.responses import ClientError

client_app = typer.Typer(
    help="Work against a remote broker as a party: file notices, read conflicts, the hotline, live events, "
    "the audit log and the report; report aircraft (replay, feed). URL and token: --url/--token, "
    "DECONFLICT_URL/DECONFLICT_TOKEN, or a profile in ~/.config/deconflict/client.toml (see docs/client.md).",
    no_args_is_help=True,
)


@client_app.callback()
def _options(
    ctx: typer.Context,
    url: Annotated[str | None, typer.Option(help="The broker, e.g. http://127.0.0.1:8000 ($DECONFLICT_URL).")] = None,
    token: Annotated[
        str | None, typer.Option(help="Your party's bearer token ($DECONFLICT_TOKEN; visible to `ps`: prefer those).")
    ] = None,
    profile: Annotated[
        str | None, typer.Option(help="A table of the client file ($DECONFLICT_PROFILE; default: 'default').")
    ] = None,
    client_config: Annotated[
        Path | None,
        typer.Option(help="The client file ($DECONFLICT_CLIENT_CONFIG; default ~/.config/deconflict/client.toml)."),
    ] = None,
) -> None:
    ctx.obj = (url, token, profile, client_config)
    ctx.meta[CLIENT_META] = True


@client_app.command()
def ready(
    ctx: typer.Context,
    wait: Annotated[float, typer.Option(help="Keep trying for up to this many seconds (0: ask once).")] = 0.0,
) -> None:
    """Whether the broker is up and its store answers (/readyz; needs no token). Exit 0 ready, 4 not."""
    with calling(ctx, need_token=False) as c:
        c.ready(wait)
    say(f"ready: {c.url}")


@client_app.command()
def whoami(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Who the token belongs to, at which broker (and where the token came from; never the token)."""
    where = target(ctx)
    with calling(ctx) as c:
        me = c.me()
    if as_json:
        out({**me, "url": where.url, "token_from": where.source})
        return
    coalition = f", coalition {me['coalition']}" if me.get("coalition") else ""
    say(f"{me['party']} ({me['role']}{coalition}) at {where.url}; token from {where.source}")


def _read_notices(file: Path) -> list[tuple[str, Any]]:
    """The notices of a file, each with the prefix its errors are named by."""
    doc = read_json(file)  # one line and exit 2 for what cannot be read, a key given twice included
    if isinstance(doc, list):
        if not doc:
            raise err(f"{file}: an empty list holds no notice")
        return [(f"{file}: [{i}].", n) for i, n in enumerate(doc)]
    return [(f"{file}: ", doc)]


def _filed(replies: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        out(replies)
    else:
        for r in replies:
            say(filing_line(r))
            for c in r.get("conflicts") or []:
                say(conflict_lines(c, indent="  "))
    raise typer.Exit(1 if any(r.get("conflicts") for r in replies) else 0)


@client_app.command("file")
def file_(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Notice files: a notice, a JSON list, or a GeoJSON collection.")],
    site: Annotated[bool, typer.Option("--site", help="File protected sites (an authority).")] = False,
    retry_for: Annotated[
        float,
        typer.Option(
            "--retry-for",
            min=0,
            help="Seconds to keep trying a filing that got no answer or a 429/502/503/504, "
            "under the same Idempotency-Key (never filed twice); 0: ask once.",
        ),
    ] = 30.0,
    as_json: JsonOption = False,
) -> None:
    """File notices with the broker (each a filing of its own) and show their conflicts.

    A filing that gets no answer (a lost connection, a timeout, a broker failing over) is sent
    again under the same Idempotency-Key for up to --retry-for seconds: the broker answers it with
    the first filing's reply if that one was filed, so it is never filed twice.

    Exit status: 0 no conflicts, 1 conflicts, 2 refused (the field and the reason on stderr),
    4 the broker did not answer in time.
    """
    named = [n for f in files for n in _read_notices(f)]
    replies: list[dict[str, Any]] = []
    for prefix, body in named:

        def retrying(e: ClientError, wait_s: float, prefix: str = prefix) -> None:
            typer.echo(f"{prefix}{e.line()}; trying again in {wait_s:.1f} s under the same Idempotency-Key", err=True)

        try:
            with calling(ctx, prefix) as c:
                replies.append(c.file(body, site=site, retry_for_s=retry_for, on_retry=retrying))
        except typer.Exit:
            if replies and not as_json:
                say([filing_line(r) for r in replies] + ["(the notices above were filed; the one named was not)"])
            raise
    _filed(replies, as_json)


@client_app.command()
def update(
    ctx: typer.Context,
    notice_id: Annotated[str, typer.Argument(help="The notice, as the broker names it (party:id).")],
    file: Annotated[Path, typer.Argument(help="A file with the notice's new volumes (one notice).")],
    version: Annotated[int, typer.Option(help="The version this replaces (see `client notice`); 409 when stale.")],
    site: Annotated[bool, typer.Option("--site", help="A protected site.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Replace a notice's volumes; checked again like a new filing. Exit 1 when it conflicts."""
    named = _read_notices(file)
    if len(named) != 1:
        raise err(f"{file}: holds {len(named)} notices; an update replaces one")
    prefix, body = named[0]
    with calling(ctx, prefix) as c:
        reply = c.update(notice_id, body, version, site=site)
    _filed([reply], as_json)


@client_app.command()
def cancel(
    ctx: typer.Context,
    notice_id: Annotated[str, typer.Argument(help="The notice (party:id).")],
    version: Annotated[int | None, typer.Option(help="Refuse (409) unless this is still the current version.")] = None,
    site: Annotated[bool, typer.Option("--site", help="A protected site.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Cancel a notice: its open conflicts are resolved; it stays in the log."""
    with calling(ctx) as c:
        reply = c.set_state(notice_id, "cancel", version, site=site)
    if as_json:
        out(reply)
        return
    n = reply["notice"]
    say(f"{n['id']} v{n['version']}: {n['state']}; {len(reply.get('resolved') or [])} conflict(s) resolved")


@client_app.command()
def notices(
    ctx: typer.Context,
    party: Annotated[str | None, typer.Option(help="Only this party's.")] = None,
    state: Annotated[str | None, typer.Option(help="accepted, active, ended or cancelled.")] = None,
    start: Annotated[str | None, typer.Option(help="RFC 3339: only notices ending at or after.")] = None,
    end: Annotated[str | None, typer.Option(help="RFC 3339: only notices starting at or before.")] = None,
    as_json: JsonOption = False,
    ids: IdsOption = False,
) -> None:
    """The notices you may see (yours, your coalition's, those a rule shows you whole)."""
    with calling(ctx) as c:
        items = c.notices(party=party, state=state, start=start, end=end)
    show_list(items, ids, as_json, lambda: Console().print(notices_table(items)))


@client_app.command()
def notice(
    ctx: typer.Context, notice_id: Annotated[str, typer.Argument(help="party:id")], as_json: JsonOption = False
) -> None:
    """One notice whole: its volumes, version, state, and (yours) its receipt."""
    with calling(ctx) as c:
        n = c.notice(notice_id)
    out(n) if as_json else say(notice_lines(n))


@client_app.command()
def conflicts(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include resolved conflicts.")] = False,
    as_json: JsonOption = False,
    ids: IdsOption = False,
) -> None:
    """Your conflicts (open ones unless --all), each with both sides and where and when they overlap."""
    with calling(ctx) as c:
        items = c.conflicts(None if all_ else "open")

    def human() -> None:
        say(f"{len(items)} {'' if all_ else 'open '}conflict(s)")
        for item in items:
            say(conflict_lines(item))

    show_list(items, ids, as_json, human)


@client_app.command()
def conflict(ctx: typer.Context, conflict_id: str, as_json: JsonOption = False) -> None:
    """One conflict with its acknowledgements."""
    with calling(ctx) as c:
        item = c.conflict(conflict_id)
    out(item) if as_json else say(conflict_lines(item))


@client_app.command()
def ack(ctx: typer.Context, conflict_id: str, as_json: JsonOption = False) -> None:
    """Acknowledge a conflict: received and understood (never an approval). Answers its hotline thread."""
    with calling(ctx) as c:
        changed, item = c.ack_conflict(conflict_id)
    if as_json:
        out(item)
        return
    say(f"conflict {conflict_id}: {'acknowledged' if changed else 'already acknowledged'} (received and understood)")


client_app.command()(live.send)
client_app.command()(live.messages)
client_app.command()(live.message)
client_app.command("ack-message")(live.ack_message)
client_app.command()(live.watch)
client_app.command()(live.key)
client_app.command()(live.audit)
client_app.command()(live.report)
client_app.command()(replaying.replay)
client_app.command()(feeding.feed)
