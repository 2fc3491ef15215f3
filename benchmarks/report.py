"""Compliance report benchmark: how long a report holds the filing lock on a busy month's log.

Run ``python benchmarks/report.py --help``. For each store (a SQLite file; PostgreSQL when the
server at ``--pg`` answers) it

1. fills a fresh store with ``--days`` days of activity on the broker's own clock, minute by
   minute: ``--notices-per-day`` notices filed by ``--parties`` parties (lead times 10 min to 12 h,
   so some are late; overlapping ones make conflicts and their threads) and ``--alerts-per-day``
   tactical alerts (separation, incursion, nonconformance) recorded, raised to ``loss`` for some
   and cleared after 1 to 20 minutes, each opening its hotline thread;
2. times the compliance report over the whole period as the admin (``--repeat`` times, median),
   the same call the API and ``deconflict report`` make, and the reading of its facts alone;
3. times a notice filing on an idle broker (the peer: the cost of one filing, median of
   ``--filings``) and the same filing started 10 ms after a report began. Until code 8e709b1 the
   report read its facts under the filing lock and that filing waited for the whole read; now the
   read takes no lock and the filing only shares the process with it.

The ratios printed are the report's time and the filing's time during a report against the idle
filing measured in the same run: how many filings' worth of time a report would hold everything
up, and how much it actually does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from deconflict.adapters.sql.store import open_store
from deconflict.domain.alerts import Alert, AlertKind, Changes
from deconflict.domain.audit import BrokerKey
from deconflict.domain.disclosure_policy import DisclosurePolicy
from deconflict.domain.parties import Party, Role
from deconflict.domain.probes import ProbeRules
from deconflict.domain.times import format_time
from deconflict.services.broker import Broker
from deconflict.services.commands import parse_file_notice
from deconflict.services.reports import compliance as compliance_report
from deconflict.services.reports import read_facts

sys.path.insert(0, str(Path(__file__).parent))
from api import drop_schemas, pg_url  # the API benchmark's fresh PostgreSQL schemas

T0 = dt.datetime(2030, 3, 1, tzinfo=dt.UTC).timestamp()


class Clock:
    """The broker's clock, moved by the fill minute by minute."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def notice_body(rng: random.Random, filed_at: float) -> dict[str, Any]:
    start = filed_at + rng.uniform(600, 12 * 3600)
    lower = rng.uniform(0, 9000)
    return {
        "volumes": [
            {
                "volume": {
                    "outline_circle": {
                        "center": {"lat": rng.uniform(33, 37), "lng": rng.uniform(36, 41)},
                        "radius": {"value": rng.uniform(5, 30), "units": "KM"},
                    },
                    "altitude_lower": {"value": lower, "reference": "AMSL", "units": "M"},
                    "altitude_upper": {"value": lower + rng.uniform(500, 4000), "reference": "AMSL", "units": "M"},
                },
                "time_start": {"value": format_time(start), "format": "RFC3339"},
                "time_end": {"value": format_time(start + rng.uniform(1800, 4 * 3600)), "format": "RFC3339"},
            }
        ]
    }


def side(party: str, rng: random.Random) -> dict[str, Any]:
    return {"party": party, "aircraft": f"{party}-{rng.randrange(200)}"}


def new_alert(rng: random.Random, parties: list[str], now: float) -> Alert:
    kind = rng.choice(list(AlertKind))
    a, b = rng.sample(parties, 2)
    sides = [side(a, rng), side(b, rng)] if kind is AlertKind.SEPARATION else [side(a, rng)]
    involved = (a, b) if kind is not AlertKind.NONCONFORMANCE else (a,)
    severity = rng.choice(["low", "medium", "high"])
    key = f"{kind.value}:{uuid.uuid4().hex}"
    return Alert(uuid.uuid4().hex, key, kind, severity, involved, {"sides": sides}, "open", now, now)


def fill(broker: Broker, clock: Clock, args: argparse.Namespace, seed: int) -> dict[str, float]:
    """``args.days`` days of filings and alerts, minute by minute on ``clock``."""
    rng = random.Random(seed)
    names = [f"party-{i}" for i in range(args.parties)]
    parties = [broker.add_party(n, Role.PARTY)[0] for n in names]
    minutes = int(args.days * 1440)
    notices_per_min = args.notices_per_day / 1440
    alerts_per_min = args.alerts_per_day / 1440
    live: list[tuple[float, float | None, Alert]] = []  # (clear at, raise to loss at, alert)
    counts = {"notices": 0.0, "alerts": 0.0}
    t_start = time.perf_counter()
    for m in range(minutes):
        clock.t = T0 + 60 * m
        for _ in range(_poisson(rng, notices_per_min)):
            broker.file(parse_file_notice(rng.choice(parties), notice_body(rng, clock.t), broker.limits))
            counts["notices"] += 1
        created = [new_alert(rng, names, clock.t) for _ in range(_poisson(rng, alerts_per_min))]
        updated, cleared, still = [], [], []
        for clear_at, loss_at, a in live:
            if clock.t >= clear_at:
                last = format_time(clock.t - 2)
                body = {**a.body, "last_found_at": last}
                cleared.append(replace(a, state="cleared", cleared_at=clock.t, updated_at=clock.t, body=body))
            elif loss_at is not None and clock.t >= loss_at:
                a = replace(a, severity="loss", updated_at=clock.t)
                updated.append(a)
                still.append((clear_at, None, a))
            else:
                still.append((clear_at, loss_at, a))
        for a in created:
            life = 60 * rng.randint(1, 20)
            loss_at = clock.t + life / 2 if rng.random() < 0.3 else None
            still.append((clock.t + life, loss_at, a))
        live = still
        changes = Changes(created, updated, cleared)
        if changes:
            broker.record_alerts(changes)
            counts["alerts"] += len(created)
    counts["fill_s"] = time.perf_counter() - t_start
    clock.t = T0 + 60 * minutes
    counts["events"] = float(broker.last_seq())
    return counts


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: the number of arrivals in one minute."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def time_report(broker: Broker, args: argparse.Namespace) -> dict[str, float]:
    admin = Party("admin", Role.ADMIN)
    until = broker.clock()
    since, until_s = format_time(until - args.days * 86400), format_time(until)
    reports, reads = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        compliance_report(broker, admin, since, until_s)
        reports.append(time.perf_counter() - t0)
        with broker.store.begin(write=False) as repo:
            t0 = time.perf_counter()
            read_facts(repo, until - args.days * 86400, until)
            reads.append(time.perf_counter() - t0)
    return {"report_s": statistics.median(reports), "read_s": statistics.median(reads)}


def time_filings(broker: Broker, args: argparse.Namespace, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    filer = broker.party("party-0")
    admin = Party("admin", Role.ADMIN)
    until = broker.clock()
    since, until_s = format_time(until - args.days * 86400), format_time(until)
    idle = []
    for _ in range(args.filings):
        t0 = time.perf_counter()
        broker.file(parse_file_notice(filer, notice_body(rng, until), broker.limits))
        idle.append(time.perf_counter() - t0)
    during = []
    for _ in range(max(1, args.repeat)):
        started = threading.Event()
        worker = threading.Thread(target=_report_after, args=(started, broker, admin, since, until_s))
        worker.start()
        started.wait()
        time.sleep(0.01)  # the report is reading its facts by now (they take seconds)
        t0 = time.perf_counter()
        broker.file(parse_file_notice(filer, notice_body(rng, until), broker.limits))
        during.append(time.perf_counter() - t0)
        worker.join()
    return {"idle_filing_s": statistics.median(idle), "filing_during_report_s": statistics.median(during)}


def _report_after(started: threading.Event, broker: Broker, admin: Party, since: str, until: str) -> None:
    started.set()
    compliance_report(broker, admin, since, until)


def run(db: str, args: argparse.Namespace) -> dict[str, float]:
    clock = Clock(T0)
    store = open_store(db, clock=clock)
    # days of overlapping filings: far past the probe budget (its check still runs)
    broker = Broker(store, clock, BrokerKey.generate(), disclosure=DisclosurePolicy(probes=ProbeRules(budget=10**9)))
    try:
        out = fill(broker, clock, args, args.seed)
        out |= time_report(broker, args)
        out |= time_filings(broker, args, args.seed + 1)
    finally:
        store.close()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--days", type=float, default=31, help="days of activity (a report covers at most 31)")
    p.add_argument("--parties", type=int, default=6)
    p.add_argument("--notices-per-day", type=float, default=300)
    p.add_argument("--alerts-per-day", type=float, default=600)
    p.add_argument("--repeat", type=int, default=3, help="reports timed (median)")
    p.add_argument("--filings", type=int, default=20, help="idle filings timed (median)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test", help="PostgreSQL server")
    p.add_argument("--stores", default="sqlite,postgres")
    p.add_argument("--json", type=Path, help="write the figures here")
    args = p.parse_args()
    console = Console()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for store in args.stores.split(","):
            db = f"sqlite:///{tmp}/report.db" if store == "sqlite" else pg_url(args.pg)
            if db is None:
                console.print(f"[yellow]no PostgreSQL at {args.pg}: skipped[/]")
                continue
            console.print(f"{store}: filling {args.days:g} days…")
            results[store] = run(db, args)
    table = Table(title=f"Compliance report over {args.days:g} days ({platform.node()}, {os.cpu_count()} cores)")
    table.add_column("")
    for store in results:
        table.add_column(store, justify="right")
    lines: list[tuple[str, Any]] = [
        ("events in the log", lambda r: f"{r['events']:,.0f}"),
        ("notices filed", lambda r: f"{r['notices']:,.0f}"),
        ("alerts raised", lambda r: f"{r['alerts']:,.0f}"),
        ("fill (s)", lambda r: f"{r['fill_s']:.0f}"),
        ("report (s)", lambda r: f"{r['report_s']:.3f}"),
        ("  of which facts read (s)", lambda r: f"{r['read_s']:.3f}"),
        ("idle filing, the peer (ms)", lambda r: f"{r['idle_filing_s'] * 1e3:.1f}"),
        ("filing started during a report (ms)", lambda r: f"{r['filing_during_report_s'] * 1e3:.1f}"),
        ("report / idle filing", lambda r: f"{r['report_s'] / r['idle_filing_s']:,.0f}×"),
        ("delayed / idle filing", lambda r: f"{r['filing_during_report_s'] / r['idle_filing_s']:,.0f}×"),
    ]
    for label, show in lines:
        table.add_row(label, *(show(r) for r in results.values()))
    console.print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    try:
        main()
    finally:
        drop_schemas()
