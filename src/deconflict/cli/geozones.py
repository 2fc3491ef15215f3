"""``deconflict import geozones FILE`` and ``export geozones``: ED-269 or ED-318 UAS geographical
zones in as protected sites (:mod:`deconflict.formats.geozones`), and protected sites out as an
ED-269 document (:mod:`deconflict.formats.ed269`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from deconflict.cli.common import ConfigOption, DbOption, JsonOption, config_or_exit, err, open_broker, read_text
from deconflict.cli.filings import exit_by_conflicts, file_imported, print_filings
from deconflict.cli.formats import (
    EndOption,
    KeepGoodOption,
    OutOption,
    StartOption,
    _window,
    _write_out,
    export_app,
    import_app,
    live_notices,
)
from deconflict.domain.errors import FieldError, ValidationError
from deconflict.formats.ed269 import write_geozones
from deconflict.formats.geozone import Zone
from deconflict.formats.geozones import read_geozones

PartyOption = Annotated[str, typer.Option("--party", help="The authority whose protected sites these are.")]


@import_app.command("geozones")
def import_geozones(
    file: Annotated[Path, typer.Argument(help="An ED-269 or ED-318 UAS geographical zone document (JSON).")],
    party: PartyOption,
    start: StartOption = None,
    end: EndOption = None,
    keep_good: KeepGoodOption = False,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """File the zones of an ED-269 or ED-318 document (told apart by its shape) as the party's
    protected sites, after checking it against our JSON schema of its format. Permanent zones are
    active from --start to --end; schedule items are recurring volumes. Exit status: 0 filed
    without conflicts, 1 with conflicts, 2 bad input (each problem on stderr by its JSON path;
    nothing filed without --keep-good)."""
    window = _window(start, end)
    cfg = config_or_exit(config, db)
    zones, problems = read_geozones(read_text(file), party, cfg.limits, window)
    for p in problems:
        typer.echo(f"{file}: {p}", err=True)
    if problems and (not keep_good or not zones):
        raise err(f"{file}: {len(problems)} problem(s); nothing filed (--keep-good files the zones read whole)")
    if not zones:
        raise err(f"{file}: no zone to file")
    out = file_imported(open_broker(cfg), [z.notice for z in zones], file, lambda x: _where(x, zones))
    if as_json:
        rows = [
            {"notice": r.notice.id, "zone": z.path, "rules_applied": list(z.said), "conflicts": len(r.conflicts)}
            for r, z in zip(out, zones, strict=True)
        ]
        typer.echo(json.dumps(rows, indent=2))
    else:
        print_filings(out, [z.said for z in zones])
    exit_by_conflicts(out)


def _where(e: FieldError, zones: list[Zone]) -> str:
    """``[i].volumes[k].field`` of a refusal of the whole import → the zone's JSON path."""
    head, _, rest = e.path.partition("]")
    if head.startswith("[") and head[1:].isdigit() and int(head[1:]) < len(zones):
        return str(zones[int(head[1:])].locate(FieldError(rest.lstrip("."), e.reason)))
    return str(e)


@export_app.command("geozones")
def export_geozones(
    country: Annotated[str, typer.Option("--country", help="ISO 3166 alpha-3 country of the zones, as SYR.")],
    party: Annotated[str | None, typer.Option("--party", help="Only this authority's sites.")] = None,
    out: OutOption = Path("-"),
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Write the live protected sites as an ED-269 document (one zone per site). Corridors, orbits
    and flight levels have no ED-269 form: refused, naming the site."""
    if len(country) != 3 or not country.isascii() or not country.isupper():
        raise err(f"--country {country}: must be 3 capital letters (ISO 3166 alpha-3)")
    sites = [n for n in live_notices(db, config, party) if n.protected]
    try:
        doc = write_geozones(sites, country)
    except ValidationError as e:
        raise err("\n".join(str(x) for x in e.errors)) from None
    _write_out(out, json.dumps(doc, indent=1) + "\n")
