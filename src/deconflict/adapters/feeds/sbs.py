"""SBS-1/BaseStation text, the format dump1090 serves on TCP port 30003, from a file or a socket
(the socket in :mod:`deconflict.adapters.feeds.sbs_socket`).

A line is up to 22 comma-separated fields::

    MSG,3,1,1,4CA2D6,1,2015/09/30,06:11:02.123,2015/09/30,06:11:02.130,,37000,,,51.45735,-1.02826,,,0,0,0,0

====  ==========================  =================================================
 #    field                       used for
====  ==========================  =================================================
 1    message type                ``MSG`` (``SEL``, ``ID``, ``AIR``, ``STA``, ``CLK`` are ignored)
 2    transmission type 1–8       1 identification, 2 surface position, 3 airborne position,
                                  4 airborne velocity, 5–7 altitude, 8 all-call reply
 3-4  session id, aircraft id     not used
 5    hex ident                   the aircraft id (ICAO 24-bit address, lower-cased; dump1090
                                  marks non-ICAO addresses with ``~``)
 6    flight id                   not used
 7-8  date, time generated        the state's time (``YYYY/MM/DD``, ``HH:MM:SS.mmm``)
 9-10 date, time logged           the time when the generated one is missing or malformed
 11   callsign                    ``callsign``
 12   altitude, ft                ``alt_m`` (barometric: reference ``STD``)
 13   ground speed, kt            ``gs_mps``
 14   track, degrees              ``trk_deg``
 15   latitude, 16 longitude      ``lat``, ``lon``
 17   vertical rate, ft/min       ``vs_mps``
 18-21 squawk, alert, emergency,  not used
      SPI
 22   on ground                   positions flagged on the ground are ignored
====  ==========================  =================================================

SBS splits what an aircraft reports into separate messages: position (MSG,3), velocity (MSG,4),
identification (MSG,1). :class:`SbsDecoder` keeps a small state per aircraft and emits one full
:class:`TrackState` per airborne position, with the latest velocity when it is at most
:data:`VELOCITY_MAX_AGE_S` older (or newer) than the position, and without velocity otherwise (the
broker then derives it from the aircraft's recent positions).

**Times.** The format carries no time zone. The decoder reads the dates and times as UTC.
dump1090 writes the receiving machine's local time, so run it with ``TZ=UTC`` or give the decoder
``utc_offset_s`` (the receiver's offset east of UTC, 7200 for UTC+2).

A malformed line (wrong field count, a number that is not one, a latitude off the globe, a date
that does not exist) is counted in :attr:`SbsDecoder.stats` with its reason and skipped; the
decoder never raises on input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from deconflict.adapters.feeds import FOOT_PER_MIN_MPS, KNOT_MPS, FeedStats
from deconflict.domain.tracks import TrackState
from deconflict.domain.units import FOOT_M
from deconflict.domain.volumes import AltitudeReference

DEFAULT_PORT = 30003
"""dump1090's BaseStation output port."""
VELOCITY_MAX_AGE_S = 10.0
"""A velocity (MSG,4) further than this in time from a position is not attached to it. dump1090
relays velocities about twice a second, so 10 s of silence means the velocity is stale."""
ALTITUDE_MAX_AGE_S = 10.0
"""A position without an altitude of its own takes the latest MSG,3/5/6/7 altitude at most this old."""
FORGET_AFTER_S = 300.0
"""Merge state of an aircraft not heard from for this long is dropped, which keeps a long-running
live feed's memory bounded by the traffic in view rather than by every aircraft ever seen."""
FIELDS = 22
"""Fields in a full BaseStation line; shorter lines are padded (some tools trim empty trailing
fields), longer ones keep their first 22."""
MAX_CALLSIGN = 16
"""The broker's limit on a callsign; SBS callsigns have at most 8 characters."""
_OTHER_TYPES = frozenset({"SEL", "ID", "AIR", "STA", "CLK"})
_HEX = re.compile(r"~?[0-9a-f]{6}", re.ASCII)
_DATE = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})", re.ASCII)
_CLOCK = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?", re.ASCII)
_EPOCH = date(1970, 1, 1)
_PURGE_EVERY = 1000
"""Lines between two sweeps for aircraft to forget (a sweep walks every aircraft in view)."""


class _Malformed(Exception):
    """A line the decoder cannot use: ``kind`` is the reason without values, for counting."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def parse_sbs_time(day: str, clock: str) -> float:
    """BaseStation ``YYYY/MM/DD`` and ``HH:MM:SS.mmm``, read as UTC, → epoch seconds.

    >>> parse_sbs_time("2015/09/30", "06:11:02.123")
    1443593462.123
    >>> parse_sbs_time("2015/02/30", "06:11:02")
    Traceback (most recent call last):
    ...
    ValueError: day is out of range for month
    """
    dm = _DATE.fullmatch(day.strip())
    cm = _CLOCK.fullmatch(clock.strip())
    if dm is None or cm is None:
        raise ValueError(f"not YYYY/MM/DD,HH:MM:SS.mmm ({day!r}, {clock!r})")
    days = (date(int(dm[1]), int(dm[2]), int(dm[3])) - _EPOCH).days
    h, m, s = int(cm[1]), int(cm[2]), int(cm[3])
    if h > 23 or m > 59 or s > 60:  # 60: a leap second, as time stamps may carry
        raise ValueError(f"no such time of day ({clock!r})")
    frac = float("0." + cm[4]) if cm[4] else 0.0
    return round(days * 86400 + h * 3600 + m * 60 + s + frac, 6)


def _number(text: str, name: str) -> float | None:
    """A field as a float, ``None`` when empty; a :class:`_Malformed` when not a finite number."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise _Malformed(f"{name}: not a number", f"{name}: not a number ({text[:20]!r})") from None
    if not math.isfinite(value):
        raise _Malformed(f"{name}: not finite", f"{name}: not a finite number ({text!r})")
    return value


@dataclass(slots=True)
class _Aircraft:
    """What the decoder remembers of one aircraft between its messages (mutable: it is merge state)."""

    last_t: float
    callsign: str | None = None
    alt_ft: float | None = None
    alt_t: float = -math.inf
    gs_kt: float | None = None
    trk_deg: float | None = None
    vs_fpm: float | None = None
    vel_t: float = -math.inf


class SbsDecoder:
    """Turns BaseStation lines into :class:`TrackState`\\ s, one per airborne position.

    >>> d = SbsDecoder()
    >>> d.decode("MSG,4,1,1,4CA2D6,1,2015/09/30,06:11:01.000,2015/09/30,06:11:01.000,,,450,90.0,,,-640,,,,,0")
    >>> s = d.decode("MSG,3,1,1,4CA2D6,1,2015/09/30,06:11:02.000,2015/09/30,06:11:02.000,,37000,,,51.5,-1.0,,,,,,0")
    >>> s.aircraft, s.alt_m, s.alt_ref.value, round(s.gs_mps, 2), s.trk_deg, round(s.vs_mps, 2)
    ('4ca2d6', 11277.6, 'STD', 231.5, 90.0, -3.25)
    >>> d.decode("MSG,3,bad") is None, d.stats.skipped_total
    (True, 1)
    """

    def __init__(
        self,
        *,
        velocity_max_age_s: float = VELOCITY_MAX_AGE_S,
        altitude_max_age_s: float = ALTITUDE_MAX_AGE_S,
        forget_after_s: float = FORGET_AFTER_S,
        utc_offset_s: float = 0.0,
        stats: FeedStats | None = None,
    ) -> None:
        self.velocity_max_age_s = velocity_max_age_s
        self.altitude_max_age_s = altitude_max_age_s
        self.forget_after_s = forget_after_s
        self.utc_offset_s = utc_offset_s
        self.stats = stats if stats is not None else FeedStats()
        self._aircraft: dict[str, _Aircraft] = {}

    @property
    def in_view(self) -> int:
        """Aircraft whose merge state is kept."""
        return len(self._aircraft)

    def decode(self, line: str, line_no: int = 0) -> TrackState | None:
        """The state this line completes, or ``None`` (a velocity, an ignored or malformed line)."""
        self.stats.lines += 1
        text = line.strip()
        if not text:
            return None
        try:
            state = self._decode(text.split(","))
        except _Malformed as e:
            self.stats.skip(line_no, e.detail, e.kind)
            return None
        if state is not None:
            self.stats.states += 1
        if self.stats.lines % _PURGE_EVERY == 0:
            self._forget(state.time if state is not None else None)
        return state

    def _decode(self, f: list[str]) -> TrackState | None:
        kind = f[0].strip().upper()
        if kind != "MSG":
            if kind in _OTHER_TYPES:
                self.stats.ignore(f"{kind} line")
                return None
            raise _Malformed("not a BaseStation line", f"not a BaseStation line (starts with {f[0][:10]!r})")
        if len(f) < 11:  # up to the callsign; later fields may be trimmed
            raise _Malformed("too few fields", f"{len(f)} fields; a BaseStation line has {FIELDS}")
        f = (f + [""] * FIELDS)[:FIELDS]
        tx = f[1].strip()
        if tx not in ("1", "2", "3", "4", "5", "6", "7", "8"):
            raise _Malformed("transmission type: not 1 to 8", f"transmission type: not 1 to 8 ({tx[:10]!r})")
        hex_ident = f[4].strip().lower()
        if _HEX.fullmatch(hex_ident) is None:
            raise _Malformed("hex ident: not a 24-bit address", f"hex ident: not a 24-bit address ({f[4][:10]!r})")
        t = self._time(f) - self.utc_offset_s
        ac = self._aircraft.get(hex_ident)
        if ac is None:
            ac = self._aircraft[hex_ident] = _Aircraft(last_t=t)
        ac.last_t = max(ac.last_t, t)
        callsign = f[10].strip()
        if callsign and len(callsign) <= MAX_CALLSIGN:
            ac.callsign = callsign
        if tx in ("3", "5", "6", "7"):
            alt = _number(f[11], "altitude")
            if alt is not None:
                ac.alt_ft, ac.alt_t = alt, t
        if tx == "3":
            return self._position(hex_ident, ac, f, t)
        if tx == "4":
            self._velocity(ac, f, t)
        elif tx == "2":
            self.stats.ignore("surface position")
        elif tx == "8":
            self.stats.ignore("all-call reply")
        return None

    def _time(self, f: list[str]) -> float:
        try:
            return parse_sbs_time(f[6], f[7])
        except ValueError as generated:
            try:
                return parse_sbs_time(f[8], f[9])
            except ValueError:
                raise _Malformed("date/time generated: malformed", f"date/time generated: {generated}") from None

    def _velocity(self, ac: _Aircraft, f: list[str], t: float) -> None:
        gs = _number(f[12], "ground speed")
        trk = _number(f[13], "track")
        vs = _number(f[16], "vertical rate")
        if gs is None or trk is None:
            self.stats.ignore("velocity without ground speed and track")
            return
        if gs < 0:
            raise _Malformed("ground speed: negative", f"ground speed: negative ({gs})")
        ac.gs_kt, ac.trk_deg, ac.vs_fpm, ac.vel_t = gs, trk % 360.0, vs, t

    def _position(self, hex_ident: str, ac: _Aircraft, f: list[str], t: float) -> TrackState | None:
        lat = _number(f[14], "latitude")
        lon = _number(f[15], "longitude")
        if lat is None or lon is None:
            raise _Malformed("position without latitude or longitude", "MSG,3 without latitude or longitude")
        if not -90.0 <= lat <= 90.0:
            raise _Malformed("latitude outside [-90, 90]", f"latitude {lat} is outside [-90, 90]")
        if not -180.0 <= lon <= 180.0:
            raise _Malformed("longitude outside [-180, 180]", f"longitude {lon} is outside [-180, 180]")
        if f[21].strip() in ("-1", "1"):  # BaseStation writes true as -1; some tools as 1
            self.stats.ignore("position on the ground")
            return None
        if ac.alt_ft is None or abs(t - ac.alt_t) > self.altitude_max_age_s:
            self.stats.ignore("position without a recent altitude")
            return None
        gs_mps = trk = vs_mps = None
        if ac.gs_kt is not None and abs(t - ac.vel_t) <= self.velocity_max_age_s:
            gs_mps, trk = ac.gs_kt * KNOT_MPS, ac.trk_deg
            vs_mps = None if ac.vs_fpm is None else ac.vs_fpm * FOOT_PER_MIN_MPS
        return TrackState(
            aircraft=hex_ident,
            time=t,
            lat=lat,
            lon=lon,
            alt_m=round(ac.alt_ft * FOOT_M, 3),
            alt_ref=AltitudeReference.STD,  # Mode S altitude is barometric on the standard setting
            gs_mps=gs_mps,
            trk_deg=trk,
            vs_mps=vs_mps,
            callsign=ac.callsign,
        )

    def _forget(self, now: float | None) -> None:
        if now is None:
            now = max((a.last_t for a in self._aircraft.values()), default=0.0)
        cutoff = now - self.forget_after_s
        for key in [k for k, a in self._aircraft.items() if a.last_t < cutoff]:
            del self._aircraft[key]


def decode_sbs(lines: Iterable[str], decoder: SbsDecoder | None = None) -> Iterator[TrackState]:
    """The states in ``lines`` (numbered from 1 for the decoder's examples), in input order."""
    d = decoder if decoder is not None else SbsDecoder()
    for n, line in enumerate(lines, start=1):
        state = d.decode(line, n)
        if state is not None:
            yield state


def sbs_file_lines(path: Path | str) -> Iterator[str]:
    """The lines of a recorded BaseStation file; bytes that are not UTF-8 become U+FFFD (and the
    line is then counted as malformed by the decoder instead of stopping the read)."""
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        yield from f


def read_sbs_file(path: Path | str, decoder: SbsDecoder | None = None) -> tuple[list[TrackState], FeedStats]:
    """Every state in a BaseStation file, in file order, and what was skipped.

    Raises :class:`OSError` only when the file cannot be opened or read.
    """
    d = decoder if decoder is not None else SbsDecoder()
    return list(decode_sbs(sbs_file_lines(path), d)), d.stats
