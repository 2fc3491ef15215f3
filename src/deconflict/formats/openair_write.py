"""Notices written as OpenAir (see :mod:`deconflict.formats.openair` for the format), for crews'
flight-bag tools: a record for each volume, ``AI`` the notice's id (so the file reads back as the
same notices), ``AA`` its window (a recurring volume: one ``AA`` per occurrence, which crews' tools
show as activation times; at most 31 days of daily windows), coordinates to a millisecond of arc (3 cm), heights to a
millimetre, flight levels to 1e-4 FL."""

from __future__ import annotations

from deconflict.domain.errors import ValidationError
from deconflict.domain.schedule import occurrences
from deconflict.domain.shapes import ShapeKind
from deconflict.domain.times import format_time
from deconflict.domain.volumes import Notice, Volume4D
from deconflict.formats.altitude import FL_M
from deconflict.formats.openair import NM_M


def format_coord(lat: float, lon: float) -> str:
    """(lat, lon) → ``DD:MM:SS.SSS N DDD:MM:SS.SSS E`` (a millisecond of arc: 3 cm)."""
    return f"{_dms(lat, 2)} {'N' if lat >= 0 else 'S'} {_dms(lon, 3)} {'E' if lon >= 0 else 'W'}"


def _dms(value: float, width: int) -> str:
    ms = round(abs(value) * 3_600_000)
    d, rest = divmod(ms, 3_600_000)
    m, s = divmod(rest, 60_000)
    return f"{d:0{width}d}:{m:02d}:{s / 1000:06.3f}"


def write_openair(notices: list[Notice]) -> str:
    """Notices as OpenAir: a record for each volume, ``AN`` the notice's name (else its id), ``AI``
    its id, ``AA`` its window.
    Refused (naming the notice and volume): corridors and orbits, and heights above the ellipsoid
    (W84), which OpenAir cannot say."""
    out: list[str] = []
    for i, n in enumerate(notices):
        ident = (n.id or f"notice-{i + 1}").removeprefix(n.party + ":")
        for j, v in enumerate(n.volumes):
            where = f"{n.id or i}: volumes[{j}]"
            ref = v.altitude.reference.value
            if ref == "W84":
                raise ValidationError.at(where, "a height above the ellipsoid (W84) has no OpenAir form")
            if v.shape.kind not in (ShapeKind.POLYGON, ShapeKind.CIRCLE):
                raise ValidationError.at(where, f"a {v.shape.kind.value} has no OpenAir form")
            out += [
                f"AC {'P' if n.protected else 'Q'}",
                f"AN {n.name or ident}" + (f" ({j + 1})" if len(n.volumes) > 1 else ""),
                f"AI {ident}",
                f"AY {n.kind.upper()}",
                *(f"AA {_iso(a)}/{_iso(b)}" for a, b in _activations(v)),
                f"AL {_alt(v.altitude.lower_m, ref)}",
                f"AH {_alt(v.altitude.upper_m, ref)}",
            ]
            if v.shape.kind is ShapeKind.CIRCLE:
                out += [f"V X={format_coord(*v.shape.points[0])}", f"DC {v.shape.buffer_m / NM_M:.6f}"]
            else:
                out += [f"DP {format_coord(a, b)}" for a, b in v.shape.points]
            out.append("")
    return "\n".join(out)


def _activations(v: Volume4D) -> list[tuple[float, float]]:
    """The volume's window, or each occurrence of its schedule (a file for crews lists them)."""
    if v.schedule is None:
        return [(v.time_start, v.time_end)]
    return [(a, b) for a, b in occurrences(v.schedule, v.time_start, v.time_end, v.time_start, v.time_end) if b > a]


def _iso(t: float) -> str:
    return format_time(t)


def _alt(m: float, ref: str) -> str:
    if ref == "STD":
        return f"FL{m / FL_M:.4f}".rstrip("0").rstrip(".")
    return f"{m:.3f}m MSL"
