"""Plain output for the CLI: conflict rows as JSON-ready dicts, and every table the commands print,
sized to the terminal so that no id, name or header word is ever cut in the middle.

:func:`show` prints a table when every cell fits on its lines at the terminal's width (80 columns
when output is piped), and otherwise one record per block. ``--json`` does not come through here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from deconflict.domain.compliance import LEAD_TIME_PERCENTILE, ComplianceReport
from deconflict.domain.parties import Party
from deconflict.domain.strategic import VolumeConflict
from deconflict.domain.times import format_time
from deconflict.domain.volumes import Notice
from deconflict.report_charts import duration_text, hours_text
from deconflict.report_html import render_table
from deconflict.services.wire import slice_json

Cell = str | Text


@dataclass(frozen=True)
class Side:
    party: str
    notice: str
    volume: int
    protected_site: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "party": self.party,
            "notice": self.notice,
            "volume": self.volume,
            "protected_site": self.protected_site,
        }


@dataclass(frozen=True)
class Row:
    a: Side
    b: Side
    detail: VolumeConflict
    id: str | None = None
    state: str | None = None


def row_json(r: Row) -> dict[str, Any]:
    out: dict[str, Any] = {"a": r.a.as_json(), "b": r.b.as_json(), **slice_json(r.detail)}
    if r.id is not None:
        out = {"id": r.id, "state": r.state, **out}
    return out


# ------------------------------------------------------------------------------------ any table

_BORDER_AND_PADDING = 3
"""Cells a rich column takes besides its text: one padding either side and one border."""


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _longest_line(cell: Cell) -> int:
    return max((cell_len(line) for line in _plain(cell).splitlines()), default=0)


def natural_widths(headers: Sequence[str], rows: Sequence[Sequence[Cell]], width: int) -> list[int] | None:
    """The text width of each column (its longest line, header included) when the table they make
    is at most ``width`` cells wide with its borders; ``None`` when it is wider."""
    columns = [[h, *(r[i] for r in rows)] for i, h in enumerate(headers)]
    widths = [max(_longest_line(c) for c in col) for col in columns]
    return widths if sum(widths) + 1 + _BORDER_AND_PADDING * len(widths) <= width else None


def show(
    console: Console,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    block: Callable[[int], Sequence[str]],
    *,
    right: Sequence[int] = (),
) -> None:
    """Print ``rows`` under ``title`` as a table when every cell fits on its lines at ``console``'s
    width, else each record ``i`` as the lines ``block(i)`` (the first flush left, the others
    indented): a table squeezed narrower than its cells would cut ids and names in the middle."""
    widths = natural_widths(headers, rows, console.width)
    if widths is not None:
        t = Table(title=title)
        for i, (h, w) in enumerate(zip(headers, widths, strict=True)):
            t.add_column(h, width=w, justify="right" if i in right else "left", no_wrap=True)
        for r in rows:
            t.add_row(*r)
        console.print(t)
        return
    console.print(title, markup=False, highlight=False)
    for i in range(len(rows)):
        first, *rest = block(i)
        console.print(first, markup=False, highlight=False)
        for line in rest:
            console.print("  " + line, markup=False, highlight=False)


def fits(console: Console, table: Table) -> bool:
    """Whether ``table`` (built elsewhere) shows at ``console``'s width with no column narrowed."""
    natural = Measurement.get(console, console.options.update_width(1_000_000), table)
    return natural.maximum <= console.width


# ------------------------------------------------------------------------------------ conflicts


def _side(s: Side) -> str:
    """``party:id vol N``, with the party in brackets when the id does not start with it."""
    party = "" if s.notice.startswith(f"{s.party}:") else f" ({s.party})"
    tag = " (protected site)" if s.protected_site else ""
    return f"{s.notice}{party} vol {s.volume}{tag}"


def _window(d: VolumeConflict) -> str:
    return f"{format_time(d.time_start)[5:16]} → {format_time(d.time_end)[5:16]}"


def print_conflicts(console: Console, rows: Sequence[Row], title: str) -> None:
    """Conflicts as a table (both sides in one cell, a line each), or a block per conflict."""

    def cells(r: Row) -> list[Cell]:
        d = r.detail
        return [
            f"{_side(r.a)}\nand {_side(r.b)}",
            f"{d.min_distance_m / 1000:.2f} km",
            f"{d.altitude_lower_m:.0f}–{d.altitude_upper_m:.0f}",
            _window(d),
        ]

    def block(i: int) -> list[str]:
        r, d = rows[i], rows[i].detail
        return [
            _side(r.a),
            f"and {_side(r.b)}",
            f"{d.min_distance_m / 1000:.2f} km apart, {d.altitude_lower_m:.0f}–{d.altitude_upper_m:.0f} m, "
            f"{_window(d)} UTC",
        ]

    headers = ("conflict", "min dist", "altitude (m)", "window (UTC)")
    show(console, title, headers, [cells(r) for r in rows], block, right=(1,))


# ------------------------------------------------------------------------------------ notices


def print_notices(console: Console, notices: Sequence[Notice]) -> None:
    """The notices of the store, by start time: a table, or a block per notice."""
    rows = sorted(notices, key=lambda n: n.time_start)

    def lead(n: Notice) -> str:
        return f"{(n.time_start - (n.received_at or 0.0)) / 3600:.1f} h"

    def cells(n: Notice) -> list[Cell]:
        received = format_time(n.received_at or 0.0)[:16]
        return [
            str(n.id),
            n.party,
            n.kind,
            str(n.version),
            n.state.value,
            received,
            format_time(n.time_start)[:16],
            lead(n),
        ]

    def block(i: int) -> list[str]:
        n = rows[i]
        party = "" if str(n.id).startswith(f"{n.party}:") else f" of {n.party}"
        return [
            f"{n.id}{party} v{n.version} ({n.kind}, {n.state.value})",
            f"received {format_time(n.received_at or 0.0)[:16]}, starts {format_time(n.time_start)[:16]}, "
            f"lead time {lead(n)}",
        ]

    headers = ("id", "party", "kind", "version", "state", "received", "starts", "lead time")
    show(console, f"{len(rows)} notice(s)", headers, [cells(n) for n in rows], block, right=(3, 7))


# ------------------------------------------------------------------------------------ parties and rules


def print_parties(console: Console, parties: Sequence[Party]) -> None:
    def cells(p: Party) -> list[Cell]:
        return [p.name, p.role.value, p.coalition or "", "revoked" if p.revoked else "active"]

    def block(i: int) -> list[str]:
        p = parties[i]
        coalition = f", coalition {p.coalition}" if p.coalition else ""
        return [f"{p.name}: {p.role.value}{coalition}, {'revoked' if p.revoked else 'active'}"]

    title = f"{len(parties)} part{'y' if len(parties) == 1 else 'ies'}"
    show(console, title, ("name", "role", "coalition", "status"), [cells(p) for p in parties], block)


def print_rules(console: Console, default: str, rules: Sequence[tuple[str, str, str]]) -> None:
    """Disclosure rules as (viewer, subject, level)."""

    def block(i: int) -> list[str]:
        v, s, level = rules[i]
        return [f"{v} sees {s}: {level}"]

    rows: list[list[Cell]] = [list(r) for r in rules]
    show(console, f"default between parties: {default}", ("viewer", "subject", "level"), rows, block)


# ------------------------------------------------------------------------------------ compliance report


def print_report(console: Console, report: ComplianceReport) -> None:
    """The compliance report's figures: the report's own table when it fits, else a block per party."""
    table = render_table(report)
    if fits(console, table):
        console.print(table)
        return
    console.print(
        f"Compliance {format_time(report.since)} → {format_time(report.until)} "
        f"(minimum notice {hours_text(report.min_notice_s)})",
        markup=False,
        highlight=False,
    )
    for r in report.parties:
        for i, line in enumerate(
            (
                r.party,
                f"notices {r.notices_filed} ({r.late_notices} late), lead time median "
                f"{hours_text(r.lead_time_median_s)}, p{LEAD_TIME_PERCENTILE:g} {hours_text(r.lead_time_p10_s)}, "
                f"conflicts {r.conflicts}",
                f"acknowledged: {r.acks_on_time} on time, {r.acks_late} late, {r.acks_missing} missing, "
                f"{r.acks_pending} pending; median {duration_text(r.ack_latency_median_s)}",
                f"nonconformance {r.nonconformance_minutes:.1f} min, incursion {r.incursion_minutes:.1f} min",
            )
        ):
            console.print(("  " if i else "") + line, markup=False, highlight=False)
