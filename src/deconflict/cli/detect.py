"""``deconflict detect``: the tactical engine on one snapshot of aircraft, offline. Registered on
the main app in :mod:`deconflict.cli`."""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from deconflict.cli.common import err, readable_file, reading, writable_file
from deconflict.domain import tactical
from deconflict.domain.errors import ValidationError


def positive(value: float | None, option: str) -> None:
    """Exit 2 naming ``option`` unless ``value`` is absent or a finite positive number."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise err(f"option {option}: must be a positive number, got {value}")


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
        positive(value, option)
    readable_file(states)
    if pairs_out is not None:
        writable_file(pairs_out, "--pairs-out")
    with reading(states):
        snap = read_snapshot(states)
    given = {"rpz_m": rpz_m, "hpz_m": hpz_m, "lookahead_s": lookahead_s}
    try:
        policy = tactical.TacticalPolicy(
            **{k: v for k, v in given.items() if v is not None}, all_pairs=snap.party is None
        )
    except ValidationError as e:
        raise err(f"option --{e.errors[0].path.replace('_', '-')}: {e.errors[0].reason}") from None
    found = tactical.detect(
        snap.states(),
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
