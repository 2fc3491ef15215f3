"""Process settings for a serving broker: one party's heavy request must not pause the others.

Two pauses of CPython reach every request of a busy server, and both were measured under the
heaviest filing the limits allow (``benchmarks/heavy_filing.py``):

- **The cycle collector's full (generation 2) pass** walks every tracked object: after start-up
  (modules, the app, its routes and schemas) about 170 000 of them, a 46 ms pause of the whole
  process, which lands inside whatever holds the filing lock at that moment. Freezing what exists
  after start-up moves it out of the collector's sight (it lives as long as the process anyway);
  only objects made while serving are collected, and full passes become rare and short.
- **The GIL's switch interval** (5 ms by default) is how long a thread that waits for the
  interpreter (another party's filing, back from the database) may wait for a thread busy with
  Python code (the heavy filing's parsing and encoding). A request passes through the
  interpreter dozens of times; at 1 ms its waits shrink five-fold.

Neither changes what the broker computes; both are applied once, by ``deconflict serve``.
"""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL_S = 0.001


def tune_for_serving() -> None:
    """Freeze the objects that live as long as the process and shorten the GIL's switch interval."""
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
