"""``deconflict import …`` and ``deconflict export …``: airspace formats in and out of the store.

An import reads the file into notices validated exactly as filed JSON is, then files them through
the broker one by one as ``deconflict file`` does (logged and receipted). A file with any record
that cannot be read files nothing, unless ``--keep-good`` asks for the records that can.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

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
    writable_file,
    write_text,
)
from deconflict.cli.filings import NOTHING_FILED, exit_by_conflicts, file_imported, print_filings
from deconflict.domain.errors import ValidationError
from deconflict.domain.parties import Party, Role
from deconflict.domain.volumes import PROTECTED_SITE_KIND, Notice
from deconflict.formats import Problem
from deconflict.formats.aixm import read_aixm
from deconflict.formats.aixm_write import write_aixm
from deconflict.formats.gis import to_kml
from deconflict.formats.notam import NotamChange, read_notam_file, write_notam_drafts
from deconflict.formats.openair import Imported, parse_instant, read_openair
from deconflict.formats.openair_write import write_openair
from deconflict.services.broker import ADMIN_ACTOR
from deconflict.services.gis_views import visible_collection
from deconflict.services.notam_changes import apply_notams

import_app = typer.Typer(
    help="File notices from airspace formats (ACO, OpenAir, NOTAM, AIXM, ED-269).", no_args_is_help=True
)
export_app = typer.Typer(
    help="Write the store's notices in airspace formats (OpenAir, NOTAM drafts, AIXM) and for GIS (GeoJSON, KML).",
    no_args_is_help=True,
)

PartyOption = Annotated[str, typer.Option("--party", help="The party whose notices these are.")]
SiteOption = Annotated[
    bool, typer.Option("--site", help="File each record as a protected site (kind protected-site), not activity.")
]
StartOption = Annotated[
    str | None, typer.Option("--start", help="Activation start (ISO 8601 with offset) for records without AA.")
]
EndOption = Annotated[
    str | None, typer.Option("--end", help="Activation end (ISO 8601 with offset) for records without AA.")
]
KeepGoodOption = Annotated[
    bool, typer.Option("--keep-good", help="File the records that can be read even when others cannot.")
]
OutOption = Annotated[Path, typer.Option("--out", help="File to write (default: stdout).")]


def _window(start: str | None, end: str | None) -> tuple[float, float] | None:
    if (start is None) != (end is None):
        raise err("--start and --end go together: give both or neither")
    if start is None or end is None:
        return None
    try:
        a = parse_instant(start)
    except ValueError as e:
        raise err(f"--start: {e}") from None
    try:
        b = parse_instant(end)
    except ValueError as e:
        raise err(f"--end: {e}") from None
    if b <= a:
        raise err("--end: must be after --start")
    return a, b


def _report(file: Path, problems: list[Problem], keep_good: bool, good: int) -> None:
    for p in problems:
        typer.echo(f"{file}: {p}", err=True)
    if problems and not keep_good:
        raise err(
            f"{file}: {len(problems)} record(s) cannot be read; nothing filed "
            f"(--keep-good files the {good} notice(s) that can)"
        )


def _file_all(imported: list[Imported], file: Path, db: str | None, config: Path | None, as_json: bool) -> None:
    broker = open_broker(config_or_exit(config, db))
    out = file_imported(
        broker, [imp.notice for imp in imported], file, lambda x: f"{_where(x.path, imported)}: {x.reason}"
    )
    if as_json:
        rows = [
            {
                "notice": r.notice.id,
                "version": r.notice.version,
                "lines": list(imp.lines),
                "rules_applied": list(imp.said),
                "late": r.late,
                "lead_time_s": r.lead_time_s,
                "conflicts": len(r.conflicts),
            }
            for r, imp in zip(out, imported, strict=True)
        ]
        typer.echo(json.dumps(rows, indent=2))
    else:
        print_filings(out, [imp.said for imp in imported])
    exit_by_conflicts(out)


def _where(path: str, imported: list[Imported]) -> str:
    """``[i].volumes[k].field`` of a batch → ``line N: field`` of the file."""
    m = re.fullmatch(r"\[(\d+)\]\.?(?:volumes\[(\d+)\]\.?)?(.*)", path)
    if m is None:
        return path
    imp = imported[int(m[1])]
    line = imp.lines[int(m[2])] if m[2] is not None else imp.lines[0]
    return f"line {line}: {m[3] or 'record'}"


@import_app.command("openair")
def import_openair(
    file: Annotated[Path, typer.Argument(help="An OpenAir file.")],
    party: PartyOption,
    site: SiteOption = False,
    start: StartOption = None,
    end: EndOption = None,
    keep_good: KeepGoodOption = False,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """File the airspaces of an OpenAir file as the party's notices (or protected sites, --site).

    Records with the same AI are one notice. Each record is active in its AA windows, or else in
    --start/--end. Exit status: 0 filed without conflicts, 1 with conflicts, 2 bad input (each
    record that cannot be read on stderr: line, field, reason; nothing filed without --keep-good).
    """
    window = _window(start, end)
    text = read_text(file)
    cfg = config_or_exit(config, db)
    kind = PROTECTED_SITE_KIND if site else "activity"
    imported, problems = read_openair(text, party, kind, window, cfg.limits)
    _report(file, problems, keep_good, len(imported))
    if not imported:
        raise err(f"{file}: no airspace to file")
    _file_all(imported, file, db, config, as_json)


@import_app.command("notam")
def import_notam(
    file: Annotated[Path, typer.Argument(help="A file of ICAO NOTAMs, each (A1234/30 NOTAMN … ).")],
    party: PartyOption,
    site: SiteOption = False,
    keep_good: KeepGoodOption = False,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """File ICAO NOTAMs as the party's notices (or protected sites, --site): the Q-line's circle,
    B) to C), F)/G) or the Q-line's flight levels. A NOTAMR updates the notice filed from the NOTAM
    it names, a NOTAMC ends it: a file with either is applied as the party (registered with
    `deconflict party add`). Exit status as `import openair`."""
    text = read_text(file)
    cfg = config_or_exit(config, db)
    kind = PROTECTED_SITE_KIND if site else "activity"
    records, problems = read_notam_file(text, party, kind, cfg.limits)
    _report(file, problems, keep_good, len(records))
    if not records:
        raise err(f"{file}: no NOTAM to file")
    if all(isinstance(r, Imported) for r in records):
        _file_all([r for r in records if isinstance(r, Imported)], file, db, config, as_json)
    _apply_notams(records, file, party, site, cfg, as_json)


@import_app.command("aixm")
def import_aixm(
    file: Annotated[Path, typer.Argument(help="An AIXM 5.1 message of SAA.ACT area activations (XML).")],
    party: PartyOption,
    site: SiteOption = False,
    keep_good: KeepGoodOption = False,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """File the airspaces an AIXM 5.1 Digital NOTAM activates (status ACTIVE) as the party's notices
    (or protected sites, --site): each aixm:Airspace one notice, each time slice's volumes active in
    its validTime. Every element that cannot be read is named by its path and line. Exit status as
    `import openair`."""
    text = read_text(file)
    cfg = config_or_exit(config, db)
    kind = PROTECTED_SITE_KIND if site else "activity"
    imported, problems = read_aixm(text, party, kind, cfg.limits)
    _report(file, problems, keep_good, len(imported))
    if not imported:
        raise err(f"{file}: no airspace activation to file")
    _file_all(imported, file, db, config, as_json)


def _apply_notams(
    records: list[Imported | NotamChange], file: Path, party: str, site: bool, cfg: Any, as_json: bool
) -> None:
    """NOTAMN, NOTAMR and NOTAMC in file order, as the party, in one transaction."""
    broker = open_broker(cfg)
    caller = broker.operator.registered(party)
    if caller is None or caller.revoked:
        raise err(f"--party {party}: NOTAMR and NOTAMC change notices as their party, which must be registered")
    lines = [r.lines[0] if isinstance(r, Imported) else r.line for r in records]
    try:
        replies = apply_notams(broker, caller, records, site)
    except ValidationError as e:
        out = []
        for x in e.errors:
            head, _, rest = x.path.partition("]")
            i = int(head[1:]) if head.startswith("[") and head[1:].isdigit() else 0
            out.append(f"{file}: line {lines[i]}: {rest.lstrip('.') or 'record'}: {x.reason}")
        raise err("\n".join(out) + NOTHING_FILED) from None
    rows = []
    for r, reply, line in zip(records, replies, lines, strict=True):
        n = reply.body["notice"]
        what = "filed" if isinstance(r, Imported) else "updated" if r.replacement is not None else "ended"
        rows.append(
            {
                "notice": n["id"],
                "version": n["version"],
                "line": line,
                "change": what,
                "conflicts": len(reply.body["conflicts"]),
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        for row in rows:
            typer.echo(
                f"line {row['line']}: {row['notice']} v{row['version']} {row['change']}, {row['conflicts']} conflict(s)"
            )
    raise typer.Exit(1 if any(row["conflicts"] for row in rows) else 0)


def live_notices(db: str | None, config: Path | None, party: str | None, notice: str | None = None) -> list[Notice]:
    """The live notices of ``party`` (or all), or the one named ``notice``; exit 2 when it is not live."""
    cfg = config_or_exit(config, db)
    broker = open_existing(cfg)
    found = broker.operator.notices(party, live=True)
    if notice is not None:
        found = [n for n in found if n.id == notice]
        if not found:
            raise err(f"--notice {notice}: no live notice with this id" + (f" of {party}" if party else ""))
    return found


def _write_out(out: Path, text: str) -> None:
    if str(out) != "-":
        write_text(out, text, "--out")
    else:
        typer.echo(text, nl=False)


@export_app.command("notam")
def export_notam(
    fir: Annotated[str, typer.Option("--fir", help="The FIR of the Q-line (4 letters).")],
    location: Annotated[str | None, typer.Option("--location", help="Item A) (default: the FIR).")] = None,
    party: Annotated[str | None, typer.Option("--party", help="Only this party's notices.")] = None,
    notice: Annotated[str | None, typer.Option("--notice", help="Only this notice (party:id).")] = None,
    out: OutOption = Path("-"),
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Write live notices or protected sites as NOTAMN drafts (one per volume) for a person to
    number, complete and issue: the Q-line circle and flight levels enclose the volume, F)/G) state
    the band, E) the shape. Run on the broker's host (the operator sees every notice)."""
    if re.fullmatch(r"[A-Z]{4}", fir) is None:
        raise err(f"--fir {fir}: must be 4 capital letters (an ICAO FIR)")
    if str(out) != "-":
        writable_file(out, "--out")
    try:
        cfg = config_or_exit(config, db)
        text = write_notam_drafts(
            live_notices(db, config, party, notice), fir, location or fir, cfg.limits.min_altitude_m
        )
    except ValidationError as e:
        raise err("\n".join(str(x) for x in e.errors)) from None
    _write_out(out, text)


@export_app.command("aixm")
def export_aixm(
    party: Annotated[str | None, typer.Option("--party", help="Only this party's notices.")] = None,
    notice: Annotated[str | None, typer.Option("--notice", help="Only this notice (party:id).")] = None,
    out: OutOption = Path("-"),
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Write live notices or protected sites as an AIXM 5.1 message of SAA.ACT activations (one
    airspace per notice, one time slice per volume), for the publishing authority to check. Run on
    the broker's host (the operator sees every notice). Corridors, orbits, W84 heights and
    recurring volumes have no form here: refused with the notice and volume named, nothing written."""
    if str(out) != "-":
        writable_file(out, "--out")
    try:
        text = write_aixm(live_notices(db, config, party, notice))
    except ValidationError as e:
        raise err("\n".join(str(x) for x in e.errors)) from None
    _write_out(out, text)


@export_app.command("openair")
def export_openair(
    party: Annotated[str | None, typer.Option("--party", help="Only this party's notices.")] = None,
    out: OutOption = Path("-"),
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Write the store's live notices (and protected sites) as OpenAir, for crews' flight-bag tools.

    Run on the broker's host (the operator sees every notice). Corridors, orbits and W84 heights
    have no OpenAir form: refused with the notice and volume named, nothing written.
    """
    if str(out) != "-":
        writable_file(out, "--out")
    try:
        text = write_openair(live_notices(db, config, party))
    except ValidationError as e:
        raise err("\n".join(str(x) for x in e.errors)) from None
    _write_out(out, text)


AsOption = Annotated[
    str | None,
    typer.Option("--as", help="Export what this party may see (its disclosure); default: the operator, everything."),
]


def _visible(db: str | None, config: Path | None, as_party: str | None, all_: bool) -> dict[str, Any]:
    """The notices and conflicts the caller may see, cut by the broker's disclosure, as features."""
    cfg = config_or_exit(config, db)
    broker = open_existing(cfg)
    caller = Party(ADMIN_ACTOR, Role.ADMIN)
    if as_party is not None:
        found = broker.operator.registered(as_party)
        if found is None or found.revoked:
            raise err(f"--as {as_party}: no such party" + (" (revoked)" if found is not None else ""))
        caller = found
    return visible_collection(broker, caller, all_)


AllOption = Annotated[bool, typer.Option("--all", help="Include resolved conflicts.")]


@export_app.command("geojson")
def export_geojson(
    as_party: AsOption = None,
    all_: AllOption = False,
    out: OutOption = Path("-"),
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Write notices, protected sites and conflict slices as a GeoJSON FeatureCollection, as much
    of each as the caller (--as PARTY) may see: its own notices, sites, others' notices only at
    `full` disclosure, conflicts' slices exact, on the grid or coarse as disclosed."""
    if str(out) != "-":
        writable_file(out, "--out")
    _write_out(out, json.dumps(_visible(db, config, as_party, all_), indent=1) + "\n")


@export_app.command("kml")
def export_kml(
    as_party: AsOption = None,
    all_: AllOption = False,
    out: OutOption = Path("-"),
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """The same features as `export geojson`, as KML 2.2 (outlines on the ground; each feature's
    properties as its description)."""
    if str(out) != "-":
        writable_file(out, "--out")
    _write_out(out, to_kml(_visible(db, config, as_party, all_), as_party or "deconflict"))
