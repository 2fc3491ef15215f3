"""The compliance report's SVG charts (lead time of notices, acknowledgements) and the text forms
of its figures, for :mod:`deconflict.report_html` and the terminal.

Every string that reaches a chart goes through :func:`html.escape` (see :mod:`deconflict.report_html`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from deconflict.domain.compliance import LEAD_TIME_PERCENTILE, ComplianceReport, PartyCompliance

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
