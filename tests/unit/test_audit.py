"""The event log, receipts and audit exports: every kind of tampering is found, and said where."""

from __future__ import annotations

import copy
import itertools
import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconflict.adapters.keys import load_or_create_key
from deconflict.domain.audit import (
    GENESIS_HASH,
    BrokerKey,
    Checkpoint,
    Event,
    Problem,
    Receipt,
    build_export,
    canonical_json,
    load_public_key,
    next_event,
    sha256_hex,
    sign_checkpoint,
    sign_receipt,
    verify_chain,
    verify_export,
    verify_receipt,
    verify_signature,
)
from deconflict.domain.errors import ValidationError

KEY = BrokerKey.generate()
OTHER = BrokerKey.generate()
T0 = 1_443_596_400.0
PARTIES = ("ru", "us", "il")


def notice(i: int, party: str) -> dict[str, Any]:
    return {"id": f"n{i}", "party": party, "version": 1, "volumes": [{"secret": f"{party}-volume-{i}"}]}


def make_log(n: int, key: BrokerKey = KEY) -> tuple[list[Event], list[Receipt]]:
    """``n`` filings by turns of ru, us and il, each with its receipt."""
    events: list[Event] = []
    receipts: list[Receipt] = []
    prev: Event | None = None
    for i in range(1, n + 1):
        party = PARTIES[i % 3]
        doc = notice(i, party)
        content_hash = sha256_hex(canonical_json(doc))
        prev = next_event(prev, T0 + i, party, "notice.filed", {"notice": doc, "content_hash": content_hash})
        events.append(prev)
        receipts.append(
            sign_receipt(
                key,
                notice_id=doc["id"],
                version=1,
                party=party,
                content_hash=content_hash,
                received_at=T0 + i,
                log_seq=prev.seq,
                log_hash=prev.hash,
            )
        )
    return events, receipts


def export(n: int = 6, receipts: bool = True, **kw: Any) -> dict[str, Any]:
    events, rs = make_log(n)
    return build_export(events, rs if receipts else [], KEY, T0 + 1000, **kw)


def check(doc: dict[str, Any], key: str | None = None) -> list[tuple[str, str]]:
    report = verify_export(doc, KEY.public_key_b64() if key is None else key)
    return [(p.where, p.what) for p in report.problems]


def reseal(d: dict[str, Any]) -> dict[str, Any]:
    """What a forger does after editing an event: recompute its payload digest and its own hash."""
    d["payload_digest"] = sha256_hex(canonical_json(d["payload"]))
    e = Event.from_json({**d, "hash": ""})
    d["hash"] = sha256_hex(canonical_json({"seq": e.seq, "prev_hash": e.prev_hash, "entry_digest": e.entry_digest()}))
    return d


# ---------------------------------------------------------------------------------------------- the chain


def test_a_chain_built_with_next_event_verifies_clean() -> None:
    events, _ = make_log(10)
    assert [e.seq for e in events] == list(range(1, 11))
    assert events[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert len({e.hash for e in events}) == 10
    assert verify_chain(events) == []
    assert verify_chain([]) == []


def test_the_hashes_follow_the_documented_formulas() -> None:
    e = next_event(None, T0, "ru", "notice.filed", {"b": [1, 2], "a": "é"})
    assert e.payload_digest == sha256_hex('{"a":"é","b":[1,2]}'.encode())
    entry = sha256_hex(
        canonical_json(
            {"seq": 1, "time": T0, "actor": "ru", "type": "notice.filed", "payload_digest": e.payload_digest}
        )
    )
    assert e.entry_digest() == entry
    assert e.hash == sha256_hex(canonical_json({"seq": 1, "prev_hash": GENESIS_HASH, "entry_digest": entry}))


def test_an_integer_time_hashes_as_the_float_the_database_gives_back() -> None:
    e = next_event(None, 1000, "ru", "x", {})
    assert isinstance(e.time, float)
    from_db = Event(**{**e.to_json(), "time": 1000.0})
    assert verify_chain([from_db]) == []
    assert Event.from_json(json.loads(json.dumps(e.to_json()))) == e


def test_next_event_refuses_what_cannot_be_hashed() -> None:
    with pytest.raises(ValidationError, match="time"):
        next_event(None, math.nan, "ru", "x", {})
    with pytest.raises(ValidationError, match="payload"):
        next_event(None, 1.0, "ru", "x", {"v": math.inf})


def test_verify_chain_finds_edits_and_removals_in_the_database() -> None:
    events, _ = make_log(5)
    edited = list(events)
    edited[2] = Event(**{**events[2].to_json(), "actor": "us"})
    assert verify_chain(edited) == [
        Problem("events[2] (seq 3)", "seq 3: hash does not match its content: the event was edited")
    ]
    removed = events[:2] + events[3:]
    (p,) = verify_chain(removed)
    assert p.where == "events[2] (seq 4)"
    assert "seq 4 follows seq 2: seq 3 missing" in p.what


# ---------------------------------------------------------------------------------------------- exports: clean


def test_a_full_export_verifies_clean_and_counts_what_it_checked() -> None:
    doc = export(6)
    assert doc["format"] == "deconflict-audit/1"
    assert doc["key"] == {"alg": "Ed25519", "public_key": KEY.public_key_b64(), "key_id": KEY.key_id()}
    assert doc["head"]["seq"] == 6
    report = verify_export(json.loads(json.dumps(doc)), KEY.public_key_b64())
    assert report.problems == []
    assert report.ok
    assert (report.events, report.full_events, report.receipts, report.head_seq) == (6, 6, 6, 6)
    assert report.key_id == KEY.key_id()
    assert report.key_trusted


def test_without_an_expected_key_the_export_is_consistent_but_not_trusted() -> None:
    report = verify_export(export(3))
    assert report.ok
    assert not report.key_trusted


def test_the_expected_key_may_be_given_as_pem() -> None:
    assert verify_export(export(3), KEY.public_key_pem().decode()).key_trusted


def test_an_empty_log_exports_and_verifies() -> None:
    doc = build_export([], [], KEY, T0)
    assert doc["head"]["seq"] == 0
    assert doc["head"]["hash"] == GENESIS_HASH
    report = verify_export(doc, KEY.public_key_b64())
    assert report.ok
    assert report.events == 0


def test_a_party_export_with_stubs_verifies_and_hides_other_parties_events() -> None:
    events, receipts = make_log(9)
    mine = [r for r in receipts if r.party == "us"]
    doc = build_export(events, mine, KEY, T0 + 1000, show=lambda e: e.actor == "us")
    report = verify_export(json.loads(json.dumps(doc)), KEY.public_key_b64())
    assert report.problems == []
    assert (report.events, report.full_events, report.receipts) == (9, 3, 3)
    for e, entry in zip(events, doc["events"], strict=True):
        if e.actor == "us":
            assert entry == e.to_json()
        else:
            assert set(entry) == {"seq", "entry_digest", "prev_hash", "hash", "stub"}
    text = json.dumps(doc)
    for hidden in ("ru", "il"):
        assert f'"{hidden}"' not in text
        assert f"{hidden}-volume" not in text
    assert "us-volume" in text


# ---------------------------------------------------------------------------------------------- exports: tampering


def test_an_edited_payload_is_found_at_its_event() -> None:
    doc = export()
    doc["events"][2]["payload"]["notice"]["volumes"][0]["secret"] = "moved"
    problems = check(doc)
    assert problems[0][0] == "events[2] (seq 3)"
    assert "payload does not match its payload_digest" in problems[0][1]
    # The receipt for seq 3 still matches: the edit is in the log, not in what the party holds.
    assert all(w.startswith("events[2]") for w, _ in problems)


@pytest.mark.parametrize(
    ("field", "value"), [("actor", "il"), ("time", T0 + 9999), ("type", "notice.cancelled"), ("seq", 7)]
)
def test_an_edited_header_field_breaks_the_event_hash(field: str, value: Any) -> None:
    doc = export()
    doc["events"][3][field] = value
    problems = check(doc)
    hash_problems = [p for p in problems if "hash does not match its content" in p[1]]
    assert hash_problems and hash_problems[0][0] == f"events[3] (seq {doc['events'][3]['seq']})"
    if field != "seq":
        assert len(problems) == 1, problems


def test_an_event_rewritten_with_its_own_hash_recomputed_breaks_the_next_link() -> None:
    doc = export()
    doc["events"][1]["payload"]["content_hash"] = "f" * 64
    reseal(doc["events"][1])
    problems = check(doc)
    assert ("events[2] (seq 3)", "seq 3: previous hash does not match the hash of seq 2: an event was removed, "
            "inserted, reordered or rewritten before it") in problems  # fmt: skip
    # The receipt for seq 2 names the old hash and the old content hash: both show.
    receipt = [p for p in problems if p[0].startswith("receipts[1]")]
    assert any("log_hash" in what for _, what in receipt)
    assert any("content_hash" in what for _, what in receipt)


def test_the_last_event_rewritten_and_resealed_no_longer_matches_the_signed_head() -> None:
    doc = export(receipts=False)
    doc["events"][-1]["actor"] = "il"
    reseal(doc["events"][-1])
    assert check(doc) == [
        ("head", "the signed head hash for seq 6 is not the hash of the last event: the log was rewritten")
    ]


def test_an_edited_hash_is_found_at_its_event_and_the_next() -> None:
    doc = export(receipts=False)
    doc["events"][2]["hash"] = "a" * 64
    wheres = [w for w, _ in check(doc)]
    assert wheres == ["events[2] (seq 3)", "events[3] (seq 4)"]


def test_removing_the_first_event_is_found() -> None:
    doc = export(receipts=False)
    del doc["events"][0]
    assert check(doc) == [("events[0] (seq 2)", "the log starts at seq 2, not 1: the events before it were removed")]


def test_removing_a_middle_event_is_found_at_the_gap() -> None:
    doc = export()
    del doc["events"][3]
    problems = check(doc)
    assert problems[0] == (
        "events[3] (seq 5)",
        "seq 5 follows seq 3: seq 4 missing: events were removed or reordered",
    )
    assert ("receipts[3] (notice n4 v1)", "log_seq 4 is not in the log") in problems


def test_removing_the_last_event_is_found_at_the_head() -> None:
    doc = export(receipts=False)
    doc["events"].pop()
    assert check(doc) == [("head", "the signed head is seq 6 but the log ends at seq 5: its tail was cut off")]


def test_a_truncated_tail_with_the_original_checkpoint_is_found() -> None:
    doc = export(10, receipts=False)
    del doc["events"][7:]
    assert check(doc) == [("head", "the signed head is seq 10 but the log ends at seq 7: its tail was cut off")]


def test_events_appended_after_the_head_are_found() -> None:
    events, _ = make_log(4)
    doc = build_export(events[:3], [], KEY, T0)
    doc["events"].append(events[3].to_json())
    assert check(doc) == [("head", "the log runs past the signed head seq 3 to seq 4: events were appended")]


def test_an_inserted_forged_event_is_found() -> None:
    doc = export(receipts=False)
    forged = reseal(
        {
            "seq": 3,
            "time": T0 + 2.5,
            "actor": "ru",
            "type": "notice.filed",
            "payload": {"notice": notice(99, "ru")},
            "prev_hash": doc["events"][1]["hash"],
        }
    )
    doc["events"].insert(2, forged)
    problems = check(doc)
    # The forgery links to seq 2 and hashes right; the original seq 3 after it shows the insert.
    assert problems[0] == ("events[3] (seq 3)", "seq 3 follows seq 3: events were inserted, duplicated or reordered")
    assert not any(w == "events[2] (seq 3)" for w, _ in problems)


def test_swapped_events_are_found_where_the_order_breaks() -> None:
    doc = export(receipts=False)
    ev = doc["events"]
    ev[2], ev[3] = ev[3], ev[2]
    wheres = [w for w, _ in check(doc)]
    assert wheres[0] == "events[2] (seq 4)"
    assert "events[3] (seq 3)" in wheres


def test_a_stub_with_a_changed_entry_digest_is_found() -> None:
    doc = export(receipts=False, show=lambda e: e.actor == "us")
    i = next(i for i, e in enumerate(doc["events"]) if e.get("stub"))
    doc["events"][i]["entry_digest"] = "b" * 64
    seq = doc["events"][i]["seq"]
    assert check(doc) == [
        (
            f"events[{i}] (seq {seq})",
            f"seq {seq}: stub hash does not match its seq, entry_digest and prev_hash: the stub was altered",
        )
    ]


def test_a_stub_does_not_hide_a_rewritten_event() -> None:
    # A stub's entry_digest must be the real one: a forger who changes the event behind it and
    # recomputes the stub's hash breaks the link to the next entry.
    events, _ = make_log(4)
    doc = build_export(events, [], KEY, T0, show=lambda e: e.seq != 2)
    stub = doc["events"][1]
    stub["entry_digest"] = "c" * 64
    stub["hash"] = sha256_hex(canonical_json({"seq": 2, "prev_hash": stub["prev_hash"], "entry_digest": "c" * 64}))
    assert [w for w, _ in check(doc)] == ["events[2] (seq 3)"]


def test_a_checkpoint_resigned_with_another_key_is_found() -> None:
    events, _ = make_log(4)
    doc = build_export(events, [], KEY, T0)
    doc["head"] = sign_checkpoint(OTHER, events[-1], T0).to_json()
    problems = check(doc)
    assert problems[0] == ("head", f"signed with key {OTHER.key_id()}, not the export key {KEY.key_id()}")
    # Claiming the broker's key id does not help: the signature does not verify.
    doc["head"]["key_id"] = KEY.key_id()
    assert check(doc) == [("head", "signature does not verify with the export key: the head was altered or forged")]


def test_a_checkpoint_moved_to_cover_a_truncation_is_found() -> None:
    doc = export(receipts=False)
    del doc["events"][-2:]
    doc["head"].update(seq=4, hash=doc["events"][-1]["hash"])
    assert check(doc) == [("head", "signature does not verify with the export key: the head was altered or forged")]


def test_a_receipt_signed_with_another_key_is_found() -> None:
    doc = export()
    r = Receipt.from_json(doc["receipts"][2])
    fields = {k: v for k, v in r.to_json().items() if k not in ("key_id", "signature")}
    doc["receipts"][2] = sign_receipt(OTHER, **fields).to_json()
    assert check(doc) == [
        ("receipts[2] (notice n3 v1)", f"signed with key {OTHER.key_id()}, not the export key {KEY.key_id()}")
    ]
    doc["receipts"][2]["key_id"] = KEY.key_id()
    assert check(doc) == [
        ("receipts[2] (notice n3 v1)", "signature does not verify: the receipt was altered or forged")
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [("received_at", T0 - 60), ("version", 2), ("content_hash", "d" * 64), ("party", "xx"), ("notice_id", "n77")],
)
def test_an_altered_receipt_field_breaks_its_signature(field: str, value: Any) -> None:
    doc = export()
    doc["receipts"][1][field] = value
    problems = check(doc)
    assert problems[0][0].startswith("receipts[1] (notice ")
    assert problems[0][1] == "signature does not verify: the receipt was altered or forged"
    assert all(w.startswith("receipts[1]") for w, _ in problems)


def test_a_signed_receipt_naming_the_wrong_log_entry_is_found() -> None:
    events, receipts = make_log(4)
    good = receipts[1]
    wrong_hash = sign_receipt(
        KEY,
        notice_id=good.notice_id,
        version=good.version,
        party=good.party,
        content_hash=good.content_hash,
        received_at=good.received_at,
        log_seq=2,
        log_hash=events[2].hash,
    )
    wrong_content = sign_receipt(
        KEY,
        notice_id="n9",
        version=3,
        party=good.party,
        content_hash="e" * 64,
        received_at=good.received_at,
        log_seq=2,
        log_hash=events[1].hash,
    )
    beyond = sign_receipt(
        KEY,
        notice_id="n5",
        version=1,
        party="ru",
        content_hash="e" * 64,
        received_at=T0,
        log_seq=5,
        log_hash=events[1].hash,
    )
    doc = build_export(events, [wrong_hash, wrong_content, beyond], KEY, T0)
    assert check(doc) == [
        ("receipts[0] (notice n2 v1)", "log_hash is not the hash of seq 2: the log or the receipt was altered"),
        ("receipts[1] (notice n9 v3)", "content_hash differs from the one logged at seq 2"),
        ("receipts[1] (notice n9 v3)", "notice id 'n9' differs from 'n2' logged at seq 2"),
        ("receipts[1] (notice n9 v3)", "notice version 3 differs from 1 logged at seq 2"),
        ("receipts[2] (notice n5 v1)", "log_seq 5 is not in the log"),
    ]


def test_a_receipt_for_a_hidden_event_is_still_checked_against_the_stub_hash() -> None:
    events, receipts = make_log(3)
    r = receipts[0]
    bad = sign_receipt(
        KEY,
        notice_id=r.notice_id,
        version=1,
        party=r.party,
        content_hash=r.content_hash,
        received_at=r.received_at,
        log_seq=1,
        log_hash="0" * 63 + "1",
    )
    doc = build_export(events, [bad], KEY, T0, show=lambda e: False)
    assert [w for w, _ in check(doc)] == ["receipts[0] (notice n1 v1)"]


def test_a_swapped_export_key_is_reported_first_when_the_key_is_known() -> None:
    events, _ = make_log(4)
    # A forger re-signs a rewritten log with their own key: self-consistent, but not the broker's.
    forged = build_export(events[:2], [], OTHER, T0)
    report = verify_export(forged, KEY.public_key_b64())
    assert report.problems[0].where == "key"
    assert report.problems[0].what == (
        f"the export is signed with key {OTHER.key_id()}, not the expected key {KEY.key_id()}: "
        "nothing in it can be trusted"
    )
    assert not report.key_trusted
    assert verify_export(forged).ok  # which is why the key must be pinned
    # The same holds when only the key block is swapped: the head then fails too, after the key.
    doc = build_export(events, [], KEY, T0)
    doc["key"] = {"alg": "Ed25519", "public_key": OTHER.public_key_b64(), "key_id": OTHER.key_id()}
    wheres = [w for w, _ in check(doc)]
    assert wheres[0] == "key"
    assert "head" in wheres


def test_a_key_id_that_is_not_the_public_keys_id_is_found() -> None:
    doc = export(2, receipts=False)
    doc["key"]["key_id"] = OTHER.key_id()
    problems = check(doc)
    assert problems[0] == ("key", f"key_id {OTHER.key_id()!r} is not the id of public_key ({KEY.key_id()})")


def test_an_unsigned_field_added_to_an_event_is_refused() -> None:
    doc = export(3, receipts=False)
    doc["events"][1]["note"] = "approved by ATC"
    assert check(doc) == [
        (
            "events[1] (seq 2)",
            "malformed: note: is not a known field (it would not be covered by any hash or signature)",
        )
    ]


def test_exported_at_must_be_the_signed_time() -> None:
    doc = export(2, receipts=False)
    doc["exported_at"] = T0
    assert [w for w, _ in check(doc)] == ["head"]


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d.clear(), "format"),
        (lambda d: d.update(events="all of them"), "events"),
        (lambda d: d.update(receipts={"a": 1}), "receipts"),
        (lambda d: d.update(head=[1, 2]), "head"),
        (lambda d: d.pop("key"), "key"),
        (lambda d: d["key"].update(alg="RSA"), "key"),
        (lambda d: d["key"].update(public_key="!!"), "key"),
        (lambda d: d["events"].__setitem__(1, 42), "events[1]"),
        (lambda d: d["events"][1].update(seq="2"), "events[1]"),
        (lambda d: d["events"][1].update(seq=True), "events[1]"),
        (lambda d: d["events"][1].pop("payload"), "events[1] (seq 2)"),
        (lambda d: d["events"][1].update(payload=[1]), "events[1] (seq 2)"),
        (lambda d: d["events"][1]["payload"].update(x=math.nan), "events[1] (seq 2)"),
        (lambda d: d["events"][1].update(time=math.inf), "events[1] (seq 2)"),
        (lambda d: d["events"][1].update(time=10**400), "events[1] (seq 2)"),
        (lambda d: d["events"][1].update(actor="\ud800"), "events[1] (seq 2)"),
        (lambda d: d["events"][1]["payload"].update(x="\udfff"), "events[1] (seq 2)"),
        (lambda d: d["head"].update(hash="\ud800"), "head"),
        (lambda d: d["receipts"][0].update(party="\ud800"), "receipts[0] (notice n1 v1)"),
        (lambda d: d["events"][1].update(stub="yes"), "events[1] (seq 2)"),
        (lambda d: d["receipts"].__setitem__(0, "receipt"), "receipts[0]"),
        (lambda d: d["receipts"][0].update(version="1"), "receipts[0]"),
        (lambda d: d["receipts"][0].pop("signature"), "receipts[0] (notice n1 v1)"),
        (lambda d: d["head"].update(seq=-1), "head"),
        (lambda d: d["head"].update(signature=None), "head"),
    ],
)
def test_a_malformed_document_gives_problems_not_exceptions(mutate: Any, where: str) -> None:
    doc = export(3)
    mutate(doc)
    wheres = [w for w, _ in check(doc)]
    assert where in wheres


def test_a_document_that_is_not_an_object_is_a_problem() -> None:
    report = verify_export([1, 2], KEY.public_key_b64())  # type: ignore[arg-type]
    assert [p.where for p in report.problems] == ["document"]
    assert not report.ok


def test_an_expected_key_that_is_not_a_key_is_the_callers_error() -> None:
    with pytest.raises(ValidationError, match=r"^key: "):
        verify_export(export(1), "not a key")


def test_problems_come_in_document_order() -> None:
    doc = export()
    doc["receipts"][0]["version"] = 5
    doc["events"][4]["actor"] = "x"
    doc["events"][1]["actor"] = "x"
    doc["head"]["time"] = 0.0
    wheres = [w for w, _ in check(doc)]
    assert wheres == ["head", "head", "events[1] (seq 2)", "events[4] (seq 5)"] + ["receipts[0] (notice n1 v5)"] * 2


# ---------------------------------------------------------------------------------------------- receipts and keys


def test_receipt_json_round_trip_and_signature() -> None:
    _, receipts = make_log(2)
    r = receipts[1]
    assert Receipt.from_json(json.loads(json.dumps(r.to_json()))) == r
    assert verify_receipt(r, KEY.public_key_b64())
    assert not verify_receipt(r, OTHER.public_key_b64())
    signed = {k: v for k, v in r.to_json().items() if k != "signature"}
    assert verify_signature(KEY.public_key_b64(), canonical_json(signed), r.signature)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": "2"}, "version"),
        ({"version": 0}, "version"),
        ({"received_at": None}, "received_at"),
        ({"log_seq": 1.5}, "log_seq"),
        ({"signature": 7}, "signature"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_malformed_receipt_names_the_field(change: dict[str, Any], field: str) -> None:
    _, receipts = make_log(1)
    with pytest.raises(ValidationError) as e:
        Receipt.from_json({**receipts[0].to_json(), **change})
    assert e.value.errors[0].path == field
    d = receipts[0].to_json()
    del d["party"]
    with pytest.raises(ValidationError, match=r"^party: is missing$"):
        Receipt.from_json(d)


def test_checkpoint_json_round_trip() -> None:
    events, _ = make_log(2)
    c = sign_checkpoint(KEY, events[-1], T0)
    assert Checkpoint.from_json(json.loads(json.dumps(c.to_json()))) == c
    assert (c.seq, c.hash, c.key_id) == (2, events[-1].hash, KEY.key_id())


def test_verify_signature_is_false_for_anything_malformed() -> None:
    sig = KEY.sign(b"x")
    pub = KEY.public_key_b64()
    assert verify_signature(pub, b"x", sig)
    assert not verify_signature(pub, b"y", sig)
    assert not verify_signature(pub, b"x", "not base64!")
    assert not verify_signature(pub, b"x", sig[:-4])
    assert not verify_signature("AAAA", b"x", sig)
    assert not verify_signature("é", b"x", sig)


def test_broker_key_pem_round_trip_and_ids() -> None:
    k = BrokerKey.from_pem(KEY.to_pem())
    assert k.public_key_b64() == KEY.public_key_b64()
    assert k.key_id() == sha256_hex(serialization.load_pem_public_key(KEY.public_key_pem()).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw))[:16]  # fmt: skip
    assert len(k.key_id()) == 16
    assert KEY.to_pem().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert "PRIVATE" not in repr(KEY) and KEY.key_id() in repr(KEY)


def test_load_public_key_reads_both_forms_and_refuses_garbage() -> None:
    raw = KEY.public_key_b64()
    assert load_public_key(raw) == raw
    assert load_public_key(f"  {raw}\n") == raw
    assert load_public_key(KEY.public_key_pem().decode()) == raw
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_pem = ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for bad in ("", "hello", "AAAA", raw[:-4], ec_pem.decode(), KEY.to_pem().decode(), "-----BEGIN PUBLIC KEY-----\nx"):
        with pytest.raises(ValidationError) as e:
            load_public_key(bad)
        assert e.value.errors[0].path == "key"


# ---------------------------------------------------------------------------------------------- the key file


def test_key_file_is_created_private_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "state" / "keys" / "broker.pem"
    k = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert BrokerKey.from_pem(path.read_bytes()).key_id() == k.key_id()
    assert load_or_create_key(str(path)).key_id() == k.key_id()
    assert os.listdir(path.parent) == ["broker.pem"]  # no temp file left behind


def test_key_file_mode_ignores_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        load_or_create_key(tmp_path / "k.pem")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "k.pem").stat().st_mode) == 0o600


def test_an_existing_key_file_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    path.write_bytes(KEY.to_pem())
    assert load_or_create_key(path).key_id() == KEY.key_id()
    assert path.read_bytes() == KEY.to_pem()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not a key", "is not a PEM private key"),
        (b"", "is not a PEM private key"),
        (
            ec.generate_private_key(ec.SECP256R1()).private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            "not an Ed25519 private key",
        ),
        (
            BrokerKey.generate()._key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"pw"),
            ),
            "encrypted",
        ),
    ],
)
def test_a_bad_key_file_is_an_error_naming_the_path(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "broker.pem"
    path.write_bytes(content)
    with pytest.raises(ValidationError) as e:
        load_or_create_key(path)
    (err,) = e.value.errors
    assert err.path == "audit.key_file"
    assert err.reason.startswith(f"{path}: ")
    assert reason in err.reason
    assert path.read_bytes() == content  # left as it was for the operator to look at


def test_a_key_path_that_is_a_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="^" + re.escape(f"audit.key_file: {tmp_path}: cannot be read")):
        load_or_create_key(tmp_path)


def test_a_key_file_that_cannot_be_created_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    path = tmp_path / "file" / "broker.pem"
    with pytest.raises(ValidationError) as e:
        load_or_create_key(path)
    assert e.value.errors[0].path == "audit.key_file"
    assert str(path) in e.value.errors[0].reason


# ---------------------------------------------------------------------------------------------- property

JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["a" * 64, GENESIS_HASH, KEY.key_id(), OTHER.key_id(), "\ud800", 10**400, -(10**400)])
)
JSON = st.recursive(
    JSON_LEAVES, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3), max_leaves=6
)

MISSING = object()


def _same(old: Any, new: Any, numeric_equal_is_same: bool) -> bool:
    """Whether ``new`` says the same as ``old`` (so that replacing one by the other is no tampering)."""
    if numeric_equal_is_same and all(isinstance(v, int | float) and not isinstance(v, bool) for v in (old, new)):
        return bool(old == new)
    try:
        return canonical_json(old) == canonical_json(new)
    except (TypeError, ValueError):
        return False


@st.composite
def mutations(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any], str]:
    """An honest export and a copy with one change that a verifier must notice."""
    n = draw(st.integers(1, 30))
    events, receipts = make_log(n)
    hidden = draw(st.sets(st.integers(1, n), max_size=n))
    kept = draw(st.lists(st.sampled_from(receipts), max_size=4, unique_by=lambda r: r.log_seq))
    doc = build_export(events, kept, KEY, T0 + 1000, show=lambda e: e.seq not in hidden)
    doc = json.loads(json.dumps(doc))
    bad = copy.deepcopy(doc)
    kinds = ["event_field", "delete_event", "duplicate_event", "head_field", "key_field", "top_field"]
    if n > 1:
        kinds.append("swap_events")
    if kept:
        kinds.append("receipt_field")
    kind = draw(st.sampled_from(kinds))
    if kind in ("event_field", "receipt_field", "head_field", "key_field", "top_field"):
        if kind == "event_field":
            i = draw(st.integers(0, n - 1))
            target, label = bad["events"][i], f"events[{i}]"
        elif kind == "receipt_field":
            i = draw(st.integers(0, len(kept) - 1))
            target, label = bad["receipts"][i], f"receipts[{i}]"
        else:
            target = {"head_field": bad["head"], "key_field": bad["key"], "top_field": bad}[kind]
            label = kind
        field = draw(st.sampled_from(sorted(target)))
        old = target[field]
        # Times are compared as numbers: 5 for 5.0 is the same time, not an edit.
        numeric = field in ("time", "received_at", "exported_at")
        new = draw(
            st.just(MISSING)
            | JSON
            | st.sampled_from([old + 1 if isinstance(old, int) else old, f"{old}x", str(old)[::-1]])
        )
        if new is not MISSING and _same(old, new, numeric):
            new = MISSING
        # Leaving receipts out of an export is allowed (and undetectable): a party holds its own.
        if kind == "top_field" and field == "receipts" and new == []:
            new = MISSING
        if new is MISSING:
            del target[field]
        else:
            target[field] = new
        return doc, bad, f"{label}.{field} = {new!r}"
    if kind == "delete_event":
        i = draw(st.integers(0, n - 1))
        del bad["events"][i]
        return doc, bad, f"delete events[{i}]"
    if kind == "duplicate_event":
        i = draw(st.integers(0, n - 1))
        j = draw(st.integers(0, n))
        bad["events"].insert(j, copy.deepcopy(bad["events"][i]))
        return doc, bad, f"copy events[{i}] to [{j}]"
    i, j = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
    bad["events"][i], bad["events"][j] = bad["events"][j], bad["events"][i]
    return doc, bad, f"swap events[{i}] and [{j}]"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations())
def test_any_single_change_to_an_export_is_reported(case: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    doc, bad, what = case
    assert verify_export(doc, KEY.public_key_b64()).problems == []
    report = verify_export(bad, KEY.public_key_b64())
    assert report.problems, f"not detected: {what}"
    assert all(p.where and p.what for p in report.problems)
