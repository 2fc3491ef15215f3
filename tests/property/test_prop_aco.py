"""Round trip: any notice an ACO can carry, written as an ACO and read back, is the same notice, with
every figure rounded outward (never a smaller volume) by at most the written precision; a recurring
volume (one daily window whose envelope starts with an occurrence) comes back with its schedule."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.domain.geodesy import destination, distance_m
from deconflict.domain.notice_json import parse_notice
from deconflict.domain.schedule import WEEKDAYS
from deconflict.domain.times import format_time
from deconflict.domain.volumes import NAME as NAME_KEY
from deconflict.domain.volumes import Notice
from deconflict.formats.aco import ACM_TYPE, ACO_SHAPE, DESCRIPTION, read_aco
from deconflict.formats.aco_export import write_aco

NAME = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=12)
WORDS = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz0123456789 -.", min_size=1, max_size=40).map(str.strip).filter(bool)
FIRST = datetime(2015, 1, 1, tzinfo=UTC).timestamp()


def _ring(lat: float, lon: float, radii: list[float], start: float) -> list[dict[str, float]]:
    """A star-shaped ring around (lat, lon): angles increase, so edges never cross."""
    n = len(radii)
    az = np.array([start + 360.0 * i / n for i in range(n)])
    lats, lons = destination(lat, lon, az, np.array(radii))
    return [{"lat": float(a), "lng": float(b)} for a, b in zip(lats, lons, strict=True)]


@st.composite
def notices(draw: st.DrawFn) -> Notice:
    lat = draw(st.floats(-60, 60))
    lon = draw(st.floats(-170, 170))
    kind = draw(st.sampled_from(["polygon", "circle", "corridor", "orbit"]))
    size = draw(st.floats(500, 50_000))
    if kind == "polygon":
        radii = draw(st.lists(st.floats(2_000, 60_000), min_size=3, max_size=12))
        outline: dict[str, Any] = {"outline_polygon": {"vertices": _ring(lat, lon, radii, draw(st.floats(0, 360)))}}
    elif kind == "circle":
        outline = {"outline_circle": {"center": {"lat": lat, "lng": lon}, "radius": {"value": size, "units": "M"}}}
    else:
        count = 2 if kind == "orbit" else draw(st.integers(2, 5))
        line = _ring(lat, lon, [draw(st.floats(5_000, 80_000)) for _ in range(count)], draw(st.floats(0, 360)))
        key, pts = ("outline_orbit", "points") if kind == "orbit" else ("outline_corridor", "centerline")
        outline = {key: {pts: line, "width": {"value": size, "units": "M"}}}
    if draw(st.booleans()):
        low = draw(st.integers(0, 400))
        band = [{"value": v, "units": "FL"} for v in (low, low + draw(st.integers(1, 200)))]
    else:
        low = draw(st.integers(0, 10_000))
        band = [{"value": v, "reference": "AMSL", "units": "M"} for v in (low, low + draw(st.integers(1, 5_000)))]
    windows: list[tuple[float, float, dict[str, Any] | None]] = []
    for _ in range(draw(st.integers(1, 3))):
        start = FIRST + 60 * draw(st.integers(0, 8_000_000))
        if draw(st.booleans()):
            windows.append((start, start + 60 * draw(st.integers(1, 2_000)), None))
            continue
        # recurring (APERIOD/INTERVAL with a frequency): the envelope starts with an occurrence
        day_min = int(start % 86400) // 60
        length = draw(st.integers(1, 1440 if day_min == 0 else 1439))
        weekday = datetime.fromtimestamp(start, tz=UTC).weekday()
        days = draw(st.sets(st.sampled_from(WEEKDAYS))) | {WEEKDAYS[weekday]}
        end = (day_min + length - 1) % 1440 + 1
        schedule: dict[str, Any] = {
            "windows": [{"start": f"{day_min // 60:02d}:{day_min % 60:02d}", "end": f"{end // 60:02d}:{end % 60:02d}"}]
        }
        if len(days) < 7:
            schedule["days"] = [d for d in WEEKDAYS if d in days]
        windows.append((start, start + 60 * draw(st.integers(1, 31 * 1440)), schedule))
    doc = {
        "party": "coalition",
        "id": draw(NAME),
        "kind": draw(NAME).lower(),
        "volumes": [
            {
                "volume": {**outline, "altitude_lower": band[0], "altitude_upper": band[1]},
                "time_start": format_time(a),
                "time_end": format_time(b),
                **({"schedule": c} if c is not None else {}),
            }
            for a, b, c in windows
        ],
    }
    notice = parse_notice(doc)
    extra = {ACM_TYPE: draw(st.sampled_from(["ROZ", "CORRTE", "SUA"]))}
    # a corridor may come from a LINE or GEOLINE set, a circle from an APOINT: written back as that set
    came_from = {"corridor": ["", "LINE", "GEOLINE"], "circle": ["", "APOINT"]}.get(kind, [""])
    extra[ACO_SHAPE] = draw(st.sampled_from(came_from))
    if draw(st.booleans()):
        extra[NAME_KEY] = draw(WORDS)
    if draw(st.booleans()):
        extra[DESCRIPTION] = draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .;,-", min_size=1, max_size=40)).strip()
    return Notice(notice.party, notice.volumes, notice.id, notice.kind, extra={k: v for k, v in extra.items() if v})


@given(notice=notices())
@settings(max_examples=300, deadline=None)
def test_export_then_import_gives_the_notice_back(notice: Notice) -> None:
    text = write_aco([notice], "DEMO", "coalition", "TEST")
    got = read_aco(text, "coalition")
    assert got.problems == [] and len(got.notices) == 1, text
    back = got.notices[0]
    # an ACO has one NAME: the notice's name (else its id), read back as both the id and the name
    assert (back.id, back.name, back.kind, back.party) == (
        notice.name or notice.id,
        notice.name or notice.id,
        notice.kind,
        notice.party,
    )
    # AMPN is one line of text: runs of spaces and line breaks in a description are written as one space
    said = {k: " ".join(v.split()) if k == DESCRIPTION else v for k, v in notice.extra.items()}
    said[NAME_KEY] = notice.name or notice.id or ""
    assert back.extra == said
    assert len(back.volumes) == len(notice.volumes)
    for a, b in zip(back.volumes, notice.volumes, strict=True):
        assert (a.altitude, a.time_start, a.time_end, a.schedule) == (b.altitude, b.time_start, b.time_end, b.schedule)
        assert a.shape.kind is b.shape.kind
        # sizes are rounded up to the centimetre (a size a float's last bits above a whole
        # centimetre, 500.00000000000006 m, is written 500M: a micrometre is noise, not a shrink),
        # positions to 0.01 arc-second (under 0.31 m)
        assert b.shape.buffer_m - 1e-6 <= a.shape.buffer_m <= b.shape.buffer_m + 0.01
        for p, q in zip(a.shape.points, b.shape.points, strict=True):
            assert distance_m(*p, *q) < 0.31


CHARS = "/:-.NSEW0123456789AZ \n"
THEATER = (Path(__file__).parents[2] / "examples" / "coalition-2015-09-30.aco").read_text()


@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(THEATER) - 1), st.integers(0, 3), st.sampled_from(list("/:-.NSEW0123456789AZ \n"))
        ),
        min_size=1,
        max_size=6,
    )
)
@settings(max_examples=400, deadline=None)
def test_a_damaged_message_is_read_or_refused_with_its_place_never_crashes(edits: list[tuple[int, int, str]]) -> None:
    text = THEATER
    for at, cut, char in edits:
        text = text[:at] + char + text[at + cut :]
    got = read_aco(text, "coalition")
    lines = text.count("\n") + 1
    for p in got.problems:
        assert 1 <= p.line <= lines and p.set and p.reason
    if not got.header_ok:
        assert got.notices == [] and got.problems
    assert len(got.notices) + len({p.line for p in got.problems}) >= 1
