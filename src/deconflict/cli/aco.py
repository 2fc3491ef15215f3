"""``deconflict import aco FILE``, ``export aco`` and ``export acmreq``: an Airspace Control Order in
and out, and a conflict's resolution as a request draft.

Importing files each measure the way ``deconflict file`` files a JSON notice (the same parser, the
same broker call, logged and receipted alike). A message with any problem files nothing, unless
``--keep-good`` asks for the measures that were read whole.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from deconflict.cli.common import (
    ConfigOption,
    DbOption,
    JsonOption,
    config_or_exit,
    err,
    open_broker,
    open_existing,
    read_text,
    write_text,
)
from deconflict.cli.filings import exit_by_conflicts, file_imported, print_filings
from deconflict.cli.formats import export_app, import_app, live_notices  # the one `import` and `export` groups
from deconflict.cli.render import row_json
from deconflict.domain.resolution import resolution_hints
from deconflict.domain.volumes import Notice
from deconflict.formats.aco import read_aco
from deconflict.formats.aco_acmreq import write_acmreq
from deconflict.formats.aco_export import AcoExportError, write_aco
from deconflict.formats.aco_levels import LevelRules
from deconflict.services.broker import in_party_namespace

PartyOption = Annotated[str, typer.Option("--party", help="The party whose measures these are (an ACO does not say).")]


@import_app.command("aco")
def import_aco(
    file: Annotated[Path, typer.Argument(help="An ACO message (ADatP-3 / APP-11 text).")],
    party: PartyOption,
    keep_good: Annotated[
        bool, typer.Option("--keep-good", help="File the measures read whole even if others have problems.")
    ] = False,
    check: Annotated[bool, typer.Option("--check", help="Read and report only; file nothing.")] = False,
    surface_m: Annotated[
        float | None,
        typer.Option(help="Read SFC as this height (m) in the band's other reference; SFC is refused without it."),
    ] = None,
    unlimited_fl: Annotated[
        float | None, typer.Option(help="Read UNL as this flight level; UNL is refused without it.")
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """File the airspace control measures of an ACO as notices of --party and print their conflicts.

    Exit status: 0 no conflicts, 1 conflicts, 2 a problem (each on stderr as line, set, field and
    reason; nothing is filed unless --keep-good).
    """
    from deconflict.cli.main import _record_row, _sites

    cfg = config_or_exit(config, db)
    text = read_text(file)
    got = read_aco(text, party, cfg.limits, LevelRules(surface_m=surface_m, unlimited_fl=unlimited_fl))
    for p in got.problems:
        typer.echo(f"{file}: {p}", err=True)
    if got.problems and (not keep_good or not got.header_ok):
        why = "the header is wrong" if not got.header_ok else "use --keep-good to file the measures read whole"
        raise err(f"{file}: {len(got.problems)} problem(s); nothing filed ({why})")
    if not got.notices:
        raise err(f"{file}: no measure read whole; nothing filed")
    if check:
        typer.echo(f"{file}: {len(got.notices)} of {got.measures} measure(s) read; nothing filed (--check)")
        raise typer.Exit(0)
    broker = open_broker(cfg)
    stored = broker.operator.stored_ids()
    taken = [n.id for n in got.notices if in_party_namespace(n).id in stored]
    if taken:
        raise err(f"{file}: already filed: {', '.join(map(str, taken))}; nothing filed (update them instead)")
    notices = list(got.notices)  # one transaction: every measure is filed, or none
    out = file_imported(broker, notices, file, lambda x: f"{_measure(x.path, notices)}: {x.reason}", "; nothing filed")
    if as_json:
        sites = _sites(broker)
        rows = [
            {
                "notice": r.notice.id,
                "version": r.notice.version,
                "late": r.late,
                "lead_time_s": r.lead_time_s,
                "conflicts": [row_json(_record_row(c, sites)) for c in r.conflicts],
            }
            for r in out
        ]
        typer.echo(json.dumps({"filed": rows, "skipped": [str(p) for p in got.problems]}, indent=2))
    else:
        print_filings(out)
    exit_by_conflicts(out)


@export_app.command("aco")
def export_aco(
    party: PartyOption,
    operation: Annotated[str, typer.Option(help="The OPER set: the operation's name.")] = "DECONFLICT",
    originator: Annotated[str, typer.Option(help="The MSGID originator (default: the party).")] = "",
    aco_id: Annotated[str, typer.Option("--aco-id", help="The ACOID set (default: the party).")] = "",
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of standard output.")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Write --party's live notices as an ACO (one measure per notice, one APERIOD per volume)."""
    notices = sorted(live_notices(db, config, party), key=lambda n: str(n.id))
    if not notices:
        raise err(f"--party {party}: no live notices to export")
    try:
        text = write_aco(notices, operation, originator or party, aco_id or party)
    except AcoExportError as e:
        raise err(f"export aco: {e}") from None
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_text(out, text, "--out")
        typer.echo(f"{len(notices)} notice(s) written to {out}", err=True)


@export_app.command("acmreq")
def export_acmreq(
    conflict: Annotated[str, typer.Argument(help="The conflict's id (deconflict conflicts).")],
    party: Annotated[str, typer.Option("--party", help="The side whose measure moves.")],
    shift: Annotated[str, typer.Option(help="later, earlier, up or down.")] = "later",
    operation: Annotated[str, typer.Option(help="The OPER set: the operation's name.")] = "DECONFLICT",
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of standard output.")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Draft an ACMREQ that moves --party's measure by the smallest --shift clearing CONFLICT.

    A draft for the party's own chain: nothing is filed or moved, and the changed notice is checked
    again when it is filed.
    """
    cfg = config_or_exit(config, db)
    broker = open_existing(cfg)
    pair = broker.operator.conflict_pair(conflict)
    if pair is None:
        raise err(f"conflict {conflict!r}: no such conflict")
    c = pair.conflict
    if party not in (c.party_a, c.party_b):
        raise err(f"--party {party}: not a side of conflict {conflict}")
    notice, other = (pair.notice_a, pair.notice_b) if party == c.party_a else (pair.notice_b, pair.notice_a)
    i, j = (c.volume_a, c.volume_b) if party == c.party_a else (c.volume_b, c.volume_a)
    if notice is None or other is None:
        raise err(f"conflict {conflict}: a notice of it is no longer stored")
    if notice.protected:
        raise err(f"--party {party}: its side of conflict {conflict} is a protected site, which does not move")
    hints = resolution_hints(notice, [(i, other.volumes[j])], broker.settings.separation, broker.settings.hints)
    try:
        text = write_acmreq(notice, hints, conflict, shift, party, operation)
    except AcoExportError as e:
        raise err(f"export acmreq: {e}") from None
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_text(out, text, "--out")


def _measure(path: str, notices: list[Notice]) -> str:
    """``[i].field`` of a refusal of the whole import as ``measure <id>, field``."""
    head, _, rest = path.partition("].")
    if head.startswith("[") and head[1:].isdigit() and int(head[1:]) < len(notices):
        return f"measure {notices[int(head[1:])].id}, {rest or 'notice'}"
    return path
