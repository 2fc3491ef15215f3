"""``GET /v1/tracks/live``: the caller's own aircraft (as ``GET /v1/tracks``), pushed at once and
after every tactical cycle, over a real server; never another party's aircraft."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import Api, parse_sse, start_api
from test_api_tactical import report, state


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    a = start_api(f"sqlite:///{tmp_path / 'broker.sqlite'}")
    try:
        yield a
    finally:
        a.close()


def test_the_live_picture_comes_at_once_and_after_every_cycle_with_only_the_callers_aircraft(api: Api) -> None:
    report(api, "us-af", state("us1", 35.0, 36.0, 90, api.clock.t))
    report(api, "ru-vks", state("vks1", 35.5, 37.0, 270, api.clock.t))
    headers = {"Authorization": f"Bearer {api.tokens['us-af']}"}
    with (
        httpx.Client(base_url=api.url, timeout=httpx.Timeout(30)) as c,
        c.stream("GET", "/v1/tracks/live", headers=headers) as r,
    ):
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events: Iterator[dict[str, Any]] = parse_sse(r.iter_lines())
        first = next(events)
        assert first["event"] == "tracks" and "id" not in first  # the whole picture each time: nothing to replay
        assert first["data"]["time"] == "2015-09-30T00:00:00Z"
        [us1] = first["data"]["aircraft"]
        assert us1["party"] == "us-af" and us1["aircraft"] == "us1" and us1["callsign"] == "US1"
        assert (us1["lat"], us1["lon"], us1["alt_m"]) == (35.0, 36.0, 6000.0)
        api.clock.t += 5
        report(api, "us-af", state("us1", 35.0, 36.011, 90, api.clock.t))
        api.tactical.cycle()
        second = next(events)
        assert second["data"]["cycle"] == first["data"]["cycle"] + 1
        assert [(a["aircraft"], a["lon"]) for a in second["data"]["aircraft"]] == [("us1", 36.011)]
        assert second["data"]["aircraft"] == api.as_("us-af").get("/v1/tracks").json()  # the same view


def test_the_live_picture_needs_a_token_and_takes_no_query(api: Api) -> None:
    assert api.as_("nobody").get("/v1/tracks/live").status_code == 401
    r = api.as_("us-af").get("/v1/tracks/live?after=3")
    assert r.status_code == 422 and "after" in r.text
