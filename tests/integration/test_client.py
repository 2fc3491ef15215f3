"""``deconflict client`` against a real broker behind a real HTTP server, on both stores: the
commands run as real processes where exit codes and stderr lines are the point, and through
typer's CliRunner where they are not. (The live stream and the audit: ``test_client_stream.py``.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from api_support import Api, circle_notice
from typer.testing import CliRunner, Result

from deconflict.cli import app

HOME_KEYS = ("HOME", "XDG_CONFIG_HOME")


def client_env(api: Api, party: str | None, home: Path, **extra: str) -> dict[str, str]:
    """The environment of a party's terminal: the broker's URL and the party's token, and a home
    without a client file (unless the test writes one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DECONFLICT_") and k not in HOME_KEYS}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), DECONFLICT_URL=api.url, COLUMNS="80")
    if party is not None:
        env["DECONFLICT_TOKEN"] = api.tokens[party]
    env.update(extra)
    return env


def run(api: Api, party: str | None, home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """``deconflict client ARGS`` as a real process (as a party would type it)."""
    return subprocess.run(
        [sys.executable, "-m", "deconflict", "client", *args],
        env=client_env(api, party, home, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


def invoke(api: Api, party: str | None, home: Path, *args: str, **extra: str) -> Result:
    """The same command in this process (CliRunner), for what is not about processes."""
    env = client_env(api, party, home, **extra)
    cleared: dict[str, str | None] = {k: None for k in os.environ if k.startswith("DECONFLICT_")}
    return CliRunner().invoke(app, ["client", *args], env={**cleared, **env})


def notice_file(tmp_path: Path, name: str, **kw: Any) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(circle_notice(id=name, **kw)))
    return path


def file_pair(api: Api, tmp_path: Path) -> dict[str, Any]:
    """ru-vks and us-af file overlapping notices through the API; the conflict as us-af sees it."""
    assert api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="vks-1")).status_code == 201
    r = api.as_("us-af").post("/v1/notices", json=circle_notice(id="us-1"))
    assert r.status_code == 201, r.text
    conflict: dict[str, Any] = r.json()["conflicts"][0]
    return conflict


def test_filing_a_conflicting_notice_exits_1_and_shows_the_conflict(api: Api, tmp_path: Path) -> None:
    first = run(api, "ru-vks", tmp_path, "file", str(notice_file(tmp_path, "vks-homs")))
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("ru-vks:vks-homs v1 accepted: lead time 7.5 h, 0 conflict(s)")

    second = run(api, "us-af", tmp_path, "file", str(notice_file(tmp_path, "us-homs")))
    assert second.returncode == 1, second.stderr  # conflicts found, as the local `file` says
    assert second.stderr == ""
    [c] = api.as_("us-af").get("/v1/conflicts").json()
    out = second.stdout
    assert "us-af:us-homs v1 accepted: lead time 7.5 h, 1 conflict(s)" in out
    assert f"conflict {c['id']}: open (conflicts-only)" in out
    assert "ru-vks:vks-homs vol 0" in out and "0.00 km apart" in out
    assert "2015-09-30 07:15 → 10:45 UTC (on the grid)" in out

    # --json for scripts: the broker's replies, whole
    third = run(api, "us-af", tmp_path, "file", "--json", str(notice_file(tmp_path, "us-homs-2")))
    assert third.returncode == 1
    [reply] = json.loads(third.stdout)
    assert reply["notice"]["id"] == "us-af:us-homs-2" and len(reply["conflicts"]) == 1  # (never with its own)
    assert reply["receipt"]["notice_id"] == "us-af:us-homs-2"


def test_a_misspelt_field_exits_2_with_the_field_on_one_stderr_line_and_files_nothing(api: Api, tmp_path: Path) -> None:
    body = circle_notice(id="typo")
    body["volumes"][0]["volume"]["outline_circle"]["radius"] = {"value": 10, "unit": "NM"}
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(body))
    r = run(api, "ru-vks", tmp_path, "file", str(path))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == "" and "Traceback" not in r.stderr
    [line] = r.stderr.splitlines()
    assert line.startswith(f"{path}: volumes[0].volume.outline_circle.radius.unit: unknown key")
    assert 'did you mean "units"' in line
    assert api.as_("ru-vks").get("/v1/notices").json() == []

    # A file that is not JSON is one line too, and never reaches the broker.
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    r = invoke(api, "ru-vks", tmp_path, "file", str(bad))
    assert r.exit_code == 2 and r.stderr.startswith(f"{bad}: not valid JSON")


def test_a_bad_token_is_one_clear_line_without_the_token(api: Api, tmp_path: Path) -> None:
    r = run(api, None, tmp_path, "notices", DECONFLICT_TOKEN="dcf_not-a-real-token")
    assert r.returncode == 2 and r.stdout == ""
    [line] = r.stderr.splitlines()
    assert line == (f"error: 401 unauthorized by {api.url}: unknown or revoked token (token from $DECONFLICT_TOKEN)")
    assert "dcf_not-a-real-token" not in r.stderr


def test_an_unreachable_broker_is_one_line_naming_the_url(api: Api, tmp_path: Path) -> None:
    from api_support import free_port

    url = f"http://127.0.0.1:{free_port()}"
    r = run(api, "ru-vks", tmp_path, "whoami", DECONFLICT_URL=url)
    assert r.returncode == 4 and r.stdout == ""
    assert r.stderr.splitlines() == [f"error: cannot reach the broker at {url}/v1/me: connection refused"]
    r = run(api, None, tmp_path, "ready", "--wait", "0.5", DECONFLICT_URL=url)  # no token needed
    assert r.returncode == 4 and r.stderr.startswith(f"error: the broker at {url} is not ready after 0.5 s: ")
    r = run(api, None, tmp_path, "ready")
    assert r.returncode == 0 and r.stdout == f"ready: {api.url}\n"


def test_whoami_lists_and_shows_notices_and_conflicts_readably_at_80_columns(api: Api, tmp_path: Path) -> None:
    conflict = file_pair(api, tmp_path)
    r = invoke(api, "us-af", tmp_path, "whoami")
    assert r.exit_code == 0
    assert r.stdout == f"us-af (party, coalition coalition) at {api.url}; token from $DECONFLICT_TOKEN\n"
    assert api.tokens["us-af"] not in r.output

    r = invoke(api, "us-af", tmp_path, "notices")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), r.stdout
    assert lines[0].rstrip() == "1 notice(s), times UTC in 2015"
    [row] = [line for line in lines if "us-af:us-1" in line]  # whole, never split
    assert row.split() == ["us-af:us-1", "1", "accepted", "09-30", "07:30", "10:30"]

    r = invoke(api, "us-af", tmp_path, "notice", "us-af:us-1")
    assert r.exit_code == 0
    assert "vol 0: circle 8000 m around 35.32,36.62; 3000–8000 m AMSL; 2015-09-30 07:30 → 10:30 UTC" in r.stdout

    r = invoke(api, "us-af", tmp_path, "conflicts")
    assert r.exit_code == 0
    assert r.stdout.splitlines()[:2] == ["1 open conflict(s)", f"conflict {conflict['id']}: open (conflicts-only)"]
    assert "not acknowledged yet" in r.stdout
    assert json.loads(invoke(api, "us-af", tmp_path, "conflicts", "--json").stdout)[0]["id"] == conflict["id"]

    r = invoke(api, "us-af", tmp_path, "notice", "ru-vks:vks-1")  # not shown to us-af: 404, one line
    assert r.exit_code == 2 and r.stderr.startswith("error: 404 not-found: ")


def test_a_conflict_is_acknowledged_received_and_understood(api: Api, tmp_path: Path) -> None:
    conflict = file_pair(api, tmp_path)
    r = invoke(api, "ru-vks", tmp_path, "ack", conflict["id"])
    assert r.exit_code == 0
    assert r.stdout == f"conflict {conflict['id']}: acknowledged (received and understood)\n"
    r = invoke(api, "ru-vks", tmp_path, "ack", conflict["id"])
    assert r.exit_code == 0 and "already acknowledged" in r.stdout
    r = invoke(api, "ru-vks", tmp_path, "conflict", conflict["id"])
    assert "acknowledged by ru-vks at 2015-09-30 00:00" in r.stdout
    r = invoke(api, "uk-raf", tmp_path, "ack", conflict["id"])  # not a party to it
    assert r.exit_code == 2 and r.stderr.startswith(("error: 403", "error: 404")), r.output


def test_messages_are_sent_read_and_acknowledged_never_approved(api: Api, tmp_path: Path) -> None:
    start = api.broker.last_seq()
    r = invoke(
        api, "us-af", tmp_path, "send", "--to", "ru-vks", "--subject", "Sortie moved", "--text", "30 min later",
        "--priority", "immediate", "--ack-within", "900",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    mid = r.stdout.splitlines()[0].removeprefix("sent ")
    assert "to ru-vks: pending (open, due 2015-09-30 00:15)" in r.stdout

    r = invoke(api, "ru-vks", tmp_path, "messages", "--box", "inbox")
    assert r.exit_code == 0
    assert r.stdout.splitlines()[:3] == [
        "1 message(s)",
        f"{mid}  immediate, from us-af, 2015-09-30 00:00",
        "  Sortie moved",
    ]
    assert "| 30 min later" in invoke(api, "ru-vks", tmp_path, "message", mid).stdout

    r = invoke(api, "ru-vks", tmp_path, "ack-message", mid, "--state", "received")
    assert r.exit_code == 0 and r.stdout.startswith(f"message {mid}: received; ru-vks received (on-time)")
    r = invoke(api, "ru-vks", tmp_path, "ack-message", mid)  # understood, the default
    assert r.exit_code == 0 and "ru-vks understood (on-time)" in r.stdout
    r = invoke(api, "ru-vks", tmp_path, "ack-message", mid, "--state", "approved")
    assert r.exit_code == 2  # refused by the command itself: an acknowledgement is never an approval

    acks = [e for e in api.events("us-af", after=start) if e["event"] == "message.acknowledged"]
    assert [a["data"]["data"]["state"] for a in acks] == ["received", "understood"]

    # A refused message names its option's field on one line; nothing is sent.
    r = run(api, "us-af", tmp_path, "send", "--to", "nobody", "--subject", "s", "--text", "t")
    assert r.returncode == 2 and r.stderr.splitlines() == ["--to[0]: names no party you can address at this broker"]
    r = invoke(api, "us-af", tmp_path, "send", "--to", "ru-vks", "--subject", "s")
    assert r.exit_code == 2 and r.stderr.startswith("--text: ")
    r = invoke(api, "us-af", tmp_path, "send", "--to", "ru-vks", "--subject", "s", "--text", "t", "--ack-within", "0")
    assert r.exit_code == 2 and r.stderr.startswith("--ack-within: ")  # the option, not the body key
    r = invoke(api, "us-af", tmp_path, "send", "--to", "ru-vks", "--subject", "s", "--text", "t", "--about", "target:x")
    assert r.exit_code == 2 and r.stderr.startswith("--about.kind: ")
    assert len(api.as_("us-af").get("/v1/messages", params={"box": "outbox"}).json()) == 1


def test_update_and_cancel_name_the_version(api: Api, tmp_path: Path) -> None:
    conflict = file_pair(api, tmp_path)
    moved = notice_file(tmp_path, "us-1", start="2015-09-30T12:00:00Z", end="2015-09-30T13:00:00Z")
    r = invoke(api, "us-af", tmp_path, "update", "us-af:us-1", str(moved), "--version", "5")
    assert r.exit_code == 2 and r.stderr.startswith("error: 409 stale-version: ")
    assert "current version is 1" in r.stderr or "(current version 1)" in r.stderr
    r = invoke(api, "us-af", tmp_path, "update", "us-af:us-1", str(moved), "--version", "1")
    assert r.exit_code == 0, r.output  # moved clear of the conflict
    assert r.stdout == "us-af:us-1 v2 accepted: lead time 12.0 h, 0 conflict(s), 1 resolved\n"
    assert api.as_("us-af").get(f"/v1/conflicts/{conflict['id']}").json()["state"] == "resolved"
    r = invoke(api, "us-af", tmp_path, "cancel", "us-af:us-1", "--version", "2")
    assert r.exit_code == 0 and r.stdout == "us-af:us-1 v3: cancelled; 0 conflict(s) resolved\n"


def test_the_compliance_report_fits_80_columns(api: Api, tmp_path: Path) -> None:
    file_pair(api, tmp_path)
    api.clock.t += 3600
    r = invoke(api, "root", tmp_path, "report")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), r.stdout
    for header in ("party", "filed", "late", "lead h", "conflicts", "acks", "nonconf", "incursion"):
        assert header in r.stdout
    [us] = [line for line in lines if "us-af" in line]
    assert us.split()[:2] == ["us-af", "1"]  # one notice filed
    assert "report sha256 " in r.stdout and "recorded in the event log at seq" in r.stdout

    doc = json.loads(invoke(api, "ru-vks", tmp_path, "report", "--format", "json").stdout)
    assert [p["party"] for p in doc["report"]["parties"]] == ["ru-vks"] and len(doc["report_sha256"]) == 64

    page = tmp_path / "report.html"
    r = invoke(api, "root", tmp_path, "report", "--format", "html", "-o", str(page))
    assert r.exit_code == 0 and page.read_text().lstrip().lower().startswith("<!doctype html")

    r = invoke(api, "ru-vks", tmp_path, "report", "--since", "yesterday")
    assert r.exit_code == 2 and r.stderr.startswith("--since: ")


@pytest.mark.parametrize("source", ["file", "token_file"])
def test_the_url_and_token_come_from_a_profile_and_are_overridden_by_the_environment(
    api: Api, tmp_path: Path, source: str
) -> None:
    config = tmp_path / ".config" / "deconflict" / "client.toml"
    config.parent.mkdir(parents=True)
    token_file = tmp_path / "tr-af.token"
    token_file.write_text(api.tokens["tr-af"] + "\n")
    tr = f'token_file = "{token_file}"' if source == "token_file" else f'token = "{api.tokens["tr-af"]}"'
    config.write_text(
        f'[default]\nurl = "{api.url}"\ntoken = "{api.tokens["ru-vks"]}"\n\n[tr]\nurl = "{api.url}"\n{tr}\n'
    )
    config.chmod(0o600)
    base = {"DECONFLICT_URL": "", "DECONFLICT_TOKEN": ""}
    r = invoke(api, None, tmp_path, "whoami", **base)
    assert r.exit_code == 0 and r.stdout.startswith("ru-vks (party) at ") and f"{config} [default]" in r.stdout
    r = invoke(api, None, tmp_path, "--profile", "tr", "whoami", **base)
    assert r.exit_code == 0 and r.stdout.startswith("tr-af (party)"), r.output
    assert api.tokens["tr-af"] not in r.output and api.tokens["ru-vks"] not in r.output
    r = invoke(api, "us-af", tmp_path, "--profile", "tr", "whoami")  # the environment wins over the file
    assert r.stdout.startswith("us-af (party, coalition coalition)") and "token from $DECONFLICT_TOKEN" in r.stdout
    r = invoke(api, "us-af", tmp_path, "--token", api.tokens["uk-raf"], "whoami")  # and the option over both
    assert r.stdout.startswith("uk-raf ") and "token from --token" in r.stdout

    r = invoke(api, None, tmp_path, "--profile", "nope", "whoami", **base)
    assert r.exit_code == 2 and r.stderr.startswith(f"{config}: no profile [nope]")
    config.write_text(f'[default]\nurl = "{api.url}"\ntokn = "x"\n')
    r = invoke(api, None, tmp_path, "whoami", **base)
    assert r.exit_code == 2 and r.stderr == f"{config}: [default].tokn: unknown key (known: url, token, token_file)\n"
    r = invoke(api, None, tmp_path, "whoami", DECONFLICT_CLIENT_CONFIG=str(tmp_path / "none.toml"), **base)
    assert r.exit_code == 2 and "no such client configuration file" in r.stderr
    config.unlink()
    r = invoke(api, None, tmp_path, "whoami", **base)
    assert r.exit_code == 2 and r.stderr.startswith("no broker URL: give --url, set DECONFLICT_URL, or put url in ")
