"""One filing must not stall everyone (issue 11 §6), on both stores: the limits on one notice are
stated at ``/v1/policy`` and enforced on notices, updates and protected sites (422 naming the
field and the limit, nothing stored), and a filing with more conflicts than the theater allows is
refused without saying how many or whose."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from api_support import Api, broker_config, circle_notice, start_api
from test_api_strict import rows

from deconflict.config import Config
from deconflict.domain.policy import Limits


def polygon_volume(n: int, lat: float = 35.32, lon: float = 36.62, radius_km: float = 20) -> dict[str, Any]:
    """One volume whose outline is a regular polygon of ``n`` vertices."""
    body = circle_notice(lat=lat, lon=lon)
    dlat = radius_km / 111.2
    dlon = dlat / math.cos(math.radians(lat))
    ring = [
        {"lat": lat + dlat * math.sin(2 * math.pi * k / n), "lng": lon + dlon * math.cos(2 * math.pi * k / n)}
        for k in range(n)
    ]
    vol: dict[str, Any] = body["volumes"][0]
    del vol["volume"]["outline_circle"]
    vol["volume"]["outline_polygon"] = {"vertices": ring}
    return vol


def with_limits(db_url: str, **limits: Any) -> Api:
    config = broker_config()
    return start_api(db_url, replace(config, limits=replace(Limits(), **limits)))


@pytest.fixture
def capped(db_url: str) -> Any:
    """A broker that allows 3 conflicts and 400 vertices per filing."""
    a = with_limits(db_url, max_conflicts_per_filing=3, max_vertices_per_notice=400)
    yield a
    a.close()


def test_policy_states_the_limits_on_one_filing(api: Api) -> None:
    r = api.as_("ru-vks").get("/v1/policy")
    assert r.status_code == 200, r.text
    lim = r.json()["limits"]
    d = Config().limits
    assert lim == {
        "max_volumes_per_notice": d.max_volumes_per_notice,
        "max_vertices": d.shape.max_vertices,
        "max_vertices_per_notice": d.max_vertices_per_notice,
        "max_extent_m": d.shape.max_extent_m,
        "max_window_s": d.max_window_s,
        "max_schedule_span_s": d.max_schedule_span_s,
        "min_altitude_m": d.min_altitude_m,
        "max_altitude_m": d.max_altitude_m,
        "max_conflicts_per_filing": d.max_conflicts_per_filing,
    }


def test_a_notice_over_the_vertex_budget_is_refused_naming_the_volume(capped: Api) -> None:
    before = rows(capped)
    body = circle_notice()
    body["volumes"] = [polygon_volume(150) for _ in range(3)]  # 450 > 400
    r = capped.as_("us-af").post("/v1/notices", json=body)
    assert r.status_code == 422, r.text
    [d] = r.json()["detail"]
    assert d["field"] == "volumes[2]"
    assert "450 vertices" in d["reason"] and "allows 400 in one notice" in d["reason"]
    assert rows(capped) == before
    # the same notice as a GeoJSON FeatureCollection is counted the same way
    fc = {"type": "FeatureCollection", "features": [_feature(v, "big") for v in body["volumes"]]}
    r = capped.as_("us-af").post("/v1/notices", json=fc)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == "features[2]"
    assert rows(capped) == before
    # within the budget it is filed
    body["volumes"] = body["volumes"][:2]
    assert capped.as_("us-af").post("/v1/notices", json=body).status_code == 201


def test_an_update_and_a_protected_site_have_the_same_budget(capped: Api) -> None:
    r = capped.as_("us-af").post("/v1/notices", json=circle_notice(id="a"))
    assert r.status_code == 201, r.text
    before = rows(capped)
    big = circle_notice()
    big["volumes"] = [polygon_volume(300), polygon_volume(300)]
    r = capped.as_("us-af").put("/v1/notices/us-af:a", json=big | {"replaces_version": 1})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "volumes[1]", r.text
    r = capped.as_("sy-gcaa").post("/v1/protected-sites", json=big)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "volumes[1]", r.text
    assert rows(capped) == before


def test_too_many_conflicts_are_refused_and_nothing_is_stored(capped: Api) -> None:
    # four ru-vks notices side by side; a us-af notice over all of them conflicts four times
    for i in range(4):
        r = capped.as_("ru-vks").post("/v1/notices", json=circle_notice(id=f"r{i}", lat=35.0 + 0.05 * i, radius_km=3))
        assert r.status_code == 201, r.text
    before = rows(capped)
    over = circle_notice(id="wide", lat=35.075, radius_km=15)
    r = capped.as_("us-af").post("/v1/notices", json=over)
    assert r.status_code == 422, r.text
    [d] = r.json()["detail"]
    assert d["field"] == "volumes"
    assert "more than 3 conflicts" in d["reason"] and "nothing was stored" in d["reason"]
    assert "ru-vks" not in r.text and "4" not in d["reason"]  # neither whose nor how many
    assert rows(capped) == before
    # one fewer neighbour: three conflicts, filed, and their broker threads opened
    r = capped.as_("ru-vks").delete("/v1/notices/ru-vks:r3")
    assert r.status_code == 200, r.text
    r = capped.as_("us-af").post("/v1/notices", json=over)
    assert r.status_code == 201, r.text
    assert len(r.json()["conflicts"]) == 3
    # an update that would add a fourth is refused, and the notice keeps its version
    r = capped.as_("ru-vks").post("/v1/notices", json=circle_notice(id="r4", lat=35.2, radius_km=3))
    assert r.status_code == 201, r.text
    moved = circle_notice(lat=35.1, radius_km=15)
    r = capped.as_("us-af").put("/v1/notices/us-af:wide", json=moved | {"replaces_version": 1})
    assert r.status_code == 422 and "more than 3 conflicts" in r.text, r.text
    assert capped.as_("us-af").get("/v1/notices/us-af:wide").json()["version"] == 1


def _feature(vol: dict[str, Any], nid: str) -> dict[str, Any]:
    ring = [[p["lng"], p["lat"]] for p in vol["volume"]["outline_polygon"]["vertices"]]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
        "properties": {
            "id": nid,
            "altitude_lower": vol["volume"]["altitude_lower"],
            "altitude_upper": vol["volume"]["altitude_upper"],
            "time_start": vol["time_start"],
            "time_end": vol["time_end"],
        },
    }


def test_a_retry_of_an_accepted_filing_is_answered_even_when_the_cap_is_now_exceeded(capped: Api) -> None:
    for i in range(3):
        r = capped.as_("ru-vks").post("/v1/notices", json=circle_notice(id=f"r{i}", lat=35.0 + 0.05 * i, radius_km=3))
        assert r.status_code == 201, r.text
    over = circle_notice(id="wide", lat=35.075, radius_km=15)
    first = capped.as_("us-af").post("/v1/notices", json=over, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201 and len(first.json()["conflicts"]) == 3, first.text
    r = capped.as_("ru-vks").post("/v1/notices", json=circle_notice(id="r3", lat=35.15, radius_km=3))
    assert r.status_code == 201, r.text
    again = capped.as_("us-af").post("/v1/notices", json=over, headers={"Idempotency-Key": "k1"})
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
