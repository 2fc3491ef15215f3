"""``deconflict demo``: the theater running live in a real broker, until Ctrl-C.

The broker (``deconflict serve``'s app on uvicorn) runs on a throwaway SQLite store and on a clock
of its own, the theater's: it starts at the ``live`` section's ``start`` and runs ``speed`` times
faster than real time. Filings that reached the broker before the start are filed first, each at
its own time (as ``deconflict demo --once`` does); then, as the clock passes their times, the rest
of the filings, the parties' acknowledgements of the broker's threads (on time, late, or never:
overdue) and the flights' positions, which each party reports through the tactical API
(``POST /v1/tracks``) with its own token, like any party's feed.

Each party is registered with a fresh token, printed once as a login link for the console: the
token rides in the link's fragment (``/#token=...``), which the browser never sends to a server.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from deconflict.demo.flights import Flight, parse_flight, positions
from deconflict.demo.theater import (
    Acknowledgement,
    Filing,
    give_acknowledgement,
    theater_acknowledgements,
    theater_filings,
)
from deconflict.domain.errors import ValidationError
from deconflict.domain.parties import Role
from deconflict.domain.policy import Limits
from deconflict.domain.times import parse_time
from deconflict.services.broker import Broker

TRACK_STEP_S = 10.0
"""Broker-clock seconds between two reports of an aircraft (well inside the track timeout)."""


class TheaterClock:
    """The broker's clock: held at a set time while the store is filled, then running ``speed``
    times real time from ``start``."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self._held: float = 0.0
        self._t0: float | None = None
        self._start = 0.0

    def hold(self, t: float) -> None:
        self._held = t

    def run_from(self, start: float) -> None:
        self._start, self._t0 = start, time.monotonic()

    def __call__(self) -> float:
        if self._t0 is None:
            return self._held
        return self._start + (time.monotonic() - self._t0) * self.speed


@dataclass(frozen=True)
class LiveTheater:
    doc: dict[str, Any]
    start: float
    speed: float
    flights: list[Flight]


def live_theater(doc: dict[str, Any], start: str | None = None, speed: float | None = None) -> LiveTheater:
    """The theater's ``live`` section, with ``start`` and ``speed`` overridden when given."""
    live = doc.get("live")
    if not isinstance(live, dict):
        raise ValidationError.at("live", "missing: the theater has no live section (start, speed, flights)")
    parties = {p["name"] for p in doc.get("parties", [])}
    flights_raw = live.get("flights", [])
    if not isinstance(flights_raw, list):
        raise ValidationError.at("live.flights", "must be a list of flights")
    flights = [parse_flight(f, parties, f"live.flights[{i}]") for i, f in enumerate(flights_raw)]
    t0 = parse_time(start, "--start") if start is not None else parse_time(live.get("start"), "live.start")
    s = speed if speed is not None else live.get("speed", 10)
    where = "--speed" if speed is not None else "live.speed"
    if isinstance(s, bool) or not isinstance(s, int | float) or not 0.1 <= s <= 1000:
        raise ValidationError.at(where, f"{s!r}: must be a number from 0.1 to 1000 (times real time)")
    return LiveTheater(doc, t0, float(s), flights)


def hhmm(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S")


def say(line: str) -> None:
    print(line, flush=True)


class Scenario:
    """Plays the theater on the broker's clock: filings, acknowledgements, aircraft."""

    def __init__(self, broker: Broker, theater: LiveTheater, clock: Callable[[], float], limits: Limits) -> None:
        from deconflict.services.hotline import Hotline

        self.broker, self.theater, self.clock = broker, theater, clock
        self.hotline = Hotline(broker)
        self.filings: list[Filing] = theater_filings(limits, theater.doc)
        self.acks: list[Acknowledgement] = theater_acknowledgements(theater.doc)
        self.tokens: dict[str, str] = {}

    def register(self) -> None:
        for p in self.theater.doc["parties"]:
            _, token = self.broker.add_party(p["name"], Role(p["role"]), p.get("coalition"))
            self.tokens[p["name"]] = token

    def file(self, f: Filing) -> None:
        r = self.broker.file_as_operator(f.notice)[0]
        late = " (late)" if r.late else ""
        hours = r.lead_time_s / 3600
        say(f"{hhmm(self.clock())}  filed {r.notice.id}: lead time {hours:.1f} h{late}, {len(r.conflicts)} conflict(s)")

    def file_before(self, start: float, hold: Callable[[float], None]) -> None:
        """File every filing that reached the broker before ``start``, and give the acknowledgements
        due before it, each at its own time (``--start`` later in the theater)."""
        while True:
            f = self.filings[0].filed_at if self.filings else math.inf
            a = self.acks[0].at if self.acks else math.inf
            if min(f, a) >= start:
                return
            if f <= a:
                hold(f)
                self.broker.file_as_operator(self.filings.pop(0).notice)
            else:
                hold(a)
                give_acknowledgement(self.broker, self.hotline, self.acks.pop(0), doc=self.theater.doc)

    def step(self) -> None:
        """Whatever is due on the broker's clock now."""
        now = self.clock()
        while self.filings and self.filings[0].filed_at <= now:
            self.file(self.filings.pop(0))
        while self.acks and self.acks[0].at <= now:
            a = self.acks.pop(0)
            if give_acknowledgement(self.broker, self.hotline, a, doc=self.theater.doc):
                how = "the conflict" if a.via == "conflict" else f"the thread ({a.state.value})"
                say(f"{hhmm(self.clock())}  {a.party} acknowledged {how}: {' / '.join(sorted(a.notices))}")

    def report_tracks(self, client: Any) -> None:
        now = self.clock()
        for party, states in positions(self.theater.flights, now).items():
            auth = {"Authorization": f"Bearer {self.tokens[party]}"}
            r = client.post("/v1/tracks", json={"states": states}, headers=auth)
            if r.status_code != 200 or r.json().get("rejected"):
                warn = f"{hhmm(now)}  {party}'s tracks: HTTP {r.status_code} {r.text[:300]}"
                print(warn, file=sys.stderr, flush=True)

    def run(self, url: str, server: Any, stop: threading.Event) -> None:
        """Start the clock once ``server`` (uvicorn's) serves, then play the theater until ``stop``."""
        import httpx

        while not server.started:
            if stop.wait(0.05):
                return
        assert isinstance(self.clock, TheaterClock)
        self.clock.run_from(self.theater.start)
        wall_step = min(1.0, TRACK_STEP_S / self.theater.speed)
        with httpx.Client(base_url=url, timeout=30.0) as client:
            while not stop.is_set():
                t0 = time.monotonic()
                try:
                    self.step()
                    self.report_tracks(client)
                except httpx.HTTPError as e:  # the server going down under Ctrl-C
                    if not (stop.is_set() or server.should_exit):
                        print(f"demo: {e}", file=sys.stderr, flush=True)
                stop.wait(max(0.0, wall_step - (time.monotonic() - t0)))
