"""Recurring schedules in JSON: read strictly (every bad schedule refused with its path and
reason), written back, kept by the store, and their lead time taken from the first occurrence."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from deconflict.adapters.sql.codec import notice_body, notice_from_body
from deconflict.domain.errors import ValidationError
from deconflict.domain.notice_json import notice_to_json, parse_notice
from deconflict.domain.policy import Limits, SeparationPolicy
from deconflict.domain.schedule import DailyWindow, Schedule
from deconflict.domain.strategic import notice_conflicts
from deconflict.domain.times import parse_time
from deconflict.services.filing import lead_time

MONDAY = "2026-01-05T00:00:00Z"


def notice(schedule: Any, t0: str = MONDAY, t1: str = "2026-01-26T00:00:00Z", party: str = "blue") -> dict[str, Any]:
    vol: dict[str, Any] = {
        "volume": {
            "outline_circle": {"center": {"lat": 35.0, "lng": 36.0}, "radius": {"value": 2, "units": "KM"}},
            "altitude_lower": {"value": 0, "reference": "AMSL", "units": "M"},
            "altitude_upper": {"value": 3000, "reference": "AMSL", "units": "M"},
        },
        "time_start": t0,
        "time_end": t1,
    }
    if schedule is not None:
        vol["schedule"] = schedule
    return {"party": party, "id": "n1", "volumes": [vol]}


WEEKDAYS_8_16 = {"days": ["MON", "TUE", "WED", "THU", "FRI"], "windows": [{"start": "08:00", "end": "16:00"}]}


def test_a_schedule_is_read_and_written_back() -> None:
    n = parse_notice(notice(WEEKDAYS_8_16))
    s = n.volumes[0].schedule
    assert s == Schedule((DailyWindow(8 * 3600, 16 * 3600),), frozenset(range(5)))
    doc = notice_to_json(n)
    assert doc["volumes"][0]["schedule"] == WEEKDAYS_8_16
    assert parse_notice(doc) == n
    night = parse_notice(
        notice({"windows": [{"start": "22:00", "end": "02:30:15"}, {"start": "00:00", "end": "24:00"}]})
    )
    assert notice_to_json(night)["volumes"][0]["schedule"] == {
        "windows": [{"start": "22:00", "end": "02:30:15"}, {"start": "00:00", "end": "24:00"}]
    }


def test_the_store_keeps_the_schedule() -> None:
    n = replace(parse_notice(notice(WEEKDAYS_8_16)), received_at=1.0e9)
    assert notice_from_body(notice_body(n)) == n


BAD: list[tuple[Any, str, str]] = [
    ("daily", "volumes[0].schedule", "must be an object"),
    ({"days": ["MON"]}, "volumes[0].schedule.windows", "is required"),
    ({"windows": []}, "volumes[0].schedule.windows", "non-empty list"),
    ({"windows": [{"start": "08:00", "end": "16:00"}] * 9}, "volumes[0].schedule.windows", "limit of 8"),
    ({"windows": [{"start": "8:00", "end": "16:00"}]}, "volumes[0].schedule.windows[0].start", "HH:MM"),
    ({"windows": [{"start": "08:60", "end": "16:00"}]}, "volumes[0].schedule.windows[0].start", "not a time of day"),
    ({"windows": [{"start": "24:00", "end": "16:00"}]}, "volumes[0].schedule.windows[0].start", "end of a day"),
    ({"windows": [{"start": "08:00", "end": "24:01"}]}, "volumes[0].schedule.windows[0].end", "not a time of day"),
    ({"windows": [{"start": "08:00", "end": "08:00"}]}, "volumes[0].schedule.windows[0].end", "is the start"),
    ({"windows": [{"start": "08:00"}]}, "volumes[0].schedule.windows[0].end", "is required"),
    ({"windows": [{"start": "08:00", "end": "09:00", "tz": "Z"}]}, "volumes[0].schedule.windows[0].tz", "unknown key"),
    ({"windows": [{"start": 800, "end": "16:00"}]}, "volumes[0].schedule.windows[0].start", "HH:MM"),
    (
        {"day": ["MON"], "windows": [{"start": "08:00", "end": "16:00"}]},
        "volumes[0].schedule.day",
        'did you mean "days"',
    ),
    ({"days": [], "windows": [{"start": "08:00", "end": "16:00"}]}, "volumes[0].schedule.days", "non-empty list"),
    (
        {"days": ["Mon"], "windows": [{"start": "08:00", "end": "16:00"}]},
        "volumes[0].schedule.days[0]",
        "not a weekday",
    ),
    ({"days": ["MON", "MON"], "windows": [{"start": "08:00", "end": "16:00"}]}, "volumes[0].schedule.days[1]", "twice"),
]


@pytest.mark.parametrize(("schedule", "path", "reason"), BAD)
def test_a_bad_schedule_is_refused_with_its_path(schedule: Any, path: str, reason: str) -> None:
    with pytest.raises(ValidationError) as e:
        parse_notice(notice(schedule))
    assert [err.path for err in e.value.errors] == [path]
    assert reason in e.value.errors[0].reason


def test_a_schedule_never_active_in_its_envelope_is_refused() -> None:
    # Saturday and Sunday only, in an envelope from Monday to Friday
    doc = notice({"days": ["SAT", "SUN"], "windows": [{"start": "08:00", "end": "16:00"}]}, t1="2026-01-10T00:00:00Z")
    with pytest.raises(
        ValidationError, match=r"volumes\[0\]\.schedule: is never active between time_start and time_end"
    ):
        parse_notice(doc)


def test_a_scheduled_envelope_has_its_own_limit_and_each_window_the_theaters() -> None:
    long_ok = notice(WEEKDAYS_8_16, t1="2027-01-06T00:00:00Z")  # 366 days
    assert parse_notice(long_ok).volumes[0].time_end == parse_time("2027-01-06T00:00:00Z", "t")
    with pytest.raises(
        ValidationError,
        match=r"volumes\[0\]\.time_end: a scheduled envelope is 8785\.0 h, longer than the limit of 8784\.0 h",
    ):
        parse_notice(notice(WEEKDAYS_8_16, t1="2027-01-06T01:00:00Z"))
    month = Limits(max_schedule_span_s=31 * 86400.0)  # a theater that allows a month
    assert parse_notice(notice(WEEKDAYS_8_16, t1="2026-02-05T00:00:00Z"), month).volumes[0].schedule is not None
    with pytest.raises(
        ValidationError,
        match=r"volumes\[0\]\.time_end: a scheduled envelope is 745\.0 h, longer than the limit of 744\.0 h",
    ):
        parse_notice(notice(WEEKDAYS_8_16, t1="2026-02-05T01:00:00Z"), month)
    with pytest.raises(ValidationError, match=r"volumes\[0\]\.time_end: the window is 504\.0 h"):
        parse_notice(notice(None))  # the same envelope without a schedule is held to the 7 days
    with pytest.raises(
        ValidationError, match=r"schedule\.windows\[0\]\.end: the window is 8\.0 h, longer than the limit of 2\.0 h"
    ):
        parse_notice(notice(WEEKDAYS_8_16, t1="2026-01-05T12:00:00Z"), Limits(max_window_s=7200.0))


def test_lead_time_counts_from_the_first_occurrence_not_ended() -> None:
    n = parse_notice(notice(WEEKDAYS_8_16))  # from Monday 5 January, weekdays 08:00-16:00
    monday_8 = parse_time("2026-01-05T08:00:00Z", "t")
    assert lead_time(replace(n, received_at=monday_8 - 3600)) == 3600
    # filed during Monday's occurrence: under way, a negative lead time
    assert lead_time(replace(n, received_at=monday_8 + 600)) == -600
    # filed on Friday evening: the next occurrence is Monday 12 January 08:00
    friday_18 = parse_time("2026-01-09T18:00:00Z", "t")
    assert lead_time(replace(n, received_at=friday_18)) == 2 * 86400 + 14 * 3600
    plain = parse_notice(notice(None, t1="2026-01-06T00:00:00Z"))
    assert lead_time(replace(plain, received_at=monday_8)) == -8 * 3600


def test_two_schedules_on_different_days_do_not_conflict_but_five_minutes_apart_do() -> None:
    policy = SeparationPolicy()
    mon = parse_notice(notice({"days": ["MON"], "windows": [{"start": "08:00", "end": "10:00"}]}))
    tue = parse_notice(notice({"days": ["TUE"], "windows": [{"start": "08:00", "end": "10:00"}]}, party="red"))
    assert notice_conflicts(mon, tue, policy) == []
    # Monday night into Tuesday: ends 07:55 on Tuesday, five minutes before Tuesday's window
    night = {"days": ["MON"], "windows": [{"start": "22:00", "end": "07:55"}]}
    late = parse_notice(notice(night, party="red"))
    tue_blue = parse_notice(notice({"days": ["TUE"], "windows": [{"start": "08:00", "end": "10:00"}]}))
    (c,) = notice_conflicts(tue_blue, late, policy)
    tuesday_8 = parse_time("2026-01-06T08:00:00Z", "t")
    assert c.detail.time_gap_s == 300
    assert (c.detail.time_start, c.detail.time_end) == (tuesday_8 - 150, tuesday_8 - 150)
    one_more = copy.deepcopy(night)
    one_more["windows"][0]["end"] = "07:54"
    assert notice_conflicts(tue_blue, parse_notice(notice(one_more, party="red")), policy) == []
