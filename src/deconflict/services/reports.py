"""The compliance report drawn up from the broker's own records, and its hash put in the log.

The facts come from the tamper-evident log wherever the log holds them, so that anyone holding
an admin export can recompute a report and check it against the hash the log recorded:

* notices filed: ``notice.filed`` events (their ``lead_time_s`` and ``late`` flag, fixed when the
  notice was received against the minimum notice then in force); protected sites are left out;
* conflicts: ``conflict.created`` events, each naming the parties of its two sides;
* tactical spans: ``alert.created``/``alert.updated``/``alert.cleared`` events. Nonconformance
  counts the whole time its alert was open (the alert opens after the grace period). Incursion
  counts only the time the aircraft was *inside* the volume (the alert's severity ``loss``): an
  incursion alert also opens for a predicted entry, and a prediction is not an incursion;
* acknowledgement duties: ``message.sent`` events in the period (each recipient's deadline) and
  the ``message.acknowledged`` events up to ``until`` (each recipient's first acknowledgement).

Who sees which rows: the admin every party's; anyone else the rows of the parties whose activity
it sees whole (``full``: itself, its coalition, a rule, an observer's grant). A report with no row
the caller may see is refused, not returned empty.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from deconflict.domain.alerts import AlertKind, Severity
from deconflict.domain.audit import Event, canonical_json, sha256_hex
from deconflict.domain.compliance import (
    SPAN_KINDS,
    AckFact,
    AlertSpan,
    ComplianceReport,
    ConflictFact,
    FiledNotice,
    compliance_report,
    report_json,
)
from deconflict.domain.disclosure import ALERT_EVENTS
from deconflict.domain.disclosure_policy import Level
from deconflict.domain.errors import Forbidden, ValidationError
from deconflict.domain.event_types import EventType
from deconflict.domain.parties import Party, Role
from deconflict.domain.times import format_time, parse_time
from deconflict.services.broker import Broker
from deconflict.services.events import START_EVENT
from deconflict.services.ports import BrokerRepository

DEFAULT_PERIOD_S = 24 * 3600.0
"""Without ``since``, a report covers the 24 hours before ``until``."""
MAX_PERIOD_S = 31 * 86400.0
"""The longest period one report covers (a month's log takes seconds to read; see
``benchmarks/report.py``)."""
SPAN_EVENTS = ALERT_EVENTS | {START_EVENT}
"""What :func:`alert_spans` reads (a start's ``previous_cycle_at`` cuts the open spans)."""
REPORT_EVENT = EventType.REPORT_COMPLIANCE
"""Payload ``{"party": <requester>, "since", "until", "parties", "as_of_seq", "report_sha256"}``."""


def report_hash(report: dict[str, Any]) -> str:
    """The hash a report is known by: SHA-256 of its canonical JSON (RFC 8785-style, as the log)."""
    return sha256_hex(canonical_json(report))


def filed_notices(events: Iterable[Event]) -> list[FiledNotice]:
    out = []
    for e in events:
        n = e.payload["notice"]
        if not n.get("protected_site"):
            out.append(
                FiledNotice(n["party"], n["id"], e.time, float(e.payload["lead_time_s"]), bool(e.payload["late"]))
            )
    return out


def conflict_facts(events: Iterable[Event]) -> list[ConflictFact]:
    out = []
    for e in events:
        c = e.payload["conflict"]
        parties = tuple(sorted({s["party"] for s in c["sides"]}))
        out.append(ConflictFact(c["id"], parties, e.time))
    return out


class _Open(NamedTuple):
    """A span still open while :func:`alert_spans` reads the events."""

    kind: str
    party: str
    """The aircraft's party."""
    start: float
    resumed: bool = False
    """The span goes on after a broker start (a part before it is already counted)."""


def alert_spans(events: Iterable[Event]) -> list[AlertSpan]:
    """The spans of nonconformance (alert open) and of incursion (alert at severity ``loss``: the
    aircraft inside) from the alert events, oldest first; a span still open has ``end=None``.

    Times are the alert's own (the detection cycle's), not the events': the same as the alerts
    table, so a recomputation from an export gives the same spans. A cleared alert ends its span
    when a cycle last found it (``last_found_at``), not when it was cleared some cycles later.

    A ``broker.started`` event among them cuts every open span: it ends at ``previous_cycle_at``
    (the last cycle any broker ran before the start) and goes on from the start, so the time no
    broker watched is not counted against anyone. If the started broker then clears the alert
    without ever finding it (``last_found_at`` null), nothing after the start is counted either.
    """
    open_since: dict[str, _Open] = {}  # by alert id
    out = []
    for e in events:
        if e.type == START_EVENT:
            down_at = e.payload.get("previous_cycle_at")
            if down_at is not None:
                stopped = parse_time(down_at, "previous_cycle_at")
                for aid, o in open_since.items():
                    out.append(AlertSpan(o.kind, o.party, o.start, max(o.start, min(stopped, e.time))))
                    open_since[aid] = _Open(o.kind, o.party, max(o.start, e.time), resumed=True)
            continue
        a = e.payload["alert"]
        kind = a["kind"]
        if kind not in SPAN_KINDS:
            continue
        started = open_since.get(a["id"])
        if e.type == EventType.ALERT_CLEARED:
            if a.get("last_found_at") is None and started is not None and started.resumed:
                # cleared by a broker that started since and never found it: nothing after the start
                at = started.start
            else:
                at = parse_time(a.get("last_found_at") or a["cleared_at"], "last_found_at")
        else:
            at = parse_time(a["detected_at"] if e.type == EventType.ALERT_CREATED else a["updated_at"], "updated_at")
        counting = e.type != EventType.ALERT_CLEARED and (
            kind == AlertKind.NONCONFORMANCE.value or a["severity"] == Severity.LOSS
        )
        if started is not None and not counting:
            out.append(AlertSpan(started.kind, started.party, started.start, max(at, started.start)))
            del open_since[a["id"]]
        elif started is None and counting:
            open_since[a["id"]] = _Open(kind, a["sides"][0]["party"], at)
    out.extend(AlertSpan(o.kind, o.party, o.start, None) for o in open_since.values())
    return out


def ack_facts(sent: Iterable[Event], acknowledged: Iterable[Event]) -> list[AckFact]:
    """One duty per recipient of each ``message.sent`` event, acknowledged at the first
    acknowledgement of that recipient that a ``message.acknowledged`` event records (of either
    state: the first answers the deadline). Times are the payloads' own, so that deadlines and
    acknowledgements compare at the same resolution."""
    first: dict[tuple[str, str], float] = {}
    for e in acknowledged:
        m = e.payload["message"]
        for r in m["to"]:
            if r["party"] != e.payload["party"]:
                continue
            times = [parse_time(r[k], k) for k in ("received_at", "understood_at") if r[k] is not None]
            key = (m["id"], r["party"])
            if times:
                first[key] = min([*times, first.get(key, math.inf)])
    out = []
    for e in sent:
        m = e.payload["message"]
        sent_at = parse_time(m["sent_at"], "sent_at")
        for r in m["to"]:
            deadline = None if r["deadline"] is None else parse_time(r["deadline"], "deadline")
            out.append(AckFact(m["id"], r["party"], sent_at, deadline, first.get((m["id"], r["party"]))))
    return out


def report_period(now: float, since: str | None, until: str | None) -> tuple[float, float]:
    """``[since, until)`` from RFC 3339 texts (``until`` defaults to now, ``since`` to 24 h before
    it). ``until`` may not be after now: a report is drawn up as of ``until``, and an answer that
    is still due must not be counted missing."""
    end = now if until is None else parse_time(until, "until")
    if end > now:
        raise ValidationError.at("until", f"must not be after the broker's time now ({format_time(now)}), got {until}")
    start = end - DEFAULT_PERIOD_S if since is None else parse_time(since, "since")
    if not start < end:
        raise ValidationError.at("since", f"must be before until ({format_time(end)}), got {format_time(start)}")
    if end - start > MAX_PERIOD_S:
        raise ValidationError.at(
            "since",
            f"the period may be at most {MAX_PERIOD_S / 86400:g} days, got {(end - start) / 86400:.1f} days: "
            "ask for one report per month",
        )
    return start, end


@dataclass(frozen=True)
class Facts:
    """What the store holds about a period, before it is cut down to the rows a caller may read."""

    notices: list[FiledNotice]
    conflicts: list[ConflictFact]
    acks: list[AckFact]
    spans: list[AlertSpan]

    def parties(self) -> set[str]:
        """Every party the facts name (a store filled by ``deconflict demo`` registers none)."""
        return (
            {n.party for n in self.notices}
            | {p for c in self.conflicts for p in c.parties}
            | {a.party for a in self.acks}
            | {s.party for s in self.spans}
        )


def alert_history_from(repo: BrokerRepository, since: float) -> float:
    """Where the alert events a report needs begin: at ``since``, or earlier at the detection of
    the oldest span alert still open then (its state at ``since`` is in the events before it)."""
    first = repo.earliest_alert_open_at(SPAN_KINDS, since)
    return since if first is None else min(first, since)


def read_facts(repo: BrokerRepository, since: float, until: float, through_seq: int | None = None) -> Facts:
    """The facts of ``[since, until)`` from the log's events, only those up to ``through_seq`` when
    given (the log is append-only, so that read is the same whenever it is made)."""

    def events(types: Collection[str], start: float, end: float) -> list[Event]:
        return repo.events_of_type(types, start, end, through_seq)

    return Facts(
        filed_notices(events({EventType.NOTICE_FILED}, since, until)),
        conflict_facts(events({EventType.CONFLICT_CREATED}, since, until)),
        # An acknowledgement exactly at ``until`` still counts (compliance_report's rule).
        ack_facts(
            events({EventType.MESSAGE_SENT}, since, until),
            events({EventType.MESSAGE_ACKNOWLEDGED}, since, math.nextafter(until, math.inf)),
        ),
        alert_spans(events(SPAN_EVENTS, alert_history_from(repo, since), until)),
    )


def rows_for(broker: Broker, repo: BrokerRepository, caller: Party, named: set[str]) -> list[str]:
    """The parties whose rows the caller may read, in name order: every registered party and
    authority, and any other party the facts name, cut down to those the caller sees whole
    (``full``: itself, its coalition, a rule or an observer's grant). A row tells how many notices
    a party filed and when, and how it answered private messages: more than a conflict shows."""
    registered = {p.name: p for p in repo.list_parties()}
    names = {n for n, p in registered.items() if p.role in (Role.PARTY, Role.AUTHORITY)}
    names |= {n for n in named if n not in registered}
    if caller.role is Role.ADMIN:
        return sorted(names)
    d = broker.disclosure(repo)
    return sorted(n for n in names if d.level(caller, n) >= Level.FULL)


@dataclass(frozen=True)
class LoggedReport:
    """A report and the log entry that records its hash."""

    report: ComplianceReport
    body: dict[str, Any]
    """:func:`report_json` of ``report``: what the hash covers."""
    sha256: str
    log_seq: int
    log_hash: str
    as_of_seq: int
    """The last log entry the facts were read from."""

    def to_json(self) -> dict[str, Any]:
        return {
            "report": self.body,
            "report_sha256": self.sha256,
            "log": {"seq": self.log_seq, "hash": self.log_hash, "as_of_seq": self.as_of_seq},
        }


def compliance(
    broker: Broker,
    caller: Party,
    since: str | None = None,
    until: str | None = None,
    *,
    while_reading: Callable[[], None] | None = None,
) -> LoggedReport:
    """The report the caller may read over the period, with its hash recorded in the log
    (``report.compliance``, actor the caller).

    The facts are read in a read-only transaction from the log entries up to the last one at the
    start (``as_of_seq``), without the filing lock: a month's log takes seconds to read, and
    filings and tactical alerts must not wait for it. Then the rows are cut to what the caller may
    read and the event is appended under the lock, naming ``as_of_seq``, so the report is exactly
    what the log held up to that entry and anyone with an export can recompute it.
    ``while_reading`` runs inside the read transaction, after the facts are read (for tests).
    """
    with broker.store.begin(write=False) as repo:
        start, end = report_period(broker.clock(), since, until)
        head = repo.last_event()
        as_of = 0 if head is None else head.seq
        facts = read_facts(repo, start, end, as_of)
        if while_reading is not None:
            while_reading()
    with broker.write(caller) as tx:
        names = rows_for(broker, tx.repo, caller, facts.parties())
        if not names and caller.role is not Role.ADMIN:
            raise Forbidden(f"{caller.name!r} may not read any party's compliance figures (ask the admin for a grant)")
        built = compliance_report(
            names,
            start,
            end,
            facts.notices,
            facts.conflicts,
            facts.acks,
            facts.spans,
            broker.settings.notice.min_notice_s,
        )
        body = report_json(built)
        digest = report_hash(body)
        ev = tx.log(
            caller.name,
            REPORT_EVENT,
            {
                "party": caller.name,
                "since": body["since"],
                "until": body["until"],
                "parties": names,
                "as_of_seq": as_of,
                "report_sha256": digest,
            },
        )
    return LoggedReport(built, body, digest, ev.seq, ev.hash, as_of)
