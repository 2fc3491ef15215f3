"""NOTAM item D) in: what an export writes and the common forms become a volume's schedule; a
malformed D) is refused naming item D; a draft's schedule reads back as it was (property)."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.domain.schedule import DAY_S, EVERY_DAY, MAX_SPAN_S, DailyWindow, Schedule
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.domain.volumes import AltitudeBand, AltitudeReference, Notice, Volume4D
from deconflict.formats.notam import read_notams, write_notam_drafts
from deconflict.formats.notam_schedule import read_d_item, write_d_item

T = 1_916_956_800.0  # 2030-09-30T00:00Z, a Monday
H = 3600


def notam(d: str, b: str = "3009300000", c: str = "3010062359") -> str:
    return (
        "(A0001/30 NOTAMN\nQ) OSTT/QRTCA/IV/BO/W/000/150/3524N03557E005\n"
        f"A) OSTT B) {b} C) {c}\nD) {d}\nE) TEXT.\nF) SFC G) FL150)\n"
    )


def window(a: int, b: int) -> DailyWindow:
    return DailyWindow(a, b)


@pytest.mark.parametrize(
    ("d", "schedules"),
    [
        ("DAILY 0600-1400", [Schedule((window(6 * H, 14 * H),))]),
        ("DLY 0600-1400", [Schedule((window(6 * H, 14 * H),))]),
        ("MON-FRI 0800-1600", [Schedule((window(8 * H, 16 * H),), frozenset(range(5)))]),
        ("MON TUE 2200-0200", [Schedule((window(22 * H, 2 * H),), frozenset({0, 1}))]),
        (
            "FRI-MON 1000-1200 1400-2400",
            [Schedule((window(10 * H, 12 * H), window(14 * H, DAY_S)), frozenset({4, 5, 6, 0}))],
        ),
        ("DLY H24", [Schedule((window(0, DAY_S),))]),
        (
            "MON-FRI 0800-1600, SAT SUN 0900-1200",
            [
                Schedule((window(8 * H, 16 * H),), frozenset(range(5))),
                Schedule((window(9 * H, 12 * H),), frozenset({5, 6})),
            ],
        ),
        ("mon,wed,fri 0830-0945", [Schedule((window(8 * H + 30 * 60, 9 * H + 45 * 60),), frozenset({0, 2, 4}))]),
    ],
)
def test_the_common_forms_and_what_an_export_writes_are_read(d: str, schedules: list[Schedule]) -> None:
    assert read_d_item(d) == schedules
    imported, problems = read_notams(notam(d), "syria-caa", "activity")
    assert problems == []
    vols = imported[0].notice.volumes
    assert [v.schedule for v in vols] == schedules  # one volume per group of days, each over B) to C)
    assert all((v.time_start, v.time_end) == (T, T + 7 * DAY_S - 60) for v in vols)


@pytest.mark.parametrize(
    ("d", "words"),
    [
        ("0600-1400", "name the days before the times"),
        ("DLY", "has no times"),
        ("MON-FRI 0800-1600 SAT", "SAT has no times"),
        ("DLY 0860-1400", "not a time span"),
        ("DLY 2400-0100", "not a time span"),
        ("DLY 0600-2430", "not a time span"),
        ("DLY 0800-0800", "starts where it ends"),
        ("DLY SR-SS", "sunrise and sunset"),
        ("JAN 02 04 0800-1200", "dates are not read"),
        ("DLY 0800-1200 EXC SUN", "EXC"),
        ("MONDAY 0800-1200", "is not days"),
        ("DLY 0000-0100 0100-0200 0200-0300 0300-0400 0400-0500 0500-0600 0600-0700 0700-0800 0800-0900", "limit of 8"),
        ("SAT 0800-1200", "never active"),
    ],
)
def test_a_malformed_d_is_refused_naming_item_d(d: str, words: str) -> None:
    text = notam(d, c="3010042359")  # Monday to Friday
    imported, problems = read_notams(text, "syria-caa", "activity")
    assert imported == [] and len(problems) == 1
    assert (problems[0].line, problems[0].field) == (4, "D)") and words in problems[0].reason, problems[0]


def test_a_window_longer_than_a_scheduled_envelope_is_cut_into_31_day_volumes() -> None:
    imported, problems = read_notams(notam("MON-FRI 0800-1600", c="3012282359"), "syria-caa", "activity")
    assert problems == []
    vols = imported[0].notice.volumes
    assert len(vols) == 3 and all(v.time_end - v.time_start <= MAX_SPAN_S for v in vols)
    assert vols[0].time_start == T and vols[-1].time_end == T + 90 * DAY_S - 60
    assert all(a.time_end == b.time_start for a, b in pairwise(vols))
    assert any("31-day" in s for s in imported[0].said)


SHAPE = make_shape(ShapeKind.CIRCLE, [(35.0, 36.0)], 5000.0)
BAND = AltitudeBand(0.0, 3000.0, AltitudeReference.AMSL)


@st.composite
def scheduled(draw: st.DrawFn) -> Volume4D:
    windows = []
    for _ in range(draw(st.integers(1, 4))):
        a = draw(st.integers(0, 1439)) * 60
        b = draw(st.integers(1, 1440)) * 60
        windows.append(DailyWindow(a, b if b != a else (a + 60) % DAY_S or DAY_S))
    days = draw(st.sets(st.integers(0, 6), min_size=1)) if draw(st.booleans()) else EVERY_DAY
    start = T + draw(st.integers(0, 20 * 1440)) * 60
    return Volume4D(
        SHAPE,
        BAND,
        start,
        start + draw(st.integers(8 * 1440, 31 * 1440)) * 60,
        Schedule(tuple(windows), frozenset(days)),
    )


@settings(max_examples=200, deadline=None)
@given(volume=scheduled())
def test_a_draft_s_d_reads_back_as_the_schedule_it_was(volume: Volume4D) -> None:
    """Round trip: export a scheduled volume as a NOTAM draft, read it back: the same window and the
    same schedule (whole minutes, so nothing is rounded)."""
    assert volume.schedule is not None
    draft = write_notam_drafts([Notice("syria-caa", (volume,), id="syria-caa:s-1")], "OSTT", "OSTT")
    assert f"D) {write_d_item(volume.schedule)}" in draft.splitlines()
    imported, problems = read_notams(draft.replace("(NOTAMN", "(A0001/30 NOTAMN"), "syria-caa", "activity")
    assert problems == [], draft
    (back,) = imported[0].notice.volumes
    assert (back.time_start, back.time_end, back.schedule) == (volume.time_start, volume.time_end, volume.schedule)
