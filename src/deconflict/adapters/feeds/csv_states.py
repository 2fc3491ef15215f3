"""CSV states: snapshots for ``deconflict detect`` and recordings for ``deconflict replay``.

Both are comma-separated UTF-8 with a header line; header names are matched case-insensitively
and columns may come in any order. Only the columns named here are read: any other is refused
with the known column it was probably meant to be (``header: unknown column "alt_reff"; did you
mean "alt_ref"?``), never dropped, since a misspelt optional column would otherwise be read as
absent. Units are SI and in the column names.

Snapshot (one state per aircraft, all at the same moment)::

    id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps[,party][,alt_ref][,callsign]

Its altitudes are compared with each other as they are, so they must all be in one reference
(whichever it is: detection uses only their differences). An ``alt_ref`` column says which, and
must then name the same one on every row; ``callsign`` is read and not used.

Recording (any number of states per aircraft; sorted by time on reading)::

    time,id,lat,lon,alt_m[,alt_ref][,gs_mps,trk_deg,vs_mps][,callsign]

``time`` is epoch seconds or an RFC 3339 time with an offset (``2021-10-07T12:00:00Z``);
``alt_ref`` is ``STD`` (pressure altitude), ``AMSL`` or ``W84``. A recording's states go to the
broker, which compares them with other parties' tracks, so the reference is never guessed: rows
without one are refused unless the caller gives it (``replay --alt-ref``). Velocity cells may be
empty (the broker then derives velocity from recent positions), but ``gs_mps`` and ``trk_deg`` go
together.

Every error names the file, the line and the column, as compilers do, for example
``states.csv:17: alt_m: not a number ('x')``; a file with errors is refused whole, with up to
:data:`~deconflict.adapters.feeds.csv_cells.MAX_ERRORS` of them listed, rather than read in part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from deconflict.adapters.feeds.csv_cells import (
    BadCell,
    FileErrors,
    Header,
    cell_aircraft_id,
    cell_number,
    cell_optional_number,
    cell_position,
    check_plausible,
    read_rows,
)
from deconflict.domain.errors import ValidationError
from deconflict.domain.geodesy import FloatArray
from deconflict.domain.tactical import States
from deconflict.domain.times import parse_time
from deconflict.domain.tracks import TrackState
from deconflict.domain.volumes import AltitudeReference

SNAPSHOT_COLUMNS = ("id", "lat", "lon", "alt_m", "gs_mps", "trk_deg", "vs_mps")
"""Required columns of a ``detect`` snapshot."""
SNAPSHOT_OPTIONAL = ("party", "alt_ref", "callsign")
"""Optional columns of a snapshot (``callsign`` is read and not used)."""
RECORDING_COLUMNS = ("time", "id", "lat", "lon", "alt_m")
"""Required columns of a replay recording."""
VELOCITY_COLUMNS = ("gs_mps", "trk_deg", "vs_mps")
RECORDING_OPTIONAL = ("alt_ref", *VELOCITY_COLUMNS, "callsign")
"""Optional columns of a replay recording."""
REFERENCES = "STD, AMSL or W84"
MAX_CALLSIGN = 16


@dataclass(frozen=True)
class Snapshot:
    """Aircraft states at one moment, as parallel arrays in file order.

    ``party`` is ``None`` when the file has no ``party`` column (then every pair counts);
    ``alt_ref`` is the one reference of every altitude, ``None`` when the file does not say.
    """

    ids: tuple[str, ...]
    lat: FloatArray
    lon: FloatArray
    alt_m: FloatArray
    gs_mps: FloatArray
    trk_deg: FloatArray
    vs_mps: FloatArray
    party: tuple[str, ...] | None = None
    alt_ref: AltitudeReference | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def party_codes(self) -> npt.NDArray[np.int64] | None:
        """Each aircraft's party as a small integer (parties numbered in sorted name order), the
        ``group`` the tactical engine takes; ``None`` without a party column."""
        if self.party is None:
            return None
        names = sorted(set(self.party))
        code = {p: i for i, p in enumerate(names)}
        return np.fromiter((code[p] for p in self.party), dtype=np.int64, count=len(self.party))

    def states(self) -> States:
        """The snapshot as the tactical engine's input, grouped by party when it has one."""
        return States.from_arrays(
            lat=self.lat,
            lon=self.lon,
            alt_m=self.alt_m,
            gs_mps=self.gs_mps,
            trk_deg=self.trk_deg,
            vs_mps=self.vs_mps,
            group=self.party_codes(),
        )


def read_snapshot(path: Path | str) -> Snapshot:
    """A ``detect`` snapshot: ``id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps[,party]``, every cell
    required, ids unique; values are held to the bounds the broker applies to live tracks.

    Without an ``alt_ref`` column the altitudes are taken to be all in one reference (they are
    compared only with each other); with one, every row must name the same reference.

    Raises :class:`ValidationError` (every error ``FILE:LINE: column: reason``) or :class:`OSError`.
    """
    name = str(path)
    errors = FileErrors(name)
    ids: list[str] = []
    cols: dict[str, list[float]] = {c: [] for c in SNAPSHOT_COLUMNS[1:]}
    parties: list[str] = []
    first_line: dict[str, int] = {}
    has_party = False
    ref: tuple[AltitudeReference, int] | None = None  # the reference and the line that first gave it
    for line, row in read_rows(path, SNAPSHOT_COLUMNS, SNAPSHOT_OPTIONAL, errors, Header()):
        has_party = "party" in row
        try:
            if "alt_ref" in row:
                row_ref = _alt_ref(row)
                if row_ref is None:
                    raise BadCell("alt_ref", "is empty")
                if ref is None:
                    ref = (row_ref, line)
                elif row_ref is not ref[0]:
                    raise BadCell(
                        "alt_ref",
                        f"{row_ref.value}, but line {ref[1]} gives {ref[0].value}; a snapshot's altitudes are "
                        "compared as they are, so give them all in one reference",
                    )
            ident = cell_aircraft_id(row)
            if ident in first_line:
                raise BadCell("id", f"duplicate id {ident!r} (first on line {first_line[ident]})")
            lat, lon = cell_position(row)
            alt, gs, trk, vs = (cell_number(row, c) for c in ("alt_m", "gs_mps", "trk_deg", "vs_mps"))
            check_plausible(alt, gs, vs)
            party = row["party"].strip() if has_party else ""
            if has_party and not party:
                raise BadCell("party", "is empty (give every aircraft a party, or drop the column)")
        except BadCell as e:
            errors.add(line, e.column, e.reason)
            continue
        first_line[ident] = line
        ids.append(ident)
        for c, v in zip(SNAPSHOT_COLUMNS[1:], (lat, lon, alt, gs, trk, vs), strict=True):
            cols[c].append(v)
        parties.append(party)
    errors.raise_if_any()

    def arr(c: str) -> FloatArray:
        return np.asarray(cols[c], dtype=np.float64)

    return Snapshot(
        ids=tuple(ids),
        lat=arr("lat"),
        lon=arr("lon"),
        alt_m=arr("alt_m"),
        gs_mps=arr("gs_mps"),
        trk_deg=np.mod(arr("trk_deg"), 360.0),
        vs_mps=arr("vs_mps"),
        party=tuple(parties) if has_party else None,
        alt_ref=None if ref is None else ref[0],
    )


def _time(row: dict[str, str]) -> float:
    text = row["time"].strip()
    if not text:
        raise BadCell("time", "is empty")
    try:
        value = float(text)
    except ValueError:
        try:
            return parse_time(text, "time")
        except ValidationError as e:
            raise BadCell("time", e.errors[0].reason) from None
    if not math.isfinite(value):
        raise BadCell("time", f"not a finite number ({text!r})")
    return value


def _alt_ref(row: dict[str, str]) -> AltitudeReference | None:
    """The row's reference; ``None`` when it gives none (no column, or an empty cell)."""
    text = row.get("alt_ref", "").strip().upper()
    if not text:
        return None
    if text == "AGL":
        raise BadCell("alt_ref", f"AGL needs terrain data the broker does not have; use {REFERENCES}")
    try:
        return AltitudeReference(text)
    except ValueError:
        raise BadCell("alt_ref", f"{text[:20]!r} is not {REFERENCES}") from None


def _recording_state(row: dict[str, str], ref: AltitudeReference) -> TrackState:
    t = _time(row)
    ident = cell_aircraft_id(row)
    lat, lon = cell_position(row)
    alt = cell_number(row, "alt_m")
    gs, trk, vs = (cell_optional_number(row, c) for c in VELOCITY_COLUMNS)
    if (gs is None) != (trk is None):
        raise BadCell("trk_deg" if trk is None else "gs_mps", "give gs_mps and trk_deg together (or neither)")
    callsign = row.get("callsign", "").strip() or None
    if callsign is not None and len(callsign) > MAX_CALLSIGN:
        raise BadCell("callsign", f"longer than {MAX_CALLSIGN} characters")
    return TrackState(
        aircraft=ident,
        time=t,
        lat=lat,
        lon=lon,
        alt_m=alt,
        alt_ref=ref,
        gs_mps=gs,
        trk_deg=None if trk is None else trk % 360.0,
        vs_mps=vs,
        callsign=callsign,
    )


def read_recording_csv(path: Path | str, *, default_alt_ref: AltitudeReference | None = None) -> list[TrackState]:
    """A replay recording, sorted by time (stable: equal times keep file order).

    ``default_alt_ref`` is the reference of rows that give none (no ``alt_ref`` column, or an
    empty cell in it); without it such rows are refused, in one error for the whole file: a
    pressure and a geometric altitude differ by hundreds of metres, so the reference is not
    guessed. Only the format is checked here: whether a speed or an altitude is plausible is for
    the broker, which refuses and counts such states when they are replayed.

    Raises :class:`ValidationError` (every error ``FILE:LINE: column: reason``) or :class:`OSError`.
    """
    errors = FileErrors(str(path))
    header = Header()
    states: list[TrackState] = []
    unreferenced: list[int] = []  # lines of rows that give no reference, when none is given for them
    for line, row in read_rows(path, RECORDING_COLUMNS, RECORDING_OPTIONAL, errors, header):
        try:
            ref = _alt_ref(row) or default_alt_ref
            if ref is None:
                unreferenced.append(line)
                ref = AltitudeReference.STD  # only to check the rest of the row: the file is refused
            states.append(_recording_state(row, ref))
        except BadCell as e:
            errors.add(line, e.column, e.reason)
    if "alt_ref" not in header.names and unreferenced:
        errors.add(
            header.line,
            "header",
            "no alt_ref column, so the file gives no altitude reference; add the column "
            f"({REFERENCES} on every row) or give the whole file's reference with --alt-ref {REFERENCES}",
            first=True,
        )
    elif unreferenced:
        more = len(unreferenced) - 1
        also = f" (and on {more} more row{'s' if more > 1 else ''})" if more else ""
        errors.add(
            unreferenced[0],
            "alt_ref",
            f"is empty{also}, so the file gives no altitude reference for those rows; fill them in "
            f"({REFERENCES}) or give theirs with --alt-ref {REFERENCES}",
        )
    errors.raise_if_any()
    states.sort(key=lambda s: s.time)
    return states
