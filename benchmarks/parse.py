"""What refusing unknown keys costs a parse: the strict parser against the same parser with the key
checks turned off, on the same documents in the same run.

    .venv/bin/python benchmarks/parse.py [--repeat 200] [--vertices 1000]

Documents: the demo theater's twelve notices, a notice whose polygon has ``--vertices`` vertices
(one key check per vertex: the worst case), and a FeatureCollection of 100 circles. Each is parsed
``--repeat`` times; the figures are the median per parse.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from functools import partial
from typing import Any
from unittest import mock

from deconflict.demo.theater import load_theater_doc
from deconflict.domain import fields, notice_json, parse, times
from deconflict.domain.notice_json import parse_notices
from deconflict.domain.policy import Limits
from deconflict.domain.shapes import ShapeLimits


def polygon_notice(n: int) -> dict[str, Any]:
    ring = [
        {"lat": 35 + 0.2 * math.sin(2 * math.pi * i / n), "lng": 36 + 0.2 * math.cos(2 * math.pi * i / n)}
        for i in range(n)
    ]
    return {
        "party": "ru-vks",
        "id": "ring",
        "volumes": [
            {
                "volume": {
                    "outline_polygon": {"vertices": ring},
                    "altitude_lower": {"value": 0, "reference": "AMSL", "units": "M"},
                    "altitude_upper": {"value": 3000, "reference": "AMSL", "units": "M"},
                },
                "time_start": {"value": "2030-01-01T06:00:00Z", "format": "RFC3339"},
                "time_end": {"value": "2030-01-01T08:00:00Z", "format": "RFC3339"},
            }
        ],
    }


def circles(n: int) -> dict[str, Any]:
    def feature(i: int) -> dict[str, Any]:
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [36 + i * 0.01, 35.0]},
            "properties": {
                "party": "us-af",
                "id": f"c{i}",
                "radius": {"value": 2, "units": "KM"},
                "altitude_lower": {"value": 0, "reference": "AMSL", "units": "M"},
                "altitude_upper": {"value": 3000, "reference": "AMSL", "units": "M"},
                "time_start": "2030-01-01T06:00:00Z",
                "time_end": "2030-01-01T08:00:00Z",
            },
        }

    return {"type": "FeatureCollection", "features": [feature(i) for i in range(n)]}


@contextmanager
def lenient() -> Any:
    """The same parser with every key check a no-op (the peer)."""
    with contextlib.ExitStack() as stack:
        for module in (fields, times, parse, notice_json):
            stack.enter_context(mock.patch.object(module, "check_keys", lambda *a, **k: None))
        yield


def medians_s(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median seconds of ``fn`` strict and lenient, timed in alternation after a warm-up (so that
    neither gets the warm caches)."""
    strict: list[float] = []
    loose: list[float] = []
    for i in range(repeat + 10):
        for lax, out in ((False, strict), (True, loose)):
            with lenient() if lax else contextlib.nullcontext():
                t0 = time.perf_counter()
                fn()
                if i >= 10:
                    out.append(time.perf_counter() - t0)
    return statistics.median(strict), statistics.median(loose)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--vertices", type=int, default=1000)
    args = ap.parse_args()
    limits = Limits(shape=ShapeLimits(max_vertices=max(1000, args.vertices)))
    theater = [f["notice"] for f in load_theater_doc()["filings"]]
    docs = {
        "demo theater (12 notices)": theater,
        f"polygon of {args.vertices} vertices": polygon_notice(args.vertices),
        "100 GeoJSON circles": circles(100),
    }
    print(f"{'document':<32} {'strict':>10} {'no key checks':>14} {'ratio':>6}")
    for name, doc in docs.items():
        doc = json.loads(json.dumps(doc))
        strict, loose = medians_s(partial(parse_notices, doc, limits), args.repeat)
        print(f"{name:<32} {strict * 1e3:>8.2f} ms {loose * 1e3:>11.2f} ms {strict / loose:>5.2f}×")


if __name__ == "__main__":
    main()
