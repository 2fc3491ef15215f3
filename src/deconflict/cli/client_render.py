"""What ``deconflict client`` prints: the broker's JSON as lines and tables that read at 80 columns.

Tables keep to a few short columns; records with long ids (conflicts, messages) are blocks of
lines, one fact a line, so nothing is split in the middle of a word.
"""

from __future__ import annotations

import json
from typing import Any

from rich import box
from rich.table import Table

from deconflict.clients.responses import Event


def _t(value: Any) -> str:
    """``2015-09-30T07:27:30Z`` → ``2015-09-30 07:27``."""
    return str(value)[:16].replace("T", " ") if value else "?"


def _span(start: Any, end: Any) -> str:
    a, b = _t(start), _t(end)
    if a[:10] == b[:10]:
        b = b[11:]
    elif a[:4] == b[:4]:
        b = b[5:]
    return f"{a} → {b} UTC"


def _one_line(value: Any, most: int = 120) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= most else text[: most - 1] + "…"


def _side(s: dict[str, Any]) -> str:
    if not s.get("notice"):
        return f"a notice of {s.get('party') or 'another party'}"
    site = " protected site" if s.get("protected_site") else ""
    party = f" ({s['party']})" if s.get("party") and not str(s["notice"]).startswith(f"{s['party']}:") else ""
    vol = f" vol {s['volume']}" if s.get("volume") is not None else ""
    return f"{s['notice']}{party}{site}{vol}"


def _where(sl: dict[str, Any]) -> str:
    parts = []
    if sl.get("min_distance_m") is not None:
        parts.append(f"{sl['min_distance_m'] / 1000:.2f} km apart")
    alt = sl.get("altitude") or {}
    if alt.get("lower_m") is not None:
        parts.append(f"{alt['lower_m']:.0f}–{alt['upper_m']:.0f} m")
    window = sl.get("time_window") or {}
    if window:
        parts.append(_span(window.get("start"), window.get("end")))
    text = ", ".join(parts)
    return f"{text} (on the grid)" if text and sl.get("grid") else text  # widened outward, never exact


def conflict_lines(c: dict[str, Any], indent: str = "") -> list[str]:
    """A conflict as a block: its id and state, both sides, where and when they overlap, who acknowledged."""
    level = f" ({c['disclosure']})" if c.get("disclosure") else ""
    lines = [f"conflict {c.get('id')}: {c.get('state')}{level}"]
    sides = c.get("sides") or []
    if len(sides) == 2:
        lines += [f"  between {_side(sides[0])}", f"  and     {_side(sides[1])}"]
    where = _where(c.get("slice") or {})
    if where:
        lines.append(f"  {where}")
    acks = c.get("acknowledgements")
    if acks:
        lines.append("  acknowledged by " + ", ".join(_ack(a) for a in acks))
    elif acks is not None:
        lines.append("  not acknowledged yet")
    return [indent + line for line in lines]


def _ack(a: Any) -> str:
    if not isinstance(a, dict):
        return str(a)
    when = a.get("at") or a.get("acknowledged_at") or a.get("time")
    return f"{a.get('party') or 'the other side'}" + (f" at {_t(when)}" if when else "")


def filing_line(r: dict[str, Any]) -> str:
    """One filing: the notice, its lead time (LATE under the minimum notice), conflicts, hints."""
    n = r["notice"]
    late = " LATE" if r.get("late") else ""
    hours = float(r.get("lead_time_s", 0)) / 3600
    lead = f"{hours:.1f} h" if abs(hours) < 48 else f"{hours / 24:.1f} days"
    s = f"{n['id']} v{n['version']} {n['state']}: lead time {lead}{late}"
    s += f", {len(r.get('conflicts') or [])} conflict(s)"
    if r.get("resolved"):
        s += f", {len(r['resolved'])} resolved"
    h = r.get("hints")
    if h:
        parts = [
            text
            for key, text in (
                ("earlier_s", "{:.0f} min earlier"),
                ("later_s", "{:.0f} min later"),
                ("up_m", "{:.0f} m higher"),
                ("down_m", "{:.0f} m lower"),
            )
            if h.get(key) is not None
            for text in [text.format(h[key] / (60 if key.endswith("_s") else 1))]
        ]
        s += "; would clear if " + (" or ".join(parts) if parts else "no single shift within bounds")
    elif r.get("hints_withheld"):
        s += "; no hints (the other side is not shown to you whole)"
    return s


def _n(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _volume(v: dict[str, Any]) -> str:
    vol = v.get("volume") or {}
    shape = next((k.removeprefix("outline_") for k in vol if k.startswith("outline_")), "volume")
    o = vol.get(f"outline_{shape}") or {}
    where = ""
    if isinstance(o.get("center"), dict):
        r = o.get("radius") or {}
        c = o["center"]
        where = f" {_n(r.get('value'))} {str(r.get('units', '')).lower()} around {c.get('lat')},{c.get('lng')}"
    elif isinstance(o.get("vertices"), list):
        where = f" of {len(o['vertices'])} vertices"
    lo, hi = vol.get("altitude_lower") or {}, vol.get("altitude_upper") or {}
    units, ref = str(hi.get("units", "")).lower(), hi.get("reference", "")
    alt = f"{_n(lo.get('value'))}–{_n(hi.get('value'))} {units} {ref}".rstrip()
    when = _span((v.get("time_start") or {}).get("value"), (v.get("time_end") or {}).get("value"))
    return f"{shape}{where}; {alt}; {when}"


def notice_lines(n: dict[str, Any]) -> list[str]:
    site = ", protected site" if n.get("protected_site") else ""
    lines = [
        f"notice {n['id']} ({n.get('party')}, {n.get('kind')}{site})",
        f"  version {n.get('version')}, {n.get('state')}, received {_t(n.get('received_at'))}",
    ]
    lines += [f"  vol {i}: {_volume(v)}" for i, v in enumerate(n.get("volumes") or [])]
    receipt = n.get("receipt")
    if isinstance(receipt, dict):
        lines.append(f"  receipt: log seq {receipt.get('log_seq')}, key id {receipt.get('key_id')}")
    return lines


def _window(n: dict[str, Any]) -> tuple[Any, Any]:
    vols = n.get("volumes") or [{}]
    starts = [(v.get("time_start") or {}).get("value") for v in vols]
    ends = [(v.get("time_end") or {}).get("value") for v in vols]
    return min((s for s in starts if s), default=None), max((e for e in ends if e), default=None)


def notices_table(items: list[dict[str, Any]]) -> Table:
    """One row a notice: id (``*`` a protected site), version, state, from and to (UTC)."""
    rows = sorted(((n, *_window(n)) for n in items), key=lambda r: str(r[1]))
    years = {str(t)[:4] for _, start, end in rows for t in (start, end) if t}
    cut = 5 if len(years) == 1 else 0  # one year: said once, in the title
    title = f"{len(items)} notice(s)" + (f", times UTC in {years.pop()}" if cut else ", times UTC")
    t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    t.add_column("notice", overflow="fold")
    t.add_column("v", no_wrap=True, justify="right")
    t.add_column("state", no_wrap=True)
    t.add_column("from", no_wrap=True)
    t.add_column("to", no_wrap=True)
    for n, start, end in rows:
        a, b = _t(start)[cut:], _t(end)[cut:]
        site = " *" if n.get("protected_site") else ""
        t.add_row(f"{n['id']}{site}", str(n.get("version")), str(n.get("state")), a, b[-5:] if a[:-6] == b[:-6] else b)
    if any(n.get("protected_site") for n in items):
        t.caption, t.caption_justify = "* a protected site", "left"
    return t


def message_lines(m: dict[str, Any], indent: str = "", brief: bool = False) -> list[str]:
    """A hotline message: id, priority, sender and time; subject; each recipient's state and deadline."""
    lines = [f"{m.get('id')}  {m.get('priority')}, from {_sender(m)}, {_t(m.get('sent_at'))}"]
    lines.append(f"  {_one_line(m.get('subject', ''))}")
    for r in m.get("to") or []:
        due = f", due {_t(r['deadline'])}" if r.get("deadline") else ""
        lines.append(f"  to {r.get('party') or 'another party'}: {r.get('state')} ({r.get('standing')}{due})")
    if not brief:
        ref = m.get("ref")
        if isinstance(ref, dict):
            lines.append(f"  about {ref.get('kind')} {ref.get('id')}")
        if m.get("thread_id") and m.get("thread_id") != m.get("id"):
            lines.append(f"  in thread {m['thread_id']}")
        lines += [f"  | {line}" for line in str(m.get("text", "")).splitlines()]
    return [indent + line for line in lines]


def _sender(m: dict[str, Any]) -> str:
    """The sender, or what the broker says of one it does not name to the reader."""
    return str(m.get("from") or "another party (relayed by the broker)")


def event_line(e: Event) -> str:
    """One live event on one line: its id, time, type and what it says."""
    return f"#{e.id} {str(e.time)[:19].replace('T', ' ')} {e.type} {_one_line(_summary(e.type, e.data), 240)}"


def _summary(kind: str, d: dict[str, Any]) -> str:
    if kind.startswith("notice.") and isinstance(d.get("notice"), dict):
        n = d["notice"]
        return f"{n.get('id')} v{n.get('version')} {n.get('state')}" + (" LATE" if d.get("late") else "")
    if kind.startswith("conflict.") and isinstance(d.get("conflict"), dict):
        c = d["conflict"]
        if kind == "conflict.acknowledged":
            return f"{c.get('id')} by {d.get('party') or 'the other side'} (received and understood)"
        sides = c.get("sides") or []
        between = " ↔ ".join(_side(s) for s in sides)
        return ", ".join(x for x in (f"{c.get('id')} {between}", _where(c.get("slice") or {})) if x)
    if kind.startswith("message.") and isinstance(d.get("message"), dict):
        m = d["message"]
        if kind == "message.sent":
            to = ", ".join(str(r.get("party") or "another party") for r in m.get("to") or [])
            return f"{m.get('id')} from {_sender(m)} to {to} [{m.get('priority')}]: {m.get('subject', '')}"
        if kind == "message.acknowledged":
            return f"{m.get('id')} {d.get('state')} by {d.get('party') or 'a recipient'}"
        if kind == "message.overdue":
            return f"{m.get('id')} not acknowledged by {d.get('party') or 'a recipient'} (round {d.get('round')})"
    if kind.startswith("alert.") and isinstance(d.get("alert"), dict):
        a = d["alert"]
        parties = ", ".join(str(p) for p in a.get("parties") or [])
        return f"{a.get('id')} {a.get('kind')} {a.get('severity')} {a.get('state')}: {parties}"
    if kind == "policy.recorded":
        return f"the theater's agreed definitions, sha256 {str(d.get('policy_sha256', ''))[:16]}…"
    return json.dumps(d, sort_keys=True)


def report_table(report: dict[str, Any]) -> Table:
    """The compliance report, one row a party, in columns that fit 80 characters."""
    title = f"compliance {_span(report.get('since'), report.get('until'))}"
    t = Table(
        title=title,
        title_justify="left",
        caption="filed: notices; lead h: their median lead time in hours; acks: on time/late/missing/pending",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    t.add_column("party", overflow="fold", min_width=10)
    for col in ("filed", "late", "lead h", "conflicts", "acks", "nonconf\nmin", "incursion\nmin"):
        t.add_column(col, no_wrap=True, justify="right")
    for p in report.get("parties") or []:
        a = p.get("acknowledgements") or {}
        lead = p.get("lead_time_median_s")
        t.add_row(
            str(p.get("party")),
            str(p.get("notices_filed")),
            str(p.get("late_notices")),
            "–" if lead is None else f"{lead / 3600:.1f}",
            str(p.get("conflicts")),
            "/".join(str(a.get(k, 0)) for k in ("on_time", "late", "missing", "pending")),
            f"{p.get('nonconformance_minutes', 0):.1f}",
            f"{p.get('incursion_minutes', 0):.1f}",
        )
    return t
