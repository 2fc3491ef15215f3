"""Rotation of the broker's signing key (docs/deploy.md, docs/audit.md), on both stores:
``deconflict key rotate`` logs the rotation signed by the old key and the new one and swaps the key
file; receipts after it are signed by the new key, old receipts and old exports still verify, and
``audit verify`` follows the rotations from a key a party trusted before them."""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from replica_support import notice_now
from typer.testing import CliRunner

from deconflict.adapters.keys import load_existing_key, staged_path
from deconflict.adapters.sql.store import SqlStore
from deconflict.cli import app
from deconflict.domain.audit import BrokerKey, Receipt, sign_receipt, verify_export, verify_receipt
from deconflict.domain.errors import KeyRetiredError, ValidationError
from deconflict.domain.parties import Party, Role
from deconflict.services.broker import Broker
from deconflict.services.commands import parse_file_notice

runner = CliRunner()
ADMIN = Party("admin", Role.ADMIN)


class Store:
    """The test's store and key file, opened as a broker the way `deconflict serve` opens it."""

    def __init__(self, db_url: str, tmp_path: Path) -> None:
        self.url, self.key_file = db_url, tmp_path / "broker.key"
        self.env = {"DECONFLICT_KEY_FILE": str(self.key_file), "DECONFLICT_DB": "", "DECONFLICT_CONFIG": ""}

    def broker(self, store: SqlStore) -> Broker:
        return Broker(store, time.time, load_existing_key(self.key_file))

    def file(self, party: Party, lat: float) -> dict[str, Any]:
        with SqlStore(self.url) as store:
            broker = self.broker(store)
            cmd = parse_file_notice(party, notice_now(lat, 20, f"n-{lat:g}"), broker.limits)
            receipt: dict[str, Any] = broker.file(cmd).body["receipt"]
            return receipt

    def export(self, who: Party = ADMIN) -> dict[str, Any]:
        with SqlStore(self.url) as store:
            return json.loads(json.dumps(self.broker(store).export(who)))  # as a file holds it

    def rotate(self) -> str:
        r = runner.invoke(app, ["key", "rotate", "--db", self.url], env=self.env)
        assert r.exit_code == 0, r.output
        return r.stdout.splitlines()[-1]  # the new public key


@pytest.fixture
def rotated(db_url: str, tmp_path: Path) -> tuple[Store, BrokerKey, dict[str, Any], dict[str, Any], Party]:
    """A store with a receipt and an export made under key 0, then rotated to key 1 and filed again."""
    s = Store(db_url, tmp_path)
    old = BrokerKey.generate()
    s.key_file.write_bytes(old.to_pem())
    with SqlStore(db_url) as store:
        store.ensure_schema()
        party = s.broker(store).add_party("us-af", Role.PARTY)[0]
    s.file(party, 10)
    before = s.export()
    new_public = s.rotate()
    assert new_public != old.public_key_b64() and load_existing_key(s.key_file).public_key_b64() == new_public
    retired = tmp_path / f"broker.key.retired-{old.key_id()}"
    assert load_existing_key(retired).key_id() == old.key_id()
    assert not staged_path(s.key_file).exists()
    s.file(party, 11)
    return s, old, before, s.export(), party


def test_new_receipts_are_signed_by_the_new_key_and_every_receipt_verifies(rotated: Any) -> None:
    s, old, before, after, _ = rotated
    new = load_existing_key(s.key_file)
    first, second = (Receipt.from_json(r) for r in after["receipts"])
    assert first.key_id == old.key_id() and verify_receipt(first, old.public_key_b64())
    assert second.key_id == new.key_id() and verify_receipt(second, new.public_key_b64())
    (rotation,) = [e for e in after["events"] if e["type"] == "key.rotated"]
    assert first.log_seq < rotation["seq"] < second.log_seq
    assert rotation["payload"]["old_key_id"] == old.key_id() and rotation["payload"]["new_key_id"] == new.key_id()
    assert after["key"]["key_id"] == new.key_id() and after["head"]["key_id"] == new.key_id()
    # The export made before the rotation still verifies with the old key, and it is a prefix.
    assert verify_export(before, old.public_key_b64()).ok
    assert after["events"][: len(before["events"])] == before["events"]


def test_audit_verify_follows_the_rotation_from_the_old_key(rotated: Any, tmp_path: Path) -> None:
    s, old, _, after, party = rotated
    for trusted in (old.public_key_b64(), load_existing_key(s.key_file).public_key_b64()):
        report = verify_export(after, trusted)
        assert report.ok and report.key_trusted, report.problems
    path = tmp_path / "after.json"
    path.write_text(json.dumps(after))
    r = runner.invoke(app, ["audit", "verify", str(path), "--key", old.public_key_b64()])
    assert r.exit_code == 0 and r.stdout.startswith("OK"), r.output
    # A party's own export shows the rotation in full (every party must follow it) and verifies too.
    mine = s.export(party)
    assert [e for e in mine["events"] if e.get("type") == "key.rotated"]
    assert verify_export(mine, old.public_key_b64()).ok


def test_a_receipt_signed_by_the_retired_key_after_the_rotation_is_refused(rotated: Any) -> None:
    _, old, _, after, _ = rotated
    second = Receipt.from_json(after["receipts"][1])
    fields = {k: v for k, v in second.signed_fields().items() if k != "key_id"}
    forged = sign_receipt(old, **fields)  # the old key, still held by someone, signing after its time
    doc = {**after, "receipts": [after["receipts"][0], forged.to_json()]}
    report = verify_export(doc, old.public_key_b64())
    assert not report.ok
    assert any(f"not key {after['key']['key_id']}, in force at seq {second.log_seq}" in p.what for p in report.problems)


def test_an_altered_rotation_breaks_the_chain_and_the_trust(rotated: Any) -> None:
    _, old, _, after, _ = rotated
    stranger = BrokerKey.generate()
    doc = json.loads(json.dumps(after))
    (rotation,) = [e for e in doc["events"] if e["type"] == "key.rotated"]
    rotation["payload"]["new_public_key"] = stranger.public_key_b64()
    report = verify_export(doc, old.public_key_b64())
    assert not report.key_trusted
    reasons = " | ".join(p.what for p in report.problems)
    assert "the payload was edited" in reasons and "signature does not verify" in reasons
    assert reasons.startswith("the export is signed with key")


def test_a_second_rotation_chains_on_and_a_stale_key_file_is_refused(rotated: Any) -> None:
    s, old, _, _, party = rotated
    middle = load_existing_key(s.key_file)
    s.rotate()
    s.file(party, 12)
    doc = s.export()
    assert [r["key_id"] for r in doc["receipts"]] == [old.key_id(), middle.key_id(), doc["key"]["key_id"]]
    assert verify_export(doc, old.public_key_b64()).ok
    # A broker started with a key the log has retired (a replica's stale copy) refuses to sign.
    s.key_file.write_bytes(middle.to_pem())
    with SqlStore(s.url) as store, pytest.raises(ValidationError, match=r"audit.key_file.*\.next"):
        s.broker(store).check_key()
    r = runner.invoke(app, ["key", "rotate", "--db", s.url], env=s.env)
    assert r.exit_code == 2 and "the log put key" in r.output, r.output


def test_rotate_without_a_key_file_or_a_store_says_which_and_changes_nothing(db_url: str, tmp_path: Path) -> None:
    s = Store(db_url, tmp_path)
    r = runner.invoke(app, ["key", "rotate", "--db", f"sqlite:///{tmp_path / 'none.sqlite'}"], env=s.env)
    assert r.exit_code == 2 and "no store at" in r.output, r.output
    with SqlStore(db_url) as store:
        store.ensure_schema()
    r = runner.invoke(app, ["key", "rotate", "--db", db_url], env=s.env)
    assert r.exit_code == 2 and "audit.key_file" in r.output and "no such file" in r.output, r.output
    assert not s.key_file.exists() and not staged_path(s.key_file).exists()
    with SqlStore(db_url) as store, store.begin(write=False) as repo:
        assert repo.last_event_of_type("key.rotated") is None


def test_a_broker_left_running_through_a_rotation_signs_with_the_new_key_file_or_nothing(
    db_url: str, tmp_path: Path
) -> None:
    """A replica that was not stopped for ``deconflict key rotate`` (docs/deploy.md asks to) never
    signs with the retired key: it takes the new key from its key file when that holds it, and
    refuses every write (nothing stored) while it does not."""
    s = Store(db_url, tmp_path)
    old = BrokerKey.generate()
    s.key_file.write_bytes(old.to_pem())
    with SqlStore(db_url) as store:
        store.ensure_schema()
        party = s.broker(store).add_party("us-af", Role.PARTY)[0]
    with SqlStore(db_url) as a, SqlStore(db_url) as b:
        stuck = Broker(a, time.time, load_existing_key(s.key_file))  # no way to read the key file again
        following = Broker(
            b, time.time, load_existing_key(s.key_file), reload_key=partial(load_existing_key, s.key_file)
        )
        stuck.file(parse_file_notice(party, notice_now(10, 20, "before-a"), stuck.limits))
        following.file(parse_file_notice(party, notice_now(11, 20, "before-b"), following.limits))
        s.rotate()  # another process, while both run
        new = load_existing_key(s.key_file)
        before = len(s.export()["events"])
        with pytest.raises(KeyRetiredError, match=rf"key {old.key_id()}.*retired in favour of key {new.key_id()}"):
            stuck.file(parse_file_notice(party, notice_now(12, 20, "after-a"), stuck.limits))
        assert len(s.export()["events"]) == before  # nothing written
        receipt = Receipt.from_json(
            following.file(parse_file_notice(party, notice_now(13, 20, "after-b"), following.limits)).body["receipt"]
        )
        assert receipt.key_id == new.key_id() and verify_receipt(receipt, new.public_key_b64())
        # Until the new key file is in place the stuck one stays refused, its exports too.
        with pytest.raises(KeyRetiredError):
            stuck.file(parse_file_notice(party, notice_now(12, 20, "after-a"), stuck.limits))
        with pytest.raises(KeyRetiredError):
            stuck.export(ADMIN)
        with pytest.raises(KeyRetiredError):
            stuck.published_key()
        # What signs nothing goes on: the stuck broker still records (here a party and a revocation).
        stuck.add_party("tr-af", Role.PARTY)
        stuck.revoke_party("tr-af")
        # The following one's export is signed by the new key, and verifies from the old one.
        assert following.published_key().key_id() == new.key_id()
        assert verify_export(following.export(ADMIN), old.public_key_b64()).ok
    doc = s.export()
    assert verify_export(doc, old.public_key_b64()).ok
    assert [r["notice_id"] for r in doc["receipts"]] == ["us-af:before-a", "us-af:before-b", "us-af:after-b"]


def test_a_retried_filing_is_answered_and_commands_that_sign_nothing_need_no_key_after_a_rotation(
    db_url: str, tmp_path: Path
) -> None:
    s = Store(db_url, tmp_path)
    s.key_file.write_bytes(BrokerKey.generate().to_pem())
    with SqlStore(db_url) as store:
        store.ensure_schema()
        party = s.broker(store).add_party("us-af", Role.PARTY)[0]
    with SqlStore(db_url) as a:
        stuck = Broker(a, time.time, load_existing_key(s.key_file))
        body = notice_now(10, 20, "kept")
        first = stuck.file(parse_file_notice(party, body, stuck.limits, idempotency_key="k-1"))
        s.rotate()
        # The retry of a filing already made is its stored answer, signed when it was made.
        again = stuck.file(parse_file_notice(party, body, stuck.limits, idempotency_key="k-1"))
        assert again.replayed and again.body == first.body
    # The host's commands that sign nothing never read the key file (here there is none).
    s.key_file.unlink()
    env = {**s.env}
    for args in (
        ["party", "add", "uk-raf", "--role", "party", "--db", s.url],
        ["party", "revoke", "uk-raf", "--db", s.url],
    ):
        r = runner.invoke(app, args, env=env)
        assert r.exit_code == 0, r.output


def test_the_api_answers_503_key_retired_and_files_nothing(api: Any, db_url: str) -> None:
    """The API of a broker whose key was rotated out by another process (the test's broker holds
    its key in memory, with no key file to read again)."""
    from api_support import circle_notice

    with SqlStore(db_url) as store:
        Broker(store, time.time, api.broker.core.key).rotate_key(BrokerKey.generate())
    r = api.as_("us-af").post("/v1/notices", json=circle_notice(id="us-late"))
    assert r.status_code == 503 and r.headers["Retry-After"] == "5", r.text
    body = r.json()
    assert body["error"] == "key-retired" and "put the new key file in place" in body["message"]
    assert api.as_("us-af").get("/v1/notices").json() == []
    for path in ("/v1/audit/key", "/v1/audit/export"):  # the retired key is neither published nor signs
        r = api.as_("us-af").get(path)
        assert r.status_code == 503 and r.json()["error"] == "key-retired", (path, r.text)
    # What signs nothing is served: reading, acknowledging, the hotline.
    assert (
        api.as_("us-af").post("/v1/messages", json={"to": ["ru-vks"], "subject": "s", "text": "t"}).status_code == 201
    )
