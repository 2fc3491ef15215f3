"""Replicas behind HAProxy with the configuration docs/deploy.md shows, read out of the page (only the
addresses are changed): filings go through it, a replica is killed with SIGKILL, filings go through
at once again, and tracks reach whichever replica leads. Needs Debian's ``haproxy``; without it the
test fails unless ``DECONFLICT_SKIP_HAPROXY=1`` leaves it out deliberately."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import free_port
from pg_support import pg_schema
from replica_support import WAIT_S, Replica, add_parties, notice_now, start_replica, wait_for
from test_replicas import CAST

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deploy.md"


def doc_config() -> str:
    """The HAProxy configuration in docs/deploy.md, as the page shows it."""
    blocks = re.findall(r"```haproxy\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 1, f"docs/deploy.md should show one ```haproxy block, found {len(blocks)}"
    return blocks[0]


def local_config(front: int, a: int, b: int, dead: int) -> str:
    """The page's configuration with loopback addresses: ``a`` and ``b`` replicas, ``c`` a closed port."""
    text = doc_config()
    for old, new in [
        ("bind :8000", f"bind 127.0.0.1:{front}"),
        ("10.0.0.11:8000", f"127.0.0.1:{a}"),
        ("10.0.0.12:8000", f"127.0.0.1:{b}"),
        ("10.0.0.13:8000", f"127.0.0.1:{dead}"),
    ]:
        assert old in text, f"docs/deploy.md's HAProxy configuration no longer holds {old!r}"
        text = text.replace(old, new)
    return text


def haproxy_exe() -> str:
    found = shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if Path(p).exists()), None)
    if found is None:
        if os.environ.get("DECONFLICT_SKIP_HAPROXY") == "1":
            pytest.skip("DECONFLICT_SKIP_HAPROXY=1")
        pytest.fail("haproxy is not installed: apt-get install -y haproxy (or set DECONFLICT_SKIP_HAPROXY=1)")
    return found


def test_the_documented_configuration_is_valid() -> None:
    exe = haproxy_exe()
    cfg = local_config(free_port(), free_port(), free_port(), free_port())
    r = subprocess.run([exe, "-c", "-f", "/dev/stdin"], input=cfg, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[str, list[Replica], dict[str, str]]]:
    exe = haproxy_exe()
    with pg_schema() as url:
        replicas = [start_replica(url, tmp_path)]
        replicas.append(start_replica(url, tmp_path))  # after the first migrated: no wait on its lock
        tokens = add_parties(url, CAST)
        front = free_port()
        cfg = tmp_path / "haproxy.cfg"
        cfg.write_text(local_config(front, replicas[0].port, replicas[1].port, free_port()))
        log = (tmp_path / "haproxy.log").open("wb")
        proxy = subprocess.Popen([exe, "-db", "-f", str(cfg)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        try:
            yield f"http://127.0.0.1:{front}", replicas, tokens
        finally:
            proxy.terminate()
            proxy.wait(WAIT_S)
            for r in replicas:
                r.stop()


def leader_of(replicas: list[Replica]) -> Replica:
    def one() -> list[Replica] | None:
        now = [r for r in replicas if r.proc.poll() is None and r.leads()]
        return now if len(now) == 1 else None

    (leader,) = wait_for("exactly one leader", one)
    return leader


def test_filings_and_tracks_through_haproxy_survive_a_replica_killed(
    proxied: tuple[str, list[Replica], dict[str, str]],
) -> None:
    front, replicas, tokens = proxied
    auth = {"Authorization": f"Bearer {tokens['us-af']}"}
    state = {"aircraft": "a1", "lat": 35.3, "lon": 36.6, "alt_m": 7000, "alt_ref": "STD"}
    with httpx.Client(base_url=front, headers=auth, timeout=WAIT_S) as c:

        def tracks_accepted() -> bool:
            r = c.post("/v1/tracks", json={"states": [{**state, "time": time.time()}]})
            assert r.status_code in (200, 503), r.text  # 503: HAProxy has no leader up yet
            return r.status_code == 200

        def proxied_ready() -> bool:
            try:
                return c.get("/readyz").status_code == 200
            except httpx.TransportError:  # HAProxy is not listening yet
                return False

        wait_for("HAProxy answers /readyz from a replica", proxied_ready)
        leader = leader_of(replicas)
        # HAProxy takes a server for up until its first check says otherwise: wait for the follower's
        # first /leaderz check to take it out of the leader backend.
        wait_for("HAProxy sends tracks to the leader only", lambda: all(tracks_accepted() for _ in range(4)))
        for i in range(6):  # leastconn spreads them; every one is answered by a replica
            r = c.post("/v1/notices", json=notice_now(10 + i, 20, f"before-{i}"))
            assert r.status_code == 201, r.text
        for _ in range(5):  # always the leader: a follower would answer 503 not-leader
            assert tracks_accepted()

        leader.kill()
        killed = time.monotonic()
        for i in range(6):  # at once: HAProxy has not noticed yet, its retries redispatch them
            r = c.post("/v1/notices", json=notice_now(10 + i, 30, f"after-{i}"))
            assert r.status_code == 201, r.text
        wait_for("tracks reach the new leader through HAProxy", tracks_accepted)
        print(f"\ntracks through HAProxy accepted again {time.monotonic() - killed:.1f} s after the leader's SIGKILL")
        (survivor,) = [r for r in replicas if r is not leader]
        assert survivor.leads()
        listed = c.get("/v1/notices", params={"party": "us-af"}).json()
        ids = {n["id"] for n in listed}
        assert {f"us-af:{w}-{i}" for w in ("before", "after") for i in range(6)} <= ids
