"""The broker over HTTP, on SQLite and PostgreSQL: filing, roles, ownership, versions, idempotency,
bad input, live events, concurrency, webhooks and identity-provider tokens."""

from __future__ import annotations

import copy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import httpx
import jwt
import pytest
import sqlalchemy as sa
from api_support import Api, Server, circle_notice, policy, read_sse, start_api
from cryptography.hazmat.primitives.asymmetric import rsa

from deconflict.adapters.broker_webhooks import BrokerWebhookStore
from deconflict.adapters.webhooks import WebhookDeliverer, verify_signature
from deconflict.api import create_app
from deconflict.config import Config, JwtSettings, ServerSettings

FAR = {"lat": 30.0, "lon": 45.0}
"""A place far from everything else in these tests."""


def count_rows(api: Api, table: str) -> int:
    with api.store.engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def snapshot(api: Api) -> dict[str, int]:
    tables = ["notices", "notice_versions", "volumes", "conflicts", "events", "receipts", "idempotency_keys"]
    return {t: count_rows(api, t) for t in tables}


# --------------------------------------------------------------------------- authentication


def test_every_endpoint_but_health_needs_a_token(api: Api) -> None:
    anon = api.as_("nobody")
    assert anon.get("/healthz").json() == {"status": "ok"}
    assert anon.get("/readyz").json()["status"] == "ready"
    assert anon.get("/leaderz").json() == {"status": "leader"}  # one process on its store (a replica: 503 too)
    spec = anon.get("/openapi.json").json()
    calls = 0
    for path, ops in spec["paths"].items():
        for method in ops:
            url = path.replace("{notice_id}", "x").replace("{conflict_id}", "x")
            for headers in ({}, {"Authorization": "Bearer dcf_not-a-token"}, {"Authorization": "Basic eDp5"}):
                r = anon.request(method.upper(), url, headers=headers, json={})
                if path in ("/healthz", "/readyz", "/leaderz"):
                    assert r.status_code == 200
                    continue
                assert r.status_code == 401, (method, path, r.text)
                assert r.json()["error"] == "unauthorized"
                assert r.headers["www-authenticate"] == "Bearer"
                calls += 1
    assert calls > 40


def test_me_and_policy(api: Api) -> None:
    assert api.as_("us-af").get("/v1/me").json() == {"party": "us-af", "role": "party", "coalition": "coalition"}
    pol = api.as_("ru-vks").get("/v1/policy").json()
    assert pol["separation"] == {"horizontal_m": 9260.0, "vertical_m": 304.8, "time_s": 300.0}
    assert pol["disclosure"]["default"] == "conflicts-only"


# --------------------------------------------------------------------------- filing


def test_filing_returns_the_notice_its_conflicts_hints_and_a_receipt(api: Api) -> None:
    api.clock.t = 1_443_592_800.0 - 3600  # 06:00 − 1 h: the notice starting 07:30 has 2.5 h lead: late
    r = api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-1"))
    assert r.status_code == 201
    body = r.json()
    assert body["notice"]["id"] == "ru-vks:vks-1" and body["notice"]["party"] == "ru-vks"
    assert body["notice"]["version"] == 1 and body["notice"]["state"] == "accepted"
    assert body["lead_time_s"] == pytest.approx(2.5 * 3600) and body["late"] is True
    assert body["conflicts"] == [] and body["hints"] is None
    assert body["receipt"]["notice_id"] == "ru-vks:vks-1" and body["receipt"]["version"] == 1

    r = api.as_("us-af").post("/v1/notices", json=circle_notice(lat=35.40, lower_m=7000, upper_m=9000))
    assert r.status_code == 201
    body = r.json()
    assert body["late"] is True
    [c] = body["conflicts"]
    assert c["disclosure"] == "conflicts-only"
    assert c["sides"][0]["party"] == "us-af" and c["sides"][1] == {
        "party": "ru-vks",
        "notice": "ru-vks:vks-1",
        "version": 1,
        "volume": 0,
        "protected_site": False,
    }
    # on the grid (docs/disclosure.md): the exact band 6847.6-8152.4 m widened to whole 1000 ft steps
    assert c["slice"]["overlap"]["type"] == "MultiPolygon" and c["slice"]["grid"] is True
    assert c["slice"]["altitude"] == {"lower_m": pytest.approx(22 * 304.8), "upper_m": pytest.approx(27 * 304.8)}
    # a shift that clears it would tell us-af where ru-vks's notice ends: not at conflicts-only
    assert body["hints"] is None and "disclosure policy" in body["hints_withheld"]
    seen_by_ru = api.as_("ru-vks").get(f"/v1/conflicts/{c['id']}").json()
    assert {s["party"] for s in seen_by_ru["sides"]} == {"us-af", "ru-vks"}
    assert seen_by_ru["slice"] == c["slice"]


def test_hints_when_the_other_notice_is_visible_whole(api: Api) -> None:
    """Coalition partners see each other in full, and sites are public: hints tell the shift."""
    api.as_("uk-raf").post("/v1/notices", json=circle_notice(id="uk-1"))
    body = api.as_("us-af").post("/v1/notices", json=circle_notice(lat=35.40, lower_m=7000, upper_m=9000)).json()
    [c] = body["conflicts"]
    assert c["disclosure"] == "full" and body["hints_withheld"] is None
    # the bands overlap by 1 000 m; 1 000 ft more clears it: 1 304.8 m, rounded up to tens of metres
    assert body["hints"]["up_m"] == 1310 and body["hints"]["down_m"] is None  # down would go below 0 m
    # 7:30–10:30 both: a gap of more than 300 s (touching counts) in whole minutes: 3 h 6 min
    assert body["hints"]["later_s"] == body["hints"]["earlier_s"] == 3 * 3600 + 360
    week = {"start": "2015-10-05T00:00:00Z", "end": "2015-10-05T12:00:00Z"}
    api.as_("sy-gcaa").post(
        "/v1/protected-sites", json=circle_notice(id="school", lat=20, lon=20, lower_m=0, upper_m=4000, **week)
    )
    ru = api.as_("ru-vks").post("/v1/notices", json=circle_notice(lat=20, lon=20, upper_m=5000, **week)).json()
    # the site reaches 4 000 m: ru-vks's floor (3 000 m) must rise above 4 000 m + 1 000 ft
    assert ru["conflicts"][0]["disclosure"] == "full" and ru["hints"]["up_m"] == 1310


def test_a_party_files_for_itself_only(api: Api) -> None:
    r = api.as_("us-af").post("/v1/notices", json={**circle_notice(), "party": "ru-vks"})
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"field": "party", "reason": "must be the calling party 'us-af' (or left out), not 'ru-vks'"}
    ]


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("un-obs", "/v1/notices", 403),
        ("root", "/v1/notices", 403),
        ("ru-vks", "/v1/protected-sites", 403),
        ("un-obs", "/v1/protected-sites", 403),
        ("sy-gcaa", "/v1/protected-sites", 201),
        ("sy-gcaa", "/v1/notices", 201),
    ],
)
def test_roles_decide_who_files_what(api: Api, who: str, path: str, status: int) -> None:
    before = snapshot(api)
    r = api.as_(who).post(path, json=circle_notice())
    assert r.status_code == status, r.text
    if status == 403:
        assert r.json()["error"] == "forbidden"
        assert snapshot(api) == before


def test_a_refusal_names_the_role_in_plain_english(api: Api) -> None:
    # Seen on main: "a observer does not file notices".
    assert api.as_("un-obs").post("/v1/notices", json=circle_notice()).json()["message"] == (
        "an observer does not file notices"
    )
    assert (
        api.as_("root").post("/v1/tracks", json={"states": []}).json()["message"] == "an admin does not report tracks"
    )
    r = api.as_("ru-vks").post("/v1/protected-sites", json=circle_notice())
    assert r.json()["message"] == "only an authority files protected sites; 'ru-vks' is a party"


def test_protected_sites_are_public_and_conflict_with_every_party(api: Api) -> None:
    week = {"start": "2015-09-29T00:00:00Z", "end": "2015-10-06T00:00:00Z"}
    site = api.as_("sy-gcaa").post("/v1/protected-sites", json=circle_notice(id="hospital", radius_km=2, **week))
    assert site.status_code == 201 and site.json()["notice"]["protected_site"] is True
    assert site.json()["notice"]["kind"] == "protected-site"
    for party, day in (("ru-vks", "2015-09-30"), ("us-af", "2015-10-01")):
        body = circle_notice(start=f"{day}T07:30:00Z", end=f"{day}T10:30:00Z")
        [c] = api.as_(party).post("/v1/notices", json=body).json()["conflicts"]
        assert c["sides"][1]["protected_site"] is True and c["sides"][1]["notice"] == "sy-gcaa:hospital"
        assert api.as_(party).get("/v1/protected-sites/sy-gcaa:hospital").status_code == 200
    assert [s["id"] for s in api.as_("un-obs").get("/v1/protected-sites").json()] == ["sy-gcaa:hospital"]
    # a site is not a notice, and a notice cannot be filed as a site through /v1/notices
    assert api.as_("ru-vks").get("/v1/notices/sy-gcaa:hospital").status_code == 404
    r = api.as_("sy-gcaa").post("/v1/notices", json=circle_notice(kind="protected-site"))
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "kind"


# --------------------------------------------------------------------------- changes, versions, ownership


def test_update_names_the_version_and_only_the_owner_changes_a_notice(api: Api) -> None:
    us, uk, ru = api.as_("us-af"), api.as_("uk-raf"), api.as_("ru-vks")
    ru.post("/v1/notices", json=circle_notice(id="vks-1"))
    first = us.post("/v1/notices", json=circle_notice(id="us-1")).json()
    [c] = first["conflicts"]

    # a coalition partner sees the notice but may not change it; another party does not see it at all
    assert uk.put("/v1/notices/us-af:us-1", json={**circle_notice(), "replaces_version": 1}).status_code == 403
    r = ru.put("/v1/notices/us-af:us-1", json={**circle_notice(), "replaces_version": 1})
    assert r.status_code == 404
    assert r.json()["message"] == "notice 'us-af:us-1' does not exist or is not visible to you"
    assert ru.delete("/v1/notices/us-af:us-1").status_code == 404
    assert uk.post("/v1/notices/us-af:us-1/activate").status_code == 403

    r = us.put("/v1/notices/us-af:us-1", json=circle_notice(lat=36.5))
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "replaces_version"
    moved = us.put("/v1/notices/us-af:us-1", json={**circle_notice(lat=36.5), "replaces_version": 1})
    assert moved.status_code == 200
    assert moved.json()["notice"]["version"] == 2 and moved.json()["conflicts"] == []
    assert [x["id"] for x in moved.json()["resolved"]] == [c["id"]]
    stale = us.put("/v1/notices/us-af:us-1", json={**circle_notice(), "replaces_version": 1})
    assert stale.status_code == 409 and stale.headers["x-current-version"] == "2"
    assert "current version is 2" in stale.json()["message"]
    back = us.put("/v1/notices/us-af:us-1", json=circle_notice(), headers={"If-Match": '"2"'})
    assert back.status_code == 200 and back.json()["notice"]["version"] == 3
    assert len(back.json()["conflicts"]) == 1
    # two versions named, and they differ: refused, not one of them silently taken
    both = us.put(
        "/v1/notices/us-af:us-1", json={**circle_notice(), "replaces_version": 2}, headers={"If-Match": '"3"'}
    )
    assert both.status_code == 422 and both.json()["detail"][0]["field"] == "replaces_version"

    assert us.post("/v1/notices/us-af:us-1/activate").json()["notice"]["state"] == "active"
    assert us.post("/v1/notices/us-af:us-1/activate").status_code == 422
    ended = us.post("/v1/notices/us-af:us-1/end")
    assert ended.json()["notice"]["state"] == "ended" and ended.json()["conflicts"] == []
    assert len(ended.json()["resolved"]) == 1
    assert us.delete("/v1/notices/us-af:us-1").status_code == 422  # already ended
    resolved = ru.get("/v1/conflicts", params={"state": "resolved"}).json()
    assert {x["state"] for x in resolved} == {"resolved"} and len(resolved) == 2


def test_cancel_resolves_conflicts_and_is_logged(api: Api) -> None:
    api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-1"))
    api.as_("us-af").post("/v1/notices", json=circle_notice(id="us-1"))
    r = api.as_("ru-vks").delete("/v1/notices/ru-vks:vks-1", params={"replaces_version": 1})
    assert r.status_code == 200 and r.json()["notice"]["state"] == "cancelled"
    assert api.as_("us-af").get("/v1/conflicts", params={"state": "open"}).json() == []
    types = [e["event"] for e in api.events("us-af")]
    assert types == ["notice.filed", "conflict.created", "message.sent", "conflict.resolved"]


# --------------------------------------------------------------------------- idempotency


def test_an_idempotency_key_makes_a_retried_post_safe(api: Api) -> None:
    us = api.as_("us-af")
    body = circle_notice()
    first = us.post("/v1/notices", json=body, headers={"Idempotency-Key": "sortie-42"})
    again = us.post("/v1/notices", json=body, headers={"Idempotency-Key": "sortie-42"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert count_rows(api, "notices") == 1
    other = us.post("/v1/notices", json=circle_notice(lat=30), headers={"Idempotency-Key": "sortie-42"})
    assert other.status_code == 422 and other.json()["detail"][0]["field"] == "Idempotency-Key"
    # keys belong to a party: another party may use the same key
    assert api.as_("uk-raf").post("/v1/notices", json=body, headers={"Idempotency-Key": "sortie-42"}).status_code == 201
    assert us.post("/v1/notices", json=body).status_code == 201  # no key: a second notice
    assert count_rows(api, "notices") == 3


def test_concurrent_retries_with_one_key_file_one_notice(api: Api) -> None:
    barrier = threading.Barrier(4)
    results: list[httpx.Response] = []

    def post() -> None:
        with httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {api.tokens['us-af']}"}) as c:
            barrier.wait()
            results.append(c.post("/v1/notices", json=circle_notice(), headers={"Idempotency-Key": "k"}))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [201] * 4
    assert len({r.json()["notice"]["id"] for r in results}) == 1
    assert count_rows(api, "notices") == 1


# --------------------------------------------------------------------------- bad input


BAD_BODIES: list[tuple[Any, str, str]] = [
    ({"volumes": []}, "volumes", "needs at least one volume"),
    ({}, "volumes", "is required"),
    ([circle_notice(), circle_notice()], "", "must be one notice (a JSON object or a GeoJSON FeatureCollection)"),
    ({"type": "FeatureCollection", "features": []}, "features", "needs at least one feature"),
]


def _bad_variants() -> list[tuple[dict[str, Any], str]]:
    out = []
    n = circle_notice()
    v = n["volumes"][0]
    end_first = copy.deepcopy(n)
    end_first["volumes"][0]["time_end"]["value"] = "2015-09-30T07:00:00Z"
    out.append((end_first, "volumes[0].time_end"))
    upside = copy.deepcopy(n)
    upside["volumes"][0]["volume"]["altitude_lower"]["value"] = 9000
    out.append((upside, "volumes[0].volume.altitude_lower"))
    agl = copy.deepcopy(n)
    agl["volumes"][0]["volume"]["altitude_lower"]["reference"] = "AGL"
    out.append((agl, "volumes[0].volume.altitude_lower.reference"))
    bad_lat = copy.deepcopy(n)
    bad_lat["volumes"][0]["volume"]["outline_circle"]["center"]["lat"] = 91
    out.append((bad_lat, "volumes[0].volume.outline_circle.center.lat"))
    huge = copy.deepcopy(n)
    huge["volumes"][0]["volume"]["outline_circle"]["radius"] = {"value": 900, "units": "KM"}
    out.append((huge, "volumes[0].volume.outline_circle.radius"))
    bowtie = copy.deepcopy(n)
    bowtie["volumes"][0]["volume"] = {
        "outline_polygon": {
            "vertices": [
                {"lat": 35, "lng": 36},
                {"lat": 35.2, "lng": 36.2},
                {"lat": 35, "lng": 36.2},
                {"lat": 35.2, "lng": 36},
            ]
        },
        "altitude_lower": v["volume"]["altitude_lower"],
        "altitude_upper": v["volume"]["altitude_upper"],
    }
    out.append((bowtie, "volumes[0].volume.outline_polygon.vertices"))
    return out


@pytest.mark.parametrize(("body", "field", "reason"), BAD_BODIES)
def test_bad_notices_are_refused_with_the_field_and_the_reason(api: Api, body: Any, field: str, reason: str) -> None:
    before = snapshot(api)
    r = api.as_("us-af").post("/v1/notices", json=body)
    assert r.status_code == 422
    assert {"field": field, "reason": reason} in r.json()["detail"]
    assert snapshot(api) == before


def test_every_bad_volume_names_its_field_and_writes_nothing(api: Api) -> None:
    api.as_("us-af").post("/v1/notices", json=circle_notice(id="us-1"))
    before = snapshot(api)
    for body, field in _bad_variants():
        for method, path, extra in (
            ("POST", "/v1/notices", {}),
            ("PUT", "/v1/notices/us-af:us-1", {"replaces_version": 1}),
        ):
            r = api.as_("us-af").request(method, path, json={**body, **extra})
            assert r.status_code == 422, (field, r.text)
            fields = [d["field"] for d in r.json()["detail"]]
            assert any(f.startswith(field) for f in fields), (field, fields)
            assert all(d["reason"] for d in r.json()["detail"])
    assert snapshot(api) == before


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "is empty: send a JSON document"),
        (b"{not json", "is not valid JSON"),
        (b'{"volumes": NaN}', "is not valid JSON (NaN is not a JSON number"),
        (b"\xff\xfe", "is not UTF-8 text"),
    ],
)
def test_a_body_that_is_not_json_is_refused(api: Api, raw: bytes, reason: str) -> None:
    r = api.as_("us-af").post("/v1/notices", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    [d] = r.json()["detail"]
    assert d["field"] == "body" and d["reason"].startswith(reason)


def test_a_body_over_the_limit_is_refused_with_413_and_nothing_written(db_url: str) -> None:
    api = start_api(db_url, Config(server=ServerSettings(max_body_bytes=2000)))
    try:
        before = snapshot(api)
        big = circle_notice()
        big["padding"] = "x" * 5000
        r = api.as_("us-af").post("/v1/notices", json=big)
        assert r.status_code == 413 and r.json()["error"] == "too-large"

        def chunks() -> Any:  # no Content-Length: counted as it streams in
            yield json.dumps(big).encode()[:1500]
            yield json.dumps(big).encode()[1500:]

        r = api.as_("us-af").post("/v1/notices", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        assert api.as_("us-af").post("/v1/notices", json=circle_notice()).status_code == 201
        assert snapshot(api)["notices"] == before["notices"] + 1
    finally:
        api.close()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "36,36,35,35"}, "bbox"),
        ({"area": "{"}, "area"),
        ({"area": json.dumps({"type": "LineString", "coordinates": [[0, 0], [1, 1]]})}, "area"),
        ({"start": "yesterday"}, "start"),
        ({"state": "flying"}, "query.state"),
        ({"bbox": "36,35,37,36", "area": json.dumps({"type": "Point", "coordinates": [36, 35]})}, "area"),
    ],
)
def test_bad_query_parameters_name_the_parameter(api: Api, params: dict[str, str], field: str) -> None:
    r = api.as_("us-af").get("/v1/notices", params=params)
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == field


def test_list_filters_by_area_time_party_and_state(api: Api) -> None:
    us, uk = api.as_("us-af"), api.as_("uk-raf")
    us.post("/v1/notices", json=circle_notice(id="homs", lat=34.73, lon=36.71))
    us.post(
        "/v1/notices",
        json=circle_notice(id="raqqa", lat=35.95, lon=39.01, start="2015-10-01T07:00:00Z", end="2015-10-01T09:00:00Z"),
    )
    uk.post("/v1/notices", json=circle_notice(id="uk-far", **FAR))
    uk.post("/v1/notices/uk-raf:uk-far/activate")

    def ids(**params: str) -> list[str]:
        r = us.get("/v1/notices", params=params)
        assert r.status_code == 200, r.text
        return sorted(n["id"] for n in r.json())

    assert ids() == ["uk-raf:uk-far", "us-af:homs", "us-af:raqqa"]  # uk-raf is a coalition partner: seen in full
    assert ids(bbox="36,34,37.5,35.5") == ["us-af:homs"]
    homs_area = {
        "type": "Polygon",
        "coordinates": [[[36.6, 34.6], [36.8, 34.6], [36.8, 34.8], [36.6, 34.8], [36.6, 34.6]]],
    }
    assert ids(area=json.dumps(homs_area)) == ["us-af:homs"]
    assert ids(area=json.dumps({"type": "Point", "coordinates": [39.01, 35.95]})) == ["us-af:raqqa"]
    assert ids(start="2015-10-01T00:00:00Z") == ["us-af:raqqa"]
    assert ids(end="2015-09-30T23:00:00Z") == ["uk-raf:uk-far", "us-af:homs"]
    assert ids(party="uk-raf") == ["uk-raf:uk-far"]
    assert ids(state="active") == ["uk-raf:uk-far"]
    assert api.as_("ru-vks").get("/v1/notices").json() == []  # nothing of theirs is visible to ru-vks


# --------------------------------------------------------------------------- acknowledgements


def test_acknowledgement_is_received_and_understood_and_reaches_the_other_side(api: Api) -> None:
    api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-1"))
    [c] = api.as_("us-af").post("/v1/notices", json=circle_notice(id="us-1")).json()["conflicts"]
    start = api.broker.last_seq()
    r = api.as_("ru-vks").post(f"/v1/conflicts/{c['id']}/ack")
    assert r.status_code == 201
    assert [a["party"] for a in r.json()["acknowledgements"]] == ["ru-vks"]
    assert api.as_("ru-vks").post(f"/v1/conflicts/{c['id']}/ack").status_code == 200  # once only
    assert api.as_("un-obs").post(f"/v1/conflicts/{c['id']}/ack").status_code == 403  # sees it, not a party to it
    assert api.as_("uk-raf").post(f"/v1/conflicts/{c['id']}/ack").status_code == 404  # not its conflict
    assert api.as_("ru-vks").post("/v1/conflicts/nope/ack").status_code == 404
    # acknowledging the conflict also answers the broker's hotline thread about it
    e, m = api.events("us-af", after=start)
    assert e["event"] == "conflict.acknowledged"
    assert e["data"]["data"]["party"] == "ru-vks" and e["data"]["data"]["ack"] == "received-and-understood"
    assert m["event"] == "message.acknowledged" and m["data"]["data"]["message"]["ref"] == {
        "kind": "conflict",
        "id": c["id"],
    }
    assert m["data"]["data"]["party"] == "ru-vks" and m["data"]["data"]["state"] == "understood"
    assert count_rows(api, "conflict_acks") == 1


# --------------------------------------------------------------------------- live events


def test_a_client_that_reconnects_with_last_event_id_receives_everything_it_missed(api: Api) -> None:
    ru, us = api.as_("ru-vks"), api.as_("us-af")
    ru.post("/v1/notices", json=circle_notice(id="vks-1"))
    seen = api.events("ru-vks", after=0)
    assert [e["event"] for e in seen] == ["notice.filed"]
    last = seen[-1]["id"]
    # while ru-vks is away: a conflict appears, and events it may not see happen in between
    api.as_("uk-raf").post("/v1/notices", json=circle_notice(id="uk-far", **FAR))
    us.post("/v1/notices", json=circle_notice(id="us-1"))
    us.delete("/v1/notices/us-af:us-1")
    missed = api.events("ru-vks", after=None, **{"Last-Event-ID": last})
    assert [e["event"] for e in missed] == ["conflict.created", "message.sent", "conflict.resolved"]
    assert all(int(e["id"]) > int(last) for e in missed)
    assert [int(e["id"]) for e in missed] == sorted(int(e["id"]) for e in missed)
    assert api.events("ru-vks", after=None, **{"Last-Event-ID": missed[-1]["id"]}) == []
    r = ru.get("/v1/events", headers={"Last-Event-ID": "soon"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "Last-Event-ID"


def test_a_live_stream_hears_a_change_as_it_happens(api: Api) -> None:
    api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-before"))
    lines: list[str] = []
    caught_up = threading.Event()
    first_live = threading.Event()

    def listen() -> None:
        with (
            httpx.Client(base_url=api.url, timeout=httpx.Timeout(30, read=30)) as c,
            c.stream(
                "GET", "/v1/events", params={"after": 0}, headers={"Authorization": f"Bearer {api.tokens['ru-vks']}"}
            ) as r,
        ):
            for line in r.iter_lines():
                lines.append(line)
                if line == ": caught up":
                    caught_up.set()
                elif caught_up.is_set() and line.startswith("data:"):
                    first_live.set()
                    return

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    # the replay is complete once the stream says so: what it sends next is live
    assert caught_up.wait(30), "the stream never said it had caught up"
    from api_support import parse_sse

    replayed = list(parse_sse(iter([*lines, ""])))
    assert [e["data"]["data"]["notice"]["id"] for e in replayed if e["event"] == "notice.filed"] == [
        "ru-vks:vks-before"
    ]
    assert lines.count(": caught up") == 1
    sent = time.monotonic()
    api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-live"))
    assert first_live.wait(10), "the change never reached the stream"
    [live] = list(parse_sse(iter([*lines[lines.index(": caught up") + 1 :], ""])))
    assert live["event"] == "notice.filed" and live["data"]["data"]["notice"]["id"] == "ru-vks:vks-live"
    assert time.monotonic() - sent < 3


def test_two_parties_filing_conflicting_notices_at_once_both_receive_the_conflict(api: Api) -> None:
    """Through the API, concurrently, each party's stream open before either files."""
    for round_ in range(3):
        start = api.broker.last_seq()
        barrier = threading.Barrier(2)
        replies: dict[str, httpx.Response] = {}

        def file(
            party: str,
            round_: int = round_,
            barrier: threading.Barrier = barrier,
            replies: dict[str, httpx.Response] = replies,
        ) -> None:
            with httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {api.tokens[party]}"}) as c:
                barrier.wait()
                body = circle_notice(
                    id=f"{party}-{round_}",
                    start=f"2015-10-0{round_ + 1}T07:30:00Z",
                    end=f"2015-10-0{round_ + 1}T10:30:00Z",
                )
                replies[party] = c.post("/v1/notices", json=body)

        threads = [threading.Thread(target=file, args=(p,)) for p in ("ru-vks", "us-af")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert {r.status_code for r in replies.values()} == {201}
        found = [c["id"] for r in replies.values() for c in r.json()["conflicts"]]
        assert len(found) == 1  # the second to commit found the first: never neither
        for party in ("ru-vks", "us-af"):
            created = [e for e in api.events(party, after=start) if e["event"] == "conflict.created"]
            assert [e["data"]["data"]["conflict"]["id"] for e in created] == found


# --------------------------------------------------------------------------- webhooks


class Receiver:
    """A real HTTP endpoint that records what it is sent and fails the first ``fail`` requests."""

    def __init__(self, fail: int = 0) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.fail = fail
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.fail > 0:
                    outer.fail -= 1
                    self.send_response(503)
                else:
                    outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()


def test_webhooks_deliver_what_the_party_may_see_signed_in_order_with_retries(api: Api) -> None:
    rx = Receiver(fail=2)
    secret = "correct horse battery staple"
    try:
        r = api.as_("ru-vks").put("/v1/webhook", json={"url": rx.url, "secret": secret})
        assert r.status_code == 200
        assert api.as_("ru-vks").put("/v1/webhook", json={"url": "ftp://x", "secret": secret}).status_code == 422
        assert api.as_("ru-vks").put("/v1/webhook", json={"url": rx.url, "secret": "short"}).status_code == 422
        api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-1"))
        api.as_("uk-raf").post("/v1/notices", json=circle_notice(id="uk-far", **FAR))  # not for ru-vks
        api.as_("us-af").post("/v1/notices", json=circle_notice(id="us-1"))

        async def deliver() -> None:
            async with httpx.AsyncClient() as client:
                d = WebhookDeliverer(BrokerWebhookStore(api.broker, api.store), api.clock, client)
                for _ in range(6):  # two failures, then backoff 1 s and 2 s on the broker's clock
                    await d.deliver_due()
                    api.clock.t += 2.5

        anyio.run(deliver)
        types = [h["x-deconflict-event-type"] for h, _ in rx.requests]
        assert types == ["notice.filed", "conflict.created", "message.sent"]
        for headers, body in rx.requests:
            assert verify_signature(
                secret,
                headers["x-deconflict-timestamp"],
                body,
                headers["x-deconflict-signature"],
                now=float(headers["x-deconflict-timestamp"]),
            )
            assert b"uk-far" not in body
        assert json.loads(rx.requests[1][1])["data"]["conflict"]["sides"][1]["party"] == "ru-vks"
        assert api.as_("ru-vks").delete("/v1/webhook").status_code == 204
        assert api.as_("ru-vks").delete("/v1/webhook").status_code == 404
    finally:
        rx.close()


# --------------------------------------------------------------------------- identity-provider tokens


def test_identity_provider_jwts_name_a_registered_party(db_url: str, tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
    cfg = Config(
        jwt=JwtSettings(issuer="https://idp.test", audience="deconflict", jwks_file=str(tmp_path / "jwks.json")),
        server=ServerSettings(events_poll_s=0.1, webhooks_to_private=True),
    )
    api = start_api(db_url, cfg)
    try:

        def token(**claims: Any) -> str:
            base = {"iss": "https://idp.test", "aud": "deconflict", "exp": int(time.time()) + 600, "party": "us-af"}
            return jwt.encode({**base, **claims}, key, algorithm="RS256", headers={"kid": "k1"})

        def me(tok: str) -> httpx.Response:
            return httpx.get(f"{api.url}/v1/me", headers={"Authorization": f"Bearer {tok}"})

        assert me(token()).json()["party"] == "us-af"
        assert me(token(party="ru-vks")).json()["party"] == "ru-vks"
        for bad in (
            token(aud="other"),
            token(iss="https://evil"),
            token(exp=int(time.time()) - 10),
            token(party="nobody"),
            token(party=None),
            token()[:-4] + "AAAA",
        ):
            r = me(bad)
            assert r.status_code == 401, r.text
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(
            {"iss": "https://idp.test", "aud": "deconflict", "exp": int(time.time()) + 600, "party": "us-af"},
            other,
            algorithm="RS256",
            headers={"kid": "k1"},
        )
        assert me(forged).status_code == 401
        api.broker.revoke_party("us-af")
        assert me(token()).status_code == 401
    finally:
        api.close()


# --------------------------------------------------------------------------- documentation


def test_openapi_describes_every_operation_with_examples(api: Api) -> None:
    spec = api.as_("nobody").get("/openapi.json").json()
    assert "information, never permission" in spec["info"]["description"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), (method, path)
    post = spec["paths"]["/v1/notices"]["post"]
    example = post["requestBody"]["content"]["application/json"]["example"]
    assert example["volumes"][0]["volume"]["outline_circle"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert api.as_("nobody").get("/docs").status_code == 200


def test_a_second_replica_on_the_same_database_streams_the_first_ones_events(api: Api) -> None:
    """Replicas share the store: a client on either sees every event (polling the log)."""
    from deconflict.adapters.sql.store import SqlStore
    from deconflict.domain.audit import BrokerKey
    from deconflict.services.broker import Broker

    store2 = SqlStore(api.store.url, clock=api.clock)
    broker2 = Broker(store2, api.clock, BrokerKey.generate(), disclosure=api.broker.policy)
    second = Server(
        create_app(broker2, Config(server=ServerSettings(events_poll_s=0.1, webhooks_to_private=True)), webhooks=False)
    )
    try:
        api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-1"))
        api.as_("us-af").post("/v1/notices", json=circle_notice(id="us-1"))
        events = read_sse(second.url, api.tokens["ru-vks"], after=0)
        assert [e["event"] for e in events] == ["notice.filed", "conflict.created", "message.sent"]
    finally:
        second.stop()
        store2.close()


def test_the_server_delivers_webhooks_by_itself(db_url: str) -> None:
    """`deconflict serve` runs deliveries on a thread of its own; nothing drives them by hand."""

    rx = Receiver()
    api = start_api(
        db_url,
        Config(disclosure=policy(), server=ServerSettings(webhook_interval_s=0.05, webhooks_to_private=True)),
        webhooks=True,
    )
    try:
        api.as_("us-af").put("/v1/webhook", json={"url": rx.url, "secret": "s" * 16})
        api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-1"))
        api.as_("us-af").post("/v1/notices", json=circle_notice(id="us-1"))
        deadline = time.monotonic() + 10
        while len(rx.requests) < 3 and time.monotonic() < deadline:  # the filing, its conflict, its thread
            time.sleep(0.05)
        assert [h["x-deconflict-event-type"] for h, _ in rx.requests] == [
            "notice.filed",
            "conflict.created",
            "message.sent",
        ]
        assert json.loads(rx.requests[0][1])["data"]["notice"]["id"] == "us-af:us-1"
    finally:
        api.close()
        rx.close()


def test_a_revoked_party_s_live_stream_ends(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from deconflict.api import events

    monkeypatch.setattr(events, "REAUTH_S", 0.2)
    opened, ended = threading.Event(), threading.Event()
    lines: list[str] = []

    def listen() -> None:
        with (
            httpx.Client(base_url=api.url, timeout=httpx.Timeout(30, read=30)) as c,
            c.stream("GET", "/v1/events", headers={"Authorization": f"Bearer {api.tokens['ru-vks']}"}) as r,
        ):
            assert r.status_code == 200
            opened.set()  # the token was accepted: the stream is live
            lines.extend(r.iter_lines())
            ended.set()

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    # revoke only once the stream is up (on a loaded machine it can take longer than any fixed sleep)
    assert opened.wait(30), "the stream did not open"
    assert not ended.is_set()
    api.broker.revoke_party("ru-vks")
    assert ended.wait(15), "the stream outlived its token"
    assert ": token no longer valid" in lines
    assert api.as_("ru-vks").get("/v1/events").status_code == 401


# --------------------------------------------------------------------------- review findings


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field"),
    [
        ("GET", "/v1/events", {"headers": {"Last-Event-ID": b"\xb2"}}, "Last-Event-ID"),
        ("GET", "/v1/events", {"params": {"after": str(10**30)}}, "query.after"),
        ("PUT", "/v1/notices/us-af:x", {"headers": {"If-Match": b'"\xb2"'}, "json": circle_notice()}, "If-Match"),
        ("POST", "/v1/notices", {"content": b"[" * 5000}, "body"),
        ("POST", "/v1/notices", {"content": b'{"volumes": [], "x": "\\ud800"}'}, "body"),
        ("POST", "/v1/notices", {"content": b'{"volumes": [], "kind": "a\\u0000b"}'}, "body"),
        ("GET", "/v1/notices/a%00b", {}, "url"),
        ("GET", "/v1/conflicts/a%00b", {}, "url"),
        ("GET", "/v1/notices", {"params": {"party": "a\x00"}}, "url"),
        ("GET", "/v1/notices", {"params": {"area": "[" * 5000}}, "area"),
    ],
)
def test_odd_input_is_refused_with_422_not_a_server_error(
    api: Api, method: str, path: str, kwargs: dict[str, Any], field: str
) -> None:
    before = snapshot(api)
    r = api.as_("us-af").request(method, path, **kwargs)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == field
    assert snapshot(api) == before


def test_a_party_revoked_after_it_authenticated_cannot_write(api: Api) -> None:
    from deconflict.services.broker import Unauthorized
    from deconflict.services.commands import parse_file_notice

    caller = api.broker.authenticate(api.tokens["us-af"])
    api.broker.revoke_party("us-af")
    before = snapshot(api)
    with pytest.raises(Unauthorized):
        api.broker.file(parse_file_notice(caller, circle_notice(), api.broker.limits))
    assert snapshot(api) == before


def test_an_acknowledgement_is_asked_again_when_the_conflict_changes(api: Api) -> None:
    api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-1"))
    [c] = api.as_("us-af").post("/v1/notices", json=circle_notice(id="us-1")).json()["conflicts"]
    assert api.as_("us-af").post(f"/v1/conflicts/{c['id']}/ack").status_code == 201
    bigger = {**circle_notice(radius_km=20, upper_m=12000), "replaces_version": 1}
    r = api.as_("ru-vks").put("/v1/notices/ru-vks:vks-1", json=bigger)
    assert [x["id"] for x in r.json()["conflicts"]] == [c["id"]]
    assert api.as_("us-af").get(f"/v1/conflicts/{c['id']}").json()["acknowledgements"] == []
    assert api.as_("us-af").post(f"/v1/conflicts/{c['id']}/ack").status_code == 201
    acks = [e for e in api.events("ru-vks") if e["event"] == "conflict.acknowledged"]
    assert len(acks) == 2 and acks[1]["data"]["data"]["conflict"]["sides"][0]["version"] == 2


def test_webhooks_into_the_broker_s_own_network_are_refused_by_default(db_url: str) -> None:
    api = start_api(db_url, Config(disclosure=policy()))
    try:
        for url in (
            "http://example.org/hook",
            "https://127.0.0.1/hook",
            "https://localhost:8443/hook",
            "https://10.1.2.3/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
        ):
            r = api.as_("us-af").put("/v1/webhook", json={"url": url, "secret": "s" * 16})
            assert r.status_code == 422, url
            assert r.json()["detail"][0]["field"] == "url"
        assert count_rows(api, "webhooks") == 0
    finally:
        api.close()


def test_lists_come_in_pages_that_skip_nothing(api: Api) -> None:
    # interleave notices us-af may see (its own, uk-raf's) with ones it may not (ru-vks's)
    expected = []
    for i in range(7):
        for party in ("ru-vks", "us-af", "uk-raf"):
            lat = 20 + i + {"ru-vks": 0, "us-af": 0.3, "uk-raf": 0.6}[party]
            api.clock.t += 1  # filed one after another: oldest first is filing order
            r = api.as_(party).post("/v1/notices", json=circle_notice(lat=lat, lon=20, id=f"n{i}"))
            if party != "ru-vks":
                expected.append(r.json()["notice"]["id"])
    got, cursor, pages = [], None, 0
    while True:
        params = {"limit": "4"} | ({"cursor": cursor} if cursor else {})
        r = api.as_("us-af").get("/v1/notices", params=params)
        assert r.status_code == 200 and len(r.json()) <= 4
        got += [n["id"] for n in r.json()]
        pages += 1
        cursor = r.headers.get("x-next-cursor")
        if cursor is None:
            break
        assert r.headers["link"].endswith('rel="next"') and "cursor=" in r.headers["link"]
    assert got == expected and pages == 4  # 14 visible: 4 + 4 + 4 + 2
    # conflicts too: ru-vks's notices conflict with nobody here; file some that do
    for i in range(5):
        api.as_("ru-vks").post("/v1/notices", json=circle_notice(lat=20.3 + i, lon=20, id=f"c{i}"))
    first = api.as_("us-af").get("/v1/conflicts", params={"limit": "3"})
    rest = api.as_("us-af").get("/v1/conflicts", params={"limit": "3", "cursor": first.headers["x-next-cursor"]})
    ids = [c["id"] for c in first.json() + rest.json()]
    assert len(ids) == len(set(ids)) == 5 and "x-next-cursor" not in rest.headers
    bad = api.as_("us-af").get("/v1/notices", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "cursor"
