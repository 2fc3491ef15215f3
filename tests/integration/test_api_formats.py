"""The airspace formats over the API (``/v1/imports/…``, ``/v1/exports/…``), on SQLite and
PostgreSQL: an import files as the caller exactly as ``POST /v1/notices`` does, all or nothing; a
bad file is a 422 naming every record by line, set and field, with nothing written; exports hold
the caller's own notices and read back. GeoJSON and KML disclosure: test_api_disclosure.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from api_support import Api, circle_notice

from deconflict.domain.notice_json import parse_notice
from deconflict.domain.volumes import Notice
from deconflict.formats.aco import read_aco
from deconflict.formats.ed269 import read_geozones
from deconflict.formats.notam import read_notams
from deconflict.formats.openair import read_openair
from deconflict.services.wire import notice_json

EXAMPLES = Path(__file__).parents[2] / "examples"
ACO = (EXAMPLES / "coalition-2015-09-30.aco").read_text()
TEXT = {"Content-Type": "text/plain; charset=utf-8"}
IDS = ["coalition-raqqa", "coalition-deir-ez-zor", "coalition-transit-north", "coalition-isr-west"]

BAD_ACO = """OPER/TEST//
MSGID/ACO/CAOC//
GEODATUM/WGE//
PERIOD/300400ZSEP2015/301600ZSEP2015//
ACMID/ACM:ROZ/NAME:good-one/CIRCLE/USE:CAP//
CIRCLE/LATM:3557N03901E/RADIUS:15NM//
EFFLEVEL/FLFL:FL200-FL300//
ACMID/ACM:ROZ/NAME:bad-radius/CIRCLE/USE:CAP//
CIRCLE/LATM:3557N03901E/RADIUS:30//
EFFLEVEL/FLFL:FL200-FL300//
ACMID/ACM:ROZ/NAME:bad-level/CIRCLE/USE:CAP//
CIRCLE/LATM:3457N03801E/RADIUS:5NM//
EFFLEVEL/FLFL:FL300-FL2X0//
"""

OPENAIR = """AC R
AN HMEIMIM TRA
AI hmeimim-tra
AL SFC
AH FL150
AA 2015-09-30T06:00Z/2015-09-30T18:00Z
V X=35:24:00 N 035:57:00 E
DC 5

AC R
AN EAST BOX
AL FL100
AH FL200
DP 35:00:00 N 037:00:00 E
DP 35:00:00 N 037:30:00 E
DP 35:30:00 N 037:30:00 E
"""

NOTAM = """(A0412/15 NOTAMN
Q) OSTT/QRTCA/IV/BO/W/000/150/3524N03557E005
A) OSTT B) 1509300600 C) 1509301800
E) TEMPORARY RESTRICTED AREA ACTIVATED AROUND HMEIMIM.
F) SFC G) FL150)
"""


def post(api: Api, who: str, fmt: str, text: str, **params: Any) -> httpx.Response:
    return api.as_(who).post(f"/v1/imports/{fmt}", content=text.encode(), headers=TEXT, params=params)


def test_an_aco_files_every_measure_as_the_caller_in_one_go_with_receipts_and_conflicts(api: Api) -> None:
    ru = api.as_("ru-vks").post(
        "/v1/notices", json=circle_notice(35.95, 39.0, radius_km=10, lower_m=6500, upper_m=8000)
    )
    assert ru.status_code == 201, ru.text
    before = api.broker.last_seq()
    r = post(api, "us-af", "aco", ACO)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["skipped"] == []
    filed = [f["filing"]["notice"] for f in body["filed"]]
    assert [n["id"] for n in filed] == [f"us-af:{i}" for i in IDS]
    assert [f["lines"] for f in body["filed"]] == [[8], [13], [16], [20]]
    assert all(f["filing"]["receipt"]["party"] == "us-af" for f in body["filed"])
    # The same volumes as the reader gives (what `deconflict import aco` files).
    read = read_aco(ACO, "us-af")
    for got, want in zip(filed, read.notices, strict=True):
        assert got["volumes"] == notice_json(want)["volumes"]
    # Raqqa conflicts with ru-vks's notice, seen at ru-vks's level (conflicts-only by default).
    [c] = body["filed"][0]["filing"]["conflicts"]
    assert c["disclosure"] == "conflicts-only"
    assert body["filed"][0]["filing"]["hints"] is None and body["filed"][0]["filing"]["hints_withheld"]
    # Logged as the caller's own filings, one event each (and the conflict's).
    events = [e for e in api.broker.log_events() if e.seq > before]
    filings = [e for e in events if e.type == "notice.filed"]
    assert [e.actor for e in filings] == ["us-af"] * 4
    assert {e.type for e in events} >= {"notice.filed", "conflict.created"}
    listed = api.as_("us-af").get("/v1/notices", params={"party": "us-af"}).json()
    assert {n["id"] for n in listed} == {f"us-af:{i}" for i in IDS}


def test_a_bad_aco_files_nothing_and_names_every_record_by_line_set_and_field(api: Api) -> None:
    before = api.broker.last_seq()
    r = post(api, "us-af", "aco", BAD_ACO)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "validation"
    fields = [d["field"] for d in body["detail"]]
    assert fields[0] == "line 9, set CIRCLE, field 2 (RADIUS)", fields
    assert fields[1].startswith("line 13, set EFFLEVEL"), fields
    assert "is not a distance" in body["detail"][0]["reason"]
    assert fields[-1] == "body" and "nothing filed" in body["detail"][-1]["reason"]
    assert api.broker.last_seq() == before
    # keep_good files the measure read whole and lists the others.
    r = post(api, "us-af", "aco", BAD_ACO, keep_good="true")
    assert r.status_code == 201, r.text
    assert [f["filing"]["notice"]["id"] for f in r.json()["filed"]] == ["us-af:good-one"]
    assert [s["field"].split(",")[0] for s in r.json()["skipped"]] == ["line 9", "line 13"]


def test_a_refusal_of_one_notice_by_the_broker_files_none_of_the_file(api: Api) -> None:
    taken = circle_notice(id="coalition-transit-north")
    assert api.as_("us-af").post("/v1/notices", json=taken).status_code == 201
    before = api.broker.last_seq()
    r = post(api, "us-af", "aco", ACO)
    assert r.status_code == 422, r.text
    [d] = r.json()["detail"]
    assert d["field"].startswith("line 16"), d  # the third measure's ACMID
    assert "nothing filed" in d["reason"]
    assert api.broker.last_seq() == before
    ids = {n["id"] for n in api.as_("us-af").get("/v1/notices", params={"party": "us-af"}).json()}
    assert ids == {"us-af:coalition-transit-north"}, "the two measures before it were not kept"


def test_roles_are_those_of_filing_notices_and_sites(api: Api) -> None:
    before = api.broker.last_seq()
    assert post(api, "un-obs", "aco", ACO).status_code == 403
    assert post(api, "un-obs", "aco", "not an aco").status_code == 403, "the role is checked before the file"
    assert post(api, "us-af", "notam", NOTAM, site="true").status_code == 403
    assert api.broker.last_seq() == before
    r = post(api, "sy-gcaa", "notam", NOTAM, site="true")
    assert r.status_code == 201, r.text
    [f] = r.json()["filed"]
    assert f["filing"]["notice"]["protected_site"] is True
    assert f["filing"]["notice"]["id"] == "sy-gcaa:A0412-15"
    assert api.as_("ru-vks").get("/v1/protected-sites/sy-gcaa:A0412-15").status_code == 200


def test_the_body_must_be_text(api: Api) -> None:
    cases = [
        (api.as_("us-af").post("/v1/imports/aco", json={"text": ACO}), "Content-Type"),
        (api.as_("us-af").post("/v1/imports/aco", content=b"", headers=TEXT), "body"),
        (api.as_("us-af").post("/v1/imports/aco", content=b"\xff\xfe", headers=TEXT), "body"),
        (post(api, "us-af", "openair", OPENAIR, start="2015-09-30T06:00Z"), "query.end"),
        (post(api, "us-af", "openair", OPENAIR, start="2015-09-30T06:00Z", end="2015-09-30T05:00Z"), "query.end"),
    ]
    for r, field in cases:
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["field"] == field, r.text


def test_openair_and_notam_import_with_their_lines_and_rules(api: Api) -> None:
    r = post(api, "us-af", "openair", OPENAIR, start="2015-09-30T08:00Z", end="2015-09-30T09:00Z")
    assert r.status_code == 201, r.text
    filed = r.json()["filed"]
    assert [f["lines"] for f in filed] == [[1], [10]]
    assert any("SFC" in said for said in filed[0]["rules_applied"])
    imported, _ = read_openair(OPENAIR, "us-af", "activity", (1443600000.0, 1443603600.0))
    assert [f["filing"]["notice"]["volumes"] for f in filed] == [notice_json(i.notice)["volumes"] for i in imported]
    r = post(api, "ru-vks", "notam", NOTAM)
    assert r.status_code == 201, r.text
    [f] = r.json()["filed"]
    [want] = read_notams(NOTAM, "ru-vks", "activity")[0]
    assert f["filing"]["notice"]["volumes"] == notice_json(want.notice)["volumes"]
    bad = NOTAM.replace("OSTT/QRTCA", "OST/QRTCA")
    r = post(api, "ru-vks", "notam", bad)
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "line 2, field Q.FIR", r.text


def test_exports_hold_the_callers_own_live_notices_and_read_back(api: Api) -> None:
    assert post(api, "us-af", "aco", ACO).status_code == 201
    assert api.as_("uk-raf").post("/v1/notices", json=circle_notice(id="raf-only")).status_code == 201
    r = api.as_("us-af").get("/v1/exports/aco", params={"operation": "INHERENT RESOLVE"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    assert "raf-only" not in r.text, "a coalition partner's notice is not the caller's own"
    back = read_aco(r.text, "us-af")
    assert back.problems == []
    stored = {n["id"]: n for n in api.as_("us-af").get("/v1/notices", params={"party": "us-af"}).json()}
    for n in back.notices:
        assert parse_notice({k: stored[f"us-af:{n.id}"][k] for k in ("party", "kind", "volumes")}).volumes == n.volumes
    # An observer has no notices: an ACO header and nothing else.
    empty = api.as_("un-obs").get("/v1/exports/aco")
    assert empty.status_code == 200 and "ACMID" not in empty.text and empty.text.startswith("OPER/DECONFLICT//")
    # OpenAir: the corridor and orbit have no OpenAir form (refused, naming the notice).
    r = api.as_("us-af").get("/v1/exports/openair")
    assert r.status_code == 422 and "coalition-isr-west" in r.text and "no OpenAir form" in r.text, r.text
    r = api.as_("uk-raf").get("/v1/exports/openair")
    assert r.status_code == 200 and "AI raf-only" in r.text, r.text
    r = api.as_("uk-raf").get("/v1/exports/notam", params={"fir": "OSTT"})
    assert r.status_code == 200 and r.text.startswith("(") and "NOTAMN" in r.text
    drafts, problems = read_notams(r.text.replace("(NOTAMN", "(A0001/15 NOTAMN"), "uk-raf", "activity")  # numbered
    assert problems == [], (problems, r.text)
    [draft] = drafts
    assert draft.notice.volumes[0].shape.buffer_m >= 8000
    r = api.as_("uk-raf").get("/v1/exports/notam", params={"fir": "OSTT", "notice": "us-af:coalition-raqqa"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.notice"
    assert api.as_("uk-raf").get("/v1/exports/notam").status_code == 422  # fir is required


def notam(number: str, kind: str = "N", names: str = "", radius: str = "005", start: str = "1509300600") -> str:
    head = f"({number} NOTAM{kind}{' ' + names if names else ''}\n"
    if kind == "C":
        return head + "Q) OSTT/QRTCA/IV/BO/W/000/150/3524N03557E005\nA) OSTT B) 1509300500\nE) CNL.)\n"
    return head + f"Q) OSTT/QRTCA/IV/BO/W/000/150/3524N03557E{radius}\nA) OSTT B) {start} C) 1509301800\nE) AREA.)\n"


def test_a_notamr_updates_the_notice_of_the_notam_it_names_and_a_notamc_ends_it(api: Api) -> None:
    gcaa = "sy-gcaa"
    assert post(api, gcaa, "notam", notam("A0412/15"), site="true").status_code == 201
    r = post(api, gcaa, "notam", notam("A0413/15", "R", "A0412/15", radius="009"), site="true")
    assert r.status_code == 201, r.text
    [f] = r.json()["filed"]
    assert f["filing"]["notice"]["id"] == "sy-gcaa:A0412-15" and f["filing"]["notice"]["version"] == 2
    assert f["filing"]["notice"]["volumes"][0]["volume"]["outline_circle"]["radius"]["value"] == 9 * 1852
    assert f["rules_applied"][0].startswith("NOTAMR: replaces the volumes of the notice filed from A0412/15")
    # never imported: refused by name, nothing changed (the NOTAMN before it in the file is not filed either)
    before = api.broker.last_seq()
    text = notam("A0500/15") + notam("A0415/15", "R", "A0414/15")
    r = post(api, gcaa, "notam", text, site="true")
    assert r.status_code == 422, r.text
    [d] = r.json()["detail"]
    assert d["field"] == "line 5, header" and d["reason"].startswith("A0414/15 was never imported"), d
    assert api.broker.last_seq() == before
    # another party's NOTAM is not found in the caller's namespace; a site is not changed as a notice
    r = post(api, "ru-vks", "notam", notam("A0416/15", "C", "A0412/15"))
    assert r.status_code == 422 and "never imported" in r.text
    r = post(api, gcaa, "notam", notam("A0417/15", "C", "A0412/15"))
    assert r.status_code == 422 and "import this file as protected sites" in r.text, r.text
    # a chain inside one file: filed, replaced, then cancelled through the replacement's number
    text = notam("A0420/15") + notam("A0421/15", "R", "A0420/15", radius="007") + notam("A0422/15", "C", "A0421/15")
    r = post(api, gcaa, "notam", text, site="true")
    assert r.status_code == 201, r.text
    states = [
        (f["filing"]["notice"]["id"], f["filing"]["notice"]["version"], f["filing"]["notice"]["state"])
        for f in r.json()["filed"]
    ]
    assert states == [
        ("sy-gcaa:A0420-15", 1, "accepted"),
        ("sy-gcaa:A0420-15", 2, "accepted"),
        ("sy-gcaa:A0420-15", 3, "ended"),
    ]
    # a NOTAMC ends the first site
    r = post(api, gcaa, "notam", notam("A0430/15", "C", "A0412/15"), site="true")
    assert r.status_code == 201, r.text
    assert api.as_("ru-vks").get("/v1/protected-sites/sy-gcaa:A0412-15").json()["state"] == "ended"
    # and it cannot end twice
    r = post(api, gcaa, "notam", notam("A0431/15", "C", "A0412/15"), site="true")
    assert r.status_code == 422 and "already ended" in r.text, r.text


_DAY = (1443571200.0, 1443657600.0)
GEOZONES = (Path(__file__).parents[1] / "fixtures" / "formats" / "geozones.json").read_text()


def test_geozones_file_as_the_authoritys_protected_sites_and_export_back(api: Api) -> None:
    assert post(api, "us-af", "geozones", GEOZONES).status_code == 403, "zones are protected sites: authorities"
    window = {"start": "2015-09-30T00:00Z", "end": "2015-10-01T00:00Z"}
    r = post(api, "sy-gcaa", "geozones", GEOZONES)  # a permanent zone without a window: named, nothing filed
    assert r.status_code == 422
    assert [d["field"] for d in r.json()["detail"]] == ["features[2].applicability[0].permanent", "body"]
    r = post(api, "sy-gcaa", "geozones", GEOZONES, **window)
    assert r.status_code == 201, r.text
    filed = r.json()["filed"]
    assert [(f["zone"], f["filing"]["notice"]["id"]) for f in filed] == [
        ("features[0]", "sy-gcaa:OSH001"),
        ("features[1]", "sy-gcaa:OSH002"),
        ("features[2]", "sy-gcaa:OSH003"),
    ]
    assert all(f["filing"]["notice"]["protected_site"] for f in filed)
    back = api.as_("sy-gcaa").get("/v1/exports/geozones", params={"country": "SYR"})
    assert back.status_code == 200 and back.headers["content-type"].startswith("application/json")
    zones, problems = read_geozones(back.text, "sy-gcaa")
    assert problems == []
    assert [z.notice.volumes for z in zones] == [z.notice.volumes for z in read_geozones(GEOZONES, "x", None, _DAY)[0]]
    # a schema fault is named by its JSON path, and a broker refusal by the zone's field
    bad = GEOZONES.replace('"country": "SYR"', '"country": "SY"', 1)
    r = post(api, "sy-gcaa", "geozones", bad, **window)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "features[0].country", r.text
    api.clock.t += 86400 * 3  # the zones' 2015 windows have ended
    r = post(
        api,
        "sy-gcaa",
        "geozones",
        GEOZONES.replace("OSH00", "NEW00"),
        start="2015-10-03T01:00Z",
        end="2015-10-03T02:00Z",
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == "features[0].applicability[0].endDateTime", r.text


GEOZONES_ED318 = (Path(__file__).parents[1] / "fixtures" / "formats" / "geozones.ed318.json").read_text()


def test_ed318_geozones_file_as_the_same_sites_as_ed269_and_faults_are_named_by_json_path(api: Api) -> None:
    window = {"start": "2015-09-30T00:00Z", "end": "2015-10-01T00:00Z"}
    r = post(api, "sy-gcaa", "geozones", GEOZONES_ED318)  # a zone without a period and no window: named
    assert r.status_code == 422
    assert [d["field"] for d in r.json()["detail"]] == ["features[2].properties.limitedApplicability", "body"]
    bad = GEOZONES_ED318.replace('"uom": "ft"', '"uom": "NM"')
    r = post(api, "sy-gcaa", "geozones", bad, **window)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "features[0].geometry.layer.uom", r.text
    r = post(api, "sy-gcaa", "geozones", '{"zones": []}', **window)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "document", r.text
    assert "neither an ED-269" in r.json()["detail"][0]["reason"]
    r = post(api, "sy-gcaa", "geozones", GEOZONES_ED318, **window)
    assert r.status_code == 201, r.text
    filed = r.json()["filed"]
    assert [(f["zone"], f["filing"]["notice"]["id"]) for f in filed] == [
        (f"features[{i}]", f"sy-gcaa:OSH00{i + 1}") for i in range(4)
    ]
    back = api.as_("sy-gcaa").get("/v1/exports/geozones", params={"country": "SYR"})
    assert back.status_code == 200, back.text
    zones, problems = read_geozones(back.text, "sy-gcaa")
    assert problems == []
    ed269_zones = read_geozones(GEOZONES, "x", None, _DAY)[0]
    assert [z.notice.volumes for z in zones][:3] == [z.notice.volumes for z in ed269_zones]
    assert len(zones[3].notice.volumes) == 4 and all(v.schedule is not None for v in zones[3].notice.volumes)
    # a broker refusal names the zone's field in the ED-318 document
    api.clock.t += 86400 * 20  # every 2015 window of the document has ended
    r = post(api, "sy-gcaa", "geozones", GEOZONES_ED318.replace("OSH00", "NEW00"), **window)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == "features[0].properties.limitedApplicability[0].endDateTime", r.text


F3548_KEYS = ("id", "party", "kind", "volumes")


def test_a_side_drafts_its_conflict_s_resolution_as_an_acmreq_only_when_it_sees_the_other_whole(api: Api) -> None:
    uk, us, ru = api.as_("uk-raf"), api.as_("us-af"), api.as_("ru-vks")
    assert uk.post("/v1/notices", json=circle_notice(id="raf-cap")).status_code == 201
    assert us.post("/v1/notices", json=circle_notice(id="usaf-cap", lon=36.70)).status_code == 201
    [partners] = uk.get("/v1/conflicts").json()  # coalition partners see each other whole
    r = uk.get("/v1/exports/acmreq", params={"conflict": partners["id"], "shift": "later"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain"), r.text
    got = read_aco(r.text, "uk-raf", message="ACMREQ")
    assert got.problems == [] and [n.id for n in got.notices] == ["raf-cap"], r.text

    def stored(c: httpx.Client, nid: str) -> Notice:
        return parse_notice({k: v for k, v in c.get(f"/v1/notices/{nid}").json().items() if k in F3548_KEYS})

    filed, moved, other = stored(uk, "uk-raf:raf-cap"), got.notices[0], stored(us, "us-af:usaf-cap")
    assert moved.time_start > filed.time_start and moved.volumes[0].altitude == filed.volumes[0].altitude
    assert moved.time_start >= other.time_end + 300 - 60  # clears the other by the time minimum (minute rounding)
    up = uk.get("/v1/exports/acmreq", params={"conflict": partners["id"], "shift": "up"})
    assert up.status_code in (200, 422) and (up.status_code == 200 or up.json()["detail"][0]["field"] == "query.shift")

    # ru-vks sees us-af's notice only as the conflict's slice: a shift would tell where it ends.
    assert ru.post("/v1/notices", json=circle_notice(id="vks-cap", lon=36.66)).status_code == 201
    mine = [c for c in ru.get("/v1/conflicts").json() if "us-af" in {s.get("party") for s in c["sides"]}]
    r = ru.get("/v1/exports/acmreq", params={"conflict": mine[0]["id"]})
    assert r.status_code == 403 and "disclosure" in r.json()["message"], r.text
    # Only a side asks; an unknown conflict is a 404; an unknown shift names the field.
    assert api.as_("tr-af").get("/v1/exports/acmreq", params={"conflict": partners["id"]}).status_code == 404
    assert api.as_("root").get("/v1/exports/acmreq", params={"conflict": partners["id"]}).status_code == 403
    assert uk.get("/v1/exports/acmreq", params={"conflict": "no-such"}).status_code == 404
    r = uk.get("/v1/exports/acmreq", params={"conflict": partners["id"], "shift": "sideways"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.shift", r.text


def test_a_protected_site_s_side_does_not_move(api: Api) -> None:
    gcaa = api.as_("sy-gcaa")
    assert gcaa.post("/v1/protected-sites", json=circle_notice(id="site")).status_code == 201
    assert api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks")).status_code == 201
    [c] = gcaa.get("/v1/conflicts").json()
    r = gcaa.get("/v1/exports/acmreq", params={"conflict": c["id"]})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.conflict", r.text
    r = api.as_("ru-vks").get("/v1/exports/acmreq", params={"conflict": c["id"], "shift": "earlier"})
    assert (r.status_code == 200 and "NAME:ru-vks:vks" in r.text) or "vks" in r.text, r.text


def test_a_description_is_kept_shown_whole_and_an_aco_s_ampn_survives_the_api(api: Api) -> None:
    us = api.as_("us-af")
    body = {**circle_notice(id="described"), "description": "CAP west of Homs.\nTanker on the hotline."}
    r = us.post("/v1/notices", json=body)
    assert r.status_code == 201 and r.json()["notice"]["description"] == body["description"], r.text
    assert us.get("/v1/notices/us-af:described").json()["description"] == body["description"]
    assert us.post("/v1/notices", json=circle_notice(id="plain", lat=20.0)).status_code == 201
    assert "description" not in us.get("/v1/notices/us-af:plain").json()
    for bad, why in (("", "must not be empty"), ("x" * 2001, "more than 2000"), ("a\u0007b", "U+0007")):
        r = us.post("/v1/notices", json={**circle_notice(id="bad"), "description": bad})
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "description", r.text
        assert why in r.json()["detail"][0]["reason"], r.text
    assert us.get("/v1/notices/us-af:bad").status_code == 404  # nothing of a refused filing is kept
    # An ACO's AMPN over the API becomes the description, and goes back out as AMPN.
    assert post(api, "uk-raf", "aco", ACO).status_code == 201
    mine = {n["id"]: n for n in api.as_("uk-raf").get("/v1/notices", params={"party": "uk-raf"}).json()}
    described = [n for n in mine.values() if "description" in n]
    assert described, "the ACO's AMPN is kept"
    out = api.as_("uk-raf").get("/v1/exports/aco").text
    assert all(f"AMPN/{' '.join(n['description'].split())}//" in out for n in described), out


def test_a_name_and_an_acm_type_are_kept_and_an_aco_s_name_and_type_survive_the_api(api: Api) -> None:
    us = api.as_("us-af")
    body = {**circle_notice(id="named"), "name": "TANKER TRACK BLUE", "acm_type": "AAR"}
    r = us.post("/v1/notices", json=body)
    assert r.status_code == 201, r.text
    assert (r.json()["notice"]["name"], r.json()["notice"]["acm_type"]) == ("TANKER TRACK BLUE", "AAR")
    got = us.get("/v1/notices/us-af:named").json()
    assert (got["name"], got["acm_type"]) == ("TANKER TRACK BLUE", "AAR")
    assert us.post("/v1/notices", json=circle_notice(id="plain", lat=20.0)).status_code == 201
    assert not {"name", "acm_type"} & set(us.get("/v1/notices/us-af:plain").json())
    for key, bad, why in (
        ("name", "", "must not be empty"),
        ("name", "x" * 101, "more than 100"),
        ("name", "TWO\nLINES", "U+000A"),
        ("name", 7, "must be a string"),
        ("acm_type", "roz", "capital letters or digits"),
        ("acm_type", "A" * 17, "capital letters or digits"),
    ):
        r = us.post("/v1/notices", json={**circle_notice(id="bad"), key: bad})
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == key, r.text
        assert why in r.json()["detail"][0]["reason"], r.text
    assert us.get("/v1/notices/us-af:bad").status_code == 404  # nothing of a refused filing is kept
    # An ACO export writes the name as NAME and the type as ACM (NAME falls back to the id).
    out = us.get("/v1/exports/aco").text
    assert "ACMID/ACM:AAR/NAME:TANKER TRACK BLUE/CIRCLE/" in out and "ACMID/ACM:ROZ/NAME:plain/CIRCLE/" in out, out
    # An ACO's NAME and ACM type over the API become the notice's name and acm_type, and go back out.
    assert post(api, "uk-raf", "aco", ACO).status_code == 201
    mine = {n["id"]: n for n in api.as_("uk-raf").get("/v1/notices", params={"party": "uk-raf"}).json()}
    assert {n["name"] for n in mine.values()} == set(IDS)
    out = api.as_("uk-raf").get("/v1/exports/aco").text
    assert all(f"ACMID/ACM:{n['acm_type']}/NAME:{n['name']}/" in out for n in mine.values()), out
