"""Filing under export and report pressure: does one party looping on the heavy endpoints starve another?

Run ``python benchmarks/pressure.py --help``. On one store (SQLite file, or ``--db`` a PostgreSQL URL):

1. ``deconflict serve`` runs with the heavy limits off (``heavy_per_minute = 0``, 100 at a time:
   the broker before issue 11); ``blue`` files ``--preload`` notices, so its export is large;
2. ``red`` files notices one after another for ``--seconds`` alone (the peer), then as long again
   while ``blue`` loops on ``/v1/audit/export`` and ``/v1/reports/compliance`` (two clients, each
   calling again as soon as an answer arrives, 429 or not, as a hostile or broken client would);
3. the server is restarted on the same store with the default limits (``[rate_limits]``) and
   step 2 is repeated.

Then, once more, blue loops honouring ``Retry-After`` (waits as long as it says after a 429).
Prints red's filings per second and p50 / p99 latency in each phase and the ratio under pressure
to alone in the same server, and what blue got (200 / 429). Blue's clients run in processes of
their own; on a 2-core machine they compete with the server for the CPU, as they would not from
another host.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from api import BIN, body, free_port, pct, wait_ready


def serve(env: dict[str, str], config: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "deconflict"), "serve", "--port", str(port), "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, proc)
    return proc, url


def file_for(url: str, token: str, seconds: float, tag: str, rng: random.Random) -> tuple[list[float], int]:
    """File notices one after another for ``seconds``: the latencies of those accepted, and refusals."""
    lat: list[float] = []
    refused = 0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
        end = time.perf_counter() + seconds
        i = 0
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            r = c.post("/v1/notices", json=body(rng, i, tag))
            if r.status_code == 201:
                lat.append(time.perf_counter() - t0)
            else:
                refused += 1
            i += 1
    return lat, refused


def hammer(url: str, token: str, path: str, stop: Any, out: Any, polite: bool) -> None:
    """Blue's loop, in a process of its own (so that it does not share red's interpreter lock);
    ``polite``: it waits as long as ``Retry-After`` says after a 429."""
    counts: dict[str, int] = {}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as c:
        while not stop.is_set():
            r = c.get(path)
            counts[str(r.status_code)] = counts.get(str(r.status_code), 0) + 1
            if polite and r.status_code == 429:
                stop.wait(float(r.headers["Retry-After"]))
    out.put(counts)


def phase(
    url: str, red: str, blue: str, seconds: float, tag: str, pressure: bool, polite: bool = False
) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=hammer, args=(url, blue, p, stop, out, polite), daemon=True)
        for p in ("/v1/audit/export", "/v1/reports/compliance")
        if pressure
    ]
    for p in procs:
        p.start()
    lat, refused = file_for(url, red, seconds, tag, random.Random(tag))
    stop.set()
    counts: dict[str, int] = {}
    for _ in procs:
        for k, v in out.get(timeout=120).items():
            counts[k] = counts.get(k, 0) + v
    for p in procs:
        p.join(120)
    return {
        "rate": len(lat) / seconds,
        "p50": pct(lat, 0.5) * 1000,
        "p99": pct(lat, 0.99) * 1000,
        "refused": refused,
        "blue": counts,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preload", type=int, default=2000, help="notices blue files first (default 2000)")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each phase (default 10)")
    ap.add_argument("--db", help="store URL (default: a fresh SQLite file)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dcf-pressure-"))
    db = args.db or f"sqlite:///{work / 'broker.sqlite'}"
    env = {**os.environ, "DECONFLICT_DB": db, "DECONFLICT_KEY_FILE": str(work / "broker.key")}

    def cli(*a: str) -> str:
        return subprocess.run([str(BIN / "deconflict"), *a], env=env, check=True, capture_output=True, text=True).stdout

    cli("db", "upgrade")
    red = cli("party", "add", "red", "--role", "party").strip()
    blue = cli("party", "add", "blue", "--role", "party").strip()
    off = work / "off.toml"
    off.write_text("[rate_limits]\nheavy_per_minute = 0\nheavy_concurrent = 100\n")
    on = work / "on.toml"
    on.write_text("")  # the defaults
    rows = []
    proc, url = serve(env, off)
    try:
        rng = random.Random(1)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {blue}"}, timeout=60) as c:
            for i in range(args.preload):
                c.post("/v1/notices", json=body(rng, i, "pre")).raise_for_status()
            size = len(c.get("/v1/audit/export").content)
        rows.append(("limits off", "alone", phase(url, red, blue, args.seconds, "off-alone", False)))
        rows.append(("limits off", "export+report loop", phase(url, red, blue, args.seconds, "off-busy", True)))
    finally:
        proc.terminate()
        proc.wait(30)
    proc, url = serve(env, on)
    try:
        rows.append(("default limits", "alone", phase(url, red, blue, args.seconds, "on-alone", False)))
        rows.append(("default limits", "export+report loop", phase(url, red, blue, args.seconds, "on-busy", True)))
        rows.append(
            (
                "default limits",
                "loop honouring Retry-After",
                phase(url, red, blue, args.seconds, "on-polite", True, polite=True),
            )
        )
    finally:
        proc.terminate()
        proc.wait(30)

    print(
        f"{dt.date.today()} {platform.python_version()} {os.cpu_count()} cores, store {db.split(':')[0]}, "
        f"preload {args.preload} notices, blue's export {size / 1e6:.1f} MB, {args.seconds:g} s a phase"
    )
    print("| server | red files | red filings/s | p50 ms | p99 ms | vs alone (rate) | vs alone (p99) | blue got |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for i, (server, what, r) in enumerate(rows):
        alone = rows[0 if i < 2 else 2][2]
        print(
            f"| {server} | {what} | {r['rate']:.1f} | {r['p50']:.1f} | {r['p99']:.1f} | "
            f"{r['rate'] / alone['rate']:.2f}× | {r['p99'] / alone['p99']:.2f}× | "
            f"{', '.join(f'{k}: {v}' for k, v in sorted(r['blue'].items())) or '–'} |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
