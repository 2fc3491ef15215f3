"""The audit trail over the API, on SQLite and on PostgreSQL: every notice response carries a signed
receipt naming the event that logged it; exports verify clean, a party's shows only its own events
in full; the chain in the database holds; and ``deconflict audit verify`` (the real console script)
finds every kind of tampering and says where."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from api_support import Api, circle_notice
from test_api_filing_limits import polygon_volume

from deconflict.domain.audit import (
    BrokerKey,
    Event,
    Receipt,
    canonical_json,
    load_public_key,
    next_event,
    sha256_hex,
    sign_receipt,
    verify_chain,
    verify_export,
    verify_receipt,
)
from deconflict.domain.disclosure_policy import Level
from deconflict.domain.errors import ValidationError
from deconflict.domain.parties import Role
from deconflict.domain.times import parse_time

DECONFLICT = Path(sys.executable).with_name("deconflict")
"""The console script installed next to the interpreter running the tests (the venv's)."""

HOUR = 3600.0


def qid(party: str, short: str) -> str:
    """The id of a notice ``party`` filed with ``{"id": short}``: ids live in the filer's namespace."""
    return f"{party}:{short}"


VKS_1 = qid("ru-vks", "vks-1")


def broker_key(api: Api) -> str:
    """The broker's public key as any party fetches it: raw base64."""
    r = api.as_("us-af").get("/v1/audit/key")
    assert r.status_code == 200, r.text
    key = r.json()
    assert key["alg"] == "Ed25519"
    assert load_public_key(key["public_key_pem"]) == key["public_key"]  # the PEM is the same key
    return str(key["public_key"])


def export(api: Api, name: str) -> dict[str, Any]:
    r = api.as_(name).get("/v1/audit/export")
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    return doc


def ok(r: Any, status: int = 201) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    return body


def busy_scenario(api: Api) -> list[dict[str, Any]]:
    """Filings, an update, state changes, a cancel, acknowledgements, a protected site, a webhook and
    every kind of party change, with the broker clock moving; returns the notice responses."""
    replies: list[dict[str, Any]] = []
    ru, us, uk, tr, sy = (api.as_(n) for n in ("ru-vks", "us-af", "uk-raf", "tr-af", "sy-gcaa"))
    replies.append(ok(ru.post("/v1/notices", json=circle_notice(id="vks-1"))))
    assert replies[-1]["notice"]["id"] == VKS_1
    api.clock.t += 60
    replies.append(ok(us.post("/v1/notices", json=circle_notice(id="us-1"))))
    [conflict] = replies[-1]["conflicts"]
    replies.append(ok(uk.post("/v1/notices", json=circle_notice(id="uk-1", lat=33.5, lon=38.5))))
    replies.append(
        ok(sy.post("/v1/protected-sites", json=circle_notice(id="site-1", lat=34.73, lon=36.71, radius_km=1)))
    )
    api.clock.t += 60
    replies.append(ok(ru.put(f"/v1/notices/{VKS_1}", json={**circle_notice(upper_m=9000), "replaces_version": 1}), 200))
    ok(us.post(f"/v1/conflicts/{conflict['id']}/ack"))
    ok(ru.post(f"/v1/conflicts/{conflict['id']}/ack"))
    api.clock.t += 60
    replies.append(ok(tr.post("/v1/notices", json=circle_notice(id="tr-1", lat=36.2, lon=37.1))))
    replies.append(ok(tr.delete(f"/v1/notices/{replies[-1]['notice']['id']}"), 200))
    replies.append(ok(ru.post(f"/v1/notices/{VKS_1}/activate"), 200))
    replies.append(ok(ru.post(f"/v1/notices/{VKS_1}/end"), 200))
    ok(us.put("/v1/webhook", json={"url": "http://127.0.0.1:9/hook", "secret": "s" * 32}), 200)
    api.clock.t += 60
    api.broker.add_party("il-af", Role.PARTY)
    api.broker.set_disclosure("un-obs", "us-af", Level.EXISTENCE)
    api.broker.set_disclosure("ru-vks", "uk-raf", Level.EXISTENCE, both_ways=True)
    api.broker.rotate_token("il-af")
    api.broker.revoke_party("il-af")
    return replies


# ---------------------------------------------------------------------------------------------- receipts


def test_every_notice_response_carries_a_receipt_that_verifies_and_names_its_event(api: Api) -> None:
    replies = busy_scenario(api)
    # A retried POST with the same Idempotency-Key returns the first response, receipt and all.
    headers = {"Idempotency-Key": "k-1"}
    first = ok(api.as_("us-af").post("/v1/notices", json=circle_notice(id="us-2", lat=30), headers=headers))
    again = ok(api.as_("us-af").post("/v1/notices", json=circle_notice(id="us-2", lat=30), headers=headers))
    assert again["receipt"] == first["receipt"]
    replies.append(first)

    key = broker_key(api)
    log = {e["seq"]: e for e in export(api, "root")["events"]}
    assert len(replies) == 10
    for body in replies:
        notice, receipt = body["notice"], Receipt.from_json(body["receipt"])
        assert verify_receipt(receipt, key), receipt
        assert not verify_receipt(receipt, BrokerKey.generate().public_key_b64())
        assert receipt.content_hash == sha256_hex(canonical_json(notice))
        assert (receipt.notice_id, receipt.version, receipt.party) == (notice["id"], notice["version"], notice["party"])
        # The receipt names the event that logged exactly this notice version, at its time.
        event = log[receipt.log_seq]
        assert event["hash"] == receipt.log_hash
        assert event["time"] == receipt.received_at
        if event["type"] in ("notice.filed", "notice.updated"):  # a state change keeps the content's time
            assert receipt.received_at == parse_time(notice["received_at"], "received_at")
        assert event["type"].startswith("notice.") and event["actor"] == notice["party"]
        assert event["payload"]["notice"] == notice
        assert event["payload"]["content_hash"] == receipt.content_hash
    # The owner reads its notice back with the receipt of its current version.
    vks = ok(api.as_("ru-vks").get(f"/v1/notices/{VKS_1}"), 200)
    assert vks["receipt"] == replies[-2]["receipt"]


@pytest.mark.parametrize("filer", ["uk-raf", "ru-vks"])  # sees us-af whole (coalition); at conflicts-only
def test_a_filing_logs_and_answers_the_forms_it_made_before_the_lock(api: Api, filer: str) -> None:
    """The notice's volumes and the conflicts' slices are encoded (and cut to the grid) before the
    filing lock and put together under it (issue 11 §6): the log holds exactly the notice and the
    conflicts answered, the receipt hashes the notice logged, and the chain verifies."""
    for k, lat in enumerate((35.20, 35.32, 35.44)):
        ok(api.as_("us-af").post("/v1/notices", json=circle_notice(id=f"us-{k}", lat=lat)))
    big = circle_notice(id="big")
    big["volumes"] = [polygon_volume(400, radius_km=30)]
    before = api.broker.last_seq()
    body = ok(api.as_(filer).post("/v1/notices", json=big))
    assert len(body["conflicts"]) == 3
    events = [e for e in api.broker.log_events() if e.seq > before]
    assert verify_chain(api.broker.log_events()) == []
    filed = events[0]
    assert filed.type == "notice.filed" and filed.payload["notice"] == body["notice"]
    assert body["receipt"]["content_hash"] == sha256_hex(canonical_json(body["notice"]))
    assert body["receipt"]["log_hash"] == filed.hash
    logged = {e.payload["conflict"]["id"]: e.payload["conflict"] for e in events if e.type == "conflict.created"}
    with api.store.begin(write=False) as repo:
        disclosure = api.broker.disclosure(repo)
    party = api.broker.party(filer)
    for view in body["conflicts"]:
        assert view == disclosure.conflict_view(party, logged[view["id"]])
    assert {v["disclosure"] for v in body["conflicts"]} == {"full" if filer == "uk-raf" else "conflicts-only"}


# ---------------------------------------------------------------------------------------------- exports


def test_admin_export_verifies_clean_and_is_the_whole_log(api: Api) -> None:
    busy_scenario(api)
    doc = export(api, "root")
    report = verify_export(doc, broker_key(api))
    assert report.ok, [str(p) for p in report.problems]
    assert report.key_trusted
    assert doc["events"] == [e.to_json() for e in api.broker.log_events()]
    assert report.events == report.full_events == report.head_seq == api.broker.last_seq()
    assert report.receipts == 9  # one per notice version


def test_a_party_export_holds_its_own_records_in_full_and_every_other_event_only_as_a_stub(api: Api) -> None:
    ru = api.as_("ru-vks")
    ok(ru.post("/v1/notices", json=circle_notice(id="vks-1")))
    ok(ru.post("/v1/notices", json=circle_notice(id="vks-2", lat=32.0)))
    ok(ru.delete(f"/v1/notices/{qid('ru-vks', 'vks-2')}"), 200)
    [conflict] = ok(api.as_("us-af").post("/v1/notices", json=circle_notice(id="us-secret-1")))["conflicts"]
    ok(api.as_("uk-raf").post("/v1/notices", json=circle_notice(id="uk-secret-1")))
    ok(api.as_("tr-af").post("/v1/notices", json=circle_notice(id="tr-secret-1", lat=36.5)))
    ok(api.as_("sy-gcaa").post("/v1/protected-sites", json=circle_notice(id="site-secret-1", lat=33, radius_km=1)))
    ok(api.as_("us-af").post(f"/v1/conflicts/{conflict['id']}/ack"))
    # ru-vks's own change re-checks its conflicts and its acknowledgement is logged: ru-vks is the
    # actor of those events, yet they carry the other side whole.
    ok(ru.put(f"/v1/notices/{VKS_1}", json={**circle_notice(upper_m=9000), "replaces_version": 1}), 200)
    ok(ru.post(f"/v1/conflicts/{conflict['id']}/ack"))
    ok(ru.put("/v1/webhook", json={"url": "http://127.0.0.1:9/hook", "secret": "s" * 32}), 200)

    mine, everything = export(api, "ru-vks"), export(api, "root")
    report = verify_export(mine, broker_key(api))
    assert report.ok, [str(p) for p in report.problems]
    assert len(mine["events"]) == len(everything["events"])
    for seen, full in zip(mine["events"], everything["events"], strict=True):
        event = Event.from_json(full)
        if event.actor == "ru-vks" and event.type.startswith(("notice.", "webhook.")):
            assert seen == full  # its own notices and settings
        else:
            assert seen == event.to_stub()  # everyone else's, and every conflict event
    assert sorted({e["type"] for e in mine["events"] if not e.get("stub")}) == [
        "notice.cancelled",
        "notice.filed",
        "notice.updated",
        "webhook.set",
    ]
    assert "conflict.acknowledged" in {e["type"] for e in everything["events"] if e["actor"] == "ru-vks"}
    assert sorted((r["notice_id"], r["version"]) for r in mine["receipts"]) == [
        (VKS_1, 1),
        (VKS_1, 2),
        (qid("ru-vks", "vks-2"), 1),
        (qid("ru-vks", "vks-2"), 2),
    ]
    text = json.dumps(mine)
    for other in ("us-secret-1", "uk-secret-1", "tr-secret-1", "site-secret-1", "us-af", "uk-raf", "tr-af", "sy-gcaa"):
        assert other not in text


def test_own_records_are_the_owner_s_whoever_the_actor(api: Api) -> None:
    """A notice the broker ended (actor ``broker``) or the operator filed (actor ``admin``) is its
    party's own record, in full in its export and in nobody else's; the actors' names cannot be
    taken by a party (a party named ``broker`` saw every notice the broker ended)."""
    from deconflict.domain.notice_json import parse_notice

    ok(api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-1", end="2015-09-30T09:00:00Z")))
    api.broker.file_as_operator(parse_notice({**circle_notice(id="vks-op", lat=30.0), "party": "ru-vks"}))
    api.clock.t = parse_time("2015-09-30T09:10:00Z", "t")
    assert api.broker.end_past_notices() == 1
    full = {(e["type"], e["actor"]) for e in export(api, "ru-vks")["events"] if not e.get("stub")}
    assert {("notice.ended", "broker"), ("notice.filed", "admin")} <= full
    others = [e for e in export(api, "us-af")["events"] if not e.get("stub") and e["type"].startswith("notice.")]
    assert others == []
    for name in ("broker", "admin", "all"):
        with pytest.raises(ValidationError) as e:
            api.broker.add_party(name, Role.PARTY)
        assert e.value.errors[0].path == "name" and "reserved" in e.value.errors[0].reason


def test_a_party_export_reveals_no_more_of_a_conflict_than_the_api_shows_it(api: Api) -> None:
    # ru-vks and tr-af see each other only at "existence": a conflict, its window, a coarse area.
    ok(api.as_("tr-af").post("/v1/notices", json=circle_notice(id="tr-secret-1")))
    reply = api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-1"))
    [conflict] = ok(reply)["conflicts"]
    assert conflict["disclosure"] == "existence"
    assert "tr-secret-1" not in reply.text and "tr-af" not in reply.text
    text = json.dumps(export(api, "ru-vks"))
    assert "tr-secret-1" not in text
    assert "tr-af" not in text


# ---------------------------------------------------------------------------------------------- the stored chain


def test_the_hash_chain_in_the_database_holds_after_a_busy_scenario(api: Api) -> None:
    busy_scenario(api)
    events = api.broker.log_events()
    assert verify_chain(events) == []
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    types = {e.type for e in events}
    assert {
        "party.added",
        "party.revoked",
        "token.rotated",
        "disclosure.set",
        "notice.filed",
        "notice.updated",
        "notice.activated",
        "notice.ended",
        "notice.cancelled",
        "conflict.created",
        "conflict.acknowledged",
        "webhook.set",
    } <= types

    # And the check is not vacuous: an edit made behind the broker's back in the table is found.
    with api.store.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE events SET payload = :p WHERE seq = 3"), {"p": canonical_json({"forged": 1}).decode()}
        )
    problems = verify_chain(api.broker.log_events())
    assert [p.where for p in problems] == ["events[2] (seq 3)"]
    assert "payload was edited" in problems[0].what


# ---------------------------------------------------------------------------------------------- deconflict audit verify


@dataclass(frozen=True)
class Tampering:
    """A change to an exported log and what ``deconflict audit verify`` must say about it."""

    name: str
    change: Callable[[dict[str, Any]], None]
    place: str
    """Where the problem is: a seq number or a receipt, as printed."""
    reason: str


def _index(doc: dict[str, Any], type_: str, nth: int = 0) -> int:
    return [i for i, e in enumerate(doc["events"]) if e.get("type") == type_][nth]


def tamperings(doc: dict[str, Any]) -> list[Tampering]:
    """The ways to tamper with ``doc`` (an admin export of :func:`busy_scenario`)."""
    events = doc["events"]
    filed = _index(doc, "notice.filed", 1)  # us-af's filing of us-1
    mid = len(events) // 2
    last = events[-1]["seq"]
    receipt = doc["receipts"][1]
    where_receipt = f"receipts[1] (notice {receipt['notice_id']} v{receipt['version']})"

    def edit_payload(d: dict[str, Any]) -> None:
        # "We told you a day earlier": the notice's received time, backdated in the log.
        d["events"][filed]["payload"]["notice"]["received_at"] = "2015-09-29T00:00:00Z"

    def remove(d: dict[str, Any]) -> None:
        del d["events"][mid]

    def insert(d: dict[str, Any]) -> None:
        # A well-formed event chained onto its predecessor: only the numbering after it gives it away.
        before = Event.from_json(d["events"][mid - 1])
        forged = next_event(before, before.time, "ru-vks", "notice.cancelled", {"notice": {"id": VKS_1}})
        d["events"].insert(mid, forged.to_json())

    def swap(d: dict[str, Any]) -> None:
        d["events"][mid], d["events"][mid + 1] = d["events"][mid + 1], d["events"][mid]

    def truncate(d: dict[str, Any]) -> None:
        del d["events"][-2:]

    def alter_received_at(d: dict[str, Any]) -> None:
        d["receipts"][1]["received_at"] -= 24 * HOUR

    def sign_with_another_key(d: dict[str, Any]) -> None:
        fields = {k: v for k, v in d["receipts"][1].items() if k not in ("key_id", "signature")}
        d["receipts"][1] = sign_receipt(BrokerKey.generate(), **fields).to_json()

    def forge_signature_keeping_key_id(d: dict[str, Any]) -> None:
        other = Receipt.from_json(d["receipts"][1])
        d["receipts"][1]["signature"] = BrokerKey.generate().sign(canonical_json(other.signed_fields()))

    seq = events[mid]["seq"]
    return [
        Tampering("an edited event payload", edit_payload, f"seq {events[filed]['seq']}", "payload was edited"),
        Tampering("a removed event", remove, f"seq {seq} missing", "removed"),
        Tampering("an inserted event", insert, f"seq {seq} follows seq {seq}", "inserted"),
        Tampering("two swapped events", swap, f"seq {seq} missing", "reordered"),
        Tampering("a truncated tail", truncate, f"signed head is seq {last}", "tail was cut off"),
        Tampering("a receipt with altered received_at", alter_received_at, where_receipt, "does not verify"),
        Tampering("a receipt signed by another key", sign_with_another_key, where_receipt, "signed with key"),
        Tampering("a receipt with a forged signature", forge_signature_keeping_key_id, where_receipt, "not verify"),
    ]


def verify_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DECONFLICT), "audit", "verify", *map(str, args)], capture_output=True, text=True, timeout=60
    )


def test_audit_verify_passes_the_untouched_export_and_names_the_place_of_every_tampering(
    api: Api, tmp_path: Path
) -> None:
    busy_scenario(api)
    doc = export(api, "root")
    key_file = tmp_path / "broker.pub"
    key_file.write_text(broker_key(api))
    other_key = tmp_path / "other.pub"
    other_key.write_text(BrokerKey.generate().public_key_b64())
    untouched = tmp_path / "log.json"
    untouched.write_text(json.dumps(doc))
    cases = tamperings(doc)
    files = []
    for i, case in enumerate(cases):
        changed = copy.deepcopy(doc)
        case.change(changed)
        assert changed != doc
        files.append(tmp_path / f"tampered-{i}.json")
        files[-1].write_text(json.dumps(changed, indent=1))

    with ThreadPoolExecutor(4) as pool:
        clean = pool.submit(verify_cli, untouched, "--key", key_file)
        foreign = pool.submit(verify_cli, untouched, "--key", other_key)
        tampered = list(pool.map(lambda f: verify_cli(f, "--key", key_file), files))

    r = clean.result()
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("OK: ") and "checked with the key you gave" in r.stdout

    r = foreign.result()
    assert r.returncode == 1
    assert r.stdout.splitlines()[0].startswith(
        f"{untouched}: key: the export is signed with key {doc['key']['key_id']}"
    )
    assert "nothing in it can be trusted" in r.stdout.splitlines()[0]

    missed = []
    for case, f, r in zip(cases, files, tampered, strict=True):
        lines = [line for line in r.stdout.splitlines() if line.startswith(f"{f}: ")]
        if r.returncode != 1 or not any(case.place in line and case.reason in line for line in lines):
            missed.append(f"{case.name}: exit {r.returncode}, wanted {case.place!r} / {case.reason!r}:\n{r.stdout}")
    assert not missed, "\n".join(missed)


def test_audit_verify_exits_2_on_a_file_it_cannot_read(tmp_path: Path) -> None:
    not_json = tmp_path / "log.txt"
    not_json.write_text("OK: 12 events\n")
    a_list = tmp_path / "list.json"
    a_list.write_text("[]")
    not_a_key = tmp_path / "key.txt"
    not_a_key.write_text("hello")
    with ThreadPoolExecutor(4) as pool:
        missing = pool.submit(verify_cli, tmp_path / "nope.json")
        garbled = pool.submit(verify_cli, not_json)
        listed = pool.submit(verify_cli, a_list)
        bad_key = pool.submit(verify_cli, a_list, "--key", not_a_key)
    for r, message in (
        (missing.result(), f"{tmp_path / 'nope.json'}: no such file"),
        (garbled.result(), f"{not_json}: not valid JSON"),
        (listed.result(), f"{a_list}: not an audit export"),
        (bad_key.result(), "--key: is neither base64 of a 32-byte Ed25519 key nor a PEM public key"),
    ):
        assert r.returncode == 2, r.stdout + r.stderr
        assert r.stderr.startswith(message), r.stderr
        assert "Traceback" not in r.stderr and not r.stdout


# ---------------------------------------------------------------------------------------------- incremental exports


def test_an_export_after_seq_holds_exactly_the_events_after_it_and_verifies(api: Api, tmp_path: Path) -> None:
    ru = api.as_("ru-vks")
    ok(ru.post("/v1/notices", json=circle_notice(id="vks-1")))
    first = export(api, "ru-vks")
    seq = first["head"]["seq"]
    ok(ru.put(f"/v1/notices/{VKS_1}", json={**circle_notice(upper_m=9000), "replaces_version": 1}), 200)
    ok(api.as_("us-af").post("/v1/notices", json=circle_notice(id="us-1", lat=30.0)))
    ok(ru.post("/v1/notices", json=circle_notice(id="vks-2", lat=32.0)))

    r = ru.get("/v1/audit/export", params={"after": seq})
    assert r.status_code == 200, r.text
    new = r.json()
    whole = export(api, "ru-vks")
    assert new["after"] == {"seq": seq, "hash": first["head"]["hash"]}  # ties on to the export already held
    assert new["events"] == whole["events"][seq:]
    assert [e["seq"] for e in new["events"]] == list(range(seq + 1, whole["head"]["seq"] + 1))
    assert new["head"]["seq"] == whole["head"]["seq"]
    assert sorted((x["notice_id"], x["version"]) for x in new["receipts"]) == [
        (VKS_1, 2),
        (qid("ru-vks", "vks-2"), 1),
    ]
    report = verify_export(new, broker_key(api))
    assert report.ok, [str(p) for p in report.problems]
    assert report.after_seq == seq and report.events == len(new["events"])

    # the command line reads it too, and finds a break in it
    path = tmp_path / "new.json"
    path.write_text(json.dumps(new))
    out = verify_cli(path, "--key", broker_key(api))
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"after seq {seq}" in out.stdout
    new["after"]["hash"] = "0" * 64
    path.write_text(json.dumps(new))
    out = verify_cli(path, "--key", broker_key(api))
    assert out.returncode == 1
    assert f"previous hash is not the hash of seq {seq} given in after" in out.stdout

    # up to the head: nothing new, and still verifiable
    head = whole["head"]["seq"]
    empty = ok(ru.get("/v1/audit/export", params={"after": head}), 200)
    assert empty["events"] == [] and empty["receipts"] == []
    assert verify_export(empty, broker_key(api)).ok


@pytest.mark.parametrize(
    ("value", "field"),
    [("-1", "query.after"), ("x", "query.after"), ("1.5", "query.after")],
)
def test_a_bad_after_is_refused_naming_it(api: Api, value: str, field: str) -> None:
    r = api.as_("ru-vks").get("/v1/audit/export", params={"after": value})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "validation"
    assert [d["field"] for d in body["detail"]] == [field]


def test_an_after_past_the_head_is_a_conflict_with_the_log_naming_its_head(api: Api) -> None:
    # A well-formed position this log has not reached: the caller holds another broker's export, or
    # this one's log was restored from an older copy. Not a malformed request (422) but a 409.
    head = api.as_("ru-vks").get("/v1/audit/export").json()["head"]["seq"]
    r = api.as_("ru-vks").get("/v1/audit/export", params={"after": head + 1})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["error"] == "ahead-of-log"
    assert body["detail"] == [{"field": "after", "reason": f"is past the end of the log (its last seq is {head})"}]
    assert ok(api.as_("ru-vks").get("/v1/audit/export", params={"after": head}), 200)["events"] == []
