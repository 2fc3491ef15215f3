"""The tactical picture: live tracks in, alerts out.

Parties report states (``POST /v1/tracks``); the broker keeps each aircraft's latest state in
memory (tracks older than the timeout age out), and a cycle, every second by default, moves every
state to the broker's present, runs the detection engine, checks conformance and incursions
against the notices in force, and reconciles the findings with the open alerts. Alert changes are
written with their events, most urgent first, in transactions of a few hundred, so they reach the
live streams of both parties (cut down by disclosure) and the log. Each party's live aircraft and
report rate are limited (``[tactical]``, 429 beyond).

The picture lives in the process that receives the tracks; alerts live in the store.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from deconflict.domain.alerts import (
    Alert,
    AlertKind,
    AlertState,
    Changes,
    aircraft_ref,
    reconcile,
)
from deconflict.domain.errors import DeconflictError
from deconflict.domain.parties import Party, Role
from deconflict.domain.times import format_time, format_time_or_none
from deconflict.domain.tracks import FUTURE_TOLERANCE_S, TrackState, derive_velocity
from deconflict.domain.volumes import Notice, Volume4D
from deconflict.services.broker import Broker
from deconflict.services.commands import ReportedState, ReportTracks, check_reporter
from deconflict.services.tactical_findings import Track, find_all
from deconflict.services.tactical_settings import TacticalSettings

log = logging.getLogger(__name__)

CLEAR_AFTER = 3
"""Cycles in a row an alert must go unfound before it is cleared."""
STOP_LOOK_S = 0.1
"""How often the cycle thread, waiting for a report or the next period, looks at whether to stop."""


class TrackLimitExceeded(DeconflictError):
    """A report beyond one of the party's limits in the picture (``[tactical]``, stated in
    ``/v1/policy``); nothing of it is kept. ``retry_after_s``: when it would be accepted (a rate),
    or ``None`` (too many aircraft: only fewer will do)."""

    def __init__(self, setting: str, reason: str, retry_after_s: int | None) -> None:
        self.field = f"tactical.{setting}"
        self.reason = reason
        self.retry_after_s = retry_after_s
        super().__init__(f"{self.field}: {reason}")


@dataclass
class Metrics:
    cycles: int = 0
    cycle_seconds_sum: float = 0.0
    cycle_seconds_last: float = 0.0
    aircraft: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    alerts_open: Counter[str] = field(default_factory=Counter)


class TacticalService:
    """Tracks, detection cycles and alerts for one broker."""

    def __init__(
        self, broker: Broker, settings: TacticalSettings | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        self.broker = broker
        self.settings = settings or TacticalSettings()
        self.clock = clock or broker.clock
        self.metrics = Metrics()
        self._tracks: dict[tuple[str, str], Track] = {}
        self._lock = threading.Lock()
        self._cycle_lock = threading.Lock()
        self._woken = threading.Event()
        """Set when a report was kept: :meth:`run` starts the next cycle without waiting out ``cycle_s``."""
        self._missed: dict[str, int] = {}
        self._last_found: dict[str, float] = {}
        """When this process's cycles last found each open alert's key (a cleared alert says so)."""
        self._started_at: float | None = None
        self._volumes: list[tuple[Notice, int, Volume4D]] = []
        self._volumes_at = -float("inf")
        self._open: dict[str, Alert] | None = None
        self._last_cycle = -math.inf
        self._aircraft: Counter[str] = Counter()
        """Live aircraft per party."""
        self._bucket: dict[str, tuple[float, float]] = {}
        """Per party: the states it may still report at once, as of when."""

    # ------------------------------------------------------------------ tracks in

    def ingest(self, cmd: ReportTracks) -> dict[str, Any]:
        """Keep a report's states of the caller's aircraft (parsed by
        :func:`~deconflict.services.commands.parse_report_tracks`); the bad ones were refused one by
        one (the rest are kept) with the field and the reason."""
        caller = cmd.caller
        check_reporter(caller)  # as the parser did: a command made by hand is held to it too
        accepted = 0
        rejected = []
        with self._lock:
            self._admit(caller.name, cmd.states, time.monotonic())
            for r in cmd.states:
                i, s = r.index, r.state
                if s is None:
                    rejected.append({"index": i, "field": r.field, "reason": r.reason})
                    self.metrics.rejected[r.field.split(".", 1)[1] if "." in r.field else "state"] += 1
                    continue
                key = (caller.name, s.aircraft)
                old = self._tracks.get(key)
                if old is not None:
                    if s.time < old.state.time:  # keep the newer report, and say so
                        reason = (
                            f"older than the report held for {s.aircraft!r} ({old.state.time - s.time:.1f} s newer)"
                        )
                        rejected.append({"index": i, "field": f"states[{i}].time", "reason": reason})
                        self.metrics.rejected["time"] += 1
                        continue
                    s = derive_velocity(old.state, s, self.settings.track_timeout_s)
                    old.state = s
                else:
                    self._tracks[key] = Track(caller.name, s, aircraft_ref(key))
                    self._aircraft[caller.name] += 1
                accepted += 1
            self.metrics.accepted += accepted
        if accepted:
            self._woken.set()
        return {"accepted": accepted, "rejected": rejected}

    def _admit(self, party: str, states: tuple[ReportedState, ...], now: float) -> None:
        """Refuse, whole, a report beyond the party's rate or its number of live aircraft (under
        ``self._lock``; ``now`` on the monotonic clock: the rate is one of load, whatever the
        broker's clock says); the rate is counted only for a report that is kept."""
        s = self.settings
        held = self._aircraft[party]
        new = {r.aircraft for r in states if r.aircraft is not None and (party, r.aircraft) not in self._tracks}
        if held + len(new) > s.max_aircraft_per_party:
            raise TrackLimitExceeded(
                "max_aircraft_per_party",
                f"{party!r} has {held} live aircraft and this report adds {len(new)}: more than the limit of "
                f"{s.max_aircraft_per_party} per party (see /v1/policy); nothing of it was kept",
                None,
            )
        tokens, at = self._bucket.get(party, (float(s.states_burst), now))
        tokens = min(float(s.states_burst), tokens + max(now - at, 0.0) * s.states_per_s)
        if len(states) > tokens:
            wait = max(1, math.ceil((len(states) - tokens) / s.states_per_s)) if len(states) <= s.states_burst else None
            raise TrackLimitExceeded(
                "states_per_s",
                f"{len(states)} states now is more than {party!r} may report: {s.states_per_s:g} per second, "
                f"{s.states_burst} at once (see /v1/policy); nothing of it was kept",
                wait,
            )
        self._bucket[party] = (tokens - len(states), now)

    def aircraft_of(self, caller: Party) -> list[dict[str, Any]]:
        """The caller's own live aircraft (admin: all)."""
        now = self.clock()
        with self._lock:
            return [
                {"party": p, **_side(t.state, p, now)}
                for (p, _), t in sorted(self._tracks.items())
                if (caller.role is Role.ADMIN or p == caller.name)
                and now - t.state.time <= self.settings.track_timeout_s
            ]

    # ------------------------------------------------------------------ the cycle

    def cycle(self) -> Changes:
        """One detection cycle at the broker's present; returns what changed (already recorded).

        Open alerts are this process's record, checked against the store (:meth:`_open_alerts`),
        so a restarted broker sees the same ones. An alert no longer found is cleared only after
        :data:`CLEAR_AFTER` cycles in a row (a sampled path that grazes a small volume must not make
        its alert flap), and, in the first ``track_timeout_s`` after a start, only if this picture
        holds its aircraft (a restarted broker has not heard from them yet).
        """
        with self._cycle_lock:
            started = time.perf_counter()
            now = self.clock()
            if self._started_at is None:
                self._started_at = now
            open_alerts = self._open_alerts()
            snapshot = self._live(now)
            findings = find_all(snapshot, now, self.settings, self._in_force(now)) if snapshot else []
            proposed = reconcile(open_alerts, findings, now)
            known = {(t.party, st.aircraft) for t, st in snapshot}
            warm = now - self._started_at < self.settings.track_timeout_s
            cleared = []
            for a in proposed.cleared:
                held = [(s_["party"], s_["aircraft"]) for s_ in a.body.get("sides", [])]
                if warm and not any(h in known for h in held):
                    continue  # not ours to clear yet: the tracks may be on their way
                self._missed[a.key] = self._missed.get(a.key, 0) + 1
                if self._missed[a.key] >= CLEAR_AFTER or not any(h in known for h in held):
                    last = self._last_found.pop(a.key, None)
                    cleared.append(replace(a, body={**a.body, "last_found_at": format_time_or_none(last)}))
            found = {f.key for f in findings}
            self._missed = {k: v for k, v in self._missed.items() if k not in found and k in open_alerts}
            for k in found:
                self._last_found[k] = now
            for k in [k for k in self._last_found if k not in found and k not in open_alerts]:
                del self._last_found[k]  # an alert cleared elsewhere (another process, a restart)
            changes = Changes(proposed.created, proposed.updated, cleared)
            if changes:
                self._record(changes)
                for a in cleared:
                    self._missed.pop(a.key, None)
            self.broker.beat(now)
            m = self.metrics
            m.cycles += 1
            m.cycle_seconds_last = time.perf_counter() - started
            m.cycle_seconds_sum += m.cycle_seconds_last
            m.aircraft = len(snapshot)
            gone = {c.key for c in cleared}
            still_open = [a for k, a in open_alerts.items() if k not in gone] + changes.created
            m.alerts_open = Counter(a.kind.value for a in still_open)
            return changes

    def _open_alerts(self) -> dict[str, Alert]:
        """The open alerts by key: this process's own record of them, read again from the store at
        the start, after any failed write, after a pause in the cycles (another process may have
        run them meanwhile), and whenever the store holds another number of open alerts than this
        record (another process wrote; only one should run cycles at a time). Reading them all
        costs 0.1-0.5 s at 6 500 open alerts, so it is not done without a reason."""
        paused = time.monotonic() - self._last_cycle > max(5.0, 3 * self.settings.cycle_s)
        stale = self._open is None or paused
        self._last_cycle = time.monotonic()
        if not stale and self.broker.count_open_alerts() != len(self._open or {}):
            log.warning("the open alerts changed outside this process's cycle: read again")
            stale = True
        if stale or self._open is None:
            self._open = {a.key: a for a in self.broker.open_alerts()}
        return dict(self._open)

    def _record(self, changes: Changes) -> None:
        """Write ``changes`` (most urgent first, in chunks) and keep the record of open alerts."""
        held = self._open
        self._open = None  # until every chunk is written: a failure midway reads the store again
        assert held is not None
        for chunk in self.broker.record_alerts(changes):
            for a in chunk:
                if a.state is AlertState.OPEN:
                    held[a.key] = a
                else:
                    held.pop(a.key, None)
        self._open = held

    def _live(self, now: float) -> list[tuple[Track, TrackState]]:
        """Each live track with its state, read together under the lock (a report arriving during
        the cycle must not mix one report's position with another's time)."""
        s = self.settings
        with self._lock:
            stale = [
                k
                for k, t in self._tracks.items()
                if now - t.state.time > s.track_timeout_s or t.state.time - now > FUTURE_TOLERANCE_S
            ]
            for k in stale:  # aged out, or stamped ahead of a clock that stepped back
                del self._tracks[k]
                self._aircraft[k[0]] -= 1
            return [(t, t.state) for t in self._tracks.values()]

    def _in_force(self, now: float) -> list[tuple[Notice, int, Volume4D]]:
        if now - self._volumes_at >= self.settings.notices_refresh_s or now < self._volumes_at:
            horizon = now + self.settings.lookahead_s
            self._volumes = [
                (n, i, v)
                for n in self.broker.live_notices(now - self.settings.notices_refresh_s, horizon)
                for i, v in enumerate(n.volumes)
                if v.time_end >= now - self.settings.notices_refresh_s and v.time_start <= horizon
            ]
            self._volumes_at = now
        return self._volumes

    # ------------------------------------------------------------------ running

    def run(self, stop: threading.Event) -> None:
        """Run cycles until ``stop`` is set (the server's own thread): every ``cycle_s``, and sooner
        when a report was kept (:meth:`ingest` wakes this thread), but never starting closer than
        ``cycle_min_gap_s`` to the last start; one cycle at a time."""
        s = self.settings
        while not stop.is_set():
            self._woken.clear()  # before the cycle reads the picture: a report from now on wakes the next one
            started = time.monotonic()
            try:
                self.cycle()
            except Exception:  # one bad cycle must not end the picture; it is logged and retried
                log.exception("tactical cycle failed")
            if self._wait(stop, started + s.cycle_s):
                stop.wait(max(0.0, started + s.cycle_min_gap_s - time.monotonic()))

    def _wait(self, stop: threading.Event, until: float) -> bool:
        """Wait until the monotonic ``until``, a kept report (``True``) or ``stop``; ``stop`` is
        looked at every :data:`STOP_LOOK_S` (two events cannot be waited for at once)."""
        while not stop.is_set():
            left = until - time.monotonic()
            if left <= 0:
                return False
            if self._woken.wait(min(left, STOP_LOOK_S)):
                return True
        return False

    def prometheus(self) -> str:
        """The metrics in Prometheus text format."""
        m = self.metrics
        lines = [
            "# HELP deconflict_cycle_seconds Duration of the last tactical detection cycle.",
            "# TYPE deconflict_cycle_seconds gauge",
            f"deconflict_cycle_seconds {m.cycle_seconds_last:.6f}",
            "# HELP deconflict_cycle_seconds_total Time spent in tactical cycles.",
            "# TYPE deconflict_cycle_seconds_total counter",
            f"deconflict_cycle_seconds_total {m.cycle_seconds_sum:.6f}",
            "# HELP deconflict_cycles_total Tactical cycles run.",
            "# TYPE deconflict_cycles_total counter",
            f"deconflict_cycles_total {m.cycles}",
            "# HELP deconflict_aircraft Aircraft in the picture at the last cycle.",
            "# TYPE deconflict_aircraft gauge",
            f"deconflict_aircraft {m.aircraft}",
            "# HELP deconflict_track_states_accepted_total Track states accepted.",
            "# TYPE deconflict_track_states_accepted_total counter",
            f"deconflict_track_states_accepted_total {m.accepted}",
            "# HELP deconflict_track_states_rejected_total Track states refused, by field.",
            "# TYPE deconflict_track_states_rejected_total counter",
        ]
        lines += [f'deconflict_track_states_rejected_total{{field="{k}"}} {v}' for k, v in sorted(m.rejected.items())]
        lines += ["# HELP deconflict_alerts_open Open tactical alerts, by kind.", "# TYPE deconflict_alerts_open gauge"]
        lines += [f'deconflict_alerts_open{{kind="{k.value}"}} {m.alerts_open.get(k.value, 0)}' for k in AlertKind]
        return "\n".join(lines) + "\n"


def _side(s: TrackState, party: str, now: float) -> dict[str, Any]:
    return {
        "aircraft": s.aircraft,
        "callsign": s.callsign,
        "time": format_time(s.time),
        "time_s_ago": round(now - s.time, 1),
        "lat": s.lat,
        "lon": s.lon,
        "alt_m": s.alt_m,
        "alt_ref": s.alt_ref.value,
        "gs_mps": s.gs_mps,
        "trk_deg": s.trk_deg,
        "vs_mps": s.vs_mps,
    }
