"""Plain output for the CLI: conflict rows as a rich table or as JSON-ready dicts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from deconflict.domain.parse import format_time
from deconflict.domain.strategic import VolumeConflict
from deconflict.services.wire import slice_json


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


def _side(s: Side) -> str:
    tag = " protected site" if s.protected_site else ""
    return f"{s.notice} ({s.party}){tag} vol {s.volume}"


def conflicts_table(rows: Iterable[Row], title: str = "Conflicts") -> Table:
    t = Table(title=title, show_lines=False)
    for col in ("between", "and", "min dist", "altitude band (m)", "window (UTC)"):
        t.add_column(col, overflow="fold")
    for r in rows:
        d = r.detail
        t.add_row(
            _side(r.a),
            _side(r.b),
            f"{d.min_distance_m / 1000:.2f} km",
            f"{d.altitude_lower_m:.0f}–{d.altitude_upper_m:.0f}",
            f"{format_time(d.time_start)[5:16]} → {format_time(d.time_end)[5:16]}",
        )
    return t
