"""Feeds: aircraft states from recordings and receivers, turned into domain :class:`TrackState`\\ s.

Each reader converts its format's units once, at the edge (knots, feet, feet per minute → m/s, m,
m/s), so everything after it is SI (see ``docs/feeds.md``):

- :mod:`deconflict.adapters.feeds.sbs`: SBS-1/BaseStation text (dump1090 port 30003), a file or a
  TCP socket;
- :mod:`deconflict.adapters.feeds.csv_states`: CSV snapshots for ``deconflict detect`` and CSV
  recordings for ``deconflict replay``;
- :mod:`deconflict.adapters.feeds.opensky`: OpenSky-style recordings (pandas JSON, as the
  ``traffic`` library's samples are stored).

Readers judge only the format (a number that is not one, a latitude off the globe); whether a
state can be true (speeds, times ahead of the clock) is the broker's call when it ingests it.

The submodules are not imported here so that importing one feed does not load the others.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from deconflict.domain.tracks import TrackState
from deconflict.domain.units import FOOT_M, NAUTICAL_MILE_M

KNOT_MPS = NAUTICAL_MILE_M / 3600.0
"""One knot in metres per second (ground speed in SBS and OpenSky recordings)."""
FOOT_PER_MIN_MPS = FOOT_M / 60.0
"""One foot per minute in metres per second (vertical rate in SBS and OpenSky recordings)."""
MAX_EXAMPLES = 10
"""How many skipped lines :class:`FeedStats` keeps verbatim, so a summary can show what went wrong
without holding a whole bad file in memory."""


@dataclass
class FeedStats:
    """What a reader did with its input: lines (or records) read, states produced, what it skipped
    as malformed and why, and what it ignored though well formed (a message type that carries no
    position, an aircraft on the ground). Mutable on purpose: a live feed updates it as it goes and a caller may read
    it at any moment.
    """

    lines: int = 0
    states: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    """Skipped input by kind: the reason without its particular values (``"latitude outside
    [-90, 90]"``), so that a million bad lines make one row of a summary, not a million."""
    examples: list[tuple[int, str]] = field(default_factory=list)
    """The first :data:`MAX_EXAMPLES` malformed lines as ``(line number, reason)``."""
    ignored: Counter[str] = field(default_factory=Counter)
    """Well-formed input that yields no state, by why (``"surface position"``)."""

    def skip(self, line_no: int, reason: str, kind: str | None = None) -> None:
        """Count one malformed line under ``kind`` (default: the reason) and keep it as an example."""
        self.skipped[kind or reason] += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append((line_no, reason))

    def ignore(self, why: str) -> None:
        """Count one well-formed line that yields no state."""
        self.ignored[why] += 1

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def state_to_wire(state: TrackState, time: float | None = None) -> dict[str, Any]:
    """One state in the JSON shape of ``POST /v1/tracks`` (``time`` overrides the state's own).

    >>> s = TrackState("3c6444", 100.0, 48.9, 2.4, 10363.2, gs_mps=231.5, trk_deg=272.0)
    >>> state_to_wire(s, time=200.0)["time"], state_to_wire(s)["alt_ref"], "vs_mps" in state_to_wire(s)
    (200.0, 'W84', False)
    """
    out: dict[str, Any] = {
        "aircraft": state.aircraft,
        "time": round(state.time if time is None else time, 3),
        "lat": state.lat,
        "lon": state.lon,
        "alt_m": state.alt_m,
        "alt_ref": state.alt_ref.value,
    }
    # Unknown velocity is left out rather than sent as null: the broker then derives it from the
    # aircraft's recent positions.
    for key in ("gs_mps", "trk_deg", "vs_mps", "callsign"):
        value = getattr(state, key)
        if value is not None:
            out[key] = value
    return out


__all__ = ["FOOT_PER_MIN_MPS", "KNOT_MPS", "MAX_EXAMPLES", "FeedStats", "TrackState", "state_to_wire"]
