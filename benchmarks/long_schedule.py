"""Year-long recurring envelopes in the SQL store: long buckets (a week each) against keying them
under every six-hour bucket (the way before), measured in the same run (docs/notices.md,
"Recurring schedules").

Run ``python benchmarks/long_schedule.py [--pg URL] [--notices N]``: for each way, a fresh store
(SQLite in a temporary file, or with ``--pg`` a schema of its own in that PostgreSQL database,
dropped afterwards) is filled with N ordinary
notices (one to three circles of a minute to six hours, in a 250 km square over three days), then

then, for each of ``--rounds`` rounds, the two ways in turn (so that both see the same load):

- ``file year-long``: filing 2 notices recurring daily for 366 days (the look-up over their
  occurrences, the exact test, the key rows written), and the key rows each costs;
- ``look up ordinary``: 200 candidate look-ups of ordinary volumes (with long buckets each also
  reads the one or two long buckets of its window, which hold the year-long notices).

Prints the time per operation and the ratio of the long-bucket way to the six-hour way.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path

import sqlalchemy as sa

from deconflict.adapters.sql import SqlStore
from deconflict.domain import cells
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.schedule import DailyWindow, Schedule
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.domain.volumes import AltitudeBand, Notice, Volume4D
from deconflict.services.filing import NoticeService

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "drills"))  # drills/processes.py
from processes import pg_schema

T0 = 1_443_592_800.0
PARTIES = ("red", "blue", "green", "white")


def circle(rng: random.Random, radius_m: float, t0: float, t1: float, lo: float, hi: float) -> Volume4D:
    """A circle somewhere in a 250 km square."""
    shape = make_shape(ShapeKind.CIRCLE, [(rng.uniform(34.0, 36.2), rng.uniform(35.5, 38.2))], radius_m)
    return Volume4D(shape, AltitudeBand(lo, hi), t0, t1)


def ordinary(rng: random.Random) -> Volume4D:
    """A minute to six hours within three days, as the parity test's theater draws them."""
    t0 = T0 + rng.uniform(0.0, 3 * 86_400.0)
    lo = rng.uniform(0.0, 9_000.0)
    t1 = t0 + rng.uniform(60.0, 6 * 3600)
    return circle(rng, rng.uniform(500.0, 25_000.0), t0, t1, lo, lo + rng.uniform(50, 3000))


@contextmanager
def database(pg: str | None, tmp: str, name: str) -> Iterator[str]:
    """An empty database for one way: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if pg is None:
        yield f"sqlite:///{tmp}/{name}.sqlite"
        return
    with pg_schema(pg, prefix=f"bench_long_{name.replace('-', '_')}") as url:
        yield url


@contextmanager
def six_hour_keys() -> Iterator[None]:
    """The way before: every volume under every six-hour bucket of its window."""
    saved = cells.store_buckets, cells.lookup_probes

    def probes(v: Volume4D, reach_s: float, ranges: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
        return [(b, lo, hi) for b in cells.buckets(v.time_start - reach_s, v.time_end + reach_s) for lo, hi in ranges]

    cells.store_buckets = cells.buckets
    cells.lookup_probes = probes  # type: ignore[assignment]
    try:
        yield
    finally:
        cells.store_buckets, cells.lookup_probes = saved


def year_long(rng: random.Random, nid: str) -> Notice:
    start = rng.randrange(0, 86_400, 900)
    window = DailyWindow(start, (start + rng.randrange(900, 8 * 3600, 900)) % 86_400 or 86_400)
    v = circle(rng, 20_000.0, T0, T0 + 366 * 86_400.0, 0.0, 6_000.0)
    return Notice(party="white", volumes=(replace(v, schedule=Schedule((window,))),), id=nid)


def fill(url: str, notices: int) -> tuple[SqlStore, NoticeService]:
    store = SqlStore(url, clock=lambda: T0 - 86_400.0)
    store.ensure_schema()
    svc = NoticeService(store, lambda: T0 - 86_400.0)
    rng = random.Random(7)
    for i in range(notices):
        vols = tuple(ordinary(rng) for _ in range(rng.choice((1, 1, 1, 2, 3))))
        svc.file(Notice(party=rng.choice(PARTIES), volumes=vols, id=f"n{i}"))
    return store, svc


def keyed(way: str) -> AbstractContextManager[None]:
    return six_hour_keys() if way == "six-hour" else nullcontext()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pg", help="a PostgreSQL URL to make the stores' schemas in (default: SQLite files)")
    ap.add_argument("--notices", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    where = "PostgreSQL" if args.pg else "SQLite"
    print(f"{platform.node()} {platform.processor() or platform.machine()}, {where}, load {os.getloadavg()[0]:.1f}")
    ways = ("six-hour", "long")
    policy = SeparationPolicy()
    file_s: dict[str, list[float]] = {w: [] for w in ways}
    look_s: dict[str, list[float]] = {w: [] for w in ways}
    rows: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        stores = {}
        for way in ways:
            url = stack.enter_context(database(args.pg, tmp, way))
            with keyed(way):
                stores[way] = fill(url, args.notices)
        for r in range(args.rounds):  # the two ways in turn, so that both see the same load
            rng = random.Random(r)
            years = [year_long(rng, f"y{r}.{k}") for k in range(2)]
            probes = [ordinary(rng) for _ in range(200)]
            for way in ways:
                store, svc = stores[way]
                with keyed(way):
                    t = time.perf_counter()
                    for n in years:
                        svc.file(n)
                    file_s[way].append((time.perf_counter() - t) / len(years))
                    t = time.perf_counter()
                    with store.begin(write=False) as repo:
                        for v in probes:
                            repo.candidates(v, policy, Notice(party="red", volumes=(v,)))
                    look_s[way].append((time.perf_counter() - t) / len(probes))
        for way in ways:
            store = stores[way][0]
            with store.engine.connect() as conn:
                q = "SELECT count(*) FROM volume_cells WHERE notice_id LIKE 'y%'"
                rows[way] = conn.execute(sa.text(q)).scalar_one() / (2 * args.rounds)
            store.close()
    old, new = "six-hour", "long"
    figures = [
        ("file year-long (ms / notice, median)", {w: statistics.median(file_s[w]) * 1e3 for w in ways}),
        ("key rows per year-long notice", rows),
        ("look up ordinary (ms / volume, best)", {w: min(look_s[w]) * 1e3 for w in ways}),
        ("look up ordinary (ms / volume, median)", {w: statistics.median(look_s[w]) * 1e3 for w in ways}),
    ]
    for label, f in figures:
        print(f"{label:<40} six-hour {f[old]:9.2f}  long {f[new]:9.2f}  {f[new] / f[old]:.2f}×")


if __name__ == "__main__":
    main()
