"""OpenSky-style recordings: the pandas JSON that the ``traffic`` library's samples are stored in.

A recording is a DataFrame written with ``DataFrame.to_json`` (``orient="records"`` in the
samples: a list of rows), optionally gzipped, with columns in the units OpenSky data has after
``traffic`` has read it:

==============  ====================================  =====================================
column          unit                                  becomes
==============  ====================================  =====================================
timestamp       epoch milliseconds (pandas' default;  ``time`` (seconds); ISO strings and
                seconds when the number is small)     epoch seconds are accepted too
icao24          hex string                            ``aircraft`` (lower-cased)
callsign        string                                ``callsign``
latitude        degrees                               ``lat``
longitude       degrees                               ``lon``
altitude        ft, barometric                        ``alt_m``, reference ``STD``
geoaltitude     ft, GNSS (WGS84)                      ``alt_m``, reference ``W84`` (on request)
groundspeed     kt                                    ``gs_mps``
track           degrees                               ``trk_deg``
vertical_rate   ft/min                                ``vs_mps``
onground        bool                                  rows on the ground are left out
==============  ====================================  =====================================

It is read with the standard library (``json``, ``gzip``), without pandas or ``traffic``.

The ``traffic`` 2.13 wheel carries such recordings under ``traffic/data/samples/`` (for example
``collections/quickstart.json.gz``: 213 aircraft around Paris at 1 s). They are OpenSky Network
data for research use: :func:`traffic_sample` fetches the wheel at test time into a cache
directory and reads the sample straight out of it; no copy is ever committed or installed.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from deconflict.adapters.feeds import FOOT_PER_MIN_MPS, KNOT_MPS, FeedStats
from deconflict.domain.errors import ValidationError
from deconflict.domain.tracks import TrackState
from deconflict.domain.units import FOOT_M
from deconflict.domain.volumes import AltitudeReference

TRAFFIC_REQUIREMENT = "traffic==2.13"
"""The wheel whose samples the real-data tests read."""
TRAFFIC_WHEEL = "traffic-2.13-py3-none-any.whl"
SAMPLES_PREFIX = "traffic/data/samples/"
QUICKSTART = "collections/quickstart.json.gz"
"""213 aircraft around Paris, 7 October 2021, one state a second, three hours."""
SWITZERLAND = "collections/switzerland.json.gz"
"""842 aircraft over Switzerland, 1 August 2018, one state every 10 s."""
MS_THRESHOLD = 1e11
"""Timestamps larger than this are milliseconds: 1e11 s is in the year 5138, 1e11 ms in 1973."""
MAX_CALLSIGN = 16

AltitudeSource = Literal["baro", "geo"]


def _gunzip(data: bytes) -> bytes:
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def load_records(data: bytes, name: str = "recording") -> list[Any]:
    """The rows of pandas JSON (``records``, ``columns`` or ``split`` orient, or JSON lines),
    gzipped or not, as a list (rows that are not objects are left for the caller to count).

    >>> load_records(b'{"icao24": {"0": "a", "1": "b"}, "timestamp": {"0": 1000, "1": 2000}}')
    [{'icao24': 'a', 'timestamp': 1000}, {'icao24': 'b', 'timestamp': 2000}]
    """
    try:
        text = _gunzip(data).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise ValidationError.at(name, f"not (gzipped) UTF-8 JSON ({e})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        if e.msg != "Extra data":
            raise ValidationError.at(name, f"not JSON ({e})") from None
        try:  # JSON lines: one row per line
            doc = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as e2:
            raise ValidationError.at(name, f"not JSON ({e2})") from None
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict) and isinstance(doc.get("columns"), list) and isinstance(doc.get("data"), list):
        cols = doc["columns"]
        return [dict(zip(cols, row, strict=False)) if isinstance(row, list) else row for row in doc["data"]]
    if isinstance(doc, dict) and doc and all(isinstance(v, dict) for v in doc.values()):
        index: dict[str, dict[str, Any]] = {}
        for col, cells in doc.items():
            for key, value in cells.items():
                index.setdefault(key, {})[col] = value
        return list(index.values())
    raise ValidationError.at(name, "not a pandas JSON table (expected a list of rows)")


def _finite(row: Mapping[str, Any], key: str) -> float | None:
    """A numeric cell, or ``None`` when absent, null, NaN or not a number."""
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def _timestamp(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        f = float(value)
        if not math.isfinite(f):
            return None
        return f / 1000.0 if abs(f) > MS_THRESHOLD else f
    if isinstance(value, str):
        try:
            t = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return (t if t.tzinfo is not None else t.replace(tzinfo=UTC)).timestamp()
    return None


def opensky_states(
    records: Iterable[Any],
    *,
    airborne_only: bool = True,
    altitude: AltitudeSource = "baro",
    stats: FeedStats | None = None,
) -> list[TrackState]:
    """SI states from OpenSky-style rows, sorted by time (stable).

    Rows on the ground (``onground`` true) are left out when ``airborne_only``: they have no
    barometric altitude, and taxiing aircraft a few metres apart are not a tactical conflict.
    ``altitude`` picks barometric (``STD``) or GNSS (``W84``) altitude; rows without it are left
    out. Rows without an ``icao24``, a timestamp or a position are counted as malformed in
    ``stats``; a speed or track that is missing leaves the state without velocity.

    >>> rows = [{"timestamp": 1633608773000, "icao24": "0101DE", "callsign": "MSR799 ", "latitude": 48.48,
    ...          "longitude": 3.83, "altitude": 13650.0, "groundspeed": 325.0, "track": 311.1,
    ...          "vertical_rate": -896.0, "onground": False}]
    >>> s = opensky_states(rows)[0]
    >>> s.aircraft, s.time, s.alt_m, s.alt_ref.value, round(s.gs_mps, 1), round(s.vs_mps, 2), s.callsign
    ('0101de', 1633608773.0, 4160.52, 'STD', 167.2, -4.55, 'MSR799')
    """
    st = stats if stats is not None else FeedStats()
    alt_key, ref = ("altitude", AltitudeReference.STD) if altitude == "baro" else ("geoaltitude", AltitudeReference.W84)
    out: list[TrackState] = []
    for n, row in enumerate(records, start=1):
        st.lines += 1
        if not isinstance(row, Mapping):
            st.skip(n, f"row {n}: not an object", "not an object")
            continue
        ident = row.get("icao24")
        if not isinstance(ident, str) or not ident.strip():
            st.skip(n, f"row {n}: no icao24", "no icao24")
            continue
        t = _timestamp(row.get("timestamp"))
        if t is None:
            st.skip(n, f"row {n}: timestamp {row.get('timestamp')!r} is not a time", "timestamp: not a time")
            continue
        if airborne_only and row.get("onground") is True:
            st.ignore("on the ground")
            continue
        lat, lon = _finite(row, "latitude"), _finite(row, "longitude")
        if lat is None or lon is None or not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            st.skip(n, f"row {n}: no valid position", "no valid position")
            continue
        alt_ft = _finite(row, alt_key)
        if alt_ft is None:
            st.ignore(f"no {alt_key}")
            continue
        gs, trk, vs = _finite(row, "groundspeed"), _finite(row, "track"), _finite(row, "vertical_rate")
        has_velocity = gs is not None and trk is not None
        callsign = row.get("callsign")
        callsign = callsign.strip() if isinstance(callsign, str) else None
        out.append(
            TrackState(
                aircraft=ident.strip().lower(),
                time=t,
                lat=lat,
                lon=lon,
                alt_m=round(alt_ft * FOOT_M, 3),
                alt_ref=ref,
                gs_mps=gs * KNOT_MPS if has_velocity and gs is not None else None,
                trk_deg=trk % 360.0 if has_velocity and trk is not None else None,
                vs_mps=vs * FOOT_PER_MIN_MPS if vs is not None else None,
                callsign=callsign if callsign and len(callsign) <= MAX_CALLSIGN else None,
            )
        )
    st.states += len(out)
    out.sort(key=lambda s: s.time)
    return out


def read_opensky(
    source: Path | str | bytes,
    *,
    airborne_only: bool = True,
    altitude: AltitudeSource = "baro",
    stats: FeedStats | None = None,
) -> list[TrackState]:
    """:func:`opensky_states` of a file (``.json`` or ``.json.gz``) or of its bytes.

    Raises :class:`ValidationError` when the content is not pandas JSON, :class:`OSError` when
    the file cannot be read.
    """
    if isinstance(source, bytes):
        data, name = source, "recording"
    else:
        data, name = Path(source).read_bytes(), str(source)
    return opensky_states(load_records(data, name), airborne_only=airborne_only, altitude=altitude, stats=stats)


def default_cache_dir() -> Path:
    """``$DECONFLICT_TEST_DATA``, else ``$XDG_CACHE_HOME/deconflict-test-data`` (``~/.cache/…``)."""
    explicit = os.environ.get("DECONFLICT_TEST_DATA")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "deconflict-test-data"


def traffic_wheel(cache_dir: Path | None = None, *, python: str = sys.executable, timeout_s: float = 300.0) -> Path:
    """The ``traffic`` 2.13 wheel in ``cache_dir``, downloaded with ``pip download --no-deps`` the
    first time (into a temporary directory, then renamed, so a run that is interrupted or runs
    beside another never leaves half a wheel). For tests: the wheel is read, never installed.

    Raises :class:`RuntimeError` with pip's output when the download fails.
    """
    cache = cache_dir if cache_dir is not None else default_cache_dir()
    wheel = cache / TRAFFIC_WHEEL
    if wheel.is_file():
        return wheel
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as tmp:
        cmd = [python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check"]
        r = subprocess.run(
            [*cmd, "--dest", tmp, TRAFFIC_REQUIREMENT], capture_output=True, text=True, timeout=timeout_s, check=False
        )
        got = Path(tmp) / TRAFFIC_WHEEL
        if r.returncode != 0 or not got.is_file():
            raise RuntimeError(f"pip download {TRAFFIC_REQUIREMENT} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        os.replace(got, wheel)
    return wheel


def traffic_sample(name: str = QUICKSTART, cache_dir: Path | None = None) -> bytes:
    """The bytes of a sample in the ``traffic`` 2.13 wheel, such as ``collections/quickstart.json.gz``
    (see :func:`traffic_wheel` for where the wheel comes from)."""
    with zipfile.ZipFile(traffic_wheel(cache_dir)) as z:
        return z.read(SAMPLES_PREFIX + name)
