"""A recording played into a running broker over HTTP (:func:`replay_states`), behind
``deconflict replay``: paced by a speed, re-stamped to the wall clock, split between parties by a
stable hash of each aircraft's id, and sent in batches through
:class:`~deconflict.clients.sender.Poster`. Clocks and sleeps are passed in, so tests drive the
loop without waiting; the command (:mod:`deconflict.cli.client_replay`) only parses, calls and prints.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from deconflict.adapters.feeds import state_to_wire
from deconflict.clients.sender import DEFAULT_URL, PartyTally, Poster, Sender, confirm_senders
from deconflict.domain.tracks import TrackState


@dataclass
class ReplaySummary:
    """The outcome of a replay, party by party."""

    parties: dict[str, PartyTally]
    aircraft: int = 0
    batches: int = 0
    requests: int = 0
    recording_s: float = 0.0
    wall_s: float = 0.0

    def total(self) -> PartyTally:
        t = PartyTally()
        for p in self.parties.values():
            t.sent += p.sent
            t.accepted += p.accepted
            t.rejected.update(p.rejected)
            t.examples = {**p.examples, **t.examples}
        return t

    def json(self) -> dict[str, Any]:
        return {
            **self.total().json(),
            "aircraft": self.aircraft,
            "batches": self.batches,
            "requests": self.requests,
            "recording_s": round(self.recording_s, 3),
            "wall_s": round(self.wall_s, 3),
            "parties": {name: t.json() for name, t in self.parties.items()},
        }


def party_of(aircraft: str, parties: Sequence[str]) -> str:
    """The party an aircraft is replayed as when a recording is split between ``parties``: a stable
    hash of its id (SHA-256, not Python's ``hash``, which changes from run to run), so an aircraft
    stays with one party for the whole replay and across replays and machines.

    >>> party_of("3c6444", ["ru", "us"]) == party_of("3C6444", ["ru", "us"])
    True
    """
    if len(parties) == 1:
        return parties[0]
    digest = hashlib.sha256(aircraft.strip().lower().encode()).digest()
    return parties[int.from_bytes(digest[:8], "big") % len(parties)]


def batches(states: Sequence[TrackState], batch_s: float) -> Iterator[list[TrackState]]:
    """Time-sorted states in windows of ``batch_s`` seconds of recording, counted from the first
    state (empty windows are skipped).

    >>> [[s.time for s in b] for b in batches([TrackState("a", t, 0, 0, 0) for t in (0, .5, 1, 3.2)], 1.0)]
    [[0, 0.5], [1], [3.2]]
    """
    if not states:
        return
    t0 = states[0].time
    current: list[TrackState] = []
    window = 0
    for s in states:
        w = math.floor((s.time - t0) / batch_s)
        if w != window and current:
            yield current
            current = []
        window = w
        current.append(s)
    if current:
        yield current


def replay_states(
    states: Sequence[TrackState],
    senders: Sequence[Sender],
    *,
    client: httpx.Client,
    url: str = DEFAULT_URL,
    speed: float = 10.0,
    batch_s: float = 1.0,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    on_batch: Callable[[float, ReplaySummary], None] | None = None,
    confirm: bool = True,
) -> ReplaySummary:
    """Play time-sorted ``states`` into the broker at ``url``, ``speed`` seconds of recording per
    wall-clock second, in batches of ``batch_s`` seconds of recording.

    Each batch is sent when its last state is due. Every state is re-stamped to the wall-clock
    moment it stands for at that point: the send time, less its distance in (paced) time from the
    batch's last state. A recording is hours or years old and the broker refuses states older than
    its track timeout (or ahead of its clock), and predicts conflicts from *now*: re-stamping makes
    the recording a live picture. Velocities stay as recorded.

    With several senders each aircraft goes to ``party_of(aircraft, parties)``, and each party's
    part of a batch is sent with its own token. ``on_batch(recording seconds done, summary)`` is
    called after every batch (for a progress bar). Raises :class:`ReplayError` when the broker is
    unreachable, refuses a token, or does not answer like the tracks API, and before anything is
    sent when a token is not its party's (:func:`confirm_senders`; ``confirm=False`` when the
    caller has done that already).
    """
    parties = [s.party for s in senders]
    by_party = {s.party: s for s in senders}
    summary = ReplaySummary(parties={p: PartyTally() for p in parties})
    if not states:
        return summary
    poster = Poster(client, url, sleep)
    if confirm:
        confirm_senders(senders, client=client, url=url, sleep=sleep)
    owner: dict[str, str] = {}
    t0 = states[0].time
    w0 = clock()
    for batch in batches(states, batch_s):
        t_last = batch[-1].time
        delay = w0 + (t_last - t0) / speed - clock()
        if delay > 0:
            sleep(delay)
        sent_at = clock()
        parts: dict[str, list[dict[str, Any]]] = {p: [] for p in parties}
        for s in batch:
            p = owner.get(s.aircraft)
            if p is None:
                p = owner[s.aircraft] = party_of(s.aircraft, parties)
            parts[p].append(state_to_wire(s, time=sent_at - (t_last - s.time) / speed))
        for p, wire in parts.items():
            if wire:
                poster.send(by_party[p], wire, summary.parties[p])
        summary.batches += 1
        summary.requests = poster.requests
        summary.recording_s = t_last - t0
        summary.wall_s = clock() - w0
        if on_batch is not None:
            on_batch(t_last - t0, summary)
    summary.aircraft = len(owner)
    return summary
