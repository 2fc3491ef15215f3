"""What showing a slice on the grid costs a view: a conflict seen at ``conflicts-only`` (the slice
quantized to S2 cells and whole steps) against the same conflict seen whole (the exact slice
copied), in the same run.

    .venv/bin/python benchmarks/disclosure_grid.py [--repeat 50]

Overlaps: circles of 5, 50 and 450 km radius (the last is the issue's probe meeting a notice as
large), at S2 level 10. The figures are the median per view, the number of cells and of
coordinates in the grid overlap, and the ratio grid / exact.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

from deconflict.domain.disclosure import Disclosure
from deconflict.domain.disclosure_policy import DisclosurePolicy
from deconflict.domain.parties import Party, Role

PARTIES = {"ru-vks": Party("ru-vks", Role.PARTY), "us-af": Party("us-af", Role.PARTY, "blue")}
PARTNER = Party("uk-raf", Role.PARTY, "blue")
"""us-af's coalition partner: it sees us-af's side whole, so its view of the conflict is exact."""


def conflict(radius_km: float) -> dict[str, Any]:
    ring = []
    for i in range(65):  # as shapely's buffer gives it (quad_segs 16)
        a = 2 * math.pi * (i % 64) / 64
        ring.append([36 + radius_km / 90.8 * math.cos(a), 35 + radius_km / 111.2 * math.sin(a)])
    side = {"notice": "n", "version": 1, "volume": 0, "protected_site": False}
    return {
        "id": "c",
        "state": "open",
        "detected_at": "2015-09-30T06:00:01Z",
        "updated_at": "2015-09-30T06:00:01Z",
        "resolved_at": None,
        "sides": [{**side, "party": "ru-vks"}, {**side, "party": "us-af"}],
        "slice": {
            "min_distance_m": 0.0,
            "vertical_gap_m": -1200.0,
            "time_gap_s": -3600.0,
            "altitude": {"lower_m": 3011.4, "upper_m": 7987.1},
            "time_window": {"start": "2015-09-30T07:31:07Z", "end": "2015-09-30T10:27:41Z"},
            "overlap": {"type": "Polygon", "coordinates": [ring]},
        },
    }


def median_s(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    d = Disclosure(DisclosurePolicy(), {**PARTIES, "uk-raf": PARTNER})
    viewer = PARTIES["ru-vks"]
    print(f"{'overlap':>10} {'exact ms':>9} {'grid ms':>9} {'ratio':>7} {'cells':>6} {'coords':>7} {'bytes':>8}")
    for radius in (5, 50, 450):
        c = conflict(radius)
        c_partner = {**c, "sides": [{**c["sides"][1]}, {**c["sides"][0], "party": "uk-raf"}]}
        exact = median_s(
            lambda c=c_partner: Disclosure(d.policy, {**PARTIES, "uk-raf": PARTNER}).conflict_view(PARTIES["us-af"], c),
            args.repeat,
        )
        grid = median_s(lambda c=c: d.conflict_view(viewer, c), args.repeat)
        view = d.conflict_view(viewer, c)
        assert view is not None and view["slice"]["grid"] is True
        cells = view["slice"]["overlap"]["coordinates"]
        coords = sum(len(p[0]) for p in cells)
        size = len(json.dumps(view))
        figures = f"{exact * 1e3:>9.3f} {grid * 1e3:>9.3f} {grid / exact:>7.0f}"
        print(f"{radius:>7} km {figures} {len(cells):>6} {coords:>7} {size:>8}")


if __name__ == "__main__":
    main()
