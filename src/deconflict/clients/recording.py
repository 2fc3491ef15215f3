"""Recordings as ``replay`` reads them: SBS-1/BaseStation text, CSV or OpenSky-style JSON, the
format from the name or the first bytes, and the part of a recording to play."""

from __future__ import annotations

import math
import re
from enum import StrEnum
from pathlib import Path

from deconflict.adapters.feeds import FeedStats
from deconflict.domain.errors import FieldError, ValidationError
from deconflict.domain.tracks import TrackState
from deconflict.domain.volumes import AltitudeReference


class FeedFormat(StrEnum):
    """Recording formats ``replay`` reads (``auto`` looks at the name, then at the first bytes)."""

    AUTO = "auto"
    SBS = "sbs"
    CSV = "csv"
    OPENSKY = "opensky"


_SBS_START = re.compile(rb"\s*(MSG|SEL|ID|AIR|STA|CLK),", re.ASCII)


def sniff_format(path: Path) -> FeedFormat:
    """The format of a recording from its name, else from its first bytes."""
    name = path.name.lower()
    if name.endswith((".json", ".json.gz", ".jsonl", ".jsonl.gz")):
        return FeedFormat.OPENSKY
    if name.endswith(".csv"):
        return FeedFormat.CSV
    if name.endswith((".sbs", ".sbs1", ".basestation")):
        return FeedFormat.SBS
    with open(path, "rb") as f:
        head = f.read(512)
    if head[:2] == b"\x1f\x8b" or head.lstrip()[:1] in (b"[", b"{"):
        return FeedFormat.OPENSKY
    if _SBS_START.match(head):
        return FeedFormat.SBS
    return FeedFormat.CSV


NO_ALT_REF = {
    FeedFormat.SBS: "SBS-1 altitudes are barometric (STD) by definition",
    FeedFormat.OPENSKY: "OpenSky recordings name their reference (barometric altitude, STD)",
}
"""Why a format takes no altitude reference from the caller: its altitudes say theirs."""


def load_recording(
    path: Path, fmt: FeedFormat, alt_ref: AltitudeReference | None = None
) -> tuple[list[TrackState], FeedStats]:
    """The states of a recording, sorted by time, and what its reader skipped.

    ``alt_ref`` is the reference of a CSV's rows that give none (``replay --alt-ref``); without
    it such a CSV is refused, and it is refused for the other formats, whose altitudes say theirs.

    Raises :class:`ValidationError` for a CSV or JSON that cannot be read as a recording (or an
    ``alt_ref`` given for another format), and :class:`OSError` for a file that cannot be read at all.
    """
    from deconflict.adapters.feeds import csv_states, opensky, sbs

    if fmt is FeedFormat.AUTO:
        fmt = sniff_format(path)
    if alt_ref is not None and fmt in NO_ALT_REF:
        raise ValidationError([FieldError("option --alt-ref", f"only a CSV recording takes it; {NO_ALT_REF[fmt]}")])
    stats = FeedStats()
    if fmt is FeedFormat.SBS:
        states, stats = sbs.read_sbs_file(path)
        states = sorted(states, key=lambda s: s.time)
    elif fmt is FeedFormat.OPENSKY:
        states = opensky.read_opensky(path, stats=stats)
    else:
        states = csv_states.read_recording_csv(path, default_alt_ref=alt_ref)
        stats.lines = stats.states = len(states)
    return states, stats


def window(states: list[TrackState], start_s: float, duration_s: float | None) -> list[TrackState]:
    """The time-sorted ``states`` from ``start_s`` seconds after the first, for ``duration_s``
    seconds (to the end when ``None``)."""
    if not states or (start_s == 0 and duration_s is None):
        return states
    lo = states[0].time + start_s
    hi = math.inf if duration_s is None else lo + duration_s
    return [s for s in states if lo <= s.time < hi]
