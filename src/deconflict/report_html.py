"""The compliance report for people: one self-contained HTML page (inline CSS, inline SVG charts, no
script, nothing fetched) and a rich table for the CLI.

Every string that reaches the page goes through :func:`html.escape`: party names are restricted
by :func:`deconflict.domain.parties.check_name`, but titles and hashes are not, and the page must
stay safe whatever a store holds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from rich.table import Table
from rich.text import Text

from deconflict.domain.compliance import LEAD_TIME_PERCENTILE, ComplianceReport, PartyCompliance
from deconflict.domain.parse import format_time

WIDTH_PX = 960
"""Width of each chart's drawing (it scales down with the window)."""
LABEL_PX = 170
"""Room at the left of a chart for the party names."""
ROW_PX = 34
"""Height of one party's row in a chart."""

BLUE = "#2b6cb0"
RED = "#c53030"
AMBER = "#d69e2e"
GREEN = "#2f855a"
GREY = "#a0aec0"
INK = "#1a202c"

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


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def hours_text(seconds: float | None) -> str:
    """Hours to one decimal, or a dash for none."""
    return "–" if seconds is None else f"{seconds / 3600:.1f} h"


def duration_text(seconds: float | None) -> str:
    """A short human duration: seconds under 2 min, minutes under 2 h, else hours."""
    if seconds is None:
        return "–"
    if abs(seconds) < 120:
        return f"{seconds:.0f} s"
    if abs(seconds) < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _text_px(text: str) -> float:
    """A generous width of ``text`` in the charts' 12 px sans-serif (about 6.6 px a character)."""
    return 7.2 * len(text)


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


def _latency_unit(report: ComplianceReport) -> tuple[str, float]:
    """The unit (name, seconds per unit) that suits the largest acknowledgement latency."""
    top = max((x for r in report.parties for x in r.ack_latencies_s), default=0.0)
    if top < 120:
        return "seconds", 1.0
    if top < 7200:
        return "minutes", 60.0
    return "hours", 3600.0


def nice_ticks(lo: float, hi: float, target: int = 6, min_step: float = 0.0) -> list[float]:
    """Round tick values covering ``[lo, hi]``, about ``target`` of them (step 1, 2 or 5 × 10ⁿ, and
    at least ``min_step``: 1 for counts, which have no halves).

    >>> nice_ticks(0.0, 26.0)
    [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0]
    >>> nice_ticks(0.0, 2.0, min_step=1.0)
    [0.0, 1.0, 2.0]
    """
    if not hi > lo:
        hi = lo + 1.0
    raw = max((hi - lo) / max(1, target), min_step)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1.0, 2.0, 5.0, 10.0) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks = []
    k = 0
    while True:
        t = first + k * step
        ticks.append(round(t, 10))
        if t >= hi - 1e-12:
            return ticks
        k += 1


def _tick_label(t: float) -> str:
    return f"{t:g}"


class _Axis:
    """A linear map from data units to x pixels over ``[x0, x1]``, ending on round ticks."""

    def __init__(self, lo: float, hi: float, x0: float, x1: float, min_step: float = 0.0) -> None:
        self.ticks = nice_ticks(lo, hi, min_step=min_step)
        self.lo, self.hi = self.ticks[0], self.ticks[-1]
        self.x0, self.x1 = x0, x1

    def x(self, v: float) -> float:
        return self.x0 + (v - self.lo) / (self.hi - self.lo) * (self.x1 - self.x0)

    def svg(self, y: float, top: float, label: str) -> list[str]:
        out = [f'<line x1="{self.x0:.1f}" y1="{y:.1f}" x2="{self.x1:.1f}" y2="{y:.1f}" stroke="{INK}"/>']
        for t in self.ticks:
            x = self.x(t)
            out.append(f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#edf2f7"/>')
            out.append(f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x:.1f}" y2="{y + 5:.1f}" stroke="{INK}"/>')
            out.append(f'<text x="{x:.1f}" y="{y + 18:.1f}" text-anchor="middle">{_e(_tick_label(t))}</text>')
        mid = (self.x0 + self.x1) / 2
        out.append(f'<text class="axis-label" x="{mid:.1f}" y="{y + 38:.1f}" text-anchor="middle">{_e(label)}</text>')
        return out


def _jitter(i: int) -> float:
    """A fixed vertical offset per mark so that equal values do not hide each other."""
    return ((i * 7) % 5 - 2) * 3.0


def _row_labels(rows: Sequence[PartyCompliance], top: float, right: float) -> list[str]:
    out = []
    for i, r in enumerate(rows):
        y = top + i * ROW_PX
        if i % 2 == 0:
            out.append(f'<rect x="0" y="{y:.1f}" width="{right:.1f}" height="{ROW_PX}" fill="#f7fafc"/>')
        out.append(f'<text x="{LABEL_PX - 10}" y="{y + ROW_PX / 2 + 4:.1f}" text-anchor="end">{_e(r.party)}</text>')
    return out


def _split(values: Sequence[float], flagged: Sequence[float]) -> list[tuple[float, bool]]:
    """``values`` each paired with whether it is one of ``flagged`` (a sub-multiset of it)."""
    left = list(flagged)
    out = []
    for v in values:
        hit = v in left
        if hit:
            left.remove(v)
        out.append((v, hit))
    return out


def _legend(items: Sequence[tuple[str, str]], x: float, y: float) -> list[str]:
    """``items`` are (swatch SVG drawn around (0, 0), text); laid out left to right from (x, y)."""
    out = []
    for swatch, text in items:
        out.append(f'<g transform="translate({x:.1f},{y:.1f})">{swatch}</g>')
        out.append(f'<text x="{x + 12:.1f}" y="{y + 4:.1f}">{_e(text)}</text>')
        x += 30 + 7.0 * len(text)
    return out


def _dot(color: str) -> str:
    return f'<circle r="4.5" fill="{color}" fill-opacity="0.85"/>'


def _tick(color: str, half: float, width: float) -> str:
    return f'<line x1="0" y1="{-half}" x2="0" y2="{half}" stroke="{color}" stroke-width="{width}"/>'


def lead_time_chart(report: ComplianceReport) -> str:
    """A strip plot per party on a shared hours axis: one dot per notice (red when late), the median
    and the 10th percentile as ticks, and the minimum notice as a dashed vertical line."""
    rows = report.parties
    top, plot_right = 44.0, WIDTH_PX - 30.0
    leads_h = [x / 3600 for r in rows for x in r.lead_times_s]
    min_h = report.min_notice_s / 3600
    axis = _Axis(min([0.0, *leads_h]), max([min_h * 1.25, *leads_h, 1.0]), LABEL_PX, plot_right)
    bottom = top + ROW_PX * max(1, len(rows))
    height = bottom + 50
    out = [
        f'<svg id="lead-time-chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH_PX}" height="{height:.0f}" '
        f'viewBox="0 0 {WIDTH_PX} {height:.0f}" role="img" '
        f'aria-label="Lead time distribution per party, hours">',
        "<title>Lead time of notices per party (hours)</title>",
    ]
    out += _legend(
        [
            (_dot(BLUE), "notice"),
            (_dot(RED), "late notice"),
            (_tick(INK, 8, 3), "median"),
            (_tick(INK, 6, 1.5), f"{LEAD_TIME_PERCENTILE:g}th percentile"),
            (
                f'<line x1="-5" y1="0" x2="5" y2="0" stroke="{RED}" stroke-width="2" stroke-dasharray="3 2"/>',
                "minimum notice",
            ),
        ],
        LABEL_PX,
        14,
    )
    out += _row_labels(rows, top, plot_right)
    out += axis.svg(bottom, top, "lead time: first filing → start of activity (hours)")
    for i, r in enumerate(rows):
        cy = top + i * ROW_PX + ROW_PX / 2
        if not r.lead_times_s:
            out.append(f'<text class="muted" x="{LABEL_PX + 8}" y="{cy + 4:.1f}">no notices filed</text>')
            continue
        lo, hi = axis.x(r.lead_times_s[0] / 3600), axis.x(r.lead_times_s[-1] / 3600)
        out.append(f'<line x1="{lo:.1f}" y1="{cy:.1f}" x2="{hi:.1f}" y2="{cy:.1f}" stroke="{GREY}"/>')
        for j, (v, late) in enumerate(_split(r.lead_times_s, r.late_lead_times_s)):
            out.append(
                f'<circle class="mark" cx="{axis.x(v / 3600):.1f}" cy="{cy + _jitter(j):.1f}" r="4.5" '
                f'fill="{RED if late else BLUE}" fill-opacity="0.85">'
                f"<title>{_e(r.party)}: {_e(hours_text(v))}{' (late)' if late else ''}</title></circle>"
            )
        for value, half, width, name in (
            (r.lead_time_median_s, 11, 3, "median"),
            (r.lead_time_p10_s, 8, 1.5, f"{LEAD_TIME_PERCENTILE:g}th percentile"),
        ):
            if value is not None:
                x = axis.x(value / 3600)
                out.append(
                    f'<line x1="{x:.1f}" y1="{cy - half:.1f}" x2="{x:.1f}" y2="{cy + half:.1f}" stroke="{INK}" '
                    f'stroke-width="{width}"><title>{_e(r.party)} {name}: {_e(hours_text(value))}</title></line>'
                )
    x = axis.x(min_h)
    out.append(
        f'<line class="min-notice-line" x1="{x:.1f}" y1="{top - 6:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" '
        f'stroke="{RED}" stroke-width="2" stroke-dasharray="6 4"/>'
    )
    label = f"minimum notice {hours_text(report.min_notice_s)}"
    # Right of the line, unless that runs past the chart's edge (negative lead times push the
    # minimum notice to the right end of the axis): then left of it, ending at the line.
    right = x + 4 + _text_px(label) <= WIDTH_PX - 4
    out.append(
        f'<text class="min-notice-label" x="{x + 4 if right else x - 4:.1f}" y="{top - 8:.1f}" '
        f'text-anchor="{"start" if right else "end"}" fill="{RED}" style="fill:{RED}">{_e(label)}</text>'
    )
    out.append("</svg>")
    return "\n".join(out)


def ack_chart(report: ComplianceReport) -> str:
    """Per party: time to acknowledge as a strip (green on time, amber late, median tick) on the left,
    and the duties as a stacked bar (on time, late, missing, pending) with their counts on the right."""
    rows = report.parties
    unit, per = _latency_unit(report)
    top = 44.0
    split_x = LABEL_PX + 470.0
    bar_x0, bar_x1 = split_x + 40.0, WIDTH_PX - 30.0
    lat = [x / per for r in rows for x in r.ack_latencies_s]
    axis = _Axis(min([0.0, *lat]), max([*lat, 1.0]), LABEL_PX, split_x)
    duties = max([r.ack_duties for r in rows] + [1])
    count_axis = _Axis(0.0, float(duties), bar_x0, bar_x1, min_step=1.0)  # whole duties
    bottom = top + ROW_PX * max(1, len(rows))
    height = bottom + 50
    out = [
        f'<svg id="ack-latency-chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH_PX}" height="{height:.0f}" '
        f'viewBox="0 0 {WIDTH_PX} {height:.0f}" role="img" '
        f'aria-label="Acknowledgement latency and outcomes per party">',
        "<title>Time to acknowledge and acknowledgement outcomes per party</title>",
    ]
    sq = '<rect x="-5" y="-5" width="10" height="10" fill="{}"/>'
    out += _legend(
        [
            (_dot(GREEN), "acked on time"),
            (_dot(AMBER), "acked late"),
            (_tick(INK, 8, 3), "median"),
            (sq.format(GREEN), "on time"),
            (sq.format(AMBER), "late"),
            (sq.format(RED), "missing"),
            (sq.format(GREY), "pending"),
        ],
        LABEL_PX,
        14,
    )
    out += _row_labels(rows, top, bar_x1)
    if lat:
        out += axis.svg(bottom, top, f"time to acknowledge ({unit})")
    else:  # an axis with nothing on it would run 0–1 in no unit at all: say what happened instead
        out.append(
            f'<text class="muted axis-label" x="{(LABEL_PX + split_x) / 2:.1f}" y="{(top + bottom) / 2 + 4:.1f}" '
            f'text-anchor="middle">no acknowledgements in the period</text>'
        )
    out += count_axis.svg(bottom, top, "acknowledgement duties")
    for i, r in enumerate(rows):
        cy = top + i * ROW_PX + ROW_PX / 2
        if lat and not r.ack_latencies_s:
            out.append(f'<text class="muted" x="{LABEL_PX + 8}" y="{cy + 4:.1f}">none acknowledged</text>')
        for j, (v, late) in enumerate(_split(r.ack_latencies_s, r.late_ack_latencies_s)):
            out.append(
                f'<circle class="mark" cx="{axis.x(v / per):.1f}" cy="{cy + _jitter(j):.1f}" r="4.5" '
                f'fill="{AMBER if late else GREEN}" fill-opacity="0.85">'
                f"<title>{_e(r.party)}: {_e(duration_text(v))}{' (late)' if late else ''}</title></circle>"
            )
        if r.ack_latency_median_s is not None:
            x = axis.x(r.ack_latency_median_s / per)
            out.append(
                f'<line x1="{x:.1f}" y1="{cy - 11:.1f}" x2="{x:.1f}" y2="{cy + 11:.1f}" stroke="{INK}" '
                f'stroke-width="3"><title>{_e(r.party)} median: '
                f"{_e(duration_text(r.ack_latency_median_s))}</title></line>"
            )
        x = bar_x0
        for n, color, name in (
            (r.acks_on_time, GREEN, "on time"),
            (r.acks_late, AMBER, "late"),
            (r.acks_missing, RED, "missing"),
            (r.acks_pending, GREY, "pending"),
        ):
            if n == 0:
                continue
            w = count_axis.x(n) - bar_x0
            out.append(
                f'<rect class="mark" x="{x:.1f}" y="{cy - 9:.1f}" width="{w:.1f}" height="18" fill="{color}">'
                f"<title>{_e(r.party)}: {n} {name}</title></rect>"
            )
            if w >= 14:
                out.append(
                    f'<text x="{x + w / 2:.1f}" y="{cy + 4:.1f}" text-anchor="middle" '
                    f'style="fill:#fff;font-weight:700">{n}</text>'
                )
            x += w
        if r.ack_duties == 0:
            out.append(f'<text class="muted" x="{bar_x0 + 4:.1f}" y="{cy + 4:.1f}">no duties</text>')
    out.append(
        f'<line x1="{split_x + 20:.1f}" y1="{top:.1f}" x2="{split_x + 20:.1f}" y2="{bottom + 30:.1f}" '
        'stroke="#cbd5e0"/>'
    )
    out.append("</svg>")
    return "\n".join(out)


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
