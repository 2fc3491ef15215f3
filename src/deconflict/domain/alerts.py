"""Tactical alerts: one open alert per pair of aircraft or per aircraft and volume, created,
updated and cleared as the picture changes.

Each detection cycle produces :class:`Finding` s; :func:`reconcile` compares them with the open
alerts and says what to create, update (the severity changed) and clear (no longer found).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
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
    body: dict[str, Any] = field(compare=False)
    """``sides`` (aircraft states), ``geometry`` (times and distances), ``volume`` (incursion)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))


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
                Alert(uuid.uuid4().hex, f.key, f.kind, f.severity, f.parties, f.body, AlertState.OPEN, now, now)
            )
        elif old.severity != f.severity:
            updated.append(replace(old, severity=f.severity, body=f.body, parties=f.parties, updated_at=now))
    cleared = [
        replace(a, state=AlertState.CLEARED, cleared_at=now, updated_at=now)
        for k, a in open_alerts.items()
        if k not in seen
    ]
    return Changes(created, updated, cleared)


def alert_json(a: Alert) -> dict[str, Any]:
    """The full form kept in the log and cut down by disclosure."""
    from deconflict.domain.parse import format_time

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
