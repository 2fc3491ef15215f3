"""``deconflict serve``'s process settings (deconflict/runtime.py)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from deconflict.cli.runtime import SWITCH_INTERVAL_S, tune_for_serving


@pytest.fixture
def restored() -> Iterator[None]:
    interval = sys.getswitchinterval()
    yield
    gc.unfreeze()
    sys.setswitchinterval(interval)


def test_serving_freezes_what_start_up_made_and_shortens_the_switch_interval(restored: None) -> None:
    made_at_start_up = [[i] for i in range(1000)]  # lists: always tracked by the collector
    assert gc.get_freeze_count() == 0
    before = {id(o) for o in gc.get_objects()}
    assert all(id(o) in before for o in made_at_start_up)
    tune_for_serving()
    assert gc.get_freeze_count() >= len(made_at_start_up)  # out of every later full collection
    # Frozen objects sit in no generation: no later collection walks them. (Before the freeze
    # every one of them is in some generation.)
    collected = {id(o) for o in gc.get_objects()}
    assert not any(id(o) in collected for o in made_at_start_up)
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S)
