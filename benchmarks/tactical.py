"""Tactical-detection benchmark: one detection cycle of deconflict against BlueSky's detectors.

Run ``python benchmarks/tactical.py --help``; benchmarks/README.md says what every figure means.

For each size n it generates n aircraft (seeded) over a region, and times one detection cycle of:

- ``deconflict``: :func:`deconflict.domain.tactical.detect` (broad phase + exact CPA test), median of
  ``--repeats`` runs after one warm-up;
- ``bluesky-cpp``: BlueSky 1.1.1's C++ detector (``bluesky.traffic.asas.cstatebased.detect``),
  all pairs, up to ``--cpp-max`` aircraft;
- ``bluesky-numpy``: BlueSky 1.1.1's numpy detector (``StateBased.detect``, pure-Python geo), all
  pairs as n × n matrices, up to ``--numpy-max`` aircraft and only where its memory (about
  240 bytes × n²) fits in 60 % of the memory available.

All on the same states, in the same process, pinned to one CPU with every thread pool at one
thread (set below, before numpy loads). BlueSky knows no parties, so every method compares all
pairs (``TacticalPolicy(all_pairs=True)``). The pair sets must agree: deconflict's rows against
the numpy detector's ``confpairs ∪ lospairs`` exactly, and against the C++ detector's
``confpairs`` except where the C++ detector is documented to differ (a level pair at the vertical
minimum, a pair with no relative speed; ``docs/tactical.md``). Any other disagreement is printed and
the run exits with status 1.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # one core: before numpy (and BlueSky's scipy) load their thread pools

import argparse  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from types import SimpleNamespace  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from deconflict.domain.tactical import EARTH_RADIUS_M, States, TacticalPolicy, detect  # noqa: E402

KM_PER_DEG = EARTH_RADIUS_M * math.pi / 180 / 1000
REGIONS = {
    # name: (centre lat, centre lon, east-west km, north-south km)
    "box": (50.5, 8.0, 560.0, 630.0),
    "continent": (38.5, 12.5, 4000.0, 3000.0),
}
DEFAULT_SIZES = "1000:box,10000:box,100000:continent"
NUMPY_BYTES_PER_PAIR = 240  # BlueSky's numpy detector: about 30 float64 n × n matrices alive at once
POLICY = TacticalPolicy(all_pairs=True)
Pairs = set[tuple[int, int]]


def generate(n: int, region: str, seed: int) -> States:
    """n aircraft uniform over the region (the same east-west width in km at every latitude).

    Ground speed uniform 100-280 m/s, track uniform; 75 % cruise on flight levels FL100-FL430 (1000 ft
    apart, with a 15 m standard deviation of altimetry between aircraft), 25 % anywhere in 0-13 km;
    80 % level, the rest climbing or descending at N(0, 8 m/s); 8 parties.
    """
    lat0, lon0, ew_km, ns_km = REGIONS[region]
    rng = np.random.default_rng(seed)
    lat = lat0 + rng.uniform(-ns_km / 2, ns_km / 2, n) / KM_PER_DEG
    lon = lon0 + rng.uniform(-ew_km / 2, ew_km / 2, n) / (KM_PER_DEG * np.cos(np.radians(lat)))
    levels = rng.integers(10, 44, n) * 1000 * 0.3048 + rng.normal(0.0, 15.0, n)
    alt = np.where(rng.random(n) < 0.75, levels, rng.uniform(0.0, 13_000.0, n))
    vs = np.where(rng.random(n) < 0.8, 0.0, rng.normal(0.0, 8.0, n))
    return States.from_arrays(
        lat=lat,
        lon=lon,
        alt_m=alt,
        gs_mps=rng.uniform(100.0, 280.0, n),
        trk_deg=rng.uniform(0.0, 360.0, n),
        vs_mps=vs,
        group=rng.integers(0, 8, n),
    )


def load_bluesky() -> tuple[Callable[..., Any] | None, Callable[..., Any] | None, str]:
    """BlueSky's numpy and C++ detectors, or None where they cannot be imported (with why)."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # it announces its performance models
            from bluesky.tools import geo
            from bluesky.traffic.asas.statebased import StateBased
    except ImportError as e:
        return None, None, f"BlueSky not importable ({e}); pip install -e '.[test]'"
    if geo.kwikqdrdist_matrix.__module__ != "bluesky.tools.geo._geo":
        return None, None, "BlueSky is using its compiled geo functions, which mirror bearings in 1.1.1"
    try:
        from bluesky.traffic.asas import cstatebased

        cpp: Callable[..., Any] | None = cstatebased.detect
    except ImportError:
        cpp = None

    def numpy_detect(*args: Any) -> Any:
        return StateBased.detect(None, *args)  # reads nothing from self

    return numpy_detect, cpp, ""


def bluesky_call(fn: Callable[..., Any], s: States) -> tuple[Pairs, Pairs]:
    n = len(s)

    def traffic() -> SimpleNamespace:  # copies: ownship and intruder must not be the same arrays
        return SimpleNamespace(
            lat=s.lat.copy(),
            lon=s.lon.copy(),
            alt=s.alt_m.copy(),
            gs=s.gs_mps.copy(),
            trk=s.trk_deg.copy(),
            vs=s.vs_mps.copy(),
            ntraf=n,
            id=list(range(n)),
        )

    out = fn(traffic(), traffic(), np.full(n, POLICY.rpz_m), np.full(n, POLICY.hpz_m), np.full(n, POLICY.lookahead_s))
    conf = {(min(a, b), max(a, b)) for a, b in out[0]}
    los = {(min(a, b), max(a, b)) for a, b in out[1]}
    return conf, los


def cpp_explained(s: States, i: int, j: int) -> str | None:
    """Why BlueSky's C++ detector may disagree on this pair (docs/tactical.md), or None."""
    dvs = float(s.vs_mps[j] - s.vs_mps[i])
    dalt = float(s.alt_m[j] - s.alt_m[i])
    if abs(dvs) < 1e-6 and abs(abs(dalt) - POLICY.hpz_m) <= 1e-6 * POLICY.lookahead_s + 1e-9:
        return "level at the vertical minimum"
    t1, t2 = math.radians(float(s.trk_deg[i])), math.radians(float(s.trk_deg[j]))
    du = float(s.gs_mps[j]) * math.sin(t2) - float(s.gs_mps[i]) * math.sin(t1)
    dv = float(s.gs_mps[j]) * math.cos(t2) - float(s.gs_mps[i]) * math.cos(t1)
    if du * du + dv * dv < 1e-6:
        return "no relative speed"
    return None


def timed(fn: Callable[[], Any], repeats: int) -> tuple[Any, list[float]]:
    times = []
    out = None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, times


def traced_peak(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated (numpy arrays included) while fn runs."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def mem_available() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 << 30


def run_size(n: int, region: str, cfg: argparse.Namespace) -> dict[str, Any]:
    """One size, in a process of its own (so its peak RSS is its own)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    s = generate(n, region, cfg.seed)
    res: dict[str, Any] = {"n": n, "region": region, "problems": []}
    detect(s, POLICY)  # warm-up
    ours, times = timed(lambda: detect(s, POLICY), cfg.repeats)
    res["ours_s"] = times
    res["ours_peak_bytes"] = traced_peak(lambda: detect(s, POLICY))
    res["ours_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    res["pairs"] = len(ours)
    res["los"] = int(ours.los.sum())
    mine = ours.pairs()
    numpy_detect, cpp_detect, why = load_bluesky()
    res["bluesky"] = why
    if cpp_detect is not None and n <= cfg.cpp_max:
        (conf, _), times = timed(lambda: bluesky_call(cpp_detect, s), cfg.peer_repeats)
        res["cpp_s"] = times
        reasons: dict[str, int] = {}
        for i, j in sorted(mine ^ conf):
            reason = cpp_explained(s, i, j)
            if reason is None:
                res["problems"].append(f"C++ {'misses' if (i, j) in mine else 'adds'} ({i}, {j})")
            reasons[reason or "unexplained"] = reasons.get(reason or "unexplained", 0) + 1
        res["cpp_diff"] = reasons
    need = NUMPY_BYTES_PER_PAIR * n * n
    if numpy_detect is not None and n <= cfg.numpy_max and need < 0.6 * mem_available():
        (conf, los), times = timed(lambda: bluesky_call(numpy_detect, s), cfg.peer_repeats)
        res["numpy_s"] = times
        res["numpy_peak_bytes"] = traced_peak(lambda: bluesky_call(numpy_detect, s))
        theirs = conf | los
        res["numpy_diff"] = len(mine ^ theirs)
        mine_los = {(int(a), int(b)) for a, b, f in zip(ours.i, ours.j, ours.los, strict=True) if f}
        res["numpy_los_diff"] = len(mine_los ^ los)
        if mine ^ theirs or mine_los ^ los:
            res["problems"].append(
                f"numpy: {len(mine - theirs)} only ours, {len(theirs - mine)} only BlueSky's, "
                f"{len(mine_los ^ los)} LoS flags differ"
            )
    elif numpy_detect is not None:
        res["numpy_skipped"] = f"needs about {need / 2**30:.0f} GiB" if n <= cfg.numpy_max else "above --numpy-max"
    return res


def flat_earth_error() -> list[tuple[float, float, float, float]]:
    """(latitude, range km, smallest, largest relative error) of BlueSky's flat earth against WGS84
    geodesics, over 72 bearings from a point at that latitude."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    out = []
    az = np.arange(0.0, 360.0, 5.0)
    for lat in (0.0, 30.0, 45.0, 60.0, 75.0, 85.0, 89.0):
        for km in (10.0, 100.0, 500.0):
            lon2, lat2, _ = geod.fwd(np.zeros_like(az), np.full_like(az, lat), az, np.full_like(az, km * 1000))
            lat2, lon2 = np.asarray(lat2), np.asarray(lon2)
            dlat = np.radians(lat2 - lat)
            dlon = np.radians((lon2 + 180) % 360 - 180)
            flat = EARTH_RADIUS_M * np.hypot(dlat, dlon * np.cos(np.radians(lat2 + lat) / 2))
            err = flat / (km * 1000) - 1
            out.append((lat, km, float(err.min()), float(err.max())))
    return out


def report(console: Console, results: list[dict[str, Any]]) -> None:
    table = Table(title="One detection cycle, all pairs (5 NM, 1000 ft, 300 s), one core")
    for col in (
        "n",
        "region",
        "pairs (LoS)",
        "deconflict ms (median)",
        "BlueSky C++ ms",
        "C++ / deconflict",
        "BlueSky numpy ms",
        "numpy / deconflict",
        "deconflict peak MB",
        "numpy peak MB",
        "pair sets",
    ):
        table.add_column(col, justify="right" if "region" not in col else "left")
    for r in results:
        ours = float(np.median(r["ours_s"]))
        cpp = float(np.median(r["cpp_s"])) if "cpp_s" in r else None
        nump = float(np.median(r["numpy_s"])) if "numpy_s" in r else None
        checks = []
        if "numpy_diff" in r:
            checks.append("= numpy" if r["numpy_diff"] == 0 and r["numpy_los_diff"] == 0 else "≠ numpy")
        if "cpp_diff" in r:
            diff = r["cpp_diff"]
            checks.append("= C++" if not diff else "C++: " + ", ".join(f"{v} {k}" for k, v in diff.items()))
        table.add_row(
            f"{r['n']:,}",
            r["region"],
            f"{r['pairs']:,} ({r['los']:,})",
            f"{ours * 1000:.1f}",
            f"{cpp * 1000:,.0f}" if cpp else "-",
            f"{cpp / ours:,.0f}×" if cpp else "-",
            f"{nump * 1000:,.0f}" if nump else r.get("numpy_skipped", "-"),
            f"{nump / ours:,.0f}×" if nump else "-",
            f"{r['ours_peak_bytes'] / 1e6:.1f}",
            f"{r['numpy_peak_bytes'] / 1e6:,.0f}" if "numpy_peak_bytes" in r else "-",
            "; ".join(checks) or "-",
        )
    console.print(table)
    flat = Table(title="BlueSky's flat earth (Re = 6371 km, cos of mean latitude) against WGS84 geodesics")
    for col in ("latitude", "range km", "smallest error", "largest error"):
        flat.add_column(col, justify="right")
    for lat, km, lo, hi in flat_earth_error():
        flat.add_row(f"{lat:.0f}°", f"{km:.0f}", f"{lo * 100:+.3f} %", f"{hi * 100:+.3f} %")
    console.print(flat)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--sizes",
        default=DEFAULT_SIZES,
        help=f"comma-separated n:region, region one of {', '.join(REGIONS)} (default {DEFAULT_SIZES});\n"
        + "\n".join(
            f"  {k}: {v[2]:.0f} km east-west × {v[3]:.0f} km north-south around {v[:2]}" for k, v in REGIONS.items()
        ),
    )
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument(
        "--repeats", type=int, default=7, help="timed runs of deconflict's detect; the median is shown (default 7)"
    )
    p.add_argument("--peer-repeats", type=int, default=1, help="timed runs of each BlueSky detector (default 1)")
    p.add_argument("--cpp-max", type=int, default=20_000, help="largest n for BlueSky's C++ detector (default 20000)")
    p.add_argument(
        "--numpy-max",
        type=int,
        default=10_000,
        help="largest n for BlueSky's numpy detector (default 10000); it also runs only where about\n"
        f"{NUMPY_BYTES_PER_PAIR} bytes × n² fit in 60 %% of the available memory",
    )
    p.add_argument("--json", metavar="PATH", help="also write every figure (each timed run) as JSON")
    p.add_argument("--worker", metavar="N:REGION", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    if cfg.worker:  # one size, in its own process; the result goes to stdout as JSON
        n, region = cfg.worker.split(":")
        print(json.dumps(run_size(int(n), region, cfg)))
        return 0
    console = Console() if sys.stdout.isatty() else Console(width=200)
    console.print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (the benchmark uses one), "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
    results = []
    passthrough = ["--seed", str(cfg.seed), "--repeats", str(cfg.repeats), "--peer-repeats", str(cfg.peer_repeats)]
    passthrough += ["--cpp-max", str(cfg.cpp_max), "--numpy-max", str(cfg.numpy_max)]
    for item in cfg.sizes.split(","):
        n, region = item.split(":")
        if region not in REGIONS:
            console.print(f"[red]unknown region {region!r}[/red]")
            return 2
        with console.status(f"n = {int(n):,} over the {region}"):
            out = subprocess.run(
                [sys.executable, __file__, "--worker", f"{n}:{region}", *passthrough],
                capture_output=True,
                text=True,
                check=False,
            )
        if out.returncode != 0:
            console.print(out.stdout, out.stderr)
            return 1
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(r)
        if r["bluesky"]:
            console.print(f"[yellow]{r['bluesky']}[/yellow]")
    report(console, results)
    if cfg.json:
        with open(cfg.json, "w") as f:
            json.dump(results, f, indent=1)
    problems = [f"n = {r['n']}: {p}" for r in results for p in r["problems"]]
    for p in problems:
        console.print(f"[red]pair sets disagree: {p}[/red]")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
