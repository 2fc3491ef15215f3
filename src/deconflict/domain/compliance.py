"""Notice-time and acknowledgement compliance per party over a period: the figures of the report.

Pure: the service reads the facts from the store and passes them in; nothing here does I/O.

The period is half-open, ``[since, until)``: a fact stamped exactly at ``until`` belongs to the
next report, one stamped exactly at ``since`` to this one. ``until`` is also the instant "as of"
which the report is drawn up: an acknowledgement given after it has not happened yet.

Definitions (agreed in advance, so no party can argue later about what counted):

* **notices filed**: :class:`FiledNotice` with ``since <= received_at < until``.
* **lead time**: ``lead_time_s`` of those notices, as given by the caller (time from first
  filing to the start of the activity). **median** and **10th percentile** are computed with
  :func:`percentile`: linear interpolation between closest ranks, numpy's default method
  (``numpy.percentile(x, q)``, ``method="linear"``); ``None`` when the party filed nothing.
* **late notices**: notices filed in the period whose ``late`` flag is set (the caller decides
  it against the minimum notice in force when the notice was filed).
* **conflicts**: :class:`ConflictFact` with ``since <= detected_at < until`` that name the party.
* **acknowledgement duties**: :class:`AckFact` with ``since <= sent_at < until`` and a deadline;
  messages without a deadline carry no duty and are not counted. Each duty is exactly one of

  - *on time*: acknowledged at or before ``until`` and ``acked_at <= deadline`` (an
    acknowledgement exactly at the deadline is on time);
  - *late*: acknowledged after the deadline, at or before ``until``;
  - *missing*: not acknowledged by ``until`` and ``deadline < until`` (an acknowledgement given
    after ``until`` does not change that: the report is drawn up as of ``until``);
  - *pending*: not acknowledged by ``until`` and ``deadline >= until``; reported separately and
    never counted against the party.

* **time to acknowledge**: ``acked_at - sent_at`` over the on-time and late duties (those
  acknowledged by ``until``); its **median** uses :func:`percentile` as above, ``None`` when none
  was acknowledged. Messages without a deadline are left out here too, so the latencies are
  exactly the duties counted beside them.
* **nonconformance / incursion seconds**: each :class:`AlertSpan` of that kind clipped to
  ``[since, until]`` (an open span, ``end is None``, runs to ``until``), summed. Spans are
  summed as they come, so two aircraft of a party out of conformance at once count twice
  (aircraft-minutes). Shown in minutes.

Every party in ``parties`` gets a row, with zeros when it did nothing; facts naming any other
party are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from deconflict.domain.errors import ValidationError
from deconflict.domain.times import format_time

LEAD_TIME_PERCENTILE = 10.0
"""The low percentile of lead time reported beside the median (the issue's "10th percentile")."""


@dataclass(frozen=True)
class FiledNotice:
    """A notice's first filing (protected sites are not included by the caller)."""

    party: str
    notice_id: str
    received_at: float
    lead_time_s: float
    late: bool


@dataclass(frozen=True)
class ConflictFact:
    """A conflict detected at ``detected_at``; ``parties`` are the distinct parties of its sides."""

    conflict_id: str
    parties: tuple[str, ...]
    detected_at: float


@dataclass(frozen=True)
class AckFact:
    """One recipient's acknowledgement duty for one hotline message."""

    message_id: str
    party: str
    sent_at: float
    deadline: float | None
    acked_at: float | None


@dataclass(frozen=True)
class AlertSpan:
    """An open tactical alert interval attributed to the aircraft's party; ``end is None``: still open."""

    kind: str  # "nonconformance" or "incursion"
    party: str
    start: float
    end: float | None


SPAN_KINDS = ("nonconformance", "incursion")
"""The tactical alert kinds whose open time is reported."""


@dataclass(frozen=True)
class PartyCompliance:
    """One party's figures over the report's period (definitions in the module docstring)."""

    party: str
    notices_filed: int
    lead_times_s: tuple[float, ...]
    """Lead times of the notices filed in the period, ascending (the charts draw them)."""
    late_lead_times_s: tuple[float, ...]
    """The lead times of the late notices among them, ascending."""
    lead_time_median_s: float | None
    lead_time_p10_s: float | None
    late_notices: int
    conflicts: int
    acks_on_time: int
    acks_late: int
    acks_missing: int
    acks_pending: int
    ack_latencies_s: tuple[float, ...]
    """Time to acknowledge of the on-time and late duties, ascending."""
    late_ack_latencies_s: tuple[float, ...]
    """The latencies of the late ones among them, ascending."""
    ack_latency_median_s: float | None
    nonconformance_s: float
    incursion_s: float

    @property
    def nonconformance_minutes(self) -> float:
        return self.nonconformance_s / 60.0

    @property
    def incursion_minutes(self) -> float:
        return self.incursion_s / 60.0

    @property
    def ack_duties(self) -> int:
        return self.acks_on_time + self.acks_late + self.acks_missing + self.acks_pending


@dataclass(frozen=True)
class ComplianceReport:
    """The figures of every party over ``[since, until)``, in the order the parties were given."""

    since: float
    until: float
    min_notice_s: float
    parties: tuple[PartyCompliance, ...]

    def party(self, name: str) -> PartyCompliance:
        """The row of ``name`` (``KeyError`` when the report has none)."""
        for row in self.parties:
            if row.party == name:
                return row
        raise KeyError(name)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100) of ``values`` by linear interpolation between closest ranks.

    With the values sorted ``x[0] <= … <= x[n-1]``, the rank is ``h = (n - 1) * q / 100`` and the
    result ``x[⌊h⌋] + (h - ⌊h⌋) * (x[⌊h⌋ + 1] - x[⌊h⌋])``: numpy's default (``method="linear"``).
    ``None`` for no values. The median is ``percentile(values, 50)``.

    >>> percentile([2.0, 4.0, 6.0], 10)
    2.4
    >>> percentile([1.0, 3.0, 5.0, 9.0], 50)
    4.0
    >>> percentile([], 50) is None
    True
    """
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile q must be within 0–100, got {q}")
    xs = sorted(values)
    if not xs:
        return None
    h = (len(xs) - 1) * q / 100.0
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def clipped_seconds(start: float, end: float | None, since: float, until: float) -> float:
    """How long ``[start, end]`` (``end`` None: still open, so ``until``) lies within ``[since, until]``.

    >>> clipped_seconds(-30.0, 30.0, 0.0, 100.0)
    30.0
    >>> clipped_seconds(90.0, None, 0.0, 100.0)
    10.0
    """
    stop = until if end is None else min(end, until)
    return max(0.0, stop - max(start, since))


def _check_time(field: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValidationError.at(field, f"must be a finite time, got {value!r}")


def compliance_report(
    parties: Sequence[str],
    since: float,
    until: float,
    notices: Iterable[FiledNotice],
    conflicts: Iterable[ConflictFact],
    acks: Iterable[AckFact],
    spans: Iterable[AlertSpan],
    min_notice_s: float,
) -> ComplianceReport:
    """Every party's compliance figures over ``[since, until)``; see the module docstring.

    ``min_notice_s`` is recorded in the report (the charts draw it); lateness itself comes from each
    notice's ``late`` flag. Raises :class:`ValidationError` on ``since``/``until`` unless
    ``since < until``, both finite.

    >>> r = compliance_report(["a"], 0.0, 3600.0, [FiledNotice("a", "n1", 10.0, 7200.0, False)], [], [], [], 3600.0)
    >>> r.party("a").notices_filed, r.party("a").lead_time_median_s
    (1, 7200.0)
    """
    _check_time("since", since)
    _check_time("until", until)
    if not since < until:
        raise ValidationError.at("until", f"must be after since ({format_time(since)}), got {format_time(until)}")
    if not (math.isfinite(min_notice_s) and min_notice_s >= 0.0):
        raise ValidationError.at("min_notice_s", f"must be a finite number of seconds >= 0, got {min_notice_s!r}")

    names = list(dict.fromkeys(parties))  # keep the caller's order, drop repeats
    wanted = set(names)

    def in_period(t: float) -> bool:
        return since <= t < until

    leads: dict[str, list[float]] = {p: [] for p in names}
    late_leads: dict[str, list[float]] = {p: [] for p in names}
    for n in notices:
        if n.party in wanted and in_period(n.received_at):
            leads[n.party].append(n.lead_time_s)
            if n.late:
                late_leads[n.party].append(n.lead_time_s)

    conflict_count = dict.fromkeys(names, 0)
    for c in conflicts:
        if in_period(c.detected_at):
            for p in set(c.parties) & wanted:
                conflict_count[p] += 1

    on_time = dict.fromkeys(names, 0)
    late = dict.fromkeys(names, 0)
    missing = dict.fromkeys(names, 0)
    pending = dict.fromkeys(names, 0)
    latencies: dict[str, list[float]] = {p: [] for p in names}
    late_latencies: dict[str, list[float]] = {p: [] for p in names}
    for a in acks:
        if a.party not in wanted or a.deadline is None or not in_period(a.sent_at):
            continue
        if a.acked_at is not None and a.acked_at <= until:
            latency = a.acked_at - a.sent_at
            latencies[a.party].append(latency)
            if a.acked_at <= a.deadline:
                on_time[a.party] += 1
            else:
                late[a.party] += 1
                late_latencies[a.party].append(latency)
        elif a.deadline < until:
            missing[a.party] += 1
        else:
            pending[a.party] += 1

    open_s = {(p, k): 0.0 for p in names for k in SPAN_KINDS}
    for s in spans:
        if s.party in wanted and s.kind in SPAN_KINDS:
            open_s[(s.party, s.kind)] += clipped_seconds(s.start, s.end, since, until)

    rows = []
    for p in names:
        lt = tuple(sorted(leads[p]))
        al = tuple(sorted(latencies[p]))
        rows.append(
            PartyCompliance(
                party=p,
                notices_filed=len(lt),
                lead_times_s=lt,
                late_lead_times_s=tuple(sorted(late_leads[p])),
                lead_time_median_s=percentile(lt, 50.0),
                lead_time_p10_s=percentile(lt, LEAD_TIME_PERCENTILE),
                late_notices=len(late_leads[p]),
                conflicts=conflict_count[p],
                acks_on_time=on_time[p],
                acks_late=late[p],
                acks_missing=missing[p],
                acks_pending=pending[p],
                ack_latencies_s=al,
                late_ack_latencies_s=tuple(sorted(late_latencies[p])),
                ack_latency_median_s=percentile(al, 50.0),
                nonconformance_s=open_s[(p, "nonconformance")],
                incursion_s=open_s[(p, "incursion")],
            )
        )
    return ComplianceReport(since=since, until=until, min_notice_s=min_notice_s, parties=tuple(rows))


def _s(value: float | None) -> float | None:
    """Seconds for the wire: to the millisecond."""
    return None if value is None else round(value, 3)


def _party_json(r: PartyCompliance) -> dict[str, Any]:
    return {
        "party": r.party,
        "notices_filed": r.notices_filed,
        "lead_time_median_s": _s(r.lead_time_median_s),
        "lead_time_p10_s": _s(r.lead_time_p10_s),
        "late_notices": r.late_notices,
        "conflicts": r.conflicts,
        "acknowledgements": {
            "on_time": r.acks_on_time,
            "late": r.acks_late,
            "missing": r.acks_missing,
            "pending": r.acks_pending,
            "median_time_to_ack_s": _s(r.ack_latency_median_s),
        },
        "nonconformance_s": _s(r.nonconformance_s),
        "nonconformance_minutes": round(r.nonconformance_minutes, 2),
        "incursion_s": _s(r.incursion_s),
        "incursion_minutes": round(r.incursion_minutes, 2),
        "lead_times_s": [_s(x) for x in r.lead_times_s],
        "ack_latencies_s": [_s(x) for x in r.ack_latencies_s],
    }


def report_json(report: ComplianceReport) -> dict[str, Any]:
    """The report as JSON-safe data: times RFC 3339 (UTC), durations in seconds to the millisecond.

    >>> r = compliance_report(["a"], 0.0, 3600.0, [], [], [], [], 1800.0)
    >>> j = report_json(r)
    >>> j["since"], j["until"], j["parties"][0]["notices_filed"], j["parties"][0]["lead_time_median_s"]
    ('1970-01-01T00:00:00Z', '1970-01-01T01:00:00Z', 0, None)
    """
    return {
        "since": format_time(report.since),
        "until": format_time(report.until),
        "min_notice_s": _s(report.min_notice_s),
        "lead_time_percentile": LEAD_TIME_PERCENTILE,
        "parties": [_party_json(r) for r in report.parties],
    }
