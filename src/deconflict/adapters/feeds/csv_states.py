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
:data:`MAX_ERRORS` of them listed, rather than read in part.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from deconflict.domain.errors import FieldError, ValidationError
from deconflict.domain.geodesy import FloatArray
from deconflict.domain.strict import suggestion
from deconflict.domain.tactical import States
from deconflict.domain.times import parse_time
from deconflict.domain.tracks import MAX_AIRCRAFT_ID, MAX_ALT_M, MAX_GS_MPS, MAX_VS_MPS, MIN_ALT_M, TrackState
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
MAX_ERRORS = 20
"""Errors listed for one file; the rest are counted in a last line."""
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


class _Errors:
    """Collects a file's errors as ``FILE:LINE: column`` paths; raises them together at the end."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.items: list[FieldError] = []
        self.count = 0

    def add(self, line: int | None, column: str | None, reason: str, *, first: bool = False) -> None:
        """One error; ``first`` lists it before those already added (a header found wrong late)."""
        self.count += 1
        where = self.name + (f":{line}" if line is not None else "") + (f": {column}" if column else "")
        if first:
            self.items.insert(0, FieldError(where, reason))
            del self.items[MAX_ERRORS:]
        elif len(self.items) < MAX_ERRORS:
            self.items.append(FieldError(where, reason))

    def raise_if_any(self) -> None:
        if not self.count:
            return
        items = list(self.items)
        if self.count > len(items):
            items.append(FieldError(self.name, f"and {self.count - len(items)} more error(s)"))
        raise ValidationError(items)


class _Bad(Exception):
    """One bad cell: the column and the reason."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


@dataclass
class _Header:
    """The header as read: its line and its column names (lower-cased)."""

    line: int = 1
    names: tuple[str, ...] = ()


def _check_header(
    cells: list[str], required: Sequence[str], optional: Sequence[str], line: int, errors: _Errors
) -> bool:
    """Whether the header names each known column at most once, every required one, and nothing
    else; what is wrong goes to ``errors``. An unknown name is refused, with the known column it
    was probably meant to be: a misspelt optional column would otherwise be read as absent."""
    known = (*required, *optional)
    names = [c.strip() for c in cells]
    ok = True
    for n, name in enumerate(names, start=1):
        if not name:
            errors.add(line, "header", f"column {n} has no name; name it or remove it")
            ok = False
        elif name.lower() not in known:
            near = suggestion(name, known)
            hint = f'did you mean "{near}"?' if near else f"the columns are {','.join(known)}"
            errors.add(line, "header", f'unknown column "{name}"; {hint}')
            ok = False
    lowered = [c.lower() for c in names]
    dupes = sorted({c for c in lowered if lowered.count(c) > 1 and c})
    if dupes:
        errors.add(line, "header", f"column {dupes[0]!r} appears more than once")
    missing = [c for c in required if c not in lowered]
    if missing:
        errors.add(line, "header", f"missing column(s) {', '.join(missing)}; the header needs {','.join(required)}")
    return ok and not dupes and not missing


def _rows(
    path: Path | str, required: Sequence[str], optional: Sequence[str], errors: _Errors, header: _Header
) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, {column: cell})`` per data row, the header read into ``header``; header
    problems and ragged rows go to ``errors`` (ragged rows are then skipped, so one missing comma
    is reported once; a bad header ends the file, as no row can be read right under it)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            names: list[str] | None = None
            for cells in reader:
                if not cells or all(not c.strip() for c in cells):
                    continue
                if names is None:
                    names = [c.strip().lower() for c in cells]
                    if not _check_header(cells, required, optional, reader.line_num, errors):
                        return
                    header.line, header.names = reader.line_num, tuple(names)
                    continue
                if len(cells) != len(names):
                    errors.add(reader.line_num, None, f"{len(cells)} fields, but the header has {len(names)}")
                    continue
                yield reader.line_num, dict(zip(names, cells, strict=True))
            if names is None:
                errors.add(1, "header", f"the file is empty; the header needs {','.join(required)}")
    except UnicodeDecodeError as e:
        errors.add(None, None, f"not UTF-8 text ({e.reason} at byte {e.start})")
    except csv.Error as e:
        errors.add(None, None, f"not CSV ({e})")


def _num(row: dict[str, str], column: str) -> float:
    text = row[column].strip()
    if not text:
        raise _Bad(column, "is empty")
    try:
        value = float(text)
    except ValueError:
        raise _Bad(column, f"not a number ({text[:40]!r})") from None
    if not math.isfinite(value):
        raise _Bad(column, f"not a finite number ({text!r})")
    return value


def _opt_num(row: dict[str, str], column: str) -> float | None:
    if column not in row or not row[column].strip():
        return None
    return _num(row, column)


def _position(row: dict[str, str]) -> tuple[float, float]:
    lat, lon = _num(row, "lat"), _num(row, "lon")
    if not -90.0 <= lat <= 90.0:
        raise _Bad("lat", f"latitude {lat} is outside [-90, 90]")
    if not -180.0 <= lon <= 180.0:
        raise _Bad("lon", f"longitude {lon} is outside [-180, 180]")
    return lat, lon


def _aircraft_id(row: dict[str, str]) -> str:
    ident = row["id"].strip()
    if not ident:
        raise _Bad("id", "is empty")
    if len(ident) > MAX_AIRCRAFT_ID:
        raise _Bad("id", f"longer than {MAX_AIRCRAFT_ID} characters")
    return ident


def _plausible(alt_m: float, gs_mps: float | None, vs_mps: float | None) -> None:
    """The same bounds the broker applies to reported tracks (:mod:`deconflict.domain.tracks`)."""
    if not MIN_ALT_M <= alt_m <= MAX_ALT_M:
        raise _Bad("alt_m", f"{alt_m} m is outside [{MIN_ALT_M:.0f}, {MAX_ALT_M:.0f}] m")
    if gs_mps is not None and not 0.0 <= gs_mps <= MAX_GS_MPS:
        raise _Bad("gs_mps", f"{gs_mps} m/s is outside [0, {MAX_GS_MPS:.0f}] m/s")
    if vs_mps is not None and abs(vs_mps) > MAX_VS_MPS:
        raise _Bad("vs_mps", f"{vs_mps} m/s is outside ±{MAX_VS_MPS:.0f} m/s")


def read_snapshot(path: Path | str) -> Snapshot:
    """A ``detect`` snapshot: ``id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps[,party]``, every cell
    required, ids unique; values are held to the bounds the broker applies to live tracks.

    Without an ``alt_ref`` column the altitudes are taken to be all in one reference (they are
    compared only with each other); with one, every row must name the same reference.

    Raises :class:`ValidationError` (every error ``FILE:LINE: column: reason``) or :class:`OSError`.
    """
    name = str(path)
    errors = _Errors(name)
    ids: list[str] = []
    cols: dict[str, list[float]] = {c: [] for c in SNAPSHOT_COLUMNS[1:]}
    parties: list[str] = []
    first_line: dict[str, int] = {}
    has_party = False
    ref: tuple[AltitudeReference, int] | None = None  # the reference and the line that first gave it
    for line, row in _rows(path, SNAPSHOT_COLUMNS, SNAPSHOT_OPTIONAL, errors, _Header()):
        has_party = "party" in row
        try:
            if "alt_ref" in row:
                row_ref = _alt_ref(row)
                if row_ref is None:
                    raise _Bad("alt_ref", "is empty")
                if ref is None:
                    ref = (row_ref, line)
                elif row_ref is not ref[0]:
                    raise _Bad(
                        "alt_ref",
                        f"{row_ref.value}, but line {ref[1]} gives {ref[0].value}; a snapshot's altitudes are "
                        "compared as they are, so give them all in one reference",
                    )
            ident = _aircraft_id(row)
            if ident in first_line:
                raise _Bad("id", f"duplicate id {ident!r} (first on line {first_line[ident]})")
            lat, lon = _position(row)
            alt, gs, trk, vs = (_num(row, c) for c in ("alt_m", "gs_mps", "trk_deg", "vs_mps"))
            _plausible(alt, gs, vs)
            party = row["party"].strip() if has_party else ""
            if has_party and not party:
                raise _Bad("party", "is empty (give every aircraft a party, or drop the column)")
        except _Bad as e:
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
        raise _Bad("time", "is empty")
    try:
        value = float(text)
    except ValueError:
        try:
            return parse_time(text, "time")
        except ValidationError as e:
            raise _Bad("time", e.errors[0].reason) from None
    if not math.isfinite(value):
        raise _Bad("time", f"not a finite number ({text!r})")
    return value


def _alt_ref(row: dict[str, str]) -> AltitudeReference | None:
    """The row's reference; ``None`` when it gives none (no column, or an empty cell)."""
    text = row.get("alt_ref", "").strip().upper()
    if not text:
        return None
    if text == "AGL":
        raise _Bad("alt_ref", f"AGL needs terrain data the broker does not have; use {REFERENCES}")
    try:
        return AltitudeReference(text)
    except ValueError:
        raise _Bad("alt_ref", f"{text[:20]!r} is not {REFERENCES}") from None


def _recording_state(row: dict[str, str], ref: AltitudeReference) -> TrackState:
    t = _time(row)
    ident = _aircraft_id(row)
    lat, lon = _position(row)
    alt = _num(row, "alt_m")
    gs, trk, vs = (_opt_num(row, c) for c in VELOCITY_COLUMNS)
    if (gs is None) != (trk is None):
        raise _Bad("trk_deg" if trk is None else "gs_mps", "give gs_mps and trk_deg together (or neither)")
    callsign = row.get("callsign", "").strip() or None
    if callsign is not None and len(callsign) > MAX_CALLSIGN:
        raise _Bad("callsign", f"longer than {MAX_CALLSIGN} characters")
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
    errors = _Errors(str(path))
    header = _Header()
    states: list[TrackState] = []
    unreferenced: list[int] = []  # lines of rows that give no reference, when none is given for them
    for line, row in _rows(path, RECORDING_COLUMNS, RECORDING_OPTIONAL, errors, header):
        try:
            ref = _alt_ref(row) or default_alt_ref
            if ref is None:
                unreferenced.append(line)
                ref = AltitudeReference.STD  # only to check the rest of the row: the file is refused
            states.append(_recording_state(row, ref))
        except _Bad as e:
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
