"""The README's "Run the broker" walkthrough, run as a new user would paste it: bash in an empty
directory with the venv's commands first on PATH, on the default SQLite store."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def walkthrough() -> str:
    """The one ```` ```bash walkthrough ```` block of the README."""
    blocks = re.findall(r"^```bash walkthrough\n(.*?)^```$", (ROOT / "README.md").read_text(), re.S | re.M)
    assert len(blocks) == 1, "README.md must hold exactly one ```bash walkthrough block"
    script: str = blocks[0]
    return script


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def stop_group(pgid: int, grace_s: float = 5.0) -> None:
    """TERM every process the walkthrough left behind (its broker), then KILL what is still there."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            os.killpg(pgid, 0)  # ProcessLookupError once the group is gone
            time.sleep(0.05)
        os.killpg(pgid, signal.SIGKILL)


@pytest.fixture
def walked(tmp_path: Path) -> dict[str, Any]:
    """The walkthrough's exit status and output, run under ``set -euo pipefail`` in ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DECONFLICT_")}
    env.update(PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}", PORT=str(free_port()))
    proc = subprocess.Popen(
        ["bash", "-c", "set -euo pipefail\n" + walkthrough()],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the broker it starts is in it too
    )
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
        stop_group(proc.pid)
    log = tmp_path / "broker.log"
    return {"rc": proc.returncode, "out": out, "err": err, "log": log.read_text() if log.exists() else ""}


def test_the_walkthrough_is_made_for_pasting() -> None:
    script = walkthrough()
    assert script.startswith("PORT=${PORT:-8000}\n")
    assert "set -e" not in script  # an error must not close the reader's terminal
    # It waits for the broker to be ready rather than for a fixed time.
    assert 'until curl -sf "$BROKER/readyz"' in script
    assert all(float(s) < 1 for s in re.findall(r"\bsleep\s+([\d.]+)", script))


def test_the_readme_walkthrough_runs_and_shows_what_it_says(walked: dict[str, Any], tmp_path: Path) -> None:
    out = walked["out"]
    assert walked["rc"] == 0, (
        f"exit {walked['rc']}\n--- stdout\n{out}\n--- stderr\n{walked['err']}\n--- broker.log\n{walked['log']}"
    )
    assert "added ru-vks (party)" in walked["err"] and "added us-af (party, coalition coalition)" in walked["err"]

    # The two filings, then the conflict list, each a JSON line.
    replies = [json.loads(line) for line in out.splitlines() if line.startswith(("{", "["))]
    ru_filed, us_filed, conflicts = replies
    assert ru_filed["conflicts"] == [] and ru_filed["receipt"]["notice_id"] == "ru-vks:vks-homs"
    assert [c["id"] for c in us_filed["conflicts"]] == [c["id"] for c in conflicts]
    [conflict] = conflicts
    assert {(s["party"], s["notice"]) for s in conflict["sides"]} == {
        ("ru-vks", "ru-vks:vks-homs"),
        ("us-af", "us-af:us-homs"),
    }
    assert conflict["state"] == "open" and conflict["slice"]["min_distance_m"] == 0

    # Both sides heard of it live; ru-vks was not shown us-af's notice.
    heard = [line for line in out.splitlines() if ".events:event: " in line]
    # (policy.recorded: the theater's agreed definitions, public; message.sent: the broker's hotline
    # thread about the conflict, to be acknowledged by both.)
    assert heard == [
        "ru-vks.events:event: policy.recorded",
        "ru-vks.events:event: notice.filed",
        "ru-vks.events:event: conflict.created",
        "ru-vks.events:event: message.sent",
        "us-af.events:event: policy.recorded",
        "us-af.events:event: notice.filed",
        "us-af.events:event: conflict.created",
        "us-af.events:event: message.sent",
    ]

    # The exported log verified against the broker's key.
    [verdict] = [line for line in out.splitlines() if line.startswith(("OK: ", "FAILED: "))]
    assert verdict.startswith("OK: ") and "checked with the key you gave" in verdict

    # The default store and the key landed in the directory the walkthrough ran in.
    assert (tmp_path / "deconflict.sqlite").is_file() and (tmp_path / "deconflict-broker.key").is_file()
