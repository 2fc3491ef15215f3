from api_support import Api, circle_notice


def test_two_parties_file_overlapping_notices_and_both_hear_of_the_conflict(api: Api) -> None:
    start = api.broker.last_seq()
    r = api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-1"))
    assert r.status_code == 201, r.text
    r = api.as_("us-af").post("/v1/notices", json=circle_notice(id="us-1"))
    assert r.status_code == 201, r.text
    [conflict] = r.json()["conflicts"]
    ru = [e for e in api.events("ru-vks", after=start) if e["event"] == "conflict.created"]
    us = [e for e in api.events("us-af", after=start) if e["event"] == "conflict.created"]
    assert [e["data"]["data"]["conflict"]["id"] for e in ru] == [conflict["id"]]
    assert [e["data"]["data"]["conflict"]["id"] for e in us] == [conflict["id"]]
