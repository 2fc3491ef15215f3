"""The probe of issue 11 over the API, on both stores: what a party learns of another's notice.

docs/disclosure.md ("Threat model") states the bound these tests hold the broker to:

- at ``conflicts-only`` the slice is on the published grid, so two hidden notices that agree to
  the grid's precision give the prober the very same view (the issue's probe rebuilt the other
  notice to 0.1 km, exactly in altitude and to the second in time);
- at ``existence`` the prober gets whole UTC days and a whole-degree box;
- a filing that comes near a hidden notice is charged to the filer's probe budget, conflict or
  not, and beyond the budget is refused (429) with nothing written: a binary search on a notice's
  edge stops after ``budget`` near filings, its interval still wider than the grid;
- a large or long filing is flagged to the admin, the filer and the parties it met.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
import shapely
from api_support import Api, broker_config, circle_notice, start_api

from deconflict.domain.probes import ProbeRules

DAY = 86400
ALT_STEP = 304.8
"""The default grid (docs/disclosure.md): 1000 ft, 15 min, S2 cells of level 10 (about 9 km)."""
TIME_STEP = 900
CELL_M = 9004
FLAG = "notice.probe_flagged"

HIDDEN = {"lat": 35.31, "lon": 36.61, "lower_m": 3011.37, "upper_m": 7987.13}
PROBE = circle_notice(
    lat=35.0,
    lon=37.0,
    radius_km=450,
    start="2015-09-30T00:30:00Z",
    end="2015-10-07T00:30:00Z",
    lower_m=0,
    upper_m=20000,
)
"""The issue's probe: one 450 km circle, 7 days, all altitudes."""


@pytest.fixture
def api(db_url: str) -> Any:
    config = broker_config()
    a = start_api(db_url, replace(config, disclosure=replace(config.disclosure, probes=ProbeRules(budget=3))))
    yield a
    a.close()


def hidden(radius_km: float, start: str, end: str, lower_m: float, upper_m: float) -> dict[str, Any]:
    return circle_notice(HIDDEN["lat"], HIDDEN["lon"], radius_km, start, end, lower_m, upper_m, id="ru-SECRET")


def t(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def on_grid(view: dict[str, Any], exact: dict[str, Any]) -> None:
    """``view``'s slice holds ``exact`` and is within one grid step of it, on whole steps."""
    got = view["slice"]
    assert got["grid"] is True
    for bound, direction in (("lower_m", -1), ("upper_m", 1)):
        assert abs(got["altitude"][bound] / ALT_STEP - round(got["altitude"][bound] / ALT_STEP)) < 1e-6
        assert 0 <= direction * (got["altitude"][bound] - exact["altitude"][bound]) < ALT_STEP
    for bound, direction in (("start", -1), ("end", 1)):
        assert t(got["time_window"][bound]) % TIME_STEP == 0
        assert 0 <= direction * (t(got["time_window"][bound]) - t(exact["time_window"][bound])) < TIME_STEP
    shown = shapely.geometry.shape(got["overlap"])
    truth = shapely.geometry.shape(exact["overlap"])
    assert shown.buffer(1e-6).covers(truth), "the grid slice must hold the whole exact overlap"
    km_per_deg = 111.0 * 0.8  # a lower bound for a degree at latitude 35 (1° lon ≈ 90.9 km)
    for cell in shown.geoms:  # each cell touches the overlap: at most a cell diagonal beyond it
        assert cell.distance(truth) * km_per_deg < 1e-3
        assert cell.hausdorff_distance(cell.centroid) * 111.0 < 2 * CELL_M / 1000


def test_the_issues_probe_learns_the_hidden_notice_only_to_the_grid_and_is_flagged(api: Api) -> None:
    ru, us, tr = api.as_("ru-vks"), api.as_("us-af"), api.as_("tr-af")
    r = ru.post("/v1/notices", json=hidden(23.4567, "2015-09-30T07:31:07Z", "2015-09-30T10:27:41Z", 3011.37, 7987.13))
    assert r.status_code == 201, r.text
    hidden_id = r.json()["notice"]["id"]
    probes = {}
    for name, client in (("us-af", us), ("tr-af", tr)):
        r = client.post("/v1/notices", json={**PROBE, "id": f"probe-{name}"})
        assert r.status_code == 201, r.text
        # tr-af's probe meets us-af's too; each prober's conflict with the hidden notice is its
        # only one where ru-vks is named (us-af) or a side is hidden (tr-af)
        level = "conflicts-only" if name == "us-af" else "existence"
        [view] = [v for v in r.json()["conflicts"] if v["disclosure"] == level]
        probes[name] = view["id"]
    [co, ex] = (api.as_(name).get(f"/v1/conflicts/{probes[name]}").json() for name in ("us-af", "tr-af"))
    exact = {name: api.as_("root").get(f"/v1/conflicts/{cid}").json()["slice"] for name, cid in probes.items()}

    # conflicts-only (us-af and ru-vks): the slice on the grid, holding the exact one
    assert co["disclosure"] == "conflicts-only"
    on_grid(co, exact["us-af"])
    # existence (tr-af and ru-vks): whole days and whole degrees, no slice
    assert ex["disclosure"] == "existence" and "slice" not in ex
    assert ex["time_window"] == {"start": "2015-09-30T00:00:00Z", "end": "2015-10-01T00:00:00Z"}
    assert all(isinstance(x, int) for ring in ex["area"]["coordinates"] for point in ring for x in point)

    # The hotline thread the broker opens for each conflict names its day only: its subject gave
    # the exact start of the slice to both sides, whatever their level.
    for name in ("us-af", "tr-af"):
        told = json.dumps([e.data for e in api.broker.visible_events(api.broker.party(name), 0)[0]])
        assert "Conflict " in told and exact[name]["time_window"]["start"] not in told

    # The hidden notice changes by less than the grid: 7 m wider, 20 m higher, a minute later.
    v2 = hidden(23.4637, "2015-09-30T07:32:07Z", "2015-09-30T10:28:41Z", 3031.37, 8007.13)
    r = ru.put(f"/v1/notices/{hidden_id}", json={"replaces_version": 1, **v2})
    assert r.status_code == 200, r.text
    after = {name: api.as_("root").get(f"/v1/conflicts/{cid}").json()["slice"] for name, cid in probes.items()}
    assert after["us-af"] != exact["us-af"], "precondition: the exact slice changed"
    co2, ex2 = (api.as_(name).get(f"/v1/conflicts/{probes[name]}").json() for name in ("us-af", "tr-af"))
    # ... and the probers cannot tell: what they see is a function of the grid cells only
    assert co2["slice"] == co["slice"]
    assert (ex2["time_window"], ex2["area"]) == (ex["time_window"], ex["area"])
    on_grid(co2, after["us-af"])

    # Both probes were large and long: flagged to the admin, the filers and the party they met,
    # which learns the filer's name only where it sees that filer's side of the conflict.
    # (read through the broker's stream source: the matrix test reads the same over SSE)
    flags = {
        name: [e.data for e in api.broker.visible_events(api.broker.party(name), 0)[0] if e.type == FLAG]
        for name in ("root", "ru-vks", "us-af", "tr-af", "uk-raf", "un-obs")
    }
    assert len(flags["root"]) == 2 and all(f["reasons"] == ["extent", "window"] for f in flags["root"])
    assert {f["party"] for f in flags["ru-vks"]} == {"us-af", None}
    assert sorted(c for f in flags["ru-vks"] for c in f["conflicts"]) == sorted(probes.values())
    # us-af: its own flag (why, not whom it met), and tr-af's, whose probe met us-af's too
    assert [f["party"] for f in flags["us-af"]] == ["us-af", "tr-af"] and "touched" not in flags["us-af"][0]
    assert [f["party"] for f in flags["tr-af"]] == ["tr-af"]
    assert flags["uk-raf"] == flags["un-obs"] == []


def probe_at(api: Api, i: int, distance_km: float) -> Any:
    """us-af files a 1 km circle ``distance_km`` east of the hidden notice's centre."""
    lon = HIDDEN["lon"] + distance_km / 90.85  # km per degree of longitude at 35.31° N
    body = circle_notice(
        HIDDEN["lat"], lon, 1, "2015-10-02T07:30:00Z", "2015-10-02T10:30:00Z", 3000, 8000, f"probe-{i}"
    )
    return api.as_("us-af").post("/v1/notices", json=body)


def test_a_binary_search_on_a_hidden_edge_stops_at_the_budget_with_nothing_written(api: Api) -> None:
    r = api.as_("ru-vks").post(
        "/v1/notices", json=hidden(20, "2015-10-02T07:30:00Z", "2015-10-02T10:30:00Z", 3000, 8000)
    )
    assert r.status_code == 201, r.text
    # A conflict is found out to 20 + 1 + 9.26 km between centres: search for that edge.
    low, high, near, refused = 0.0, 200.0, 0, None
    for i in range(20):
        mid = (low + high) / 2
        before = api.broker.last_seq()
        r = probe_at(api, i, mid)
        if r.status_code == 429:
            refused = r
            assert api.broker.last_seq() == before, "a refused filing writes nothing"
            break
        assert r.status_code == 201, r.text
        if mid - 21 <= 9.26 + 2 * CELL_M / 1000:  # near: charged, conflict or not
            near += 1
        if r.json()["conflicts"]:  # the edge is farther out
            low = mid
        else:
            high = mid
    assert refused is not None, "the search must be stopped"
    assert near == 3, "exactly the budget of near filings went through"
    assert high - low > 1.0, f"the search still brackets the edge to {high - low:.2f} km only"
    body = refused.json()
    assert body["error"] == "probe-budget"
    [detail] = body["detail"]
    assert detail["field"] == "notice" and "3 filings or changes in 86400 s" in detail["reason"]
    assert int(refused.headers["Retry-After"]) > 0
    assert api.as_("us-af").get(f"/v1/notices/us-af:probe-{i}").status_code == 404

    # A filing far from every hidden notice learns nothing finer than the grid: never charged.
    assert probe_at(api, 100, 150).status_code == 201
    # The budget is per period: a day later the search may go on.
    api.clock.t += DAY
    assert probe_at(api, 101, 28).status_code == 201
    seen = {name: api.broker.visible_events(api.broker.party(name), 0)[0] for name in ("root", "us-af")}
    assert [e.data["used"] for e in seen["root"] if e.type == "probe.charged"] == [1, 2, 3, 1]
    assert seen["us-af"] and not any(e.type == "probe.charged" for e in seen["us-af"]), "the admin's record"
