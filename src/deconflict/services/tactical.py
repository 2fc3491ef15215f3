"""The tactical picture: live tracks in, alerts out.

Parties report states (``POST /v1/tracks``); the broker keeps each aircraft's latest state in
memory (tracks older than the timeout age out), and a cycle, every second by default, moves every
state to the broker's present, runs the detection engine, checks conformance and incursions
against the notices in force, and reconciles the findings with the open alerts. Alert changes are
written with their events in one transaction, so they reach the live streams of both parties
(cut down by disclosure) and the log.

The picture lives in the process that receives the tracks; alerts live in the store.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deconflict.domain.alerts import (
    Alert,
    AlertKind,
    Changes,
    Finding,
    incursion_key,
    nonconformance_key,
    reconcile,
    separation_key,
)
from deconflict.domain.conformance import Aircraft, finite_or_none, move, severity_time, volume_hits
from deconflict.domain.errors import ValidationError
from deconflict.domain.parties import Party
from deconflict.domain.tactical import States, detect
from deconflict.domain.tracks import TrackState, derive_velocity, parse_state
from deconflict.domain.volumes import Notice, Volume4D
from deconflict.services.broker import Broker, Forbidden
from deconflict.services.tactical_settings import TacticalSettings

MAX_BATCH = 10_000
"""Most states in one ``POST /v1/tracks``."""


@dataclass
class _Track:
    party: str
    state: TrackState
    outside_since: float | None = None


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
        self._tracks: dict[tuple[str, str], _Track] = {}
        self._lock = threading.Lock()
        self._cycle_lock = threading.Lock()
        self._open: dict[str, Alert] | None = None
        self._volumes: list[tuple[Notice, int, Volume4D]] = []
        self._volumes_at = -float("inf")

    # ------------------------------------------------------------------ tracks in

    def ingest(self, caller: Party, body: Any) -> dict[str, Any]:
        """Accept a batch ``{"states": [...]}`` for the caller's aircraft; refuse bad states one by
        one (the rest are kept) with the field and the reason."""
        if not caller.role.files_notices:
            raise Forbidden(f"a {caller.role.value} does not report tracks")
        if not isinstance(body, dict) or not isinstance(body.get("states"), list):
            raise ValidationError.at("states", "must be a list of states")
        states = body["states"]
        if len(states) > MAX_BATCH:
            raise ValidationError.at(
                "states", f"{len(states)} states is more than the limit of {MAX_BATCH} per request"
            )
        now = self.clock()
        accepted = 0
        rejected = []
        with self._lock:
            for i, raw in enumerate(states):
                try:
                    s = parse_state(raw, now, self.settings.track_timeout_s, f"states[{i}]")
                except ValidationError as e:
                    err = e.errors[0]
                    rejected.append({"index": i, "field": err.path, "reason": err.reason})
                    self.metrics.rejected[err.path.split(".", 1)[-1]] += 1
                    continue
                key = (caller.name, s.aircraft)
                old = self._tracks.get(key)
                if old is not None:
                    if s.time < old.state.time:
                        continue  # an older report than the one held: keep the newer
                    s = derive_velocity(old.state, s)
                    old.state = s
                else:
                    self._tracks[key] = _Track(caller.name, s)
                accepted += 1
            self.metrics.accepted += accepted
        return {"accepted": accepted, "rejected": rejected}

    def aircraft_of(self, caller: Party) -> list[dict[str, Any]]:
        """The caller's own live aircraft (admin: all)."""
        now = self.clock()
        with self._lock:
            return [
                {"party": p, **_side(t.state, p, now)}
                for (p, _), t in sorted(self._tracks.items())
                if (caller.role.value == "admin" or p == caller.name)
                and now - t.state.time <= self.settings.track_timeout_s
            ]

    # ------------------------------------------------------------------ the cycle

    def cycle(self) -> Changes:
        """One detection cycle at the broker's present; returns what changed (already recorded)."""
        with self._cycle_lock:
            started = time.perf_counter()
            now = self.clock()
            if self._open is None:
                self._open = {a.key: a for a in self.broker.open_alerts()}
            tracks = self._live(now)
            findings = self._findings(tracks, now) if tracks else []
            changes = reconcile(self._open, findings, now)
            if changes:
                self.broker.record_alerts(changes)
                for a in changes.created + changes.updated:
                    self._open[a.key] = a
                for a in changes.cleared:
                    self._open.pop(a.key, None)
            m = self.metrics
            m.cycles += 1
            m.cycle_seconds_last = time.perf_counter() - started
            m.cycle_seconds_sum += m.cycle_seconds_last
            m.aircraft = len(tracks)
            m.alerts_open = Counter(a.kind.value for a in self._open.values())
            return changes

    def _live(self, now: float) -> list[_Track]:
        with self._lock:
            stale = [k for k, t in self._tracks.items() if now - t.state.time > self.settings.track_timeout_s]
            for k in stale:
                del self._tracks[k]
            return list(self._tracks.values())

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

    def _findings(self, tracks: list[_Track], now: float) -> list[Finding]:
        s = self.settings
        n = len(tracks)
        lat = np.array([t.state.lat for t in tracks])
        lon = np.array([t.state.lon for t in tracks])
        alt = np.array([t.state.alt_m for t in tracks])
        gs = np.array([t.state.gs_mps or 0.0 for t in tracks])
        trk = np.array([t.state.trk_deg or 0.0 for t in tracks])
        vs = np.array([t.state.vs_mps or 0.0 for t in tracks])
        dt = np.array([now - t.state.time for t in tracks])
        lat, lon = move(lat, lon, gs, trk, dt)  # every state moved to the present
        alt = alt + vs * dt
        parties = sorted({t.party for t in tracks})
        group = np.array([parties.index(t.party) for t in tracks], dtype=np.int64)
        states = States.from_arrays(lat=lat, lon=lon, alt_m=alt, gs_mps=gs, trk_deg=trk, vs_mps=vs, group=group)
        side_cache: dict[int, dict[str, Any]] = {}

        def side(k: int) -> dict[str, Any]:  # built only for aircraft that are in a finding
            if k not in side_cache:
                side_cache[k] = _side_arrays(tracks[k], lat[k], lon[k], alt[k], gs[k], trk[k], vs[k])
            return side_cache[k]

        out: list[Finding] = []
        c = detect(states, s.policy)
        for k in range(len(c)):
            i, j = int(c.i[k]), int(c.j[k])
            a, b = tracks[i], tracks[j]
            los = bool(c.los[k])
            out.append(
                Finding(
                    separation_key((a.party, a.state.aircraft), (b.party, b.state.aircraft)),
                    AlertKind.SEPARATION,
                    "loss" if los else severity_time(max(float(c.tin_s[k]), 0.0)),
                    tuple(sorted({a.party, b.party})),
                    {
                        "sides": [side(i), side(j)],
                        "geometry": {
                            "los": los,
                            "tcpa_s": finite_or_none(float(c.tcpa_s[k])),
                            "dcpa_m": finite_or_none(float(c.dcpa_m[k])),
                            "tin_s": finite_or_none(float(c.tin_s[k])),
                            "tout_s": finite_or_none(float(c.tout_s[k])),
                            "dist_m": finite_or_none(float(c.dist_m[k])),
                            "dalt_m": finite_or_none(float(c.dalt_m[k])),
                        },
                    },
                )
            )
        ac = Aircraft(now, lat, lon, alt, gs, trk, vs)
        volumes = self._in_force(now)
        own_inside = np.zeros(n, dtype=bool)
        for notice, vi, vol in volumes:
            assert notice.id is not None
            if notice.protected:
                others = np.arange(n)
            else:
                mine = (
                    np.flatnonzero(group == parties.index(notice.party))
                    if notice.party in parties
                    else np.empty(0, int)
                )
                if len(mine) and vol.time_start <= now <= vol.time_end:
                    inside_now = volume_hits(ac, vol, 0.0, mine)
                    own_inside[inside_now.index] = True
                others = (
                    np.flatnonzero(group != parties.index(notice.party)) if notice.party in parties else np.arange(n)
                )
            hits = volume_hits(ac, vol, s.lookahead_s, others)
            for idx, entry in zip(hits.index.tolist(), hits.entry_s.tolist(), strict=True):
                t = tracks[idx]
                out.append(
                    Finding(
                        incursion_key((t.party, t.state.aircraft), notice.id, vi),
                        AlertKind.INCURSION,
                        severity_time(entry),
                        tuple(sorted({t.party, notice.party})),
                        {
                            "sides": [side(idx)],
                            "volume": {
                                "party": notice.party,
                                "notice": notice.id,
                                "volume": vi,
                                "protected_site": notice.protected,
                            },
                            "geometry": {"inside": entry == 0.0, "entry_s": entry},
                        },
                    )
                )
        for k, t in enumerate(tracks):
            if own_inside[k]:
                t.outside_since = None
                continue
            if t.outside_since is None:
                t.outside_since = now
            outside = now - t.outside_since
            if outside >= s.conformance_grace_s:
                out.append(
                    Finding(
                        nonconformance_key((t.party, t.state.aircraft)),
                        AlertKind.NONCONFORMANCE,
                        "medium",
                        (t.party,),
                        {"sides": [side(k)], "geometry": {"outside_s": round(outside, 1)}},
                    )
                )
        return out

    # ------------------------------------------------------------------ running

    def run(self, stop: threading.Event) -> None:
        """Run cycles every ``cycle_s`` until ``stop`` is set (the server's own thread)."""
        import logging

        log = logging.getLogger(__name__)
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                self.cycle()
            except Exception:  # one bad cycle must not end the picture; it is logged and retried
                log.exception("tactical cycle failed")
            stop.wait(max(0.0, self.settings.cycle_s - (time.monotonic() - t0)))

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


def _side_arrays(t: _Track, lat: float, lon: float, alt: float, gs: float, trk: float, vs: float) -> dict[str, Any]:
    return {
        "party": t.party,
        "aircraft": t.state.aircraft,
        "callsign": t.state.callsign,
        "lat": round(float(lat), 6),
        "lon": round(float(lon), 6),
        "alt_m": round(float(alt), 1),
        "gs_mps": round(float(gs), 1),
        "trk_deg": round(float(trk), 1),
        "vs_mps": round(float(vs), 2),
    }


def _side(s: TrackState, party: str, now: float) -> dict[str, Any]:
    return {
        "aircraft": s.aircraft,
        "callsign": s.callsign,
        "time_s_ago": round(now - s.time, 1),
        "lat": s.lat,
        "lon": s.lon,
        "alt_m": s.alt_m,
        "alt_ref": s.alt_ref.value,
        "gs_mps": s.gs_mps,
        "trk_deg": s.trk_deg,
        "vs_mps": s.vs_mps,
    }
