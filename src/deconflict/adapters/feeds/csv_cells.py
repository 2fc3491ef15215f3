"""Reading the cells of a CSV states file (:mod:`deconflict.adapters.feeds.csv_states`): the header
checked against the known columns, the rows, each cell read or refused with its column, and the
file's errors collected as ``FILE:LINE: column: reason``."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from deconflict.domain.errors import FieldError, ValidationError
from deconflict.domain.strict import suggestion
from deconflict.domain.tracks import MAX_AIRCRAFT_ID, MAX_ALT_M, MAX_GS_MPS, MAX_VS_MPS, MIN_ALT_M

MAX_ERRORS = 20
"""Errors listed for one file; the rest are counted in a last line."""


class FileErrors:
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


class BadCell(Exception):
    """One bad cell: the column and the reason."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


@dataclass
class Header:
    """The header as read: its line and its column names (lower-cased)."""

    line: int = 1
    names: tuple[str, ...] = ()


def check_header(
    cells: list[str], required: Sequence[str], optional: Sequence[str], line: int, errors: FileErrors
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


def read_rows(
    path: Path | str, required: Sequence[str], optional: Sequence[str], errors: FileErrors, header: Header
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
                    if not check_header(cells, required, optional, reader.line_num, errors):
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


def cell_number(row: dict[str, str], column: str) -> float:
    text = row[column].strip()
    if not text:
        raise BadCell(column, "is empty")
    try:
        value = float(text)
    except ValueError:
        raise BadCell(column, f"not a number ({text[:40]!r})") from None
    if not math.isfinite(value):
        raise BadCell(column, f"not a finite number ({text!r})")
    return value


def cell_optional_number(row: dict[str, str], column: str) -> float | None:
    if column not in row or not row[column].strip():
        return None
    return cell_number(row, column)


def cell_position(row: dict[str, str]) -> tuple[float, float]:
    lat, lon = cell_number(row, "lat"), cell_number(row, "lon")
    if not -90.0 <= lat <= 90.0:
        raise BadCell("lat", f"latitude {lat} is outside [-90, 90]")
    if not -180.0 <= lon <= 180.0:
        raise BadCell("lon", f"longitude {lon} is outside [-180, 180]")
    return lat, lon


def cell_aircraft_id(row: dict[str, str]) -> str:
    ident = row["id"].strip()
    if not ident:
        raise BadCell("id", "is empty")
    if len(ident) > MAX_AIRCRAFT_ID:
        raise BadCell("id", f"longer than {MAX_AIRCRAFT_ID} characters")
    return ident


def check_plausible(alt_m: float, gs_mps: float | None, vs_mps: float | None) -> None:
    """The same bounds the broker applies to reported tracks (:mod:`deconflict.domain.tracks`)."""
    if not MIN_ALT_M <= alt_m <= MAX_ALT_M:
        raise BadCell("alt_m", f"{alt_m} m is outside [{MIN_ALT_M:.0f}, {MAX_ALT_M:.0f}] m")
    if gs_mps is not None and not 0.0 <= gs_mps <= MAX_GS_MPS:
        raise BadCell("gs_mps", f"{gs_mps} m/s is outside [0, {MAX_GS_MPS:.0f}] m/s")
    if vs_mps is not None and abs(vs_mps) > MAX_VS_MPS:
        raise BadCell("vs_mps", f"{vs_mps} m/s is outside ±{MAX_VS_MPS:.0f} m/s")
