"""Broker API benchmark: the cost of filing over HTTP against the same filing in-process.

Run ``python benchmarks/api.py --help``. For each store (SQLite file; PostgreSQL when reachable) it

1. starts ``deconflict serve`` as a separate process on a fresh store, registers two parties with
   ``deconflict party add`` and preloads ``--preload`` notices through the API;
2. files ``--n`` notices one after another over HTTP (keep-alive), timing each request, while the
   other party listens on ``/v1/events`` and the time from sending the request to receiving its
   ``notice.filed`` or ``conflict.created`` event is recorded;
3. files ``--threads`` × ``--n`` notices from concurrent clients (throughput);
4. files the same notices in-process with :meth:`Broker.file` on a second fresh store with the same
   preload: the peer, the same work without HTTP, JSON and a second process.

Half of the timed notices overlap a preloaded notice of the other party, so conflicts, their events
and hints are part of the work. Prints p50 / p99 latency, throughput and the HTTP / in-process ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from deconflict.adapters.sql.store import open_store
from deconflict.domain.audit import BrokerKey
from deconflict.domain.disclosure_policy import DisclosurePolicy
from deconflict.domain.parties import Role
from deconflict.domain.probes import ProbeRules
from deconflict.services.broker import Broker
from deconflict.services.commands import parse_file_notice

BIN = Path(sys.executable).parent


UNBUDGETED = DisclosurePolicy(probes=ProbeRules(budget=10**9))
"""Half the timed filings conflict with the other party's: the probe budget (50 a day by default)
would refuse them; it is lifted, and its check still runs, so its cost is in the figures."""


def body(rng: random.Random, i: int, tag: str, near: tuple[float, float] | None = None) -> dict[str, Any]:
    lat, lon = near if near else (rng.uniform(30, 40), rng.uniform(35, 50))
    day = 1 + (i % 28)
    return {
        "id": f"{tag}-{i}",
        "volumes": [
            {
                "volume": {
                    "outline_circle": {"center": {"lat": lat, "lng": lon}, "radius": {"value": 10, "units": "KM"}},
                    "altitude_lower": {"value": 3000, "reference": "AMSL", "units": "M"},
                    "altitude_upper": {"value": 8000, "reference": "AMSL", "units": "M"},
                },
                "time_start": {"value": f"2030-06-{day:02d}T06:00:00Z", "format": "RFC3339"},
                "time_end": {"value": f"2030-06-{day:02d}T09:00:00Z", "format": "RFC3339"},
            }
        ],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def run_http(
    db: str, workdir: Path, preload: list[dict[str, Any]], timed: list[dict[str, Any]], threads: int
) -> dict[str, float]:
    config = workdir / "theater.toml"
    config.write_text(f"[disclosure.probes]\nbudget = {UNBUDGETED.probes.budget}\n")
    env = {
        **os.environ,
        "DECONFLICT_DB": db,
        "DECONFLICT_KEY_FILE": str(workdir / "broker.key"),
        "DECONFLICT_CONFIG": str(config),
    }

    def cli(*args: str) -> str:
        return subprocess.run(
            [str(BIN / "deconflict"), *args], env=env, check=True, capture_output=True, text=True
        ).stdout

    cli("db", "upgrade")
    a = cli("party", "add", "red", "--role", "party").strip()
    b = cli("party", "add", "blue", "--role", "party").strip()
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "deconflict"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, server)
        ca = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {a}"}, timeout=30)
        cb = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {b}"}, timeout=30)
        for p in preload:
            cb.post("/v1/notices", json=p).raise_for_status()
        # the listener: blue sees red's notices only through conflicts, so it times conflict events
        arrivals: dict[str, float] = {}
        ready = threading.Event()

        def listen() -> None:
            with (
                httpx.Client(base_url=url, timeout=httpx.Timeout(30, read=5)) as c,
                c.stream("GET", "/v1/events", headers={"Authorization": f"Bearer {b}"}) as r,
            ):
                ready.set()
                try:
                    for line in r.iter_lines():
                        if line.startswith("data: "):
                            d = json.loads(line[6:])
                            if d["type"] == "conflict.created":
                                arrivals[d["data"]["conflict"]["sides"][0]["notice"]] = time.perf_counter()
                except httpx.ReadTimeout:
                    pass

        t = threading.Thread(target=listen, daemon=True)
        t.start()
        ready.wait(10)
        time.sleep(0.3)
        lat: list[float] = []
        sent: dict[str, float] = {}
        for n in timed:
            t0 = time.perf_counter()
            sent[f"red:{n['id']}"] = t0  # ids a party chooses are kept under its name
            r = ca.post("/v1/notices", json=n)
            r.raise_for_status()
            lat.append(time.perf_counter() - t0)
        t.join(10)
        event_lat = [arrivals[k] - sent[k] for k in arrivals if k in sent]
        # concurrent throughput
        batches = [[{**n, "id": f"{n['id']}-t{k}"} for n in timed] for k in range(threads)]
        t0 = time.perf_counter()

        def post_all(items: list[dict[str, Any]]) -> None:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {a}"}, timeout=60) as c:
                for n in items:
                    c.post("/v1/notices", json=n).raise_for_status()

        workers = [threading.Thread(target=post_all, args=(bt,)) for bt in batches]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        wall = time.perf_counter() - t0
        return {
            "p50_ms": pct(lat, 0.5) * 1e3,
            "p99_ms": pct(lat, 0.99) * 1e3,
            "event_p50_ms": pct(event_lat, 0.5) * 1e3 if event_lat else float("nan"),
            "events": float(len(event_lat)),
            "throughput": threads * len(timed) / wall,
        }
    finally:
        server.terminate()
        server.wait(10)


def run_inprocess(db: str, preload: list[dict[str, Any]], timed: list[dict[str, Any]]) -> dict[str, float]:
    store = open_store(db)
    broker = Broker(store, time.time, BrokerKey.generate(), disclosure=UNBUDGETED)
    red, _ = broker.add_party("red", Role.PARTY)
    blue, _ = broker.add_party("blue", Role.PARTY)
    for p in preload:
        broker.file(parse_file_notice(blue, p, broker.limits))
    lat = []
    for n in timed:
        t0 = time.perf_counter()
        broker.file(parse_file_notice(red, n, broker.limits))
        lat.append(time.perf_counter() - t0)
    store.close()
    return {"p50_ms": pct(lat, 0.5) * 1e3, "p99_ms": pct(lat, 0.99) * 1e3}


def wait_ready(url: str, proc: subprocess.Popen[Any], timeout_s: float = 60.0) -> None:
    """Wait until the server at ``url`` answers ``/readyz`` with 200; exit if it died or never did."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server at {url} exited with status {proc.returncode} before it was ready")
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"the server at {url} was not ready within {timeout_s:.0f} s")


SCHEMAS: list[tuple[str, str]] = []


def pg_url(base: str) -> str | None:
    """A URL on a fresh schema of the PostgreSQL at ``base`` (dropped at exit), or None."""
    import sqlalchemy as sa

    schema = f"bench_{os.getpid()}_{len(SCHEMAS)}"
    try:
        eng = sa.create_engine(base, poolclass=sa.NullPool)
        with eng.begin() as c:
            c.exec_driver_sql(f"CREATE SCHEMA {schema}")
        eng.dispose()
    except Exception:  # no PostgreSQL here: the benchmark runs on SQLite only
        return None
    SCHEMAS.append((base, schema))
    return sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="timed filings (default 200)")
    ap.add_argument("--preload", type=int, default=1000, help="notices filed before timing (default 1000)")
    ap.add_argument("--threads", type=int, default=4, help="concurrent clients for throughput (default 4)")
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test", help="PostgreSQL base URL")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    preload = [body(rng, i, "pre") for i in range(args.preload)]
    timed = []
    for i in range(args.n):
        if i % 2 == 0:  # overlaps a preloaded notice of the other party on the same day
            p = preload[(i * 7) % len(preload)]
            c = p["volumes"][0]["volume"]["outline_circle"]["center"]
            day = int(p["volumes"][0]["time_start"]["value"][8:10])
            timed.append(body(rng, day - 1 + 28 * i, "t", (c["lat"], c["lng"])))
        else:
            timed.append(body(rng, i, "t"))
    for i, n in enumerate(timed):
        n["id"] = f"t-{i}"
    console = Console()
    table = Table(
        title=f"filing a notice: {args.n} timed after {args.preload} preloaded "
        f"({platform.node()}, {os.cpu_count()} cores, {dt.date.today()})"
    )
    for col in (
        "store",
        "in-process p50 / p99 ms",
        "HTTP p50 / p99 ms",
        "HTTP / in-process",
        "SSE event p50 ms",
        f"HTTP {args.threads} clients /s",
    ):
        table.add_column(col)
    stores = [("sqlite", None)]
    pg = pg_url(args.pg)
    if pg:
        stores.append(("postgres", pg))
    for name, url in stores:
        with tempfile.TemporaryDirectory() as d:
            wd = Path(d)
            db_http = url or f"sqlite:///{wd / 'http.sqlite'}"
            console.print(f"[bold]{name}[/bold]: HTTP…")
            h = run_http(db_http, wd, preload, timed, args.threads)
            db_local = (pg_url(args.pg) if url else None) or f"sqlite:///{wd / 'local.sqlite'}"
            console.print(f"[bold]{name}[/bold]: in-process…")
            p = run_inprocess(db_local, preload, timed)
        table.add_row(
            name,
            f"{p['p50_ms']:.1f} / {p['p99_ms']:.1f}",
            f"{h['p50_ms']:.1f} / {h['p99_ms']:.1f}",
            f"{h['p50_ms'] / p['p50_ms']:.2f}×",
            f"{h['event_p50_ms']:.1f} ({h['events']:.0f} events)",
            f"{h['throughput']:.0f}",
        )
    console.print(table)


def drop_schemas() -> None:
    import sqlalchemy as sa

    for base, schema in SCHEMAS:
        eng = sa.create_engine(base, poolclass=sa.NullPool)
        with eng.begin() as c:
            c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        eng.dispose()


if __name__ == "__main__":
    try:
        main()
    finally:
        drop_schemas()
