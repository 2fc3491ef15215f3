"""The README's "Run the broker" walkthrough, run as a new user would paste it: bash in an empty
directory with the venv's commands first on PATH, on the default SQLite store."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from processes import free_port

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def walkthrough() -> str:
    """The one ```` ```bash walkthrough ```` block of the README."""
    blocks = re.findall(r"^```bash walkthrough\n(.*?)^```$", (ROOT / "README.md").read_text(), re.S | re.M)
    assert len(blocks) == 1, "README.md must hold exactly one ```bash walkthrough block"
    script: str = blocks[0]
    return script


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
    # It waits for the broker to be ready rather than for a fixed time, and needs no curl or jq:
    # a party uses the client.
    assert "deconflict client ready --wait" in script
    assert "curl" not in script and "jq" not in script
    assert all(float(s) < 1 for s in re.findall(r"\bsleep\s+([\d.]+)", script))


def section(lines: list[str], start: str, end: str | None) -> list[str]:
    """The lines after the one equal to ``start`` up to the one equal to ``end``."""
    i = lines.index(start) + 1
    return lines[i : lines.index(end)] if end is not None else lines[i:]


def test_the_readme_walkthrough_runs_and_shows_what_it_says(walked: dict[str, Any], tmp_path: Path) -> None:
    out = walked["out"]
    assert walked["rc"] == 0, (
        f"exit {walked['rc']}\n--- stdout\n{out}\n--- stderr\n{walked['err']}\n--- broker.log\n{walked['log']}"
    )
    assert "added ru-vks (party)" in walked["err"] and "added us-af (party, coalition coalition)" in walked["err"]
    assert "Traceback" not in walked["err"] and "dcf_" not in out + walked["err"]  # no token is ever printed
    lines = out.splitlines()
    assert lines[0].startswith("ready: http://127.0.0.1:")
    assert lines[1].startswith("ru-vks (party) at http://127.0.0.1:") and "token from $DECONFLICT_TOKEN" in lines[1]

    # The two filings: the second finds the conflict, shows it, and exits 1.
    assert re.fullmatch(r"ru-vks:vks-homs v1 accepted: lead time [\d.]+ days, 0 conflict\(s\)", lines[2])
    assert re.match(r"us-af:us-homs v1 accepted: lead time [\d.]+ days, 1 conflict\(s\)", lines[3])
    [cid] = {m for line in lines for m in re.findall(r"^ *conflict ([0-9a-f]{32}): open", line)}
    assert lines[4:8] == [
        f"  conflict {cid}: open (conflicts-only)",
        "    between us-af:us-homs vol 0",
        "    and     ru-vks:vks-homs vol 0",
        "    0.00 km apart, 2743–8230 m, 2030-06-01 07:45 → 09:15 UTC (on the grid)",
    ]
    assert "(exit status 1: conflicts found)" in lines

    # us-af's notices (a table that fits 80 columns) and its conflict.
    table = section(lines, "(exit status 1: conflicts found)", "1 open conflict(s)")
    assert all(len(line) <= 80 for line in table)
    assert [line.split() for line in table if ":" in line and "notice" not in line] == [
        ["us-af:us-homs", "1", "accepted", "06-01", "08:00", "11:00"]
    ]

    # The conflict and the hotline messages, acknowledged: received and understood.
    assert f"conflict {cid}: acknowledged (received and understood)" in lines
    [sent] = [line.removeprefix("sent ") for line in lines if line.startswith("sent ")]
    assert f"message {sent}: received; ru-vks received (on-time)" in lines

    # Both sides heard all of it live, one line an event; ru-vks was not shown us-af's notice.
    ru = section(lines, "ru-vks's events:", "us-af's events:")
    us = section(lines, "us-af's events:", next(line for line in lines if line.startswith("OK: ")))
    types = [
        "policy.recorded",
        "notice.filed",
        "conflict.created",
        "message.sent",
        "conflict.acknowledged",
        "message.acknowledged",
        "message.sent",
        "message.acknowledged",
    ]
    assert [line.split()[3] for line in ru] == types and [line.split()[3] for line in us] == types
    assert "notice.filed ru-vks:vks-homs v1 accepted" in ru[1] and "notice.filed us-af:us-homs" in us[1]
    assert all("us-af:us-homs v1 accepted" not in line for line in ru)
    assert ru[2].endswith(f"conflict.created {cid} us-af:us-homs vol 0 ↔ ru-vks:vks-homs vol 0, 0.00 km apart, "
                          "2743–8230 m, 2030-06-01 07:45 → 09:15 UTC (on the grid)")  # fmt: skip
    assert f"message.sent {sent} from us-af to ru-vks [routine]: us-homs" in ru[6]
    assert f"message.acknowledged {sent} received by ru-vks" in us[7]

    # The exported log verified against the broker's key.
    [verdict] = [line for line in lines if line.startswith(("OK: ", "FAILED: "))]
    assert verdict.startswith("OK: ") and "checked with the key you gave" in verdict
    assert (tmp_path / "log.json").is_file() and (tmp_path / "broker.pub").is_file()

    # ru-vks's compliance figures: one notice, two acknowledgements on time.
    [row] = [line.split() for line in lines if line.lstrip().startswith("ru-vks ") and len(line.split()) == 8]
    assert row[:3] == ["ru-vks", "1", "0"] and row[4:6] == ["1", "2/0/0/0"]
    assert any(line.startswith("report sha256 ") for line in lines)

    # The default store and the key landed in the directory the walkthrough ran in.
    assert (tmp_path / "deconflict.sqlite").is_file() and (tmp_path / "deconflict-broker.key").is_file()
