"""What every ``deconflict import …`` command does once its file is read: file the notices as the
operator in one transaction (or none, each refusal named by its place in the file), print each
filing as ``deconflict file`` does, and exit 1 when any has conflicts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console

from deconflict.cli.common import err
from deconflict.domain.errors import FieldError, ValidationError
from deconflict.domain.volumes import Notice
from deconflict.services.broker import Broker
from deconflict.services.filing import FilingResult

NOTHING_FILED = " (nothing filed)"


def filing_summary(r: FilingResult) -> str:
    """A filing as a short block that reads at 80 columns: the notice, then its lead time and
    conflicts, then the shifts that would clear them (a line each, so no figure is cut from its unit)."""
    lead = r.lead_time_s / 3600
    late = " LATE" if r.late else ""
    lines = [
        f"{r.notice.id} v{r.notice.version} ({r.notice.party})",
        f"  lead time {lead:.1f} h{late}, {len(r.conflicts)} conflict(s)",
    ]
    if r.hints is not None:
        h = r.hints
        parts = []
        if h.earlier_s is not None:
            parts.append(f"{h.earlier_s / 60:.0f} min earlier")
        if h.later_s is not None:
            parts.append(f"{h.later_s / 60:.0f} min later")
        if h.up_m is not None:
            parts.append(f"{h.up_m:.0f} m higher")
        if h.down_m is not None:
            parts.append(f"{h.down_m:.0f} m lower")
        lines.append("  would clear if " + (" or ".join(parts) if parts else "no single shift within bounds"))
    return "\n".join(lines)


def file_imported(
    broker: Broker,
    notices: Sequence[Notice],
    file: Path,
    locate: Callable[[FieldError], str],
    nothing: str = NOTHING_FILED,
) -> list[FilingResult]:
    """File every notice as the operator in one transaction; a refusal of any files none and exits
    2 with each refusal on stderr as ``FILE: <locate(refusal)>`` and ``nothing`` after the last."""
    try:
        return [r for r, _ in broker.file_all_as_operator(list(notices))]
    except ValidationError as e:
        raise err("\n".join(f"{file}: {locate(x)}" for x in e.errors) + nothing) from None


def print_filings(results: Sequence[FilingResult], said: Sequence[Sequence[str]] | None = None) -> None:
    """Each filing as ``deconflict file`` prints it, with the rules the reader applied under it."""
    console = Console()
    for i, r in enumerate(results):
        console.print(filing_summary(r), markup=False, highlight=False)
        for rule in said[i] if said is not None else ():
            console.print(f"  rule applied: {rule}", markup=False, highlight=False)


def exit_by_conflicts(results: Sequence[FilingResult]) -> NoReturn:
    """Exit 1 when any filing has conflicts, else 0 (every import command's status)."""
    raise typer.Exit(1 if any(r.conflicts for r in results) else 0)
