"""ICAO NOTAMs in: the golden file, every malformed NOTAM refused with its line and field; drafts
out whose Q-line circle and flight levels enclose the volume (property)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.domain.geodesy import destination, distances_m
from deconflict.domain.policy import Limits
from deconflict.domain.schedule import DailyWindow, Schedule
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.domain.volumes import AltitudeBand, AltitudeReference, Notice, Volume4D
from deconflict.formats.notam import NotamChange, read_notam_file, read_notams, write_notam_drafts
from deconflict.formats.openair import NM_M

FIXTURE = Path(__file__).parent.parent / "fixtures" / "formats" / "authority.notam"
T = 1_916_978_400.0  # 2030-09-30T06:00Z


def read(text: str) -> tuple[list, list]:  # type: ignore[type-arg]
    return read_notams(text, "syria-caa", "protected-site")


def test_the_golden_file_reads_as_three_sites_on_their_q_line_circles() -> None:
    imported, problems = read(FIXTURE.read_text())
    assert problems == []
    assert [(i.notice.id, i.lines) for i in imported] == [("A0412-30", (1,)), ("A0413-30", (7,)), ("A0414-30", (17,))]
    first = imported[0].notice.volumes[0]
    assert first.shape == make_shape(ShapeKind.CIRCLE, [(35 + 24 / 60, 35 + 57 / 60)], 5 * NM_M)
    assert (first.time_start, first.time_end) == (T, T + 12 * 3600)
    assert first.altitude == AltitudeBand(Limits().min_altitude_m, 150 * 30.48 + 300, AltitudeReference.AMSL)
    hospital = imported[1]
    v = hospital.notice.volumes[0]
    assert v.altitude.upper_m == pytest.approx(5000 * 0.3048)
    assert v.time_end == T - 6 * 3600 + 2 * 86400 - 60  # C) 3010012359 EST
    assert any("EST" in s for s in hospital.said) and any("D) schedule" in s for s in hospital.said)
    assert v.schedule == Schedule((DailyWindow(6 * 3600, 18 * 3600),))  # D) DAILY 0600-1800
    high = imported[2].notice.volumes[0].altitude  # no F)/G): the Q-line's 100/999
    assert high.reference is AltitudeReference.STD and high.lower_m == pytest.approx(3048.0)
    assert all(i.notice.protected for i in imported)


HEAD = "(A0001/30 NOTAMN\n"
Q = "Q) OSTT/QRTCA/IV/BO/W/000/150/3524N03557E005\n"
ITEMS = "A) OSTT B) 3009300600 C) 3009301800\nE) TEXT.)\n"
BAD = [
    (HEAD + ITEMS, 1, "Q", "missing"),
    (HEAD + Q + "E) TEXT.)\n", 1, "A)", "missing"),
    ("(A0001/30 NOTAMR A0000/30\n" + Q + ITEMS, 1, "header", "replaces another: only NOTAMN"),
    ("(A0001/30 NOTAMC A0000/30\n" + Q + ITEMS, 1, "header", "cancels another: only NOTAMN"),
    ("(A0001/30 NOTAMR\n" + Q + ITEMS, 1, "header", "names the NOTAM it replaces"),
    ("(A0001/30 NOTAMC\n" + Q + ITEMS, 1, "header", "names the NOTAM it cancels"),
    ("(A0001/30 NOTAMN A0000/30\n" + Q + ITEMS, 1, "header", "names no other NOTAM"),
    ("(NOTAM\n" + Q + ITEMS, 1, "header", "not a NOTAM header"),
    ("stray\n", 1, "header", "outside a NOTAM"),
    (HEAD + "Q) OSTT/QRTCA/IV/BO/W/000/150\n" + ITEMS, 2, "Q", "has 7 fields"),
    (HEAD + "Q) OST/QRTCA/IV/BO/W/000/150/3524N03557E005\n" + ITEMS, 2, "Q.FIR", "4 letters"),
    (HEAD + "Q) OSTT/RTCA/IV/BO/W/000/150/3524N03557E005\n" + ITEMS, 2, "Q.QCODE", "Q and 4"),
    (HEAD + "Q) OSTT/QRTCA/X/BO/W/000/150/3524N03557E005\n" + ITEMS, 2, "Q.traffic", "IV"),
    (HEAD + "Q) OSTT/QRTCA/IV/BO/W/0/150/3524N03557E005\n" + ITEMS, 2, "Q.lower", "3 digits"),
    (HEAD + "Q) OSTT/QRTCA/IV/BO/W/200/150/3524N03557E005\n" + ITEMS, 2, "Q.lower", "above the upper"),
    (HEAD + "Q) OSTT/QRTCA/IV/BO/W/000/150/3564N03557E005\n" + ITEMS, 2, "Q.centre", "below 60"),
    (HEAD + "Q) OSTT/QRTCA/IV/BO/W/000/150/3524N03557E000\n" + ITEMS, 2, "Q.centre", "at least 001"),
    (HEAD + "Q) OSTT/QRTCA/IV/BO/W/000/150/3524N03557E\n" + ITEMS, 2, "Q.centre", "DDMMN"),
    (HEAD + Q + "A) OSTT B) 3013300600 C) 3009301800\n", 3, "B)", "YYMMDDHHMM"),
    (HEAD + Q + "A) OSTT B) 3009300600 C) PERM\n", 3, "C)", "PERM"),
    (HEAD + Q + "A) OSTT B) 3009300600 C) 3009300500\n", 3, "C)", "after B)"),
    (HEAD + Q + ITEMS + "F) 1000FT AGL G) FL100)\n", 5, "F)", "terrain"),
    (HEAD + Q + ITEMS + "F) SFC G) 5000 FT)\n", 5, "G)", "no reference"),
    (HEAD + Q + ITEMS + "F) SFC G) GND)\n", 5, "G)", "ceiling"),
    (HEAD + Q + "A) OSTT B) 3009300600 C) 3010300600\n", 1, "volumes[0].time_end", "longer than the limit"),
]


@pytest.mark.parametrize(("text", "line", "field", "words"), BAD)
def test_every_malformed_notam_is_refused_with_its_line_and_field(text: str, line: int, field: str, words: str) -> None:
    imported, problems = read(text)
    assert imported == []
    assert [(p.line, p.field) for p in problems] == [(line, field)], problems
    assert words in problems[0].reason, problems[0].reason


def test_prose_markers_in_e_stay_in_e_and_every_bad_notam_is_reported() -> None:
    text = HEAD + Q + "A) OSTT B) 3009300600 C) 3009301800\nE) TWY B) CLSD, SEE\nA) ABOVE.\nF) SFC G) FL100)\n"
    bad = "(A0002/30 NOTAMN\n" + Q + "A) OSTT B) 3009300600 C) PERM\n"
    imported, problems = read(text + bad + text.replace("A0001", "A0003"))
    assert [i.notice.id for i in imported] == ["A0001-30", "A0003-30"]
    assert [(p.line, p.field) for p in problems] == [(9, "C)")]
    assert imported[0].notice.volumes[0].altitude.upper_m == pytest.approx(100 * 30.48 + 300)


@st.composite
def volumes(draw: st.DrawFn) -> Volume4D:
    lat, lon = draw(st.floats(-70, 70)), draw(st.floats(-179, 179))
    if draw(st.booleans()):
        shape = make_shape(ShapeKind.CIRCLE, [(lat, lon)], draw(st.floats(100, 150_000)))
    else:
        n = draw(st.integers(3, 8))
        az = np.arange(n) * 360.0 / n
        r = np.array(draw(st.lists(st.floats(2_000, 100_000), min_size=n, max_size=n)))
        la, lo = destination(lat, lon, az, r)
        shape = make_shape(ShapeKind.POLYGON, list(zip(la.tolist(), lo.tolist(), strict=True)))
    ref = draw(st.sampled_from([AltitudeReference.STD, AltitudeReference.AMSL]))
    lo_m = draw(st.floats(0, 15_000))
    start = T + draw(st.integers(0, 86400))
    return Volume4D(shape, AltitudeBand(lo_m, lo_m + draw(st.floats(30, 10_000)), ref), start, start + 3600)


@settings(max_examples=60, deadline=None)
@given(volume=volumes(), site=st.booleans())
def test_a_draft_read_back_encloses_the_volume(volume: Volume4D, site: bool) -> None:
    """Oracle: every vertex of the shape (and the circle's rim) lies inside the draft's Q-line
    circle; its band and window contain the notice's."""
    notice = Notice("syria-caa", (volume,), id="syria-caa:s-1", protected=site)
    draft = write_notam_drafts([notice], "OSTT", "OSTT").replace("(NOTAMN", "(A0001/30 NOTAMN")
    imported, problems = read(draft)
    assert problems == []
    back = imported[0].notice.volumes[0]
    c = back.shape.points[0]
    pts = np.array(volume.shape.core_lat), np.array(volume.shape.core_lon)
    reach = distances_m(np.full(pts[0].shape, c[0]), np.full(pts[0].shape, c[1]), *pts) + volume.shape.buffer_m
    assert float(reach.max()) <= back.shape.buffer_m
    assert back.altitude.lower_m <= volume.altitude.lower_m + 1e-6
    assert back.altitude.upper_m >= volume.altitude.upper_m - 1e-6
    assert back.time_start <= volume.time_start and back.time_end >= volume.time_end


def test_a_notamr_and_a_notamc_are_read_as_changes_to_the_notam_they_name_in_file_order() -> None:
    text = HEAD + Q + ITEMS
    text += "(A0002/30 NOTAMR A0001/30\n" + Q.replace("005", "009") + ITEMS
    text += "(A0003/30 NOTAMC A0002/30\nQ) OSTT/QRTCA/IV/BO/W/000/150/3524N03557E009\nA) OSTT B) 3009300700\nE) CNL.)\n"
    records, problems = read_notam_file(text, "syria-caa", "protected-site")
    assert problems == []
    new, replace, cancel = records
    assert not isinstance(new, NotamChange) and new.notice.id == "A0001-30"
    assert isinstance(replace, NotamChange) and (replace.number, replace.names, replace.line) == (
        "A0002-30",
        "A0001-30",
        5,
    )
    assert replace.replacement is not None and replace.replacement.notice.volumes[0].shape.buffer_m == 9 * NM_M
    assert isinstance(cancel, NotamChange) and (cancel.names, cancel.replacement) == ("A0002-30", None)
    # a NOTAMR's own fields are checked as a NOTAMN's (a NOTAMC needs no C)
    bad = "(A0002/30 NOTAMR A0001/30\n" + Q.replace("OSTT/", "OST/") + ITEMS
    assert [(p.line, p.field) for p in read_notam_file(bad, "x", "activity")[1]] == [(2, "Q.FIR")]


def test_a_recurring_volume_is_drafted_with_its_schedule_in_d() -> None:
    circle = make_shape(ShapeKind.CIRCLE, [(35.0, 36.0)], 5000.0)
    weekdays = Schedule((DailyWindow(8 * 3600, 16 * 3600), DailyWindow(22 * 3600, 2 * 3600 + 30)), frozenset(range(5)))
    every_day = Schedule((DailyWindow(0, 86400),))
    band = AltitudeBand(0.0, 3000.0, AltitudeReference.AMSL)
    for schedule, d in ((weekdays, "D) MON TUE WED THU FRI 0800-1600 2200-0201"), (every_day, "D) DLY H24")):
        v = Volume4D(circle, band, T, T + 6 * 86400, schedule)
        draft = write_notam_drafts([Notice("syria-caa", (v,), id="syria-caa:s-1")], "OSTT", "OSTT")
        assert d in draft.splitlines()
        imported, problems = read(draft.replace("(NOTAMN", "(A0001/30 NOTAMN"))
        assert problems == []
        back = imported[0].notice.volumes[0]  # D) read back: the schedule, its minutes rounded outward
        outward = Schedule(
            tuple(DailyWindow(w.start_s, -(-w.end_s // 60) * 60) for w in schedule.windows), schedule.days
        )
        assert (back.time_start, back.time_end, back.schedule) == (v.time_start, v.time_end, outward)
