"""The compliance report for people: one self-contained HTML page (inline CSS, inline SVG charts, no
script, nothing fetched) and a rich table for the CLI.

Every string that reaches the page goes through :func:`html.escape`: party names are restricted
by :func:`deconflict.domain.parties.check_name`, but titles and hashes are not, and the page must
stay safe whatever a store holds.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from deconflict.domain.compliance import LEAD_TIME_PERCENTILE, ComplianceReport
from deconflict.domain.times import format_time
from deconflict.report_charts import _e, ack_chart, duration_text, hours_text, lead_time_chart

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a202c;
       margin: 24px auto; max-width: 1000px; padding: 0 16px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 6px; }
.meta { color: #4a5568; margin: 0 0 2px; }
.meta code { font-size: 12px; word-break: break-all; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid #e2e8f0; text-align: right; white-space: nowrap; }
th { background: #edf2f7; font-weight: 600; font-size: 12px; vertical-align: bottom; white-space: normal; }
th:first-child, td:first-child { text-align: left; }
thead tr.group th { background: #e2e8f0; text-align: center; }
td.late { background: #fefcbf; color: #744210; font-weight: 600; }
td.missing { background: #fed7d7; color: #9b2c2c; font-weight: 700; }
td.none { color: #a0aec0; }
svg { display: block; max-width: 100%; height: auto; margin-top: 6px; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: #1a202c; }
svg .axis-label { font-size: 13px; font-weight: 600; }
svg .muted { fill: #718096; }
.notes { color: #4a5568; font-size: 12.5px; }
.notes li { margin: 2px 0; }
"""


def _span(seconds: float) -> str:
    """A period in whole units, the largest two: ``2 d``, ``1 d 2 h``, ``1 h 30 min``, ``45 s``.
    What is left below the second unit is dropped (the exact bounds are printed beside it).

    >>> _span(3600.684), _span(3600.0), _span(48 * 3600.0), _span(90.0), _span(0.2)
    ('1 h 0 min', '1 h', '2 d', '1 min 30 s', 'under 1 s')
    """
    if seconds < 1:
        return "under 1 s"
    units = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))
    for i, (name, size) in enumerate(units):
        if seconds >= size:
            first = int(seconds // size)
            rest = seconds - first * size
            if rest == 0 or i + 1 == len(units):
                return f"{first} {name}"
            sub_name, sub_size = units[i + 1]
            return f"{first} {name} {int(rest // sub_size)} {sub_name}"
    raise AssertionError("unreachable: seconds >= 1")


def _cell(value: int, flag: str) -> str:
    cls = f' class="{flag}"' if value > 0 else ""
    return f"<td{cls}>{value}</td>"


def _summary_table(report: ComplianceReport) -> str:
    p = f"{LEAD_TIME_PERCENTILE:g}th pct"
    out = [
        "<table id=summary>",
        "<thead>",
        '<tr class="group"><th></th><th colspan="5">notices</th><th colspan="5">acknowledgements</th>'
        '<th colspan="2">tactical (minutes)</th></tr>',
        "<tr><th>party</th><th>filed</th><th>lead time median</th>"
        f"<th>lead time {_e(p)}</th><th>late</th><th>conflicts</th>"
        "<th>on time</th><th>late</th><th>missing</th><th>pending</th><th>median time to ack</th>"
        "<th>nonconformance</th><th>incursion</th></tr>",
        "</thead>",
        "<tbody>",
    ]
    for r in report.parties:
        none = ' class="none"'
        out.append(
            "<tr>"
            f"<td>{_e(r.party)}</td>"
            f"<td>{r.notices_filed}</td>"
            f"<td{none if r.lead_time_median_s is None else ''}>{_e(hours_text(r.lead_time_median_s))}</td>"
            f"<td{none if r.lead_time_p10_s is None else ''}>{_e(hours_text(r.lead_time_p10_s))}</td>"
            f"{_cell(r.late_notices, 'late')}"
            f"<td>{r.conflicts}</td>"
            f"<td>{r.acks_on_time}</td>"
            f"{_cell(r.acks_late, 'late')}"
            f"{_cell(r.acks_missing, 'missing')}"
            f"<td>{r.acks_pending}</td>"
            f"<td{none if r.ack_latency_median_s is None else ''}>{_e(duration_text(r.ack_latency_median_s))}</td>"
            f"<td>{r.nonconformance_minutes:.1f}</td>"
            f"<td>{r.incursion_minutes:.1f}</td>"
            "</tr>"
        )
    out += ["</tbody>", "</table>"]
    return "\n".join(out)


def render_html(
    report: ComplianceReport,
    title: str = "Compliance report",
    report_hash: str | None = None,
    log_seq: int | None = None,
) -> str:
    """The report as one self-contained HTML page: summary table, lead-time chart, acknowledgement chart.

    ``report_hash`` and ``log_seq`` (the event-log entry that records the report) are printed in the
    header when given, so a reader can check the page against the log.
    """
    span = _span(report.until - report.since)
    meta = [
        f'<p class="meta">Period <b>{_e(format_time(report.since))}</b> → <b>{_e(format_time(report.until))}</b> '
        f"({_e(span)}, end excluded) · minimum notice <b>{_e(hours_text(report.min_notice_s))}</b> · "
        f"{len(report.parties)} parties</p>"
    ]
    if report_hash is not None or log_seq is not None:
        bits = []
        if report_hash is not None:
            bits.append(f"report hash <code>{_e(report_hash)}</code>")
        if log_seq is not None:
            bits.append(f"recorded in the event log at sequence <b>{_e(log_seq)}</b>")
        meta.append(f'<p class="meta">{" · ".join(bits)}</p>')
    notes = [
        "Notices: first filings received in the period; lead time = start of activity − first filing; "
        "late = under the minimum notice in force when filed.",
        f"Median and {LEAD_TIME_PERCENTILE:g}th percentile: linear interpolation between closest ranks "
        "(numpy's default).",
        "Acknowledgements: messages sent in the period with a deadline. On time = acknowledged at or before the "
        "deadline; late = after it, before the end of the period; missing = not acknowledged by the end of the "
        "period and the deadline passed; pending = deadline not yet reached (not counted against the party).",
        "Median time to acknowledge: over the on-time and late acknowledgements.",
        "Nonconformance: time a nonconformance alert was open (it opens after the grace period); incursion: time "
        "an aircraft was inside another party's active volume or a protected site (a predicted entry is not "
        "counted). Both from the first to the last detection cycle that found it, within the period, summed over "
        "the party's aircraft.",
        "An acknowledgement means received and understood, never approved.",
    ]
    body = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(title)}</h1>",
        *meta,
        "<h2>Summary</h2>",
        _summary_table(report),
        "<h2>Lead time of notices</h2>",
        lead_time_chart(report),
        "<h2>Acknowledgements</h2>",
        ack_chart(report),
        '<h2>Definitions</h2><ul class="notes">',
        *(f"<li>{_e(n)}</li>" for n in notes),
        "</ul>",
        "</body>",
        "</html>",
    ]
    return "\n".join(body) + "\n"


def render_table(report: ComplianceReport) -> Table:
    """The summary figures as a rich table for the terminal; late in yellow, missing in red."""
    t = Table(
        title=f"Compliance {format_time(report.since)} → {format_time(report.until)} "
        f"(minimum notice {hours_text(report.min_notice_s)})"
    )
    for col in (
        "party",
        "notices",
        "lead median",
        f"lead p{LEAD_TIME_PERCENTILE:g}",
        "late",
        "conflicts",
        "ack on time",
        "ack late",
        "ack missing",
        "ack pending",
        "median to ack",
        "nonconf. min",
        "incursion min",
    ):
        if col == "party":  # a name is never cut: the figures' headers wrap instead
            t.add_column(col, justify="left", no_wrap=True)
        else:
            t.add_column(col, justify="right", overflow="fold")

    def flagged(n: int, style: str) -> Text:
        return Text(str(n), style=style if n > 0 else "")

    for r in report.parties:
        t.add_row(
            Text(r.party),
            str(r.notices_filed),
            hours_text(r.lead_time_median_s),
            hours_text(r.lead_time_p10_s),
            flagged(r.late_notices, "bold yellow"),
            str(r.conflicts),
            str(r.acks_on_time),
            flagged(r.acks_late, "bold yellow"),
            flagged(r.acks_missing, "bold red"),
            str(r.acks_pending),
            duration_text(r.ack_latency_median_s),
            f"{r.nonconformance_minutes:.1f}",
            f"{r.incursion_minutes:.1f}",
        )
    return t
