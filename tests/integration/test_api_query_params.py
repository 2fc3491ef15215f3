"""A query parameter the operation does not take is refused, naming it: a misspelt filter
(``?stat=open``, ``?bbbox=…``) must never be silently dropped and answered with everything, and a
nameless one (``?=false``, found by Schemathesis) neither. On one store: the rule is the API's, not
the store's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import Api, start_api


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    api = start_api(f"sqlite:///{Path(tmp_path_factory.mktemp('query')) / 'deconflict.sqlite'}")
    yield api
    api.close()


def test_a_misspelt_filter_is_refused_naming_it_and_what_the_operation_takes(server: Api) -> None:
    r = server.as_("us-af").get("/v1/notices", params={"stat": "accepted"})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "validation"
    [d] = body["detail"]
    assert d["field"] == "query.stat"
    assert d["reason"].startswith("is not a parameter of GET /v1/notices")
    for known in ("state", "bbox", "area", "cursor", "limit"):
        assert known in d["reason"]


def test_a_nameless_parameter_is_refused(server: Api) -> None:
    r = server.as_("us-af").get("/v1/protected-sites?=false")
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["detail"]] == ["query"]
    assert "has no name" in r.json()["detail"][0]["reason"]


def test_every_unknown_one_is_named_once_in_the_order_given(server: Api) -> None:
    r = server.as_("us-af").get("/v1/conflicts?zeta=1&alpha=2&zeta=3&state=open")
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["detail"]] == ["query.zeta", "query.alpha"]


def test_the_parameters_an_operation_takes_are_still_taken(server: Api) -> None:
    assert server.as_("us-af").get("/v1/notices", params={"state": "accepted", "limit": 5}).status_code == 200
    assert server.as_("us-af").get("/v1/audit/export", params={"after": 0}).status_code == 200
    assert server.as_("us-af").get("/v1/me").status_code == 200


def test_without_a_token_the_answer_is_still_401(server: Api) -> None:
    assert server.as_("nobody").get("/v1/notices", params={"stat": "x"}).status_code == 401


def test_every_get_operation_refuses_a_parameter_it_does_not_take(server: Api) -> None:
    doc = server.as_("nobody").get("/openapi.json").json()
    paths = [p for p, ops in doc["paths"].items() if "get" in ops]
    assert len(paths) >= 15, paths
    for path in paths:
        url = re.sub(r"\{[^}]+\}", "x", path)
        r = server.as_("root").get(url, params={"no_such_parameter": "1"})
        assert r.status_code == 422, (path, r.status_code, r.text[:200])
        assert [d["field"] for d in r.json()["detail"]] == ["query.no_such_parameter"], path
