"""Several ``deconflict serve`` processes on one PostgreSQL act as one broker (docs/deploy.md):
events reach every replica's streams at once by NOTIFY (the fallback poll is set to a minute),
notices filed at the same moment on two replicas still conflict, one replica leads at a time and
the lead moves within seconds when the leader is killed, and a webhook is delivered once."""

from __future__ import annotations

import json
import re
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pg_support import pg_schema
from replica_support import (
    WAIT_S,
    Receiver,
    Replica,
    Stream,
    add_parties,
    notice_now,
    start_replica,
    wait_for,
    write_config,
)
from test_api_filing_limits import polygon_volume

from deconflict.adapters.sql.store import SqlStore
from deconflict.domain.parties import Role

pytestmark = pytest.mark.postgres

CAST = [("us-af", Role.PARTY), ("ru-vks", Role.PARTY), ("root", Role.ADMIN)]


@dataclass
class Cluster:
    url: str
    replicas: list[Replica]
    tokens: dict[str, str]

    def auth(self, party: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[party]}"}

    def leaders(self) -> list[Replica]:
        return [r for r in self.replicas if r.proc.poll() is None and r.leads()]


def start_cluster(url: str, workdir: Path, n: int = 3) -> Cluster:
    """``n`` replicas started at the same moment on an empty schema, as an operator starts them:
    one migrates while the others wait for it, and one key file is made for all."""
    write_config(workdir)
    with ThreadPoolExecutor(n) as ex:
        replicas = list(ex.map(lambda _: start_replica(url, workdir), range(n)))
    return Cluster(url, replicas, add_parties(url, CAST))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with pg_schema() as url:
        c = start_cluster(url, tmp_path_factory.mktemp("replicas"))
        try:
            yield c
        finally:
            for r in c.replicas:
                r.stop()


def test_an_event_made_on_one_replica_reaches_a_stream_on_another_at_once(cluster: Cluster) -> None:
    a, b = cluster.replicas[0], cluster.replicas[1]
    stream = Stream(b.url, cluster.tokens["us-af"])
    since_post, since_answer = [], []
    with httpx.Client(base_url=a.url, headers=cluster.auth("us-af"), timeout=WAIT_S) as us:
        for i in range(8):
            t0 = time.monotonic()
            r = us.post("/v1/notices", json=notice_now(10 + i, 20, f"live-{i}"))
            answered = time.monotonic()
            assert r.status_code == 201, r.text
            at, event = stream.next_of("notice.filed")
            assert f"us-af:live-{i}" in json.dumps(event["data"])
            since_post.append(at - t0)
            since_answer.append(at - answered)
    stream.closing.set()
    # The stream's fallback poll is a minute: only the notification can have brought these.
    assert max(since_post) < 10, since_post
    print(
        "\nNOTIFY across replicas, POST on A to the event on B's stream: median "
        f"{statistics.median(since_post) * 1e3:.0f} ms, max {max(since_post) * 1e3:.0f} ms; after A's answer: median "
        f"{statistics.median(since_answer) * 1e3:.0f} ms, max {max(since_answer) * 1e3:.0f} ms"
    )


def test_notices_filed_at_the_same_moment_on_two_replicas_conflict(cluster: Cluster) -> None:
    a, b = cluster.replicas[0], cluster.replicas[1]
    for k in range(4):
        lat = 40.0 + 0.5 * k
        start = threading.Barrier(2)

        def file(
            replica: Replica, party: str, dlat: float, k: int = k, lat: float = lat, start: threading.Barrier = start
        ) -> httpx.Response:
            body = notice_now(lat, 20, f"{party}-{k}")
            body["volumes"][0]["volume"] = polygon_volume(400, lat=lat + dlat, lon=20, radius_km=10)["volume"]
            start.wait(WAIT_S)
            return httpx.post(f"{replica.url}/v1/notices", json=body, headers=cluster.auth(party), timeout=WAIT_S)

        with ThreadPoolExecutor(2) as ex:
            one = ex.submit(file, a, "us-af", 0.0)
            other = ex.submit(file, b, "ru-vks", 0.05)
            answers = [one.result(), other.result()]
        assert [r.status_code for r in answers] == [201, 201], [r.text for r in answers]
        # Whichever committed second saw the first: exactly one of the two answers names the conflict.
        assert sorted(len(r.json()["conflicts"]) for r in answers) == [0, 1], k
        with SqlStore(cluster.url) as store, store.begin(write=False) as repo:
            pairs = [{c.notice_a, c.notice_b} for c in repo.open_conflicts_of(f"us-af:us-af-{k}")]
        assert pairs == [{f"us-af:us-af-{k}", f"ru-vks:ru-vks-{k}"}], k


def test_a_webhook_is_delivered_once_by_the_leader_not_once_per_replica(cluster: Cluster) -> None:
    receiver = Receiver()
    try:
        c = cluster.replicas[2]
        r = httpx.put(
            f"{c.url}/v1/webhook",
            json={"url": receiver.url, "secret": "a-long-random-shared-secret"},
            headers=cluster.auth("us-af"),
            timeout=WAIT_S,
        )
        assert r.status_code == 200, r.text
        t0 = time.monotonic()
        for i, replica in enumerate(cluster.replicas):  # one filing on each replica
            r = httpx.post(
                f"{replica.url}/v1/notices",
                json=notice_now(50 + i, 20, f"hook-{i}"),
                headers=cluster.auth("us-af"),
                timeout=WAIT_S,
            )
            assert r.status_code == 201, r.text

        def filed() -> list[str]:
            return [json.dumps(e["data"]) for e in list(receiver.received) if e["type"] == "notice.filed"]

        wait_for("three notice.filed deliveries", lambda: len(filed()) >= 3)
        took = time.monotonic() - t0
        # A last filing, delivered after the others: any second deliverer would have sent its copies too.
        r = httpx.post(
            f"{cluster.replicas[0].url}/v1/notices",
            json=notice_now(55, 20, "hook-last"),
            headers=cluster.auth("us-af"),
            timeout=WAIT_S,
        )
        assert r.status_code == 201, r.text
        wait_for("the last delivery", lambda: any("us-af:hook-last" in f for f in filed()))
        ids = [e["id"] for e in receiver.received]
        assert ids == sorted(set(ids)), ids  # each event once, in order
        for i in range(3):
            assert sum(f"us-af:hook-{i}" in f for f in filed()) == 1, i
        # the deliverer's own poll is a minute: the filings on other replicas woke it
        assert took < 10, took
    finally:
        receiver.close()


def metric(replica: Replica, token: str, name: str) -> float:
    text = httpx.get(f"{replica.url}/v1/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=WAIT_S).text
    m = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    assert m is not None, text
    return float(m.group(1))


def one_leader(cluster: Cluster) -> Replica:
    """The one replica that leads, once exactly one does."""

    def one() -> list[Replica] | None:
        now = cluster.leaders()
        return now if len(now) == 1 else None

    (leader,) = wait_for("exactly one leader", one)
    return leader


def test_the_tactical_cycle_runs_on_the_leader_only(cluster: Cluster) -> None:
    leader = one_leader(cluster)
    root = cluster.tokens["root"]
    wait_for("the leader's cycles", lambda: metric(leader, root, "deconflict_cycles_total") >= 3)
    state = {"aircraft": "a1", "time": time.time(), "lat": 35.3, "lon": 36.6, "alt_m": 7000, "alt_ref": "STD"}
    for r in cluster.replicas:
        assert metric(r, root, "deconflict_leader") == (1 if r is leader else 0)
        tracks = httpx.post(
            f"{r.url}/v1/tracks", json={"states": [state]}, headers=cluster.auth("us-af"), timeout=WAIT_S
        )
        if r is leader:
            assert tracks.status_code == 200 and tracks.json()["accepted"] == 1, tracks.text
        else:
            assert metric(r, root, "deconflict_cycles_total") == 0
            # the picture is the leader's: a follower refuses tracks rather than keep them unseen
            assert tracks.status_code == 503 and tracks.json()["error"] == "not-leader", tracks.text
            assert tracks.headers["retry-after"] == "1"


def test_the_lead_moves_within_seconds_when_the_leader_is_killed(tmp_path: Path) -> None:
    with pg_schema() as url:
        cluster = start_cluster(url, tmp_path)
        try:
            took = [kill_the_leader(cluster) for _ in range(2)]  # then the next one: the last replica leads
            assert max(took) < 10, took
            print(f"\nleader failover after SIGKILL: {', '.join(f'{t:.2f} s' for t in took)}")
            # a graceful stop hands the lead over too: to a replica started since
            (last,) = cluster.leaders()
            again = start_replica(url, tmp_path)
            cluster.replicas.append(again)
            assert again.leads() is False
            last.stop()
            t0 = time.monotonic()
            wait_for("the restarted replica leads", again.leads)
            print(f"leader handover after SIGTERM: {time.monotonic() - t0:.2f} s")
        finally:
            for r in cluster.replicas:
                r.stop()


def kill_the_leader(cluster: Cluster) -> float:
    """SIGKILL the leader; the seconds until another replica leads (never two at once meanwhile),
    and its tactical cycles run."""
    old = one_leader(cluster)
    old.kill()
    t0 = time.monotonic()
    most = 0

    def new_leader() -> list[Replica]:
        nonlocal most
        now = cluster.leaders()
        most = max(most, len(now))
        return now

    (new,) = wait_for("a new leader", new_leader)
    took = time.monotonic() - t0
    assert new is not old and most == 1
    root = cluster.tokens["root"]
    before = metric(new, root, "deconflict_cycles_total")
    wait_for("the new leader's cycles", lambda: metric(new, root, "deconflict_cycles_total") > before)
    return took
