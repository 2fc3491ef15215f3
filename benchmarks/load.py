"""Load benchmark: filings per second and their latency with many clients, old settings against new.

Run ``python benchmarks/load.py --help``. For each store (a SQLite file; a fresh PostgreSQL schema
when ``--pg`` answers) and each setting (``--variants``), it

1. makes a fresh store, registers two parties and preloads ``--preload`` notices of ``blue``
   in-process (the same code the API runs, without HTTP: only the timed part goes over HTTP);
2. starts ``deconflict serve`` on it with the variant's configuration;
3. runs ``wrk`` (Debian's, a C load generator on one thread: it leaves most of the CPU to the
   server) with ``--clients`` connections for ``--seconds``, each request a ``POST /v1/notices``
   of ``red``, half of them overlapping a preloaded notice of ``blue`` (a conflict, its events and
   its probe check are part of the work), the other half somewhere free;
4. reads wrk's count, rate and latency percentiles; ``filed/s`` counts only the answers that were
   not refused (wrk counts those of status 400 and up), and ``not 201`` says how many were.

The filings pile up where the 2000 prepared bodies put them, so a faster variant ends its run
with more notices to look through: if anything, that is against it.

Variants: ``base`` is the code of an older checkout (``--base-src``, its ``src/`` folder: the
broker before the throughput work, whose other costs are not settings); ``old`` is today's code
with one transaction and one COMMIT per filing (``[server] group_commit = false``); ``new`` the
default (filings that wait for the filing lock committed together: ``group_commit = true``);
``new-2w`` the same with ``serve --workers 2`` (PostgreSQL only). Prints filings/s, p50 and p99
for each, and each against ``base`` (else ``old``) measured in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from api import UNBUDGETED, body, drop_schemas, free_port, pg_url, wait_ready
from deconflict.adapters.sql.store import open_store
from deconflict.domain.audit import BrokerKey
from deconflict.domain.parties import Role
from deconflict.services.broker import Broker
from deconflict.services.commands import parse_file_notice

BIN = Path(sys.executable).parent

VARIANTS = {
    "base": ("", 1),
    "old": ("[server]\ngroup_commit = false\n", 1),
    "new": ("[server]\ngroup_commit = true\n", 1),
    "new-2w": ("[server]\ngroup_commit = true\n", 2),
}
"""Each variant's lines of the server's configuration (beside the lifted probe budget) and its
``serve --workers`` (PostgreSQL only above 1). ``base`` runs the code of ``--base-src``."""

PREPARE = """
import json, sys, time
from deconflict.adapters.sql.store import open_store
from deconflict.domain.audit import BrokerKey
from deconflict.domain.disclosure import DisclosurePolicy
from deconflict.domain.parties import Role
from deconflict.domain.probes import ProbeRules
from deconflict.services.broker import Broker
store = open_store(sys.argv[1])
broker = Broker(store, time.time, BrokerKey.generate(), disclosure=DisclosurePolicy(probes=ProbeRules(budget=10**9)))
_, red = broker.add_party("red", Role.PARTY)
blue, _ = broker.add_party("blue", Role.PARTY)
try:  # since issue 12's typed commands
    from deconflict.services.commands import parse_file_notice
    def file(body): broker.file(parse_file_notice(blue, body, broker.core.limits))
except ImportError:  # before them: Broker.file(caller, body)
    def file(body): broker.file(blue, body)
for line in open(sys.argv[2]):
    file(json.loads(line))
store.close()
print(red)
"""
"""The preload in the code of ``--base-src`` (its own schema, and its ``Broker.file``: of a command
parsed from the body, or before typed commands of the caller and the body)."""

WRK_SCRIPT = """
local bodies = {}
local f = io.open("%(bodies)s")
for line in f:lines() do bodies[#bodies + 1] = line end
f:close()
local i = 0
local headers = {["Authorization"] = "Bearer %(token)s", ["Content-Type"] = "application/json"}
request = function()
  i = i + 1
  return wrk.format("POST", "/v1/notices", headers, bodies[(i %% #bodies) + 1])
end
"""


def timed_bodies(rng: random.Random, preload: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """``n`` filings of red, every other one overlapping a preloaded notice of blue on its day."""
    out = []
    for i in range(n):
        if i % 2 == 0:
            p = preload[(i * 7) % len(preload)]
            c = p["volumes"][0]["volume"]["outline_circle"]["center"]
            day = int(p["volumes"][0]["time_start"]["value"][8:10])
            b = body(rng, day - 1, "t", (c["lat"], c["lng"]))
        else:
            b = body(rng, i, "t")
        del b["id"]  # wrk's threads send the same lines: the broker names each filing
        out.append(b)
    return out


def prepare_store(db: str, preload: list[dict[str, Any]]) -> str:
    """A fresh store with red and blue registered and blue's notices filed; red's token."""
    store = open_store(db)
    try:
        broker = Broker(store, time.time, BrokerKey.generate(), disclosure=UNBUDGETED)
        _, red = broker.add_party("red", Role.PARTY)
        blue, _ = broker.add_party("blue", Role.PARTY)
        for p in preload:
            broker.file(parse_file_notice(blue, p, broker.core.limits))
        return red
    finally:
        store.close()


def parse_wrk(out: str) -> dict[str, float]:
    """Requests, rate, p50 and p99 (ms) and the count of answers that were not 2xx from wrk's
    ``--latency`` report."""

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            raise SystemExit(f"wrk printed no {label}th percentile:\n{out}")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if not requests or not rate:
        raise SystemExit(f"wrk's report was not understood:\n{out}")
    n, per_s = float(requests.group(1)), float(rate.group(1))
    not_filed = float(bad.group(1)) if bad else 0.0
    return {
        "requests": n,
        "rate": per_s * (n - not_filed) / n if n else 0.0,  # answers that filed: a refusal is quick
        "p50": ms("50"),
        "p99": ms("99"),
        "bad": not_filed,
        "socket_errors": 1.0 if errors else 0.0,
    }


def base_env(args: argparse.Namespace) -> dict[str, str]:
    """The environment that runs the code of ``--base-src`` (its ``src/`` first on the path)."""
    return {**os.environ, "PYTHONPATH": str(Path(args.base_src).resolve())}


def prepare_base(db: str, preload: list[dict[str, Any]], wd: Path, args: argparse.Namespace) -> str:
    """:func:`prepare_store` run by the code of ``--base-src``; red's token."""
    lines = wd / "preload.jsonl"
    lines.write_text("".join(json.dumps(p) + "\n" for p in preload))
    out = subprocess.run(
        [sys.executable, "-c", PREPARE, db, str(lines)], env=base_env(args), capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


def run_variant(db: str, wd: Path, variant: str, red: str, bodies: Path, args: argparse.Namespace) -> dict[str, float]:
    config = wd / f"{variant}.toml"
    lines, workers = VARIANTS[variant]
    config.write_text(f"[disclosure.probes]\nbudget = {UNBUDGETED.probes.budget}\n\n{lines}")
    env = {
        **(base_env(args) if variant == "base" else os.environ),
        "DECONFLICT_DB": db,
        "DECONFLICT_KEY_FILE": str(wd / "broker.key"),
        "DECONFLICT_CONFIG": str(config),
    }
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "deconflict"), "serve", "--port", str(port), *(["--workers", str(workers)] if workers > 1 else [])],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, server)
        script = wd / f"{variant}.lua"
        script.write_text(WRK_SCRIPT % {"bodies": bodies, "token": red})
        wrk = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{args.clients}",
                f"-d{args.seconds}s",
                "--timeout",
                "30s",
                "--latency",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return parse_wrk(wrk.stdout)
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=32, help="concurrent connections (default 32)")
    ap.add_argument("--seconds", type=int, default=30, help="length of each wrk run (default 30)")
    ap.add_argument("--preload", type=int, default=1000, help="blue's notices filed before timing (default 1000)")
    ap.add_argument("--variants", default="old,new,new-2w", help="comma-separated, of: " + ", ".join(VARIANTS))
    ap.add_argument("--stores", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test", help="PostgreSQL base URL")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--base-src",
        help="the src/ folder of an older checkout (git worktree add /tmp/base 8acd532): variant base runs it",
    )
    args = ap.parse_args()
    if "base" in args.variants.split(",") and not args.base_src:
        raise SystemExit("--variants base needs --base-src")
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk: apt-get install -y wrk")
    variants = args.variants.split(",")
    for v in variants:
        if v not in VARIANTS:
            raise SystemExit(f"--variants: {v!r} is not one of {', '.join(VARIANTS)}")
    rng = random.Random(args.seed)
    preload = [body(rng, i, "pre") for i in range(args.preload)]
    console = Console()
    load = os.getloadavg()[0]
    table = Table(
        title=f"filings over HTTP: {args.clients} clients × {args.seconds} s after {args.preload} preloaded "
        f"({platform.node()}, {os.cpu_count()} cores, {dt.date.today()}, load {load:.1f} at start)"
    )
    for col in ("store", "setting", "answers", "not 201", "filed/s", "p50 ms", "p99 ms", "against base (else old)"):
        table.add_column(col, justify="right")
    lines = Path(tempfile.mkdtemp()) / "bodies.jsonl"  # the same filings for every variant
    lines.write_text("".join(json.dumps(b) + "\n" for b in timed_bodies(rng, preload, 2000)))
    for store in args.stores.split(","):
        results: dict[str, dict[str, float]] = {}
        for variant in variants:
            if store == "sqlite" and VARIANTS[variant][1] > 1:
                continue  # one process writes a SQLite file
            with tempfile.TemporaryDirectory() as d:
                wd = Path(d)
                db = f"sqlite:///{wd / 'load.sqlite'}" if store == "sqlite" else pg_url(args.pg)
                if db is None:
                    console.print(f"no PostgreSQL at {args.pg}: {store} left out")
                    break
                console.print(f"[bold]{store}[/bold] {variant}: preloading {args.preload}…")
                red = prepare_base(db, preload, wd, args) if variant == "base" else prepare_store(db, preload)
                console.print(f"[bold]{store}[/bold] {variant}: wrk {args.clients} clients {args.seconds} s…")
                r = results[variant] = run_variant(db, wd, variant, red, lines, args)
                if r["bad"] or r["socket_errors"]:
                    console.print(f"[red]{store} {variant}: {r['bad']:.0f} answers were not 201[/red]")
            old = results.get("base") or results.get("old")
            ratio = (
                f"{r['rate'] / old['rate']:.2f}× /s, p99 {r['p99'] / old['p99']:.2f}×" if old and r is not old else ""
            )
            figures = (
                f"{r['requests']:.0f}",
                f"{r['bad']:.0f}",
                f"{r['rate']:.0f}",
                f"{r['p50']:.1f}",
                f"{r['p99']:.1f}",
            )
            table.add_row(store, variant, *figures, ratio)
    console.print(table)


if __name__ == "__main__":
    try:
        main()
    finally:
        drop_schemas()
