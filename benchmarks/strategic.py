"""Strategic-detection benchmark: insert rate and check latency of deconflict's stores against peers.

Run ``python benchmarks/strategic.py --help``; benchmarks/README.md says what every figure means.

For each size n it generates n random notices (one 4D volume each, real ``deconflict`` shapes made
by ``make_shape``), loads them into each store, and times the exact conflict check of fresh query
notices of the same distribution with:

- ``memory``: ``VolumeIndex.conflicts(notice, policy)`` (S2 cell × time-bucket index);
- ``sqlite`` / ``postgres``: ``deconflict.services.filing.detect(repo, notice, policy)`` inside
  ``store.begin(write=False)`` (the store's index look-up plus ``volume_conflict``), writing nothing;
- ``brute``: a numpy scan of all n volumes on the exact time gap, altitude gap (with the per-pair
  datum allowance) and party rule, then ``volume_conflict`` on every survivor;
- ``strtree``: a shapely STRtree over conservative lat/lon boxes of every volume grown by the
  largest distance at which ``volume_conflict`` can declare a conflict, then the same exact
  time/altitude/party filter and ``volume_conflict`` on the box hits.

Every method must return the same conflict set for every query; any disagreement is printed and
makes the run exit with status 1.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import json
import math
import multiprocessing as mp
import os
import platform
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from deconflict.adapters.memory import MemoryStore
from deconflict.domain.geodesy import MIN_CURVATURE_RADIUS_M, WGS84_A
from deconflict.domain.index import VolumeIndex
from deconflict.domain.policy import ABSOLUTE_TOLERANCE_M, RELATIVE_TOLERANCE, SeparationPolicy
from deconflict.domain.shapes import Shape, ShapeKind, make_shape
from deconflict.domain.strategic import volume_conflict
from deconflict.domain.volumes import AltitudeBand, AltitudeReference, Notice, NoticeState, Volume4D
from deconflict.services.filing import NoticeService, detect

# --- the synthetic theater -------------------------------------------------------------------

LAT_RANGE = (25.0, 52.0)
LON_RANGE = (-10.0, 35.0)
"""Centres are uniform in latitude and longitude over this box: about 4000 km (east-west, at its
middle latitude) by 3000 km (north-south), roughly Europe and North Africa."""
WEEK_START = dt.datetime(2026, 12, 1, tzinfo=dt.UTC).timestamp()
WEEK_S = 7 * 86400.0
FILED_AT = WEEK_START - 86400.0
"""The broker clock while loading: a day before the week, so no notice is late."""
DURATION_S = (0.5 * 3600.0, 6 * 3600.0)
ACROSS_M = (1_000.0, 50_000.0)
"""Largest extent of a shape, uniform in this range."""
CEILING_M = 15_000.0
THICKNESS_M = (300.0, 5_000.0)
KINDS = (ShapeKind.CIRCLE, ShapeKind.POLYGON, ShapeKind.CORRIDOR, ShapeKind.ORBIT)
KIND_P = (0.35, 0.35, 0.15, 0.15)
REFS = (AltitudeReference.W84, AltitudeReference.AMSL, AltitudeReference.STD)
REF_P = (0.6, 0.25, 0.15)
PARTIES = tuple(f"party-{i}" for i in range(8))
PROTECTED_P = 0.002
"""Share of notices that are protected sites (checked against every party)."""
METRES_PER_DEGREE = 111_195.0
"""Only used to place the input vertices; every derived quantity comes from make_shape."""

CHUNK = 5_000
BULK_TX = 2_000
"""Notices per transaction on the SQL stores' bulk path."""
STORED, QUERY, FILING = 0, 1, 2
"""Random streams: stored notice i is the same whatever the sizes, so smaller sizes are prefixes of
larger ones, and the queries are the same for every size."""

Key = tuple[int, str, int]
"""A conflict as (query volume index, stored notice id, stored volume index)."""
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _points(lat: float, lon: float, dx: FloatArray, dy: FloatArray) -> list[tuple[float, float]]:
    k = METRES_PER_DEGREE
    lats = lat + dy / k
    lons = lon + dx / (k * math.cos(math.radians(lat)))
    return list(zip(lats.tolist(), lons.tolist(), strict=True))


def _random_shape(rng: np.random.Generator, kind: ShapeKind, lat: float, lon: float, across: float) -> Shape:
    if kind is ShapeKind.CIRCLE:
        return make_shape(kind, [(lat, lon)], across / 2)
    if kind is ShapeKind.POLYGON:
        # Star-shaped around the centre: one vertex per jittered sector, so always a simple ring.
        k = int(rng.integers(4, 13))
        az = rng.uniform(0, 2 * math.pi) + (np.arange(k) + rng.uniform(0.1, 0.9, k)) * 2 * math.pi / k
        r = across / 2 * rng.uniform(0.6, 1.0, k)
        return make_shape(kind, _points(lat, lon, r * np.sin(az), r * np.cos(az)))
    if kind is ShapeKind.CORRIDOR:
        width = max(200.0, across * float(rng.uniform(0.05, 0.3)))
        m = int(rng.integers(2, 6))
        seg = (across - width) / (m - 1)
        heading = rng.uniform(0, 2 * math.pi) + np.concatenate([[0.0], np.cumsum(rng.uniform(-1, 1, m - 2))])
        x = np.concatenate([[0.0], np.cumsum(seg * np.sin(heading))])
        y = np.concatenate([[0.0], np.cumsum(seg * np.cos(heading))])
        x -= (x.min() + x.max()) / 2
        y -= (y.min() + y.max()) / 2
        return make_shape(kind, _points(lat, lon, x, y), width / 2)
    width = across * float(rng.uniform(0.2, 0.5))
    half = (across - width) / 2
    h = float(rng.uniform(0, 2 * math.pi))
    dx, dy = half * math.sin(h), half * math.cos(h)
    return make_shape(kind, _points(lat, lon, np.array([dx, -dx]), np.array([dy, -dy])), width / 2)


def generate(seed: int, stream: int, chunk: int, count: int) -> list[Notice]:
    """Notices ``chunk * CHUNK`` … ``+ count`` of a stream (deterministic per seed)."""
    rng = np.random.default_rng([seed, stream, chunk])
    prefix = "nqf"[stream]
    out = []
    for i in range(count):
        kind = KINDS[int(rng.choice(len(KINDS), p=KIND_P))]
        lat = float(rng.uniform(*LAT_RANGE))
        lon = float(rng.uniform(*LON_RANGE))
        shape = _random_shape(rng, kind, lat, lon, float(rng.uniform(*ACROSS_M)))
        thick = float(rng.uniform(*THICKNESS_M))
        lo = float(rng.uniform(0, CEILING_M - thick))
        ref = REFS[int(rng.choice(len(REFS), p=REF_P))]
        t0 = WEEK_START + float(rng.uniform(0, WEEK_S))
        t1 = t0 + float(rng.uniform(*DURATION_S))
        party = PARTIES[int(rng.integers(len(PARTIES)))]
        protected = bool(rng.random() < PROTECTED_P)
        volume = Volume4D(shape, AltitudeBand(lo, lo + thick, ref), t0, t1)
        nid = f"{prefix}{chunk * CHUNK + i:07d}"
        out.append(Notice(party=party, volumes=(volume,), id=nid, protected=protected, kind="benchmark"))
    return out


def _generate_job(args: tuple[int, int, int, int]) -> list[Notice]:
    return generate(*args)


def generate_many(seed: int, stream: int, n: int, workers: int, progress: Progress, label: str) -> list[Notice]:
    jobs = [(seed, stream, c, min(CHUNK, n - c * CHUNK)) for c in range(math.ceil(n / CHUNK))]
    task = progress.add_task(label, total=n)
    out: list[Notice] = []
    if workers <= 1 or len(jobs) == 1:
        for job in jobs:
            out.extend(generate(*job))
            progress.advance(task, job[3])
    else:
        with mp.get_context("spawn").Pool(workers) as pool:
            for part in pool.imap(_generate_job, jobs):
                out.extend(part)
                progress.advance(task, len(part))
    return out


# --- peers -----------------------------------------------------------------------------------


class Flat:
    """Every stored volume as numpy columns (one row per volume)."""

    def __init__(self, notices: list[Notice]) -> None:
        rows = [(k, j, v) for k, n in enumerate(notices) for j, v in enumerate(n.volumes)]
        self.notices = notices
        self.notice_of = np.array([r[0] for r in rows], np.int64)
        self.volume_of = np.array([r[1] for r in rows], np.int64)
        vols = [r[2] for r in rows]
        self.t0 = np.array([v.time_start for v in vols])
        self.t1 = np.array([v.time_end for v in vols])
        self.lo = np.array([v.altitude.lower_m for v in vols])
        self.hi = np.array([v.altitude.upper_m for v in vols])
        self.ref = np.array([REFS.index(v.altitude.reference) for v in vols], np.int8)
        self.party_codes = {p: i for i, p in enumerate(sorted({n.party for n in notices}))}
        self.party = np.array([self.party_codes[notices[r[0]].party] for r in rows], np.int64)
        self.protected = np.array([notices[r[0]].protected for r in rows], bool)
        self.lat = np.array([v.shape.center[0] for v in vols])
        self.lon = np.array([v.shape.center[1] for v in vols])
        self.bound = np.array([v.shape.bound_m for v in vols])

    def exact_filter(self, q: Notice, v: Volume4D, rows: IntArray | None, policy: SeparationPolicy) -> IntArray:
        """Rows (of ``rows``, or of all) that pass the exact time-gap, altitude-gap and party tests
        of ``volume_conflict`` / ``may_conflict``: the same comparisons, vectorized."""
        sel = slice(None) if rows is None else rows
        keep = np.maximum(self.t0[sel] - v.time_end, v.time_start - self.t1[sel]) <= policy.time_s
        vmin_by_ref = [policy.vertical_m + policy.vertical_allowance_m(v.altitude.reference, r) for r in REFS]
        vmin = np.array(vmin_by_ref)[self.ref[sel]]
        keep &= np.maximum(self.lo[sel] - v.altitude.upper_m, v.altitude.lower_m - self.hi[sel]) <= vmin
        if q.protected:
            keep &= ~self.protected[sel]
        else:
            keep &= (self.party[sel] != self.party_codes.get(q.party, -1)) | self.protected[sel]
        hit = np.flatnonzero(keep)
        return hit if rows is None else rows[hit]

    def exact(self, q: Notice, i: int, v: Volume4D, rows: IntArray, policy: SeparationPolicy) -> set[Key]:
        out = set()
        for r in rows.tolist():
            other = self.notices[self.notice_of[r]]
            j = int(self.volume_of[r])
            if volume_conflict(v, other.volumes[j], policy) is not None:
                assert other.id is not None
                out.add((i, other.id, j))
        return out


class BruteForce:
    """All n rows through the exact time/altitude/party filter, then ``volume_conflict``."""

    def __init__(self, flat: Flat, policy: SeparationPolicy) -> None:
        self.flat, self.policy = flat, policy
        self.last_exact = 0

    def conflicts(self, q: Notice) -> set[Key]:
        out: set[Key] = set()
        self.last_exact = 0
        for i, v in enumerate(q.volumes):
            rows = self.flat.exact_filter(q, v, None, self.policy)
            self.last_exact += len(rows)
            out |= self.flat.exact(q, i, v, rows, self.policy)
        return out


def degree_boxes(
    lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64], radius_m: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """(minlon, minlat, maxlon, maxlat) boxes that contain every point within ``radius_m``
    (geodesic, WGS84) of each centre: a latitude degree is never shorter than the smallest
    meridional radius allows, a longitude degree never shorter than ``a·cos(lat)`` at the
    farthest latitude the disc reaches. The radius gets 0.1 % + 10 m more, which covers the
    local-frame distance error of ``volume_conflict`` (metres at most at these sizes). The theater
    does not cross the antimeridian, so boxes never wrap."""
    r = radius_m * 1.001 + 10.0
    dlat = np.degrees(r / MIN_CURVATURE_RADIUS_M)
    far = np.minimum(np.abs(lat) + dlat, 89.0)
    dlon = np.degrees(r / (WGS84_A * np.cos(np.radians(far))))
    return np.column_stack([lon - dlon, lat - dlat, lon + dlon, lat + dlat])


def reach_radius(bound_m: Any) -> Any:
    """A volume's share of the largest centre distance at which ``volume_conflict`` can declare a
    conflict: it accepts core distances up to ``(buffer_a + buffer_b + H)·(1 + 0.5 %) + 1 m``, so
    two volumes conflict only if their centres are within ``(bound_a + bound_b + H)·(1 + 0.5 %) +
    1 m``. Each side gets its own bound share; the stored side also gets the ``H`` share."""
    return np.asarray(bound_m, float) * (1 + RELATIVE_TOLERANCE)


class StrTreePeer:
    """A shapely STRtree over degree boxes of the stored volumes grown by the separation reach;
    the query's own (reach-grown) box is looked up, then the hits go through the exact filter."""

    def __init__(self, flat: Flat, policy: SeparationPolicy) -> None:
        self.flat, self.policy = flat, policy
        grow = policy.horizontal_m * (1 + RELATIVE_TOLERANCE) + ABSOLUTE_TOLERANCE_M
        b = degree_boxes(flat.lat, flat.lon, reach_radius(flat.bound) + grow)
        self.tree = shapely.STRtree(shapely.box(b[:, 0], b[:, 1], b[:, 2], b[:, 3]))
        self.last_hits = 0
        self.last_exact = 0

    def conflicts(self, q: Notice) -> set[Key]:
        out: set[Key] = set()
        self.last_hits = self.last_exact = 0
        for i, v in enumerate(q.volumes):
            lat, lon = v.shape.center
            b = degree_boxes(np.array([lat]), np.array([lon]), np.atleast_1d(reach_radius(v.shape.bound_m)))
            hits = self.tree.query(shapely.box(*b[0])).astype(np.int64)
            rows = self.flat.exact_filter(q, v, hits, self.policy)
            self.last_hits += len(hits)
            self.last_exact += len(rows)
            out |= self.flat.exact(q, i, v, rows, self.policy)
        return out


# --- measuring -------------------------------------------------------------------------------


def rss_mib() -> float:
    """Resident set size of this process (Linux /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def stats_ms(ns: list[int]) -> dict[str, float]:
    a = np.asarray(ns, float) / 1e6
    if len(a) == 0:
        return {"p50": math.nan, "p99": math.nan, "mean": math.nan, "max": math.nan}
    return {
        "p50": float(np.percentile(a, 50)),
        "p99": float(np.percentile(a, 99)),
        "mean": float(a.mean()),
        "max": float(a.max()),
    }


@dataclass
class Method:
    name: str
    check: Callable[[Notice], set[Key]]
    queries: int
    latencies: list[int] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    """Conflicts found, per query."""
    conflicts: int = 0
    work: list[int] = field(default_factory=list)
    """Per query: how many stored volumes reached ``volume_conflict``."""
    extra: dict[str, list[int]] = field(default_factory=dict)


def make_console() -> Console:
    """Wide tables when the output goes to a file (rich assumes 80 columns there)."""
    return Console() if sys.stdout.isatty() else Console(width=170)


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def timed(fn: Callable[[], Any]) -> tuple[Any, int]:
    t = time.perf_counter_ns()
    r = fn()
    return r, time.perf_counter_ns() - t


def _keys(conflicts: Iterator[Any]) -> set[Key]:
    return {(c.volume_a, c.b.id, c.volume_b) for c in conflicts}


# --- SQL stores ------------------------------------------------------------------------------


def _reset_postgres(url: str) -> None:
    """Create the benchmark database if it is missing, then drop every table in it."""
    import sqlalchemy as sa

    target = sa.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if (
            conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": target.database}).first()
            is None
        ):
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    engine = sa.create_engine(target)
    md = sa.MetaData()
    md.reflect(engine)
    md.drop_all(engine)
    engine.dispose()


def _sql_url(kind: str, cfg: argparse.Namespace, workdir: Path, n: int) -> str:
    if kind == "sqlite":
        path = workdir / f"bench-{n}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    return str(cfg.pg_url)


def bulk_add(store: Any, notices: list[Notice], progress: Progress, label: str) -> None:
    """Store ``notices`` as filed (accepted, version 1, at ``FILED_AT``) without detection,
    ``BULK_TX`` a transaction, through the store's own write path (``SqlRepository.add``)."""
    task = progress.add_task(label, total=len(notices))
    for k in range(0, len(notices), BULK_TX):
        part = notices[k : k + BULK_TX]
        with store.begin() as repo:
            for x in part:
                repo.add(replace(x, version=1, received_at=FILED_AT, state=NoticeState.ACCEPTED))
        progress.advance(task, len(part))


def load_sql(
    kind: str, cfg: argparse.Namespace, notices: list[Notice], workdir: Path, progress: Progress
) -> tuple[Any, dict[str, Any]]:
    """A SqlStore holding ``notices``.

    All but the last ``--sql-sample`` go in through the store's own write path without detection
    (``SqlRepository.add`` of the notice as ``NoticeService.file`` would store it, ``BULK_TX``
    notices per transaction: the same rows, minus the conflict records that the check never
    reads); the last ``--sql-sample`` are filed one by one through ``NoticeService.file``
    (detection, conflict records, hints, one transaction each), which gives the real filing rate
    at size ≈ n.
    """
    from deconflict.adapters.sql import SqlStore

    url = _sql_url(kind, cfg, workdir, len(notices))
    if kind == "postgres":
        _reset_postgres(url)
    store = SqlStore(url, clock=lambda: FILED_AT)
    store.ensure_schema()
    sample = min(cfg.sql_sample, len(notices))
    bulk, filed = notices[: len(notices) - sample], notices[len(notices) - sample :]
    info: dict[str, Any] = {"filed": len(filed), "bulk": len(bulk)}
    if bulk:
        t = time.perf_counter()
        bulk_add(store, bulk, progress, f"{kind}: bulk SqlRepository.add")
        info["bulk_s"] = time.perf_counter() - t
        info["bulk_rate"] = len(bulk) / info["bulk_s"]
    # Planner statistics, as after any bulk load: without them (autovacuum off, or not yet run)
    # PostgreSQL plans the candidate look-up as a parallel scan, 100× slower.
    if cfg.analyze:
        t = time.perf_counter()
        with store.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        info["analyze_s"] = time.perf_counter() - t
    service = NoticeService(store, lambda: FILED_AT)
    task = progress.add_task(f"{kind}: NoticeService.file", total=len(filed))
    t = time.perf_counter()
    for x in filed:
        service.file(x)
        progress.advance(task)
    info["filing_s"] = time.perf_counter() - t
    info["filing_rate"] = len(filed) / info["filing_s"]
    return store, info


def sql_check(store: Any, policy: SeparationPolicy) -> Callable[[Notice], set[Key]]:
    """``detect`` in a read transaction (``begin(write=False)``: no SQLite write lock), no writes."""

    def check(q: Notice) -> set[Key]:
        with store.begin(write=False) as repo:
            return _keys(iter(detect(repo, q, policy)))

    return check


# --- one size --------------------------------------------------------------------------------


def run_size(cfg: argparse.Namespace, n: int, out_path: str) -> None:
    """Everything for one size, in its own process (so its RSS figures are its own)."""
    console = make_console()
    policy = SeparationPolicy()
    res: dict[str, Any] = {"n": n, "rss_mib": {"start": rss_mib()}, "build": {}, "methods": {}, "mismatches": []}
    res["code"] = code_version()  # what this process imported (the tree may change during a long run)
    workdir = Path(cfg.workdir)
    with progress_bar(console) as progress:
        t = time.perf_counter()
        notices = generate_many(cfg.seed, STORED, n, cfg.workers, progress, f"n={n:,}: generating notices")
        res["build"]["generate_s"] = time.perf_counter() - t
        queries = generate_many(cfg.seed, QUERY, cfg.queries, 1, progress, "generating query notices")
        gc.collect()
        res["rss_mib"]["notices"] = rss_mib()

        methods: list[Method] = []
        index: VolumeIndex | None = None
        if "memory" in cfg.stores:
            index = VolumeIndex()
            task = progress.add_task("memory: VolumeIndex.add", total=n)
            t = time.perf_counter()
            for k, notice in enumerate(notices):
                index.add(notice.id, notice)
                if k % 1000 == 999:
                    progress.advance(task, 1000)
            progress.update(task, completed=n)
            res["build"]["index_s"] = time.perf_counter() - t
            res["build"]["index_rate"] = n / res["build"]["index_s"]
            gc.collect()
            res["rss_mib"]["index"] = rss_mib()
            idx = index

            def mem_check(q: Notice) -> set[Key]:
                return _keys(iter(idx.conflicts(q, policy)))

            methods.append(Method("memory", mem_check, cfg.queries, extra={"candidates": [], "candidates_ns": []}))

        t = time.perf_counter()
        flat = Flat(notices)
        res["build"]["columns_s"] = time.perf_counter() - t
        t = time.perf_counter()
        tree = StrTreePeer(flat, policy)
        res["build"]["strtree_s"] = time.perf_counter() - t
        gc.collect()
        res["rss_mib"]["peers"] = rss_mib()
        brute = BruteForce(flat, policy)

        sql_stores: list[Any] = []
        for kind in ("sqlite", "postgres"):
            if kind in cfg.stores:
                if n > cfg.sql_max:
                    res["build"][f"{kind}_skipped"] = f"n > --sql-max ({cfg.sql_max})"
                    continue
                t = time.perf_counter()
                store, info = load_sql(kind, cfg, notices, workdir, progress)
                info["load_s"] = time.perf_counter() - t
                res["build"][kind] = info
                methods.append(Method(kind, sql_check(store, policy), min(cfg.queries, cfg.sql_queries)))
                sql_stores.append(store)

        methods.append(Method("strtree", tree.conflicts, cfg.queries, extra={"hits": []}))
        brute_q = cfg.brute_queries if cfg.brute_queries >= 0 else (cfg.queries if n <= 100_000 else 50)
        methods.append(Method("brute", brute.conflicts, min(cfg.queries, brute_q)))

        gc.collect()
        if cfg.gc_freeze:
            gc.freeze()
        res["rss_mib"]["built"] = rss_mib()
        res["load_before"] = os.getloadavg()[0]
        task = progress.add_task(f"n={n:,}: checking {cfg.queries} queries", total=cfg.queries)
        for qi, q in enumerate(queries):
            found: dict[str, set[Key]] = {}
            for m in methods:
                if qi >= m.queries:
                    continue
                keys, ns = timed(lambda m=m, q=q: m.check(q))
                m.latencies.append(ns)
                m.counts.append(len(keys))
                m.conflicts += len(keys)
                found[m.name] = keys
                if m.name == "memory" and index is not None:
                    cands, cns = timed(lambda q=q: [c for v in q.volumes for c in index.candidates(v, policy, q)])
                    m.extra["candidates"].append(len(cands))
                    m.extra["candidates_ns"].append(cns)
                    m.work.append(len(cands))
                elif m.name == "strtree":
                    m.extra["hits"].append(tree.last_hits)
                    m.work.append(tree.last_exact)
                elif m.name == "brute":
                    m.work.append(brute.last_exact)
            ref_name, ref = next(iter(found.items()))
            for name, keys in found.items():
                if keys != ref:
                    res["mismatches"].append(
                        {
                            "query": q.id,
                            "reference": ref_name,
                            "method": name,
                            "missing": sorted(ref - keys),
                            "extra": sorted(keys - ref),
                        }
                    )
            progress.advance(task)

        res["load_after"] = os.getloadavg()[0]
        for m in methods:
            entry: dict[str, Any] = {"queries": len(m.latencies), "conflicts": m.conflicts, **stats_ms(m.latencies)}
            if m.work:
                entry["exact_tests_mean"] = float(np.mean(m.work))
            for k, vals in m.extra.items():
                if k.endswith("_ns"):
                    entry[k[:-3] + "_ms"] = stats_ms(vals)
                elif vals:
                    entry[k + "_mean"] = float(np.mean(vals))
            entry["_ns"] = m.latencies
            entry["_conflicts"] = m.counts
            res["methods"][m.name] = entry

        if cfg.profile and index is not None and n == max(cfg.sizes):
            prof = cProfile.Profile()
            prof.enable()
            for q in queries:
                index.conflicts(q, policy)
            prof.disable()
            prof.dump_stats(cfg.profile)
            st = pstats.Stats(prof, stream=sys.stdout).strip_dirs().sort_stats("tottime")
            console.rule(f"cProfile of VolumeIndex.conflicts, n={n:,}, {len(queries)} queries (by own time)")
            st.print_stats(25)

        if index is not None and cfg.filing_sample > 0:
            # The real filing path (detect + conflict records + hints) on the memory store at size n.
            store = MemoryStore()
            store.index = index
            store.notices = {str(x.id): x for x in notices}
            service = NoticeService(store, lambda: FILED_AT)
            fresh = generate(cfg.seed, FILING, 0, min(cfg.filing_sample, CHUNK))
            t = time.perf_counter()
            for x in fresh:
                service.file(x)
            s = time.perf_counter() - t
            res["build"]["memory_filing_rate"] = len(fresh) / s
            res["build"]["memory_filed"] = len(fresh)
            if cfg.profile and n == max(cfg.sizes):
                more = generate(cfg.seed, FILING, 1, min(cfg.filing_sample, CHUNK))
                prof = cProfile.Profile()
                prof.enable()
                for x in more:
                    service.file(x)
                prof.disable()
                console.rule(f"cProfile of NoticeService.file into the memory store, n={n:,} (cumulative)")
                pstats.Stats(prof, stream=sys.stdout).strip_dirs().sort_stats("cumulative").print_stats(20)
        for store in sql_stores:
            store.close()
    with open(out_path, "w") as f:
        json.dump(res, f)


# --- report ----------------------------------------------------------------------------------


def _ratio(peer: dict[str, Any], mine: dict[str, Any], pct: float) -> float:
    """Peer latency / this method's latency at one percentile, on the queries both ran."""
    k = min(len(peer["_ns"]), len(mine["_ns"]))
    if k == 0:
        return math.nan
    return float(np.percentile(peer["_ns"][:k], pct) / np.percentile(mine["_ns"][:k], pct))


def report(console: Console, results: list[dict[str, Any]], cfg: argparse.Namespace) -> None:
    table = Table(title="Check latency (one query notice against n stored volumes)")
    for col in (
        "n",
        "method",
        "queries",
        "p50 ms",
        "p99 ms",
        "mean ms",
        "conflicts",
        "exact tests/q",
        "strtree/this p50",
        "brute/this p50",
    ):
        table.add_column(col, justify="right" if col != "method" else "left")
    for r in results:
        ms = r["methods"]
        for name, m in ms.items():
            ratios = ["", ""]
            if name not in ("strtree", "brute"):
                ratios = [f"{_ratio(ms[p], m, 50):.1f}×" if p in ms else "" for p in ("strtree", "brute")]
            table.add_row(
                f"{r['n']:,}",
                name,
                str(m["queries"]),
                f"{m['p50']:.3f}",
                f"{m['p99']:.3f}",
                f"{m['mean']:.3f}",
                str(m["conflicts"]),
                f"{m['exact_tests_mean']:.1f}" if "exact_tests_mean" in m else "",
                *ratios,
            )
    console.print(table)

    build = Table(title="Build: insert rates and memory")
    for col in (
        "n",
        "generate s",
        "VolumeIndex.add /s",
        "memory filing /s",
        "RSS notices MiB",
        "RSS +index MiB",
        "RSS +peers MiB",
        "sqlite filing /s",
        "sqlite bulk /s",
        "postgres filing /s",
        "postgres bulk /s",
    ):
        build.add_column(col, justify="right")
    for r in results:
        b, rss = r["build"], r["rss_mib"]

        def f(x: Any, fmt: str = "{:,.0f}") -> str:
            return fmt.format(x) if isinstance(x, int | float) else ""

        build.add_row(
            f"{r['n']:,}",
            f(b.get("generate_s"), "{:.1f}"),
            f(b.get("index_rate")),
            f(b.get("memory_filing_rate")),
            f(rss.get("notices")),
            f(rss["index"] - rss["notices"]) if "index" in rss else "",
            f(rss["peers"] - rss.get("index", rss["notices"])),
            f(b.get("sqlite", {}).get("filing_rate")),
            f(b.get("sqlite", {}).get("bulk_rate")),
            f(b.get("postgres", {}).get("filing_rate")),
            f(b.get("postgres", {}).get("bulk_rate")),
        )
    console.print(build)
    for r in results:
        mem = r["methods"].get("memory")
        if mem and "candidates_ms" in mem:
            console.print(
                f"n={r['n']:,}: memory index look-up alone (VolumeIndex.candidates): p50 "
                f"{mem['candidates_ms']['p50']:.3f} ms, {mem['candidates_mean']:.1f} candidates/query; "
                f"STRtree box hits/query {r['methods']['strtree'].get('hits_mean', math.nan):.1f}"
            )
        for k, v in r["build"].items():
            if k.endswith("_skipped"):
                console.print(f"n={r['n']:,}: {k[: -len('_skipped')]} skipped: {v}")
    targets = {"memory": 1.0, "sqlite": 10.0, "postgres": 10.0}
    for r in results:
        for name, limit in targets.items():
            if name in r["methods"]:
                p50 = r["methods"][name]["p50"]
                ok = "[green]met[/]" if p50 <= limit else "[red]NOT met[/]"
                console.print(f"n={r['n']:,} {name}: p50 {p50:.3f} ms vs target {limit:g} ms: {ok}")


def code_version() -> str:
    """The git commit of the checkout and the source files changed from it, if any."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--short", "--", "src"], cwd=root, capture_output=True, text=True)
    except OSError:
        return "unknown (no git)"
    if head.returncode != 0:
        return "unknown (not a git checkout)"
    changed = [line[3:] for line in dirty.stdout.splitlines()]
    return head.stdout.strip() + (f" + uncommitted changes to {', '.join(changed)}" if changed else "")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="10000,100000,1000000", help="stored notices per run (comma-separated)")
    p.add_argument("--queries", type=int, default=1000, help="query notices checked per size")
    p.add_argument("--stores", default="memory,sqlite,postgres", help="deconflict stores to measure")
    p.add_argument(
        "--pg-url",
        default=os.environ.get(
            "DECONFLICT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/deconflict_bench"
        ),
        help="PostgreSQL database for the benchmark; EVERY TABLE IN IT IS DROPPED at each size",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes generating notices")
    p.add_argument(
        "--brute-queries",
        type=int,
        default=-1,
        help="queries for the brute-force peer (default: all up to n=100k, 50 above)",
    )
    p.add_argument(
        "--sql-sample",
        type=int,
        default=1000,
        help="last notices filed one by one through NoticeService per SQL store (the rest in bulk)",
    )
    p.add_argument("--sql-max", type=int, default=100_000, help="largest n loaded into the SQL stores")
    p.add_argument("--sql-queries", type=int, default=1000, help="most queries per SQL store")
    p.add_argument(
        "--filing-sample",
        type=int,
        default=500,
        help="fresh notices filed through NoticeService into the memory store at size n",
    )
    p.add_argument("--workdir", default=None, help="where SQLite files go (default: a temporary folder)")
    p.add_argument(
        "--profile",
        default=None,
        metavar="PATH",
        help="cProfile the memory check at the largest size; print the top and save the stats",
    )
    p.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="leave the built data in the garbage collector's generations while timing",
    )
    p.add_argument(
        "--no-analyze",
        dest="analyze",
        action="store_false",
        help="skip ANALYZE after the SQL bulk load (planner statistics left to autovacuum, if it runs)",
    )
    p.add_argument("--json", default=None, metavar="PATH", help="also write every figure as JSON")
    cfg = p.parse_args(argv)
    cfg.sizes = sorted(int(s.replace("_", "")) for s in cfg.sizes.split(",") if s)
    cfg.stores = [s.strip() for s in cfg.stores.split(",") if s.strip()]
    unknown = set(cfg.stores) - {"memory", "sqlite", "postgres"}
    if unknown:
        p.error(f"unknown stores: {', '.join(sorted(unknown))}")
    return cfg


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    console = make_console()
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    console.rule("deconflict strategic benchmark")
    console.print(f"code: {code_version()}")
    console.print(
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · {cpu} · {os.cpu_count()} CPUs · Python "
        f"{platform.python_version()} · shapely {shapely.__version__} · numpy {np.__version__}\n"
        f"command: {' '.join([Path(sys.executable).name, *sys.argv])}\n"
        f"theater: centres uniform over lat {LAT_RANGE[0]:g}..{LAT_RANGE[1]:g}, lon {LON_RANGE[0]:g}..{LON_RANGE[1]:g} "
        f"(≈4000 × 3000 km); shapes {ACROSS_M[0] / 1000:g}–{ACROSS_M[1] / 1000:g} km across "
        f"(circle/polygon 4–12 vertices/corridor/orbit {'/'.join(f'{p:.0%}' for p in KIND_P)}); "
        f"windows {DURATION_S[0] / 3600:g}–{DURATION_S[1] / 3600:g} h starting over one week from "
        f"{dt.datetime.fromtimestamp(WEEK_START, dt.UTC):%Y-%m-%d}; bands {THICKNESS_M[0]:g}–{THICKNESS_M[1]:g} m "
        f"thick within 0–{CEILING_M:g} m, W84/AMSL/STD {'/'.join(f'{p:.0%}' for p in REF_P)}; "
        f"{len(PARTIES)} parties, {PROTECTED_P:.1%} protected sites; one volume per notice; seed {cfg.seed}\n"
        f"policy: {SeparationPolicy()}"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="deconflict-bench-") as tmp:
        if cfg.workdir is None:
            cfg.workdir = tmp
        for n in cfg.sizes:
            out = os.path.join(tmp, f"result-{n}.json")
            proc = mp.get_context("spawn").Process(target=run_size, args=(cfg, n, out))
            proc.start()
            proc.join()
            if proc.exitcode != 0:
                console.print(f"[red]size {n:,} failed (exit {proc.exitcode})[/]")
                return 2
            with open(out) as f:
                results.append(json.load(f))
            r = results[-1]
            console.print(f"n={n:,}: code {r['code']}")
            console.print(
                f"n={n:,}: 1-min load average {r['load_before']:.2f} before the checks, {r['load_after']:.2f} after"
            )
            console.print(
                f"n={n:,}: "
                + ", ".join(f"{k} p50 {m['p50']:.3f} ms ({m['conflicts']} conflicts)" for k, m in r["methods"].items())
            )
    report(console, results, cfg)
    if cfg.json:
        with open(cfg.json, "w") as f:
            json.dump({"args": {k: v for k, v in vars(cfg).items()}, "results": results}, f, indent=1)
    bad = [m for r in results for m in r["mismatches"]]
    if bad:
        console.rule("[red]DISAGREEMENT: methods returned different conflict sets[/]")
        for m in bad[:20]:
            console.print(m)
        console.print(f"[red]{len(bad)} disagreements in all[/]")
        return 1
    runs = sum(len(r["methods"]) for r in results)
    console.print(f"[green]All methods agreed on every query ({runs} method runs).[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
