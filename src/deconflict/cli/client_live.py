"""``deconflict client`` commands for the hotline, the live stream, the audit log and the report
(registered on :data:`deconflict.cli.client.client_app`)."""

from __future__ import annotations

import io
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from deconflict.cli.client_common import IdsOption, calling, out, say, show_list
from deconflict.cli.client_render import event_line, message_lines, report_table
from deconflict.cli.common import JsonOption, err, say_verification
from deconflict.domain.hotline import AckState, Priority


def send(
    ctx: typer.Context,
    to: Annotated[list[str] | None, typer.Option("--to", help="A recipient (repeat for more), or `all`.")] = None,
    subject: Annotated[str | None, typer.Option(help="The subject line.")] = None,
    text: Annotated[str | None, typer.Option(help="The message; `-` reads it from stdin.")] = None,
    priority: Annotated[Priority | None, typer.Option(help="Default routine.")] = None,
    ack_within: Annotated[int | None, typer.Option(help="Seconds each recipient has to acknowledge.")] = None,
    about: Annotated[str | None, typer.Option(help="What it is about: notice:ID, conflict:ID or alert:ID.")] = None,
    reply_to: Annotated[str | None, typer.Option(help="Continue this message's thread.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Send a hotline message (with an acknowledgement deadline when --ack-within is given)."""
    body: dict[str, Any] = {}
    if to:
        body["to"] = "all" if to == ["all"] else to
    if subject is not None:
        body["subject"] = subject
    if text is not None:
        body["text"] = sys.stdin.read() if text == "-" else text
    if priority is not None:
        body["priority"] = priority.value
    if ack_within is not None:
        body["ack_within_s"] = ack_within
    if about is not None:
        kind, sep, ref_id = about.partition(":")
        if not sep or not ref_id:
            raise err(f"--about: must be KIND:ID (notice:ru-vks:vks-1, conflict:ID, alert:ID), got {about!r}")
        body["ref"] = {"kind": kind, "id": ref_id}
    if reply_to is not None:
        body["in_reply_to"] = reply_to
    options = {"ack_within_s": "ack-within", "ref": "about", "in_reply_to": "reply-to"}
    with calling(ctx, "--", options=options) as c:  # a refused key is an option: --subject, --to[0]
        m = c.send(body)
    if as_json:
        out(m)
        return
    say(f"sent {m['id']}")
    say(message_lines(m)[1:])


def messages(
    ctx: typer.Context,
    box: Annotated[str | None, typer.Option(help="inbox (to you) or outbox (from you); default both.")] = None,
    thread: Annotated[str | None, typer.Option(help="Only this thread (its first message's id).")] = None,
    as_json: JsonOption = False,
    ids: IdsOption = False,
) -> None:
    """Your hotline messages, oldest first, with each recipient's acknowledgement and deadline."""
    with calling(ctx) as c:
        items = c.messages(box, thread)

    def human() -> None:
        say(f"{len(items)} message(s)")
        for m in items:
            say(message_lines(m, brief=True))

    show_list(items, ids, as_json, human)


def message(ctx: typer.Context, message_id: str, as_json: JsonOption = False) -> None:
    """One hotline message with its text."""
    with calling(ctx) as c:
        m = c.message(message_id)
    out(m) if as_json else say(message_lines(m))


def ack_message(
    ctx: typer.Context,
    message_id: str,
    state: Annotated[AckState, typer.Option(help="received, or understood (the default); never an approval.")] = (
        AckState.UNDERSTOOD
    ),
    as_json: JsonOption = False,
) -> None:
    """Acknowledge a hotline message: received, or understood. It answers the deadline; it approves nothing."""
    with calling(ctx) as c:
        changed, m = c.ack_message(message_id, state.value)
    if as_json:
        out(m)
        return
    me = [r for r in m.get("to") or [] if r.get("state") != "pending"]
    standing = ", ".join(f"{r['party']} {r['state']} ({r.get('standing')})" for r in me if r.get("party"))
    say(f"message {message_id}: {state.value}{'' if changed else ' (already so)'}; {standing}")


def watch(
    ctx: typer.Context,
    after: Annotated[int | None, typer.Option(help="Replay from after this event id (0: all you may see).")] = None,
    idle: Annotated[float | None, typer.Option(help="Stop after this many seconds without an event.")] = None,
    count: Annotated[int | None, typer.Option(help="Stop after this many events.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Follow the live events as one line each (--json: one JSON object a line).

    A dropped connection is resumed from the last event received (Last-Event-ID): nothing is lost
    or shown twice. Ctrl-C stops.
    """

    def reconnecting(reason: str, last: int | None, delay: float) -> None:
        after_text = f"after event {last}" if last is not None else "from the next event"
        typer.echo(f"stream: {reason}; reconnecting {after_text} in {delay:.1f} s", err=True)

    shown = 0
    try:
        with calling(ctx) as c:
            if count is not None and count <= 0:
                return
            for e in c.events(after, idle_s=idle, on_reconnect=reconnecting):
                typer.echo(json.dumps(e.as_json()) if as_json else event_line(e))
                sys.stdout.flush()
                shown += 1
                if count is not None and shown >= count:
                    return
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def key(ctx: typer.Context, pem: Annotated[bool, typer.Option("--pem", help="PEM instead of base64.")] = False) -> None:
    """The broker's Ed25519 public key, as the broker serves it.

    For a real audit get the key from the broker's operator out of band: a key fetched from the
    broker you check proves less.
    """
    with calling(ctx) as c:
        k = c.audit_key()
    typer.echo(str(k["public_key_pem"]).rstrip("\n") if pem else k["public_key"])


def audit(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Also keep the export in this file.")] = None,
    key: Annotated[
        str | None,
        typer.Option(help="The broker's public key (base64 or PEM, or a file holding it), obtained out of band."),
    ] = None,
    after: Annotated[
        int,
        typer.Option(
            min=0, help="Only the events after this seq: your last export's head seq (its hash must match 'after')."
        ),
    ] = 0,
) -> None:
    """Fetch your audit export and verify it, as `deconflict audit verify` does a file: every event's
    hash, the chain linking them, the signed head, every receipt.

    Exit status as `audit verify`: 0 when everything checks against the key given with --key; 1 when
    something was edited, removed, inserted, reordered or forged (each problem printed with where it
    is); 2 bad input or a refused call; 3 when, without --key, the export is consistent with the key
    it carries but that key is not trusted (whoever rewrites a log can re-sign it); 4 the broker
    could not be reached.
    """
    from deconflict.domain.audit import load_public_key, verify_export
    from deconflict.domain.errors import ValidationError

    expected = None
    if key is not None:
        as_file = Path(key).is_file()
        try:
            expected = load_public_key(Path(key).read_text() if as_file else key)
        except (OSError, UnicodeDecodeError) as e:
            raise err(f"--key: cannot read {key} ({e})") from None
        except ValidationError as e:
            raise err(f"--key: {e.errors[0].reason}{f' (read from {key})' if as_file else ''}") from None
    with calling(ctx) as c:
        doc = c.audit_export(after)
    if out is not None:
        try:
            out.write_text(json.dumps(doc, indent=1))
        except OSError as e:
            raise err(f"--out: cannot write {out} ({e.strerror})") from None
    where = str(out) if out is not None else "export"
    say_verification(verify_export(doc, expected), where)


class Format(StrEnum):
    table = "table"
    json = "json"
    html = "html"


def report(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option(help="Start, RFC 3339, included (default 24 h before --until).")] = None,
    until: Annotated[str | None, typer.Option(help="End, RFC 3339, excluded (default now).")] = None,
    format_: Annotated[Format, typer.Option("--format", help="table, json or html.")] = Format.table,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write (default: stdout).")] = None,
) -> None:
    """The compliance report for the parties you see whole; the broker records its hash in the log."""
    with calling(ctx, "--") as c:
        doc = c.compliance(since, until, html=format_ is Format.html)
    if format_ is Format.html:
        text = str(doc)
    elif format_ is Format.json:
        text = json.dumps(doc, indent=1) + "\n"
    else:
        console = Console() if out is None else Console(file=io.StringIO(), record=True, width=100)
        console.print(report_table(doc["report"]))
        footer = f"report sha256 {doc['report_sha256']}, recorded in the event log at seq {doc['log']['seq']}"
        console.print(footer, markup=False, highlight=False)
        if out is None:
            return
        text = console.export_text()
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        raise err(f"--out: cannot write {out} ({e.strerror}); the report was logged") from None
    typer.echo(f"wrote {out}", err=True)
