"""The failover drill's broker, its filers, and the checks made on the final log (drills/failover.py)."""

from __future__ import annotations

import json
import random
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from cluster import Cluster
from processes import EXE, answers_ready, free_port, serve_env, start_serve, stop, wait_serving

START_TIMEOUT_S = 120.0
"""How long the broker may take to answer /readyz after its start."""
ATTEMPT_TIMEOUT_S = 15.0
"""An attempt that got no answer this long is abandoned and retried with the same key."""
RETRY_PAUSE_S = 0.2
RETRIED = {429, 502, 503, 504}


class Broker:
    """``deconflict serve`` on ``db_url`` in ``workdir`` (its key file), with one party to file."""

    def __init__(self, db_url: str, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.db_url, self.workdir = db_url, workdir
        self.env = serve_env()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""
        self.public_key = ""

    def deconflict(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([EXE, *args], cwd=self.workdir, env=self.env, capture_output=True, text=True, timeout=300)

    def __enter__(self) -> Broker:
        proc = start_serve(["--port", str(self.port), "--db", self.db_url], self.workdir, self.env, self.log)
        self.proc = proc
        try:
            wait_serving(proc, lambda: answers_ready(self.url), self.log, START_TIMEOUT_S, 0.2)
            r = self.deconflict("party", "add", "drill-filer", "--role", "party", "--db", self.db_url)
            if r.returncode != 0:
                raise RuntimeError(f"deconflict party add: {r.stderr}")
            self.token = r.stdout.split()[0]
            self.public_key = httpx.get(
                f"{self.url}/v1/audit/key", headers={"Authorization": f"Bearer {self.token}"}, timeout=10
            ).json()["public_key"]
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self.proc is not None:
            stop(self.proc, 30)


@dataclass(frozen=True)
class Attempt:
    key: str
    start: float
    end: float
    ok: bool
    outcome: str

    @property
    def seconds(self) -> float:
        return self.end - self.start


def notice(key: str, rng: random.Random) -> dict[str, Any]:
    """A notice an hour from now somewhere in a small box: some of them conflict."""
    now = time.time()

    def at(t: float) -> dict[str, str]:
        return {"value": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)), "format": "RFC3339"}

    return {
        "id": key,
        "volumes": [
            {
                "volume": {
                    "outline_circle": {
                        "center": {"lat": 35.0 + rng.random(), "lng": 36.0 + rng.random()},
                        "radius": {"value": 3, "units": "KM"},
                    },
                    "altitude_lower": {"value": 3000, "reference": "AMSL", "units": "M"},
                    "altitude_upper": {"value": 4000, "reference": "AMSL", "units": "M"},
                },
                "time_start": at(now + 3600),
                "time_end": at(now + 7200),
            }
        ],
    }


class Filers:
    """``n`` threads filing one notice after another, each under its own ``Idempotency-Key``,
    retried with the same key and body until acknowledged; :meth:`stop` lets each finish its key."""

    def __init__(self, url: str, token: str, n: int) -> None:
        self.url, self.token = url, token
        self.receipts: dict[str, dict[str, Any]] = {}
        self.problems: list[str] = []
        self.keys_started = 0
        self._attempts: list[Attempt] = []
        self._acks: list[float] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(n)]
        for t in self._threads:
            t.start()

    def _run(self, worker: int) -> None:
        rng = random.Random(worker)
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=ATTEMPT_TIMEOUT_S) as client:
            i = 0
            while not self._stopping.is_set():
                i += 1
                key = f"w{worker}-{i}"
                with self._lock:
                    self.keys_started += 1
                self._file(client, key, notice(key, rng))

    def _file(self, client: httpx.Client, key: str, body: dict[str, Any]) -> None:
        while True:
            start = time.monotonic()
            try:
                r = client.post("/v1/notices", json=body, headers={"Idempotency-Key": key})
                outcome, ok = str(r.status_code), r.status_code == 201
            except httpx.TransportError as e:  # no answer: it may or may not have been filed
                r, outcome, ok = None, type(e).__name__, False
            end = time.monotonic()
            with self._lock:
                self._attempts.append(Attempt(key, start, end, ok, outcome))
                if ok:
                    assert r is not None
                    receipt = r.json()["receipt"]
                    earlier = self.receipts.setdefault(key, receipt)
                    if earlier != receipt:
                        self.problems.append(f"{key}: two receipts for one key: {earlier} and {receipt}")
                    self._acks.append(end)
                    return
            if r is not None and r.status_code not in RETRIED:
                with self._lock:
                    self.problems.append(f"{key}: answered {r.status_code}: {r.text[:300]}")
                return
            time.sleep(RETRY_PAUSE_S)

    def acknowledged_since(self, t: float) -> int:
        with self._lock:
            return sum(1 for a in self._acks if a >= t)

    def ack_times(self) -> list[float]:
        with self._lock:
            return sorted(self._acks)

    def attempts_between(self, t0: float, t1: float) -> list[Attempt]:
        """Attempts that were in flight at some moment of ``[t0, t1]``."""
        with self._lock:
            return [a for a in self._attempts if a.end >= t0 and a.start <= t1]

    def stop(self, timeout_s: float) -> None:
        """Start no new key; wait for each filer to have its last key acknowledged."""
        self._stopping.set()
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                self.problems.append(f"{t.name}: its last key was not acknowledged within {timeout_s:g} s")


def _log_of(dsn: str) -> list[tuple[int, str]]:
    with psycopg.connect(dsn) as conn:
        return [(int(s), str(h)) for s, h in conn.execute("SELECT seq, hash FROM events ORDER BY seq")]


def verify_final(cluster: Cluster, broker: Broker, filers: Filers) -> list[str]:
    """What the final log says about the receipts, the keys and the timelines (the module of
    drills/failover.py); each problem as one line, none when all is well."""
    problems: list[str] = []
    export = broker.workdir / "export.json"
    r = broker.deconflict("audit", "export", "--db", broker.db_url, "-o", str(export))
    if r.returncode != 0:
        return [f"deconflict audit export: exit {r.returncode}: {r.stderr.strip()}"]
    r = broker.deconflict("audit", "verify", str(export), "--key", broker.public_key)
    if r.returncode != 0:
        problems.append(f"deconflict audit verify of the final log: exit {r.returncode}: {r.stdout}{r.stderr}")
    doc = json.loads(export.read_text())
    held = broker.workdir / "export-with-held-receipts.json"
    held.write_text(json.dumps({**doc, "receipts": sorted(filers.receipts.values(), key=lambda x: x["log_seq"])}))
    r = broker.deconflict("audit", "verify", str(held), "--key", broker.public_key)
    if r.returncode != 0:
        problems.append(f"the receipts the filers hold do not verify against the final log: {r.stdout}{r.stderr}")
    filed = Counter(
        str(e["payload"]["notice"]["id"]).split(":", 1)[-1]
        for e in doc["events"]
        if e.get("type") == "notice.filed" and e["payload"].get("notice", {}).get("version", 1) == 1
    )
    twice = sorted(k for k, n in filed.items() if n > 1)
    if twice:
        problems.append(f"keys filed more than once: {twice[:20]}")
    missing = sorted(k for k in filers.receipts if filed[k] != 1)
    if missing:
        problems.append(f"acknowledged keys not in the final log: {missing[:20]}")
    primary = cluster.primary()
    if primary is None:
        return [*problems, "no primary at the end"]
    head = _log_of(cluster.dsn(primary))
    for node in cluster.nodes:
        if node is primary:
            continue
        deadline = time.monotonic() + 60
        while (log := _log_of(cluster.dsn(node))) != head and log == head[: len(log)] and time.monotonic() < deadline:
            time.sleep(0.5)  # an asynchronous standby catching up
        if log != head:
            fork = next((s for (s, h), (_, h2) in zip(log, head, strict=False) if h != h2), None)
            problems.append(
                f"{node.name}'s log differs from the primary's ({len(log)} events against {len(head)}"
                + (f", first at seq {fork})" if fork is not None else ")")
            )
    return problems
