"""The clocks tests give the code under test (importable as ``clocks``): a clock is any
``() -> float`` of seconds since the epoch, as ``services.ports.Clock`` says."""

from __future__ import annotations

import threading


class SetClock:
    """Time that moves only when the test sets it (``clock.t = …``); safe to read from threads."""

    def __init__(self, t: float) -> None:
        self.t = t
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.t


class SleepClock(SetClock):
    """A set clock that a sleep moves on, keeping every sleep asked of it in ``sleeps``."""

    def __init__(self, t: float) -> None:
        super().__init__(t)
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


class TickingClock:
    """Time that moves ``step`` seconds per reading; ``t`` is the next reading (a test may set it
    back to read the same times again)."""

    def __init__(self, start: float, step: float = 1.0) -> None:
        self.t = start
        self.step = step
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            now = self.t
            self.t += self.step
            return now
