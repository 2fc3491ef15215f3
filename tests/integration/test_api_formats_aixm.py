"""AIXM 5.1 activations over the API (``POST /v1/imports/aixm``, ``GET /v1/exports/aixm``) on SQLite
and PostgreSQL: the authority's activations filed as its sites with their lines and rules, a bad
element named by its line and path with nothing written, DTDs refused, and the export holding only
the caller's own live notices and reading back as them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from api_support import Api, circle_notice

from deconflict.formats.aixm import read_aixm
from deconflict.services.wire import notice_json

FIXTURE = Path(__file__).parents[1] / "fixtures" / "formats" / "activation.aixm.xml"
AIXM = FIXTURE.read_text().replace("2030-", "2015-")  # the broker's clock is at 2015-09-30
XML = {"Content-Type": "application/xml"}


def post(api: Api, who: str, text: str, headers: dict[str, str] = XML, **params: Any) -> httpx.Response:
    return api.as_(who).post("/v1/imports/aixm", content=text.encode(), headers=headers, params=params)


def test_an_authority_files_the_activations_as_sites_and_exports_them_back(api: Api) -> None:
    assert post(api, "us-af", AIXM, site="true").status_code == 403, "sites are an authority's"
    r = post(api, "sy-gcaa", AIXM, site="true")
    assert r.status_code == 201, r.text
    filed = r.json()["filed"]
    assert [(f["lines"], f["filing"]["notice"]["id"]) for f in filed] == [
        ([39], "sy-gcaa:HMEIMIM-TSA"),
        ([89], "sy-gcaa:OSP12"),
    ]
    assert all(f["filing"]["notice"]["protected_site"] for f in filed)
    assert any("SFC" in s for s in filed[1]["rules_applied"])
    want, _ = read_aixm(AIXM, "sy-gcaa", "protected-site")
    assert [f["filing"]["notice"]["volumes"] for f in filed] == [notice_json(i.notice)["volumes"] for i in want]

    assert api.as_("uk-raf").post("/v1/notices", json=circle_notice(id="raf-only")).status_code == 201
    back = api.as_("sy-gcaa").get("/v1/exports/aixm")
    assert back.status_code == 200 and back.headers["content-type"].startswith("application/xml")
    assert "raf-only" not in back.text, "another party's notice is never in the caller's export"
    again, problems = read_aixm(back.text, "sy-gcaa", "protected-site")
    assert problems == []
    sites = [a for a in again if a.notice.id in ("HMEIMIM-TSA", "OSP12")]
    assert [a.notice.volumes for a in sites] == [w.notice.volumes for w in want]
    one = api.as_("sy-gcaa").get("/v1/exports/aixm", params={"notice": "sy-gcaa:OSP12"})
    assert one.status_code == 200 and one.text.count("<aixm:Airspace ") == 1
    r = api.as_("uk-raf").get("/v1/exports/aixm", params={"notice": "sy-gcaa:OSP12"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.notice"
    raf = api.as_("uk-raf").get("/v1/exports/aixm")
    assert raf.status_code == 200 and "raf-only" in raf.text and "OSP12" not in raf.text


def test_a_bad_element_is_named_by_line_and_path_and_nothing_is_filed(api: Api) -> None:
    before = api.broker.last_seq()
    bad = AIXM.replace("</gml:exterior>", "</gml:exterior><gml:interior/>", 1)
    r = post(api, "ru-vks", bad)
    assert r.status_code == 422, r.text
    first = r.json()["detail"][0]
    assert first["field"].startswith("line ") and first["field"].endswith("/PolygonPatch/interior"), first
    assert "hole" in first["reason"]
    assert api.broker.last_seq() == before
    doctype = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>'
    r = post(api, "ru-vks", doctype, headers={"Content-Type": "text/plain"})
    assert r.status_code == 422 and "refused" in r.json()["detail"][0]["reason"], r.text
    assert api.broker.last_seq() == before
    r = post(api, "ru-vks", AIXM, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "Content-Type"
    r = post(api, "ru-vks", bad, keep_good="true")
    assert r.status_code == 201, r.text
    assert [f["filing"]["notice"]["id"] for f in r.json()["filed"]] == ["ru-vks:OSP12"]
    assert "hole" in r.json()["skipped"][0]["reason"]
