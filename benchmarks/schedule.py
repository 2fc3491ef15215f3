"""Recurring schedules: what a scheduled pair costs detection, against plain pairs measured in the
same run, and that the cost does not grow with the envelope (docs/notices.md, "Recurring schedules").

Run ``python benchmarks/schedule.py [--pairs N]``. For N pairs of near volumes (small circles a
kilometre apart, the same band) it times ``volumes_within`` on:

- ``plain``: one-day windows that overlap (the peer);
- ``scheduled, 1 / 7 / 31 days``: both volumes recur (weekday windows, random days and times) in
  envelopes of that length; about half the pairs meet;
- ``first_meeting`` alone on the 31-day pairs (the time test without the plan test), and on the
  worst schedule the parser takes (8 windows every day, never meeting: the whole week is swept).

Prints the per-pair time and the ratio to the peer. A plain pair's cost is unchanged by schedules
(one attribute test); the scheduled cost should be about the same at 1, 7 and 31 days.
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from collections.abc import Callable
from dataclasses import replace

from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.schedule import DAY_S, DailyWindow, Schedule, first_meeting
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.domain.strategic import volumes_within
from deconflict.domain.volumes import AltitudeBand, Volume4D

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _schedule(rng: random.Random) -> Schedule:
    start = rng.randrange(0, 96) * 900
    length = rng.randrange(1, 16) * 900
    days = frozenset(rng.sample(range(7), rng.randint(1, 5)))
    return Schedule((DailyWindow(start, (start + length) % DAY_S or DAY_S),), days)


def _pairs(n: int, days: int | None, seed: int = 1) -> list[tuple[Volume4D, Volume4D]]:
    rng = random.Random(seed)
    band = AltitudeBand(0.0, 3000.0)
    out = []
    for _ in range(n):
        lat = rng.uniform(-60, 60)
        a = make_shape(ShapeKind.CIRCLE, [(lat, 10.0)], 2000.0)
        b = make_shape(ShapeKind.CIRCLE, [(lat + 0.01, 10.0)], 2000.0)
        if days is None:
            out.append((Volume4D(a, band, T0, T0 + DAY_S), Volume4D(b, band, T0 + 3600, T0 + DAY_S + 3600)))
        else:
            end = T0 + days * DAY_S
            out.append((Volume4D(a, band, T0, end, _schedule(rng)), Volume4D(b, band, T0, end, _schedule(rng))))
    return out


def _per_pair_us(pairs: list[tuple[Volume4D, Volume4D]], f: Callable[[Volume4D, Volume4D], object]) -> float:
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for a, b in pairs:
            f(a, b)
        best = min(best, time.perf_counter() - t)
    return best / len(pairs) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=2000)
    args = ap.parse_args()
    policy = SeparationPolicy()

    def within(a: Volume4D, b: Volume4D) -> bool:
        return volumes_within(a, b, policy)

    def meeting(a: Volume4D, b: Volume4D) -> object:
        return first_meeting((a.time_start, a.time_end, a.schedule), (b.time_start, b.time_end, b.schedule), 300.0)

    print(f"{platform.node()} {platform.processor() or platform.machine()}, {args.pairs} pairs, best of 5")
    peer = _per_pair_us(_pairs(args.pairs, None), within)
    print(f"{'plain (peer)':<28} {peer:8.1f} µs/pair  1.00×")
    for days in (1, 7, 31):
        pairs = _pairs(args.pairs, days)
        met = sum(within(a, b) for a, b in pairs)
        us = _per_pair_us(pairs, within)
        print(f"{f'scheduled, {days} days':<28} {us:8.1f} µs/pair  {us / peer:.2f}×  ({met} of {len(pairs)} meet)")
    us = _per_pair_us(_pairs(args.pairs, 31), meeting)
    print(f"{'first_meeting only, 31 days':<28} {us:8.1f} µs/pair  {us / peer:.2f}×")
    # the worst schedule the parser takes: 8 windows, every day, never meeting the other's
    busy = Schedule(tuple(DailyWindow(h * 3600, h * 3600 + 1800) for h in range(0, 16, 2)))
    other = Schedule(tuple(DailyWindow(h * 3600 + 2700, h * 3600 + 3000) for h in range(0, 16, 2)))
    worst = [(a, b) for a, b in _pairs(args.pairs, 31)]
    worst = [(replace(a, schedule=busy), replace(b, schedule=other)) for a, b in worst]
    assert not any(meeting(a, b) for a, b in worst[:10])
    us = _per_pair_us(worst, meeting)
    print(f"{'first_meeting, 8 windows':<28} {us:8.1f} µs/pair  {us / peer:.2f}×  (every day, 31 days, never meet)")


if __name__ == "__main__":
    main()
