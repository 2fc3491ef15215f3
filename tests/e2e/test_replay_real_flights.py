"""Recorded real flights (OpenSky data shipped in the ``traffic`` 2.13 wheel, fetched at test time)
replayed through ``deconflict replay`` into a running ``deconflict serve`` as two parties: both
parties' live streams carry the separation alerts between their aircraft."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from processes import free_port

from deconflict.adapters.feeds.opensky import QUICKSTART, traffic_sample

BIN = Path(sys.executable).parent


def listen(url: str, token: str, out: list[dict[str, Any]], stop: threading.Event) -> None:
    """Collect a party's alert events from its live stream until ``stop`` (checked as lines come;
    the stream's keep-alives and the test's end bound the wait)."""
    try:
        _listen(url, token, out, stop)
    except httpx.HTTPError:  # the broker stopped at the end of the test
        return


def _listen(url: str, token: str, out: list[dict[str, Any]], stop: threading.Event) -> None:
    with (
        httpx.Client(base_url=url, timeout=httpx.Timeout(10, read=30.0)) as c,
        c.stream("GET", "/v1/events", headers={"Authorization": f"Bearer {token}"}) as r,
    ):
        for line in r.iter_lines():
            if stop.is_set():
                return
            if line.startswith("data: "):
                d = json.loads(line[6:])
                if d["type"].startswith("alert."):
                    out.append(d)


@pytest.fixture
def broker(tmp_path: Path) -> Any:
    env = {**os.environ, "DECONFLICT_DB": f"sqlite:///{tmp_path / 'broker.sqlite'}"}
    tokens = {}
    for party in ("north", "south"):
        r = subprocess.run(
            [str(BIN / "deconflict"), "party", "add", party, "--role", "party"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        tokens[party] = r.stdout.strip()
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "deconflict"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError("the broker did not start")
        time.sleep(0.1)
    yield url, tokens, env
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(15)


def test_a_replay_of_real_flights_alerts_both_parties_live(broker: Any, tmp_path: Path) -> None:
    url, tokens, env = broker
    recording = tmp_path / "quickstart.json.gz"
    recording.write_bytes(traffic_sample(QUICKSTART))  # fetched at test time, never committed
    got: dict[str, list[dict[str, Any]]] = {"north": [], "south": []}
    stop = threading.Event()
    threads = [threading.Thread(target=listen, args=(url, tokens[p], got[p], stop), daemon=True) for p in got]
    for t in threads:
        t.start()
    time.sleep(0.5)
    r = subprocess.run(
        [
            str(BIN / "deconflict"),
            "replay",
            str(recording),
            "--parties-by-hash",
            "north,south",
            "--token",
            f"north={tokens['north']},south={tokens['south']}",
            "--url",
            url,
            "--speed",
            "20",
            "--start-s",
            "1800",
            "--duration-s",
            "160",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["accepted"] > 1000
    time.sleep(2.5)  # two more cycles
    stop.set()
    got = {p: list(events) for p, events in got.items()}  # the listeners may still be reading
    for party, other in (("north", "south"), ("south", "north")):
        separation = [e for e in got[party] if e["data"]["alert"]["kind"] == "separation"]
        assert separation, f"{party} heard no separation alert ({len(got[party])} alert events)"
        # each names its own aircraft, and the other party's (conflicts-only by default)
        parties = {s["party"] for e in separation for s in e["data"]["alert"]["sides"]}
        assert parties == {party, other}
    north_ids = {e["data"]["alert"]["id"] for e in got["north"] if e["data"]["alert"]["kind"] == "separation"}
    south_ids = {e["data"]["alert"]["id"] for e in got["south"] if e["data"]["alert"]["kind"] == "separation"}
    assert north_ids == south_ids  # the same alerts reach both sides
