"""One heavy filing against another party's filings (issue 11 §6).

Run ``python benchmarks/heavy_filing.py --help``. For each store (SQLite file; PostgreSQL when
reachable) it starts ``deconflict serve`` as a separate process on a fresh store, registers three
parties, and

1. ``green`` files ``--neighbours`` small notices inside the heavy notice's area, spread over its
   volumes' weeks (each conflicts with the volumes of its week and the weeks either side: 25 give
   the heavy filing 50 conflicts, the default ``max_conflicts_per_filing``);
2. ``blue`` files small notices far away in a loop, one after another, timing each request: first
   alone (the peer), then while ``red`` files the heaviest notice the default limits allow
   (``--volumes`` volumes of a 1000-vertex star polygon 480 km across, each 7 days, the whole
   altitude range, 2000 vertices in all) ``--heavy`` times, one after another.

Prints blue's p50 / p99 latency alone and during the heavy filings, the ratio and the difference,
the heavy filing's own time, and, from the server's debug log of each write, how long blue's
filings waited for the filing lock (p50 / p99) and how long each heavy filing held it: the delay
that is not lock wait is the competition for the CPU (the 2 cores; a probe saw no long GIL holds).
The target: the heavy filing delays the other party's filing by less than 100 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
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

sys.path.insert(0, str(Path(__file__).parent))
from api import drop_schemas, free_port, pct, pg_url, wait_ready  # the house helpers (benchmarks/api.py)

BIN = Path(sys.executable).parent
CENTRE = (35.0, 38.0)


def band(lower: float, upper: float) -> dict[str, Any]:
    return {
        "altitude_lower": {"value": lower, "reference": "AMSL", "units": "M"},
        "altitude_upper": {"value": upper, "reference": "AMSL", "units": "M"},
    }


def week(k: int) -> dict[str, Any]:
    start = dt.datetime(2030, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=7 * k)
    end = start + dt.timedelta(days=7)
    return {
        "time_start": {"value": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "format": "RFC3339"},
        "time_end": {"value": end.strftime("%Y-%m-%dT%H:%M:%SZ"), "format": "RFC3339"},
    }


def star(n: int, outer_km: float, inner_km: float) -> list[dict[str, float]]:
    lat, lon = CENTRE
    out = []
    for k in range(n):
        r = (outer_km if k % 2 == 0 else inner_km) / 111.2
        a = 2 * math.pi * k / n
        out.append({"lat": lat + r * math.sin(a), "lng": lon + r * math.cos(a) / math.cos(math.radians(lat))})
    return out


def heavy(i: int, volumes: int) -> dict[str, Any]:
    ring = star(1000, 240, 200)
    return {
        "id": f"heavy-{i}",
        "volumes": [
            {"volume": {"outline_polygon": {"vertices": ring}, **band(-400, 99_000)}, **week(k)} for k in range(volumes)
        ],
    }


def circle(nid: str, lat: float, lon: float, k: int, km: float = 5) -> dict[str, Any]:
    return {
        "id": nid,
        "volumes": [
            {
                "volume": {
                    "outline_circle": {"center": {"lat": lat, "lng": lon}, "radius": {"value": km, "units": "KM"}},
                    **band(3000, 6000),
                },
                **week(k),
            }
        ],
    }


SERVE = """
import logging, sys
h = logging.FileHandler(sys.argv.pop(1))
h.setFormatter(logging.Formatter("%(message)s"))
lg = logging.getLogger("deconflict.services.transaction")
lg.addHandler(h)
lg.setLevel(logging.DEBUG)
from deconflict.cli import main
sys.argv[0] = "deconflict"
main()
"""
"""``deconflict serve`` with the broker's filing-lock timings (a debug line per write) logged to a file."""


def locks(path: Path, offset: int) -> dict[str, dict[str, list[float]]]:
    """Per party, the filing lock's wait and hold times (s) logged after ``offset``."""
    out: dict[str, dict[str, list[float]]] = {}
    with path.open() as f:
        f.seek(offset)
        for line in f:
            w = line.split()  # filing lock PARTY waited X ms held Y ms
            if len(w) == 9 and w[:2] == ["filing", "lock"]:
                d = out.setdefault(w[2], {"waited": [], "held": []})
                d["waited"].append(float(w[4]) / 1e3)
                d["held"].append(float(w[7]) / 1e3)
    return out


def run(db: str, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, "DECONFLICT_DB": db, "DECONFLICT_KEY_FILE": str(workdir / "broker.key")}

    def cli(*a: str) -> str:
        return subprocess.run([str(BIN / "deconflict"), *a], env=env, check=True, capture_output=True, text=True).stdout

    cli("db", "upgrade")

    def add(p: str) -> str:
        together = ["--coalition", "allies"] if args.coalition and p in ("red", "green") else []
        return cli("party", "add", p, "--role", "party", *together).strip()

    tokens = {p: add(p) for p in ("red", "blue", "green")}
    port = free_port()
    lock_log = workdir / "lock.log"
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(lock_log), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("HEAVY_SERVER_LOG", os.devnull), "w"),  # noqa: SIM115
    )
    url = f"http://127.0.0.1:{port}"

    def client(p: str) -> httpx.Client:
        return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens[p]}"}, timeout=600)

    try:
        wait_ready(url, server)
        with client("green") as g:
            for i in range(args.neighbours):  # inside the star, one volume's week each
                a = 2 * math.pi * i / args.neighbours
                lat, lon = CENTRE[0] + 1.2 * math.sin(a), CENTRE[1] + 1.2 * math.cos(a)
                g.post("/v1/notices", json=circle(f"n{i}", lat, lon, i % args.volumes)).raise_for_status()
        blue = client("blue")
        n = [0]

        def small() -> float:
            n[0] += 1
            t0 = time.perf_counter()
            blue.post("/v1/notices", json=circle(f"b{n[0]}", 20.0 + (n[0] % 50) * 0.3, 10.0, 60)).raise_for_status()
            return time.perf_counter() - t0

        for _ in range(5):
            small()  # warm-up
        alone = [small() for _ in range(args.n)]
        heavy_s: list[float] = []
        conflicts: list[int] = []
        done = threading.Event()

        def file_heavy() -> None:
            with client("red") as r:
                for i in range(args.heavy):
                    t0 = time.perf_counter()
                    resp = r.post("/v1/notices", json=heavy(i, args.volumes))
                    heavy_s.append(time.perf_counter() - t0)
                    resp.raise_for_status()
                    conflicts.append(len(resp.json()["conflicts"]))
            done.set()

        t = threading.Thread(target=file_heavy)
        mark = lock_log.stat().st_size
        t.start()
        during = []
        while not done.is_set():
            during.append(small())
        t.join()
        blue.close()
        return {
            "alone": alone,
            "during": during,
            "heavy_s": heavy_s,
            "conflicts": conflicts,
            "lock": locks(lock_log, mark),
        }
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100, help="blue's filings timed alone (default 100)")
    ap.add_argument("--heavy", type=int, default=3, help="heavy filings, one after another (default 3)")
    ap.add_argument("--volumes", type=int, default=2, help="volumes of 1000 vertices in the heavy notice (2)")
    ap.add_argument("--neighbours", type=int, default=25, help="green notices near the heavy one (25: 50 conflicts)")
    ap.add_argument(
        "--coalition",
        action="store_true",
        help="red and green in one coalition: red sees green's notices whole, so its filings get resolution "
        "hints and the probe rule looks for notices it does not see (both made before the lock)",
    )
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test", help="PostgreSQL base URL")
    args = ap.parse_args()
    console = Console(width=200)
    table = Table(
        title=f"another party's filing during a heavy one: {args.volumes} × 1000 vertices, {args.neighbours} "
        f"neighbours{', red and green allies' if args.coalition else ''} "
        f"({platform.node()}, {os.cpu_count()} cores, {dt.date.today()})"
    )
    for col in (
        "store",
        "blue alone p50 / p99 ms",
        "blue during heavy p50 / p99 ms (n)",
        "ratio p50 / p99",
        "delay p50 / p99 ms",
        "heavy filing s (conflicts)",
        "blue lock wait p50 / p99 ms",
        "red lock held ms",
    ):
        table.add_column(col)
    stores: list[tuple[str, str | None]] = [("sqlite", None)]
    pg = pg_url(args.pg)
    if pg:
        stores.append(("postgres", pg))
    for name, url in stores:
        with tempfile.TemporaryDirectory() as d:
            console.print(f"[bold]{name}[/bold]…")
            r = run(url or f"sqlite:///{Path(d) / 'heavy.sqlite'}", Path(d), args)
        a50, a99 = pct(r["alone"], 0.5) * 1e3, pct(r["alone"], 0.99) * 1e3
        d50, d99 = pct(r["during"], 0.5) * 1e3, pct(r["during"], 0.99) * 1e3
        lk = r["lock"]
        bw = lk.get("blue", {}).get("waited")
        table.add_row(
            name,
            f"{a50:.1f} / {a99:.1f}",
            f"{d50:.1f} / {d99:.1f} ({len(r['during'])})",
            f"{d50 / a50:.2f}× / {d99 / a99:.2f}×",
            f"{d50 - a50:.1f} / {d99 - a99:.1f}",
            " ".join(f"{s:.2f}" for s in r["heavy_s"]) + f" ({', '.join(map(str, r['conflicts']))})",
            f"{pct(bw, 0.5) * 1e3:.1f} / {pct(bw, 0.99) * 1e3:.1f}"
            if (bw := lk.get("blue", {}).get("waited"))
            else "-",
            " ".join(f"{x * 1e3:.0f}" for x in lk.get("red", {}).get("held", [])),
        )
    console.print(table)


if __name__ == "__main__":
    try:
        main()
    finally:
        drop_schemas()
