"""Tactical alerts: one open alert per pair of aircraft or per aircraft and volume, created,
updated and cleared as the picture changes.

Each detection cycle produces :class:`Finding` s; :func:`reconcile` compares them with the open
alerts and says what to create, update (the severity changed) and clear (no longer found).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class AlertKind(StrEnum):
    SEPARATION = "separation"
    """Two aircraft of different parties predicted to lose separation (or already have)."""
    INCURSION = "incursion"
    """An aircraft inside, or predicted to enter, another party's volume or a protected site."""
    NONCONFORMANCE = "nonconformance"
    """An aircraft outside every volume its own party declared for now."""


class Severity(StrEnum):
    """How soon a finding becomes a loss of separation or an entry, in increasing order (see
    :func:`deconflict.domain.conformance.severity_time`); the theater's acknowledgement deadlines
    are set by it (``hotline.alert_ack_s``)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    LOSS = "loss"

    @property
    def urgent(self) -> bool:
        """Whether the broker's thread about such an alert is a flash message."""
        return self in (Severity.HIGH, Severity.LOSS)


class AlertState(StrEnum):
    OPEN = "open"
    """Still found by the last detection cycle."""
    CLEARED = "cleared"
    """No longer found; kept for the record."""


@dataclass(frozen=True)
class Finding:
    """What one cycle found for one key."""

    key: str
    kind: AlertKind
    severity: Severity
    parties: tuple[str, ...]
    """The parties the alert concerns (who must be told)."""
    body: dict[str, Any] | Callable[[], dict[str, Any]] = field(compare=False)
    """``sides`` (aircraft states), ``geometry`` (times and distances), ``volume`` (incursion); or
    a function that makes it: most findings of a cycle only confirm an open alert, and their
    bodies are never needed (:func:`reconcile` asks only for those it creates or updates)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))

    def content(self) -> dict[str, Any]:
        return self.body() if callable(self.body) else self.body


@dataclass(frozen=True)
class Alert:
    id: str
    key: str
    kind: AlertKind
    severity: Severity
    parties: tuple[str, ...]
    body: dict[str, Any]
    state: AlertState
    detected_at: float
    updated_at: float
    cleared_at: float | None = None

    def __post_init__(self) -> None:
        # The store hands back the words it keeps; inside, they are the vocabularies' members.
        object.__setattr__(self, "severity", Severity(self.severity))
        object.__setattr__(self, "state", AlertState(self.state))


def separation_key(a: tuple[str, str], b: tuple[str, str]) -> str:
    """The key of a pair of (party, aircraft), the same whichever comes first.

    >>> separation_key(("us", "B"), ("ru", "A")) == separation_key(("ru", "A"), ("us", "B"))
    True
    """
    # JSON, not separators: ids may hold any character, and two pairs must never share a key
    return "separation:" + json.dumps(sorted([list(a), list(b)]), separators=(",", ":"))


def aircraft_ref(aircraft: tuple[str, str]) -> str:
    """One (party, aircraft) as it appears in keys, made once per aircraft by a cycle."""
    return json.dumps(list(aircraft), separators=(",", ":"))


def separation_key_of(a: tuple[str, str], ref_a: str, b: tuple[str, str], ref_b: str) -> str:
    """:func:`separation_key` from each side's :func:`aircraft_ref` (a cycle meets each aircraft in
    many pairs; the JSON of each is made once).

    >>> a, b = ("us", "B"), ("ru", "A")
    >>> separation_key_of(a, aircraft_ref(a), b, aircraft_ref(b)) == separation_key(a, b)
    True
    """
    first, second = (ref_a, ref_b) if a <= b else (ref_b, ref_a)
    return "separation:[" + first + "," + second + "]"


def incursion_key(aircraft: tuple[str, str], notice: str, volume: int) -> str:
    return "incursion:" + json.dumps([list(aircraft), notice, volume], separators=(",", ":"))


def nonconformance_key(aircraft: tuple[str, str]) -> str:
    return "nonconformance:" + json.dumps(list(aircraft), separators=(",", ":"))


@dataclass(frozen=True)
class Changes:
    created: list[Alert]
    updated: list[Alert]
    cleared: list[Alert]

    def __bool__(self) -> bool:
        return bool(self.created or self.updated or self.cleared)


def reconcile(open_alerts: Mapping[str, Alert], findings: Iterable[Finding], now: float) -> Changes:
    """New findings open alerts; a finding whose severity changed updates its alert; an open alert
    no longer found is cleared. Geometry that moves every second but keeps the severity is not an
    update (the live picture is not an event each second)."""
    created, updated = [], []
    seen = set()
    for f in findings:
        seen.add(f.key)
        old = open_alerts.get(f.key)
        if old is None:
            created.append(
                Alert(uuid.uuid4().hex, f.key, f.kind, f.severity, f.parties, f.content(), AlertState.OPEN, now, now)
            )
        elif old.severity != f.severity:
            updated.append(replace(old, severity=f.severity, body=f.content(), parties=f.parties, updated_at=now))
    cleared = [
        replace(a, state=AlertState.CLEARED, cleared_at=now, updated_at=now)
        for k, a in open_alerts.items()
        if k not in seen
    ]
    return Changes(created, updated, cleared)


SEVERITY_RANK = {s: rank for rank, s in enumerate(Severity)}


def time_to(a: Alert) -> float:
    """Seconds until the alert's loss of separation or entry (0 when it has happened, infinite
    when the alert predicts neither, as nonconformance)."""
    g = a.body.get("geometry", {})
    if g.get("los") or g.get("inside"):
        return 0.0
    t = g.get("tin_s", g.get("entry_s"))
    return math.inf if t is None else max(float(t), 0.0)


def urgency(a: Alert) -> tuple[bool, int, float, float]:
    """Sort key that puts the most urgent first: a change that clears comes after every open one;
    then the higher severity, then the sooner loss of separation or entry.

    >>> lo = Alert("1", "k1", AlertKind.SEPARATION, "low", (), {"geometry": {"tin_s": 200}}, "open", 0, 0)
    >>> hi = Alert("2", "k2", AlertKind.SEPARATION, "high", (), {"geometry": {"tin_s": 50}}, "open", 0, 0)
    >>> soon = Alert("3", "k3", AlertKind.INCURSION, "high", (), {"geometry": {"entry_s": 20}}, "open", 0, 0)
    >>> [a.id for a in sorted([lo, hi, soon], key=urgency)]
    ['3', '2', '1']
    """
    return (a.state is AlertState.CLEARED, -SEVERITY_RANK[a.severity], time_to(a), a.detected_at)


def delivery_order(alerts: Iterable[Alert]) -> list[Alert]:
    """The order in which a cycle's changes are written and reach the parties: every pair of
    parties' most urgent change first, then every pair's second, and so on, each round by
    :func:`urgency`; clearings after every open alert. A party that makes thousands of alerts
    (a flood of made-up aircraft) cannot hold back another pair's one.

    >>> def a(id, parties, severity, state="open"):
    ...     return Alert(id, id, AlertKind.SEPARATION, severity, parties, {"geometry": {}}, state, 0, 0)
    >>> flood = [a(f"f{i}", ("x", "y"), "loss") for i in range(3)]
    >>> real = a("r", ("y", "z"), "high")
    >>> [x.id for x in delivery_order([*flood, a("c", ("y", "z"), "low", "cleared"), real])]
    ['f0', 'r', 'f1', 'f2', 'c']
    """
    groups: dict[tuple[str, ...], list[Alert]] = {}
    for x in alerts:
        groups.setdefault(x.parties, []).append(x)
    ranked = []
    for group in groups.values():
        group.sort(key=urgency)
        ranked += [((x.state is AlertState.CLEARED, i, *urgency(x)[1:]), x) for i, x in enumerate(group)]
    ranked.sort(key=lambda r: r[0])
    return [x for _, x in ranked]


def alert_json(a: Alert) -> dict[str, Any]:
    """The full form kept in the log and cut down by disclosure."""
    from deconflict.domain.times import format_time

    return {
        "id": a.id,
        "kind": a.kind.value,
        "severity": a.severity.value,
        "state": a.state.value,
        "parties": list(a.parties),
        "detected_at": format_time(a.detected_at),
        "updated_at": format_time(a.updated_at),
        "cleared_at": None if a.cleared_at is None else format_time(a.cleared_at),
        **a.body,
    }
