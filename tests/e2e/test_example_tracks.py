"""The example track files in ``examples/``: ``make_tracks.py`` makes exactly the committed files,
and the ``deconflict detect`` and ``deconflict replay`` commands that the README and docs/feeds.md
show on them run as written, with the output the docs describe: detect against the files alone,
replay against a real ``deconflict serve`` started as the README starts it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from integration.api_support import free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DOCS = (ROOT / "README.md", ROOT / "docs" / "feeds.md")
BIN = Path(sys.executable).parent
LEAD, FORTE = "154a10", "ae1f18"
"""RFF9131 (ru-vks) and FORTE12 (coalition): the one cross-party pair."""


def documented(command: str) -> list[str]:
    """Every ``deconflict COMMAND examples/…`` line of the README and docs/feeds.md, with its
    backslash continuations joined and any trailing comment dropped."""
    found: list[str] = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8").replace("\\\n", " ")
        for line in text.splitlines():
            line = line.strip()
            if line.startswith(f"deconflict {command} examples/"):
                found.append(re.sub(r"\s+#.*$", "", line))
    return found


def bash(line: str, cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DECONFLICT_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"
    env.update(extra)
    return env


def workdir(tmp_path: Path) -> Path:
    """A fresh folder where ``examples/`` is the checkout's, as in the README's directions."""
    d = tmp_path / "work"
    d.mkdir()
    (d / "examples").symlink_to(EXAMPLES)
    return d


def test_make_tracks_makes_the_committed_files(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, str(EXAMPLES / "make_tracks.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    for name in ("states-2015-09-30.csv", "tracks-2015-09-30.csv"):
        made, committed = (tmp_path / name).read_bytes(), (EXAMPLES / name).read_bytes()
        assert made == committed, f"examples/{name} is not what make_tracks.py makes: run it again"
        assert 200 < len(committed) < 8000  # small files
    assert not (EXAMPLES / "pairs.csv").exists()


def test_documented_detect_commands_find_the_cross_party_pair(tmp_path: Path) -> None:
    commands = documented("detect")
    assert len(commands) >= 2, commands  # the README's and docs/feeds.md's
    shown = re.search(r"```\n(id_a,id_b,tcpa_s,dcpa_m\n154a10,.*?\n)```", (ROOT / "docs" / "feeds.md").read_text())
    assert shown is not None, "docs/feeds.md shows the pairs that detect prints on the example"
    for n, line in enumerate(commands):
        (tmp_path / f"d{n}").mkdir()
        cwd = workdir(tmp_path / f"d{n}")
        r = bash(line, cwd, environment())
        assert r.returncode == 1, (line, r.stdout, r.stderr)  # 1: conflicts found
        pairs_file = cwd / "pairs.csv"
        pairs = pairs_file.read_text() if "--pairs-out" in line else r.stdout
        summary = r.stdout if "--pairs-out" in line else r.stderr
        assert pairs == shown.group(1), (line, pairs)
        rows = [row.split(",") for row in pairs.splitlines()[1:]]
        assert [(a, b) for a, b, *_ in rows] == [(LEAD, FORTE)]
        assert "1 conflict(s) among 5 aircraft" in summary and "pairs of different parties" in summary


@contextmanager
def broker(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``deconflict serve`` in a new folder, as the README starts it, with tokens for ru-vks and
    coalition; yields (url, tokens) and stops the server afterwards."""
    cwd = workdir(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = environment()
    log = (cwd / "broker.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "deconflict"), "serve", "--port", str(port)], cwd=cwd, env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # until it answers /readyz, as the README's walkthrough waits
            assert proc.poll() is None, (cwd / "broker.log").read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the broker did not become ready"
            time.sleep(0.2)
        tokens = {}
        for name in ("ru-vks", "coalition"):
            r = bash(f"deconflict party add {name} --role party", cwd, env)
            assert r.returncode == 0, r.stderr
            tokens[name] = r.stdout.strip()
        yield url, tokens
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def separation_pairs(url: str, token: str) -> set[frozenset[str]]:
    r = httpx.get(f"{url}/v1/alerts", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    return {
        frozenset(side["aircraft"] for side in a["sides"])
        for a in r.json()
        if a["kind"] == "separation" and a["state"] == "open"
    }


def test_documented_replay_commands_play_the_recording_into_a_broker(tmp_path: Path) -> None:
    commands = documented("replay")
    assert len(commands) >= 2, commands  # the README's and docs/feeds.md's
    for n, line in enumerate(commands):
        (tmp_path / f"b{n}").mkdir()
        with broker(tmp_path / f"b{n}") as (url, tokens):
            env = environment(
                BROKER=url, TOKEN=tokens["ru-vks"], RU_TOKEN=tokens["ru-vks"], US_TOKEN=tokens["coalition"]
            )
            r = bash(line, tmp_path / f"b{n}" / "work", env)
            assert r.returncode == 0, (line, r.stdout, r.stderr)
            assert "replayed 65 states of 5 aircraft" in r.stdout and "accepted 65, rejected 0" in r.stdout, r.stdout
            if "--parties-by-hash" not in line:
                continue
            assert "ru-vks: sent 39, accepted 39" in r.stdout and "coalition: sent 26, accepted 26" in r.stdout
            # the broker's cycle (every second) raises the alert for the pair, on both sides
            deadline = time.monotonic() + 30
            pair = frozenset((LEAD, FORTE))
            while pair not in separation_pairs(url, tokens["coalition"]):
                assert time.monotonic() < deadline, "no separation alert for the example's pair"
                time.sleep(0.2)
            assert separation_pairs(url, tokens["ru-vks"]) == {pair}
            assert separation_pairs(url, tokens["coalition"]) == {pair}
