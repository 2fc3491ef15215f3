"""CSV states: snapshots for ``deconflict detect`` and recordings for ``deconflict replay``.

Both are comma-separated UTF-8 with a header line; header names are matched case-insensitively,
columns may come in any order, and columns not named here are ignored (a ``callsign`` column in a
snapshot, say). Units are SI and in the column names.

Snapshot (one state per aircraft, all at the same moment)::

    id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps[,party]

Recording (any number of states per aircraft; sorted by time on reading)::

    time,id,lat,lon,alt_m[,alt_ref][,gs_mps,trk_deg,vs_mps][,callsign]

``time`` is epoch seconds or an RFC 3339 time with an offset (``2021-10-07T12:00:00Z``);
``alt_ref`` is ``STD`` (pressure altitude), ``AMSL`` or ``W84``; velocity cells may be empty (the
broker then derives velocity from recent positions), but ``gs_mps`` and ``trk_deg`` go together.

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
from deconflict.domain.parse import parse_time
from deconflict.domain.tactical import States
from deconflict.domain.tracks import MAX_AIRCRAFT_ID, MAX_ALT_M, MAX_GS_MPS, MAX_VS_MPS, MIN_ALT_M, TrackState
from deconflict.domain.volumes import AltitudeReference

FloatArray = npt.NDArray[np.float64]

SNAPSHOT_COLUMNS = ("id", "lat", "lon", "alt_m", "gs_mps", "trk_deg", "vs_mps")
"""Required columns of a ``detect`` snapshot (``party`` is optional)."""
RECORDING_COLUMNS = ("time", "id", "lat", "lon", "alt_m")
"""Required columns of a replay recording (``alt_ref``, velocity and ``callsign`` are optional)."""
VELOCITY_COLUMNS = ("gs_mps", "trk_deg", "vs_mps")
MAX_ERRORS = 20
"""Errors listed for one file; the rest are counted in a last line."""
MAX_CALLSIGN = 16


@dataclass(frozen=True)
class Snapshot:
    """Aircraft states at one moment, as parallel arrays in file order.

    ``party`` is ``None`` when the file has no ``party`` column (then every pair counts).
    """

    ids: tuple[str, ...]
    lat: FloatArray
    lon: FloatArray
    alt_m: FloatArray
    gs_mps: FloatArray
    trk_deg: FloatArray
    vs_mps: FloatArray
    party: tuple[str, ...] | None = None

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

    def add(self, line: int | None, column: str | None, reason: str) -> None:
        self.count += 1
        if len(self.items) < MAX_ERRORS:
            where = self.name + (f":{line}" if line is not None else "") + (f": {column}" if column else "")
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


def _rows(path: Path | str, required: Sequence[str], errors: _Errors) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, {column: cell})`` per data row; header problems and ragged rows go to
    ``errors`` (ragged rows are then skipped, so one missing comma is reported once)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header: list[str] | None = None
            for cells in reader:
                if not cells or all(not c.strip() for c in cells):
                    continue
                if header is None:
                    header = [c.strip().lower() for c in cells]
                    dupes = sorted({c for c in header if header.count(c) > 1 and c})
                    if dupes:
                        errors.add(reader.line_num, "header", f"column {dupes[0]!r} appears more than once")
                    missing = [c for c in required if c not in header]
                    if missing:
                        errors.add(
                            reader.line_num,
                            "header",
                            f"missing column(s) {', '.join(missing)}; the header needs {','.join(required)}",
                        )
                    if dupes or missing:
                        return
                    continue
                if len(cells) != len(header):
                    errors.add(reader.line_num, None, f"{len(cells)} fields, but the header has {len(header)}")
                    continue
                yield reader.line_num, dict(zip(header, cells, strict=True))
            if header is None:
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

    Raises :class:`ValidationError` (every error ``FILE:LINE: column: reason``) or :class:`OSError`.
    """
    name = str(path)
    errors = _Errors(name)
    ids: list[str] = []
    cols: dict[str, list[float]] = {c: [] for c in SNAPSHOT_COLUMNS[1:]}
    parties: list[str] = []
    first_line: dict[str, int] = {}
    has_party = False
    for line, row in _rows(path, SNAPSHOT_COLUMNS, errors):
        has_party = "party" in row
        try:
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


def _alt_ref(row: dict[str, str], default: AltitudeReference) -> AltitudeReference:
    text = row.get("alt_ref", "").strip().upper()
    if not text:
        return default
    if text == "AGL":
        raise _Bad("alt_ref", "AGL needs terrain data the broker does not have; use STD, AMSL or W84")
    try:
        return AltitudeReference(text)
    except ValueError:
        raise _Bad("alt_ref", f"{text[:20]!r} is not STD, AMSL or W84") from None


def _recording_state(row: dict[str, str], default_ref: AltitudeReference) -> TrackState:
    t = _time(row)
    ident = _aircraft_id(row)
    lat, lon = _position(row)
    alt = _num(row, "alt_m")
    ref = _alt_ref(row, default_ref)
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


def read_recording_csv(
    path: Path | str, *, default_alt_ref: AltitudeReference = AltitudeReference.STD
) -> list[TrackState]:
    """A replay recording, sorted by time (stable: equal times keep file order).

    ``default_alt_ref`` applies to rows without an ``alt_ref`` (pressure altitude by default, as
    ADS-B reports). Only the format is checked here: whether a speed or an altitude is plausible
    is for the broker, which refuses and counts such states when they are replayed.

    Raises :class:`ValidationError` (every error ``FILE:LINE: column: reason``) or :class:`OSError`.
    """
    errors = _Errors(str(path))
    states: list[TrackState] = []
    for line, row in _rows(path, RECORDING_COLUMNS, errors):
        try:
            states.append(_recording_state(row, default_alt_ref))
        except _Bad as e:
            errors.add(line, e.column, e.reason)
    errors.raise_if_any()
    states.sort(key=lambda s: s.time)
    return states
