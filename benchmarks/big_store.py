"""Filing into a large store: filings a second, one after another, as the store grows to 1M notices.

Run ``python benchmarks/big_store.py --help``. For each size in ``--sizes`` and each store
(a SQLite file; a fresh PostgreSQL schema when ``--pg`` answers), it

1. bulk-loads the first n notices of ``strategic.py``'s synthetic theater (its stored stream:
   about 4000 × 3000 km, one week, eight parties, 0.2 % protected sites) through the store's own
   write path without detection, ``BULK_TX`` a transaction, as that benchmark does;
2. registers the eight parties and files ``--filings`` notices of its query stream one after
   another through ``Broker.file``, each by its own party as the API files it (the body parsed from
   JSON, detection against every stored notice, conflicts and their slices, the probe check, the
   event log and a signed receipt, one transaction each), in this process: no HTTP;
3. prints filings a second and the p50 / p99 of one filing at each size, and each size against
   the smallest measured in the same run (the peer: the same filings into a small store).

Issue 14's target is 200 filings a second into a store of 1M notices. The load of 1M notices
takes about 10 minutes on SQLite and 25 on PostgreSQL on a 2-core machine.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from api import UNBUDGETED, drop_schemas, pct, pg_url
from deconflict.adapters.sql.store import open_store
from deconflict.domain.audit import BrokerKey
from deconflict.domain.notice_json import notice_to_json
from deconflict.domain.parties import Role
from deconflict.domain.volumes import Notice
from deconflict.services.broker import Broker
from deconflict.services.commands import parse_file_notice
from strategic import FILED_AT, PARTIES, QUERY, STORED, bulk_add, generate_many, progress_bar


def load(url: str, notices: list[Notice], progress: Any) -> float:
    """Bulk-load ``notices`` into a fresh store at ``url``; notices a second."""
    store = open_store(url)
    try:
        t = time.perf_counter()
        bulk_add(store, notices, progress, f"{url.split(':')[0]}: bulk load")
        if store.engine.dialect.name == "postgresql":  # planner statistics, as after any bulk load
            with store.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
        return len(notices) / max(time.perf_counter() - t, 1e-9)
    finally:
        store.close()


def file_all(url: str, filings: list[Notice], profile: str | None = None) -> list[float]:
    """File ``filings`` one after another through ``Broker.file``; seconds each (with ``profile``,
    under cProfile, its statistics written there)."""
    store = open_store(url)
    try:
        broker = Broker(store, lambda: FILED_AT, BrokerKey.generate(), disclosure=UNBUDGETED)
        parties = {name: broker.add_party(name, Role.PARTY)[0] for name in PARTIES}
        # each body as the API receives it (JSON types only), made before the timing
        bodies = [(parties[n.party], json.loads(json.dumps(notice_to_json(replace(n, id=None))))) for n in filings]
        times = []
        prof = cProfile.Profile() if profile else None
        for caller, body in bodies:
            t = time.perf_counter()
            if prof is not None:
                prof.enable()
            broker.file(parse_file_notice(caller, body, broker.core.limits))
            if prof is not None:
                prof.disable()
            times.append(time.perf_counter() - t)
        if prof is not None and profile:
            prof.dump_stats(profile)
        return times
    finally:
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,1000000", help="stored notices, comma-separated (default 1000,1000000)")
    ap.add_argument("--filings", type=int, default=300, help="notices filed one by one at each size (default 300)")
    ap.add_argument("--stores", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test", help="PostgreSQL base URL")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2, help="processes generating notices")
    ap.add_argument("--profile", help="cProfile the filings at the largest size; write the statistics here")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    console = Console()
    rows: list[tuple[str, int, float, float, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp, progress_bar(console) as progress:
        stored = generate_many(args.seed, STORED, max(sizes), args.workers, progress, "generating notices")
        filings = generate_many(args.seed, QUERY, args.filings, 1, progress, "generating filings")
        for kind in args.stores.split(","):
            for n in sizes:
                url = f"sqlite:///{tmp}/big-{n}.db" if kind == "sqlite" else pg_url(args.pg)
                if url is None:
                    console.print(f"[yellow]no PostgreSQL at {args.pg}: {kind} left out")
                    break
                rate = load(url, stored[:n], progress)
                times = file_all(url, filings, args.profile if n == max(sizes) else None)
                rows.append((kind, n, rate, len(times) / sum(times), pct(times, 0.5), pct(times, 0.99)))
                if kind == "sqlite":
                    Path(url.removeprefix("sqlite:///")).unlink()
        drop_schemas()
    table = Table(title=f"Filing one notice at a time into a large store ({args.filings} filings a size)")
    for col in ("store", "stored", "bulk load /s", "filed /s", "p50 ms", "p99 ms", "against the smallest"):
        table.add_column(col, justify="left" if col == "store" else "right")
    for kind, n, rate, per_s, p50, p99 in rows:
        first = next(r for r in rows if r[0] == kind)
        table.add_row(
            kind,
            f"{n:,}",
            f"{rate:,.0f}",
            f"{per_s:.1f}",
            f"{p50 * 1e3:.1f}",
            f"{p99 * 1e3:.1f}",
            f"{per_s / first[3]:.2f}× /s",
        )
    console.print(table)


if __name__ == "__main__":
    main()
