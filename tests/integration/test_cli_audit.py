"""`deconflict audit verify` without `--key` checks the export only against the key it carries, which
anyone who rewrites a log can replace: that is never reported as a full verification (exit 3 and a
line saying the key is not trusted), as docs/audit.md says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.domain.audit import BrokerKey

runner = CliRunner()


@pytest.fixture
def exported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, BrokerKey]:
    """An admin export of a store with two parties, signed with a key the test holds."""
    monkeypatch.chdir(tmp_path)
    for name in ("DECONFLICT_DB", "DECONFLICT_CONFIG", "DECONFLICT_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    key = BrokerKey.generate()
    (tmp_path / "deconflict-broker.key").write_bytes(key.to_pem())
    for name in ("ru-vks", "us-af"):
        assert runner.invoke(app, ["party", "add", name, "--role", "party"]).exit_code == 0
    out = tmp_path / "log.json"
    r = runner.invoke(app, ["audit", "export", "-o", str(out)])
    assert r.exit_code == 0, r.output
    return out, key


def test_without_key_a_consistent_export_is_exit_3_and_says_the_key_is_not_trusted(
    exported: tuple[Path, BrokerKey],
) -> None:
    log, key = exported
    r = runner.invoke(app, ["audit", "verify", str(log)])
    assert r.exit_code == 3, r.output
    (line,) = r.stdout.splitlines()
    assert not line.startswith("OK")
    assert line.startswith("UNTRUSTED KEY: ")
    assert f"consistent with the key it carries ({key.key_id()})" in line
    assert "that key is not trusted" in line and "give --key" in line


def test_with_the_broker_key_it_is_ok_and_exit_0(exported: tuple[Path, BrokerKey], tmp_path: Path) -> None:
    log, key = exported
    pub = tmp_path / "broker.pub"
    pub.write_text(key.public_key_b64())
    r = runner.invoke(app, ["audit", "verify", str(log), "--key", str(pub)])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("OK: ") and "checked with the key you gave" in r.stdout


def test_without_key_a_tampered_export_still_fails_with_exit_1(exported: tuple[Path, BrokerKey]) -> None:
    log, _ = exported
    doc = json.loads(log.read_text())
    doc["events"][0]["actor"] = "someone-else"
    log.write_text(json.dumps(doc))
    r = runner.invoke(app, ["audit", "verify", str(log)])
    assert r.exit_code == 1, r.output
    assert "FAILED: " in r.stdout


def test_help_gives_every_exit_status() -> None:
    r = runner.invoke(app, ["audit", "verify", "--help"], env={"COLUMNS": "200"})
    text = " ".join(r.stdout.split())
    for said in ("0 when", "1 when", "2 when", "3 when", "not trusted"):
        assert said in text, said


def test_docs_say_what_the_command_does() -> None:
    doc = " ".join((Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text().split())
    assert "exit status 3" in doc.lower() and "UNTRUSTED KEY" in doc
