"""Alert spans from the log (services.reports.alert_spans) across broker restarts: the time no
broker watched (from the last cycle before a start to the start) is never counted."""

from __future__ import annotations

from typing import Any

import pytest

from deconflict.domain.audit import Event, next_event
from deconflict.domain.times import format_time
from deconflict.services.reports import alert_spans

T0 = 1_700_000_000.0


def log(*entries: tuple[float, str, dict[str, Any]]) -> list[Event]:
    out: list[Event] = []
    for t, type_, payload in entries:
        out.append(next_event(out[-1] if out else None, T0 + t, "broker", type_, payload))
    return out


def alert(
    type_: str, t: float, *, kind: str = "incursion", severity: str = "loss", last_found: float | None = None
) -> tuple[float, str, dict[str, Any]]:
    body = {
        "id": "a1",
        "kind": kind,
        "severity": severity,
        "sides": [{"party": "ru", "aircraft": "x"}],
        "detected_at": format_time(T0),
        "updated_at": format_time(T0 + t),
        "cleared_at": format_time(T0 + t) if type_ == "alert.cleared" else None,
    }
    if type_ == "alert.cleared":
        body["last_found_at"] = None if last_found is None else format_time(T0 + last_found)
    return (t, type_, {"alert": body})


def started(t: float, previous_cycle: float | None) -> tuple[float, str, dict[str, Any]]:
    prev = None if previous_cycle is None else format_time(T0 + previous_cycle)
    return (t, "broker.started", {"version": "x", "previous_cycle_at": prev})


def spans(events: list[Event]) -> list[tuple[float, float | None]]:
    return [(s.start - T0, None if s.end is None else s.end - T0) for s in alert_spans(events)]


def test_a_restart_cuts_the_span_at_the_last_cycle_and_resumes_at_the_start() -> None:
    events = log(alert("alert.created", 0), started(1000, 120), alert("alert.cleared", 1300, last_found=1260))
    assert spans(events) == [(0, 120), (1000, 1260)]


def test_an_alert_the_restarted_broker_clears_without_finding_it_counts_nothing_after_the_start() -> None:
    events = log(alert("alert.created", 0), started(1000, 120), alert("alert.cleared", 1060, last_found=None))
    assert spans(events) == [(0, 120), (1000, 1000)]


def test_a_start_with_no_earlier_cycle_or_none_recorded_does_not_cut() -> None:
    events = log(alert("alert.created", 0), started(1000, None), alert("alert.cleared", 1300, last_found=1260))
    assert spans(events) == [(0, 1260)]


def test_two_restarts_and_a_span_still_open_at_the_end() -> None:
    events = log(alert("alert.created", 0), started(500, 100), started(900, 700))
    assert spans(events) == [(0, 100), (500, 700), (900, None)]


@pytest.mark.parametrize("kind", ["nonconformance", "incursion"])
def test_a_start_cuts_only_spans_that_count(kind: str) -> None:
    # an incursion predicted (severity high) is not a span; a nonconformance alert always is
    events = log(alert("alert.created", 0, kind=kind, severity="high"), started(500, 100))
    assert spans(events) == ([(0, 100), (500, None)] if kind == "nonconformance" else [])
