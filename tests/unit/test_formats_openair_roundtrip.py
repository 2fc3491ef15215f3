"""OpenAir out and back: export → import gives the same volumes within the stated tolerance
(3 cm on a vertex, 2 mm on a radius, 1 mm on a height, 1e-4 FL; times exact)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.domain.errors import ValidationError
from deconflict.domain.geodesy import destination, distances_m
from deconflict.domain.schedule import DailyWindow, Schedule
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.domain.volumes import AltitudeBand, AltitudeReference, Notice, Volume4D
from deconflict.formats.openair import read_openair
from deconflict.formats.openair_write import write_openair

T0 = 1_443_571_200.0


@st.composite
def volumes(draw: st.DrawFn) -> Volume4D:
    lat, lon = draw(st.floats(-75, 75)), draw(st.floats(-180, 180))
    if draw(st.booleans()):
        shape = make_shape(ShapeKind.CIRCLE, [(lat, lon)], draw(st.floats(50, 200_000)))
    else:  # star-shaped around the centre, every angular gap under 180°: a simple polygon
        n = draw(st.integers(3, 12))
        jitter = np.array(draw(st.lists(st.floats(-0.3, 0.3), min_size=n, max_size=n)))
        az = (np.arange(n) + jitter) * 360.0 / n
        r = np.array(draw(st.lists(st.floats(2_000, 100_000), min_size=n, max_size=n)))
        la, lo = destination(lat, lon, az, r)
        shape = make_shape(ShapeKind.POLYGON, list(zip(la.tolist(), lo.tolist(), strict=True)))
    ref = draw(st.sampled_from([AltitudeReference.STD, AltitudeReference.AMSL]))
    lo_m = draw(st.floats(-500, 20_000))
    hi_m = lo_m + draw(st.floats(1, 20_000))
    if ref is AltitudeReference.STD:  # a flight level is not negative
        lo_m, hi_m = abs(lo_m), abs(lo_m) + (hi_m - lo_m)
    start = T0 + draw(st.integers(0, 86400 * 30))
    return Volume4D(shape, AltitudeBand(lo_m, hi_m, ref), start, start + draw(st.integers(60, 86400)))


@settings(max_examples=80, deadline=None)
@given(
    vols=st.lists(volumes(), min_size=1, max_size=3),
    site=st.booleans(),
    name=st.none() | st.sampled_from(["R-17 HAMA", "TANKER TRACK (BLUE)", "ZONE 2 (3)", "x" * 100]),
)
def test_export_then_import_gives_the_same_volumes(vols: list[Volume4D], site: bool, name: str | None) -> None:
    kind = "protected-site" if site else "activity"
    extra = {} if name is None else {"name": name}
    notice = Notice("syria-caa", tuple(vols), id="syria-caa:n-1", kind=kind, protected=site, extra=extra)
    imported, problems = read_openair(write_openair([notice]), "syria-caa", kind, None)
    assert problems == []
    assert len(imported) == 1
    back = imported[0].notice
    assert (back.id, back.kind, back.protected, back.party) == ("n-1", kind, site, "syria-caa")
    assert back.name == (name or "n-1")  # AN carries the name, else the id
    assert len(back.volumes) == len(vols)
    for a, b in zip(vols, back.volumes, strict=True):
        assert b.shape.kind is a.shape.kind
        pa, pb = np.array(a.shape.points), np.array(b.shape.points)
        assert pa.shape == pb.shape
        assert float(np.max(distances_m(pa[:, 0], pa[:, 1], pb[:, 0], pb[:, 1]))) < 0.03
        assert abs(a.shape.buffer_m - b.shape.buffer_m) < 0.002
        assert b.altitude.reference is a.altitude.reference
        tol = 1e-4 * 30.48 if a.altitude.reference is AltitudeReference.STD else 0.001
        assert abs(a.altitude.lower_m - b.altitude.lower_m) <= tol
        assert abs(a.altitude.upper_m - b.altitude.upper_m) <= tol
        assert (b.time_start, b.time_end) == (a.time_start, a.time_end)


def _circle(ref: AltitudeReference = AltitudeReference.AMSL, kind: ShapeKind = ShapeKind.CIRCLE) -> Notice:
    shape = (
        make_shape(ShapeKind.CIRCLE, [(35.0, 36.0)], 5000.0)
        if kind is ShapeKind.CIRCLE
        else make_shape(kind, [(35.0, 36.0), (35.1, 36.1)], 1000.0)
    )
    return Notice("p", (Volume4D(shape, AltitudeBand(0, 1000, ref), T0, T0 + 3600),), id="p:x")


@pytest.mark.parametrize(
    ("notice", "words"),
    [
        (_circle(AltitudeReference.W84), "ellipsoid (W84)"),
        (_circle(kind=ShapeKind.CORRIDOR), "corridor"),
        (_circle(kind=ShapeKind.ORBIT), "orbit"),
    ],
)
def test_what_openair_cannot_say_is_refused_naming_the_notice_and_volume(notice: Notice, words: str) -> None:
    with pytest.raises(ValidationError) as info:
        write_openair([notice])
    assert info.value.errors[0].path == "p:x: volumes[0]"
    assert words in info.value.errors[0].reason


def test_a_recurring_volume_is_written_as_one_activation_per_occurrence() -> None:
    """Weekdays 08:00-10:00 from Thursday 1 October 2015 to Tuesday 6 October 08:30 (cut there):
    Thursday, Friday, Monday and Tuesday's first half hour, which read back as those windows."""
    start = T0 + 86400  # 2015-10-01T00:00:00Z, a Thursday
    circle = make_shape(ShapeKind.CIRCLE, [(35.0, 36.0)], 5000.0)
    band = AltitudeBand(0.0, 3000.0, AltitudeReference.AMSL)
    weekdays = Schedule((DailyWindow(8 * 3600, 10 * 3600),), frozenset(range(5)))
    v = Volume4D(circle, band, start, start + 5 * 86400 + 8.5 * 3600, weekdays)
    text = write_openair([Notice("coalition", (v,), id="coalition:TRAINING")])
    assert text.count("\nAA ") == 4 and "AA 2015-10-06T08:00:00Z/2015-10-06T08:30:00Z" in text
    imported, problems = read_openair(text, "coalition", "activity", None)
    assert problems == []
    back = imported[0].notice.volumes
    days = [0, 1, 4, 5]
    ends = [10 * 3600] * 3 + [8.5 * 3600]
    assert [(b.time_start, b.time_end) for b in back] == [
        (start + d * 86400 + 8 * 3600, start + d * 86400 + e) for d, e in zip(days, ends, strict=True)
    ]
