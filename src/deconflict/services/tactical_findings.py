"""What one tactical cycle finds in the picture: pairs of aircraft of different parties predicted
to lose separation, aircraft inside or entering another party's volume or a protected site, and
aircraft outside every volume of their own party (see docs/alerts.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from deconflict.domain.alerts import (
    AlertKind,
    Finding,
    Severity,
    incursion_key,
    nonconformance_key,
    separation_key_of,
)
from deconflict.domain.conformance import active_within, finite_or_none, move, severity_time, volume_hits
from deconflict.domain.tactical import Conflicts, States, detect
from deconflict.domain.tracks import TrackState
from deconflict.domain.volumes import Notice, Volume4D
from deconflict.services.tactical_settings import TacticalSettings


@dataclass
class Track:
    party: str
    state: TrackState
    ref: str
    """The aircraft as alert keys name it (:func:`~deconflict.domain.alerts.aircraft_ref`)."""
    outside_since: float | None = None


def find_all(
    snapshot: list[tuple[Track, TrackState]],
    now: float,
    s: TacticalSettings,
    volumes: list[tuple[Notice, int, Volume4D]],
) -> list[Finding]:
    """What one cycle finds: separation, incursions and nonconformance (each body made only when
    asked for); marks each track's ``outside_since``."""
    tracks = [t for t, _ in snapshot]
    states = [st for _, st in snapshot]
    n = len(snapshot)
    lat = np.array([st.lat for st in states])
    lon = np.array([st.lon for st in states])
    alt = np.array([st.alt_m for st in states])
    # An unknown velocity is taken as zero (until a second report gives one) and shown as such.
    gs = np.array([st.gs_mps or 0.0 for st in states])
    trk = np.array([st.trk_deg or 0.0 for st in states])
    vs = np.array([st.vs_mps or 0.0 for st in states])
    dt = np.maximum(np.array([now - st.time for st in states]), 0.0)
    lat, lon = move(lat, lon, gs, trk, dt)  # every state moved to the present
    alt = alt + vs * dt
    parties = sorted({t.party for t in tracks})
    party_index = {p: k for k, p in enumerate(parties)}
    group = np.array([party_index[t.party] for t in tracks], dtype=np.int64)
    arrays = States.from_arrays(lat=lat, lon=lon, alt_m=alt, gs_mps=gs, trk_deg=trk, vs_mps=vs, group=group)
    side_cache: dict[int, dict[str, Any]] = {}

    def side(k: int) -> dict[str, Any]:  # built only for aircraft that are in a finding
        if k not in side_cache:
            side_cache[k] = _side_arrays(tracks[k].party, states[k], lat[k], lon[k], alt[k], gs[k], trk[k], vs[k])
        return side_cache[k]

    out: list[Finding] = []
    c = detect(arrays, s.policy)
    los_all = c.los.tolist()
    tin_all = c.tin_s.tolist()
    for k, (i, j) in enumerate(zip(c.i.tolist(), c.j.tolist(), strict=True)):
        a, b = tracks[i], tracks[j]
        los = los_all[k]
        out.append(
            Finding(
                separation_key_of((a.party, states[i].aircraft), a.ref, (b.party, states[j].aircraft), b.ref),
                AlertKind.SEPARATION,
                Severity.LOSS if los else severity_time(max(tin_all[k], 0.0)),
                tuple(sorted({a.party, b.party})),
                _separation_body(c, k, i, j, side),
            )
        )
    own_inside = np.zeros(n, dtype=bool)
    for notice, vi, vol in volumes:
        assert notice.id is not None
        if notice.protected:
            others = np.arange(n)
        else:
            mine = np.flatnonzero(group == parties.index(notice.party)) if notice.party in parties else np.empty(0, int)
            if len(mine) and active_within(vol, now, now):  # its own volume, active now
                inside_now = volume_hits(arrays, now, vol, 0.0, mine)
                own_inside[inside_now.index] = True
            others = np.flatnonzero(group != parties.index(notice.party)) if notice.party in parties else np.arange(n)
        hits = volume_hits(arrays, now, vol, s.lookahead_s, others, s.overhead_m if notice.protected else 0.0)
        for idx, entry in zip(hits.index.tolist(), hits.entry_s.tolist(), strict=True):
            t = tracks[idx]
            out.append(
                Finding(
                    incursion_key((t.party, states[idx].aircraft), notice.id, vi),
                    AlertKind.INCURSION,
                    severity_time(entry),
                    tuple(sorted({t.party, notice.party})),
                    _incursion_body(side, idx, notice, vi, entry),
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
                    nonconformance_key((t.party, states[k].aircraft)),
                    AlertKind.NONCONFORMANCE,
                    Severity.MEDIUM,
                    (t.party,),
                    _nonconformance_body(side, k, outside),
                )
            )
    return out


def _separation_body(
    c: Conflicts, k: int, i: int, j: int, side: Callable[[int], dict[str, Any]]
) -> Callable[[], dict[str, Any]]:
    """The body of the ``k``-th conflict of a detection, made only when asked for."""

    def body() -> dict[str, Any]:
        return {
            "sides": [side(i), side(j)],
            "geometry": {
                "los": bool(c.los[k]),
                "tcpa_s": finite_or_none(float(c.tcpa_s[k])),
                "dcpa_m": finite_or_none(float(c.dcpa_m[k])),
                "tin_s": finite_or_none(float(c.tin_s[k])),
                "tout_s": finite_or_none(float(c.tout_s[k])),
                "dist_m": finite_or_none(float(c.dist_m[k])),
                "dalt_m": finite_or_none(float(c.dalt_m[k])),
            },
        }

    return body


def _incursion_body(
    side: Callable[[int], dict[str, Any]], idx: int, notice: Notice, vi: int, entry: float
) -> Callable[[], dict[str, Any]]:
    def body() -> dict[str, Any]:
        return {
            "sides": [side(idx)],
            "volume": {"party": notice.party, "notice": notice.id, "volume": vi, "protected_site": notice.protected},
            "geometry": {"inside": entry == 0.0, "entry_s": entry},
        }

    return body


def _nonconformance_body(side: Callable[[int], dict[str, Any]], k: int, outside: float) -> Callable[[], dict[str, Any]]:
    def body() -> dict[str, Any]:
        return {"sides": [side(k)], "geometry": {"outside_s": round(outside, 1)}}

    return body


def _side_arrays(
    party: str, st: TrackState, lat: float, lon: float, alt: float, gs: float, trk: float, vs: float
) -> dict[str, Any]:
    return {
        "party": party,
        "aircraft": st.aircraft,
        "callsign": st.callsign,
        "lat": round(float(lat), 6),
        "lon": round(float(lon), 6),
        "alt_m": round(float(alt), 1),
        "alt_ref": st.alt_ref.value,
        "gs_mps": round(float(gs), 1),
        "trk_deg": round(float(trk), 1),
        "vs_mps": round(float(vs), 2),
        "velocity_known": st.has_velocity,
    }
