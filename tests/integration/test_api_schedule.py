"""A year of recurring windows filed over HTTP, on SQLite and PostgreSQL: accepted up to the
theater's limit (366 days), keyed by the week, and in conflict with ordinary notices months later
exactly on the days and hours it is active (within the time minimum, 5 minutes), whichever is
filed first."""

from __future__ import annotations

from typing import Any

from api_support import Api, circle_notice

WEEKDAYS_8_16 = {"days": ["MON", "TUE", "WED", "THU", "FRI"], "windows": [{"start": "08:00", "end": "16:00"}]}


def year_notice(end: str = "2016-10-01T00:00:00Z") -> dict[str, Any]:
    body = circle_notice(id="year", start="2015-10-01T00:00:00Z", end=end)  # 366 days (2016 is a leap year)
    body["volumes"][0]["schedule"] = WEEKDAYS_8_16
    return body


def file(api: Api, party: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.as_(party).post("/v1/notices", json=body)
    assert r.status_code == 201, r.text
    conflicts: list[dict[str, Any]] = r.json()["conflicts"]
    return conflicts


def test_a_year_of_weekday_windows_meets_ordinary_notices_only_when_active(api: Api) -> None:
    r = api.as_("us-af").post("/v1/notices", json=year_notice("2016-10-01T00:00:01Z"))
    assert r.status_code == 422
    assert "volumes[0].time_end" in r.text and "longer than the limit of 8784.0 h" in r.text
    # filed before the year-long notice: Wednesday 15 June 2016 10:00-11:00, and the Saturday after
    assert file(api, "ru-vks", circle_notice(id="wed", start="2016-06-15T10:00:00Z", end="2016-06-15T11:00:00Z")) == []
    assert file(api, "ru-vks", circle_notice(id="sat", start="2016-06-18T10:00:00Z", end="2016-06-18T11:00:00Z")) == []
    conflicts = file(api, "us-af", year_notice())
    assert len(conflicts) == 1 and "ru-vks:wed" in str(conflicts[0])
    # filed after it, in September: 4 minutes after a window ends conflicts (the minimum is 5), 6 do not
    near = circle_notice(id="near", start="2016-09-14T16:04:00Z", end="2016-09-14T17:00:00Z")
    assert len(file(api, "ru-vks", near)) == 1
    clear = circle_notice(id="clear", start="2016-09-14T16:06:00Z", end="2016-09-14T17:00:00Z")
    assert file(api, "ru-vks", clear) == []
    with api.store.engine.connect() as conn:
        q = "SELECT count(DISTINCT bucket) FROM volume_cells WHERE notice_id = 'us-af:year'"
        weeks = conn.exec_driver_sql(q).scalar_one()
    assert weeks == 53  # one key per week of the year, not one per six hours (1464)
