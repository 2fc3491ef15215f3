"""The compliance report: figures on a scenario computed by hand, boundaries, a property test against
numpy and a per-second count, and the HTML page (parses, two charts, everything escaped)."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.domain.compliance import (
    AckFact,
    AlertSpan,
    ComplianceReport,
    ConflictFact,
    FiledNotice,
    compliance_report,
    percentile,
    report_json,
)
from deconflict.domain.errors import ValidationError
from deconflict.report_html import render_html, render_table

H = 3600.0
M = 60.0
T0 = 1_735_689_600.0  # 2025-01-01T00:00:00Z
SINCE = T0
UNTIL = T0 + 24 * H
MIN_NOTICE = 3 * H


def notice(party: str, n: str, at: float, lead: float, late: bool = False) -> FiledNotice:
    return FiledNotice(party=party, notice_id=n, received_at=at, lead_time_s=lead, late=late)


def ack(party: str, m: str, sent: float, deadline: float | None, acked: float | None) -> AckFact:
    return AckFact(message_id=m, party=party, sent_at=sent, deadline=deadline, acked_at=acked)


NOTICES = [
    # alpha: lead times 2 h (late), 4 h, 6 h in the period.
    notice("alpha", "a1", SINCE, 2 * H, late=True),  # exactly at since: in the period
    notice("alpha", "a2", T0 + 2 * H, 4 * H),
    notice("alpha", "a3", T0 + 3 * H, 6 * H),
    notice("alpha", "a0", SINCE - 1, 100 * H, late=True),  # before since: out
    notice("alpha", "a9", UNTIL, 100 * H),  # exactly at until: out (the period is half-open)
    # bravo: lead times 1 h (late), 3 h (exactly the minimum notice: not late), 5 h, 9 h.
    notice("bravo", "b1", T0 + 1 * H, 1 * H, late=True),
    notice("bravo", "b2", T0 + 2 * H, 3 * H),
    notice("bravo", "b3", T0 + 3 * H, 5 * H),
    notice("bravo", "b4", T0 + 4 * H, 9 * H),
]

CONFLICTS = [
    ConflictFact("c1", ("alpha", "bravo"), T0 + 5 * H),
    ConflictFact("c2", ("alpha",), T0 + 6 * H),  # alpha against a protected site
    ConflictFact("c3", ("alpha", "bravo"), UNTIL),  # at until: out
    ConflictFact("c4", ("bravo", "delta"), SINCE),  # at since: in; delta is not in the report
]

ACKS = [
    # alpha
    ack("alpha", "m1", T0 + 1 * H, T0 + 1 * H + 15 * M, T0 + 1 * H + 15 * M),  # exactly at deadline: on time, 15 min
    ack("alpha", "m2", T0 + 2 * H, T0 + 2 * H + 15 * M, T0 + 2 * H + 5 * M),  # on time, 5 min
    ack("alpha", "m3", T0 + 3 * H, T0 + 3 * H + 15 * M, T0 + 3 * H + 45 * M),  # late, 45 min
    ack("alpha", "m4", T0 + 4 * H, T0 + 4 * H + 15 * M, None),  # missing
    ack("alpha", "m5", T0 + 23 * H + 50 * M, UNTIL + 5 * M, None),  # deadline after until: pending
    ack("alpha", "m6", T0 + 23 * H, T0 + 23 * H + 15 * M, UNTIL + 1 * H),  # acked after until: missing
    ack("alpha", "m7", T0 + 5 * H, None, T0 + 5 * H + 1 * M),  # no deadline: no duty
    ack("alpha", "m8", SINCE - 1 * H, SINCE - 45 * M, SINCE - 50 * M),  # sent before since: out
    ack("alpha", "m9", T0 + 23 * H + 55 * M, UNTIL + 10 * M, T0 + 23 * H + 58 * M),  # on time, 3 min
    # bravo
    ack("bravo", "m10", T0 + 23 * H, UNTIL, None),  # deadline exactly at until, not acked: pending
    ack("bravo", "m11", T0 + 10 * H, T0 + 10 * H + 1 * M, T0 + 10 * H + 2 * M),  # late, 120 s
    ack("bravo", "m12", UNTIL, UNTIL + 1 * M, UNTIL + 2 * M),  # sent at until: out
]

SPANS = [
    # alpha nonconformance: 30 min of [since - 30 min, since + 30 min] + 12 min = 42 min.
    AlertSpan("nonconformance", "alpha", SINCE - 30 * M, SINCE + 30 * M),
    AlertSpan("nonconformance", "alpha", T0 + 10 * H, T0 + 10 * H + 12 * M),
    # alpha incursion: open since 23:50, runs to until: 10 min; one after until: 0.
    AlertSpan("incursion", "alpha", T0 + 23 * H + 50 * M, None),
    AlertSpan("incursion", "alpha", UNTIL + 1 * H, UNTIL + 2 * H),
    # bravo incursion straddling both ends: clipped to the whole day, 24 h = 1440 min.
    AlertSpan("incursion", "bravo", SINCE - 2 * H, UNTIL + 2 * H),
    # bravo nonconformance wholly before since: 0.
    AlertSpan("nonconformance", "bravo", SINCE - 2 * H, SINCE - 1 * H),
    # a kind that is not reported is ignored.
    AlertSpan("loss_of_separation", "bravo", SINCE, UNTIL),
]


def scenario(parties: tuple[str, ...] = ("alpha", "bravo", "charlie")) -> ComplianceReport:
    return compliance_report(parties, SINCE, UNTIL, NOTICES, CONFLICTS, ACKS, SPANS, MIN_NOTICE)


def test_notice_figures_match_the_hand_computation() -> None:
    r = scenario()
    a, b = r.party("alpha"), r.party("bravo")
    # alpha: sorted 2, 4, 6 h → median 4 h; p10 rank (3-1)*0.1 = 0.2 → 2 + 0.2*(4-2) = 2.4 h.
    assert a.notices_filed == 3
    assert a.lead_times_s == (2 * H, 4 * H, 6 * H)
    assert a.lead_time_median_s == pytest.approx(4 * H)
    assert a.lead_time_p10_s == pytest.approx(2.4 * H)
    assert a.late_notices == 1
    # bravo: sorted 1, 3, 5, 9 h → median (3+5)/2 = 4 h; p10 rank (4-1)*0.1 = 0.3 → 1 + 0.3*(3-1) = 1.6 h.
    assert b.notices_filed == 4
    assert b.lead_time_median_s == pytest.approx(4 * H)
    assert b.lead_time_p10_s == pytest.approx(1.6 * H)
    assert b.late_notices == 1
    assert b.late_lead_times_s == (1 * H,)


def test_conflicts_count_each_party_once_per_conflict_in_the_period() -> None:
    r = scenario()
    assert r.party("alpha").conflicts == 2  # c1, c2 (c3 is at until)
    assert r.party("bravo").conflicts == 2  # c1, c4 (at since)


def test_acknowledgements_on_time_late_missing_pending() -> None:
    r = scenario()
    a, b = r.party("alpha"), r.party("bravo")
    # alpha: on time m1 (at the deadline), m2, m9; late m3; missing m4, m6 (acked after until); pending m5.
    assert (a.acks_on_time, a.acks_late, a.acks_missing, a.acks_pending) == (3, 1, 2, 1)
    # latencies 15, 5, 45, 3 min → sorted 3, 5, 15, 45 → median (5 + 15)/2 = 10 min.
    assert a.ack_latencies_s == (3 * M, 5 * M, 15 * M, 45 * M)
    assert a.late_ack_latencies_s == (45 * M,)
    assert a.ack_latency_median_s == pytest.approx(10 * M)
    # bravo: m11 late after 120 s; m10's deadline is exactly until: pending, not missing.
    assert (b.acks_on_time, b.acks_late, b.acks_missing, b.acks_pending) == (0, 1, 0, 1)
    assert b.ack_latency_median_s == pytest.approx(120.0)


def test_alert_minutes_are_clipped_to_the_period() -> None:
    r = scenario()
    a, b = r.party("alpha"), r.party("bravo")
    assert a.nonconformance_minutes == pytest.approx(30 + 12)
    assert a.incursion_minutes == pytest.approx(10)
    assert b.incursion_minutes == pytest.approx(24 * 60)
    assert b.nonconformance_minutes == 0


def test_a_party_with_nothing_gets_a_row_of_zeros() -> None:
    c = scenario().party("charlie")
    assert (c.notices_filed, c.late_notices, c.conflicts) == (0, 0, 0)
    assert (c.acks_on_time, c.acks_late, c.acks_missing, c.acks_pending) == (0, 0, 0, 0)
    assert c.lead_time_median_s is None and c.lead_time_p10_s is None and c.ack_latency_median_s is None
    assert c.lead_times_s == () and c.ack_latencies_s == ()
    assert c.nonconformance_s == 0 and c.incursion_s == 0


def test_rows_follow_the_given_parties_only() -> None:
    r = scenario(("charlie", "alpha", "alpha"))
    assert [p.party for p in r.parties] == ["charlie", "alpha"]  # delta and bravo are not reported


@pytest.mark.parametrize(
    ("since", "until", "field"),
    [(UNTIL, SINCE, "until"), (SINCE, SINCE, "until"), (float("nan"), UNTIL, "since"), (SINCE, float("inf"), "until")],
)
def test_bad_period_is_refused_with_the_field(since: float, until: float, field: str) -> None:
    with pytest.raises(ValidationError) as e:
        compliance_report(["alpha"], since, until, [], [], [], [], MIN_NOTICE)
    assert e.value.errors[0].path == field


def test_report_json_is_rfc3339_and_seconds() -> None:
    j = report_json(scenario())
    assert j["since"] == "2025-01-01T00:00:00Z" and j["until"] == "2025-01-02T00:00:00Z"
    assert j["min_notice_s"] == 3 * H
    a = {p["party"]: p for p in j["parties"]}["alpha"]
    assert a["lead_time_p10_s"] == 8640.0  # 2.4 h
    assert a["acknowledgements"] == {
        "on_time": 3,
        "late": 1,
        "missing": 2,
        "pending": 1,
        "median_time_to_ack_s": 600.0,
    }
    assert a["nonconformance_s"] == 42 * M and a["nonconformance_minutes"] == 42.0
    assert a["lead_times_s"] == [2 * H, 4 * H, 6 * H]
    c = {p["party"]: p for p in j["parties"]}["charlie"]
    assert c["lead_time_median_s"] is None and c["acknowledgements"]["median_time_to_ack_s"] is None


# Property tests: small integer-second inputs, checked against numpy and a per-second count.

times = st.integers(min_value=0, max_value=60)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-1000, max_value=1000).map(float), min_size=1, max_size=30))
def test_percentiles_agree_with_numpy(values: list[float]) -> None:
    for q in (0.0, 10.0, 50.0, 90.0, 100.0):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)), abs=1e-9)
    r = compliance_report(["p"], 0.0, 1.0, [notice("p", str(i), 0.0, v) for i, v in enumerate(values)], [], [], [], 0.0)
    assert r.parties[0].lead_time_median_s == pytest.approx(float(np.median(values)), abs=1e-9)
    assert r.parties[0].lead_time_p10_s == pytest.approx(float(np.percentile(values, 10)), abs=1e-9)


spans_st = st.lists(
    st.tuples(st.sampled_from(["nonconformance", "incursion"]), times, st.one_of(st.none(), times)).filter(
        lambda s: s[2] is None or s[2] >= s[1]
    ),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(spans_st, times, st.integers(min_value=1, max_value=60))
def test_alert_seconds_equal_a_per_second_count(
    spans: list[tuple[str, int, int | None]], since: int, length: int
) -> None:
    until = since + length
    r = compliance_report(
        ["p"],
        float(since),
        float(until),
        [],
        [],
        [],
        [AlertSpan(k, "p", float(s), None if e is None else float(e)) for k, s, e in spans],
        0.0,
    )
    for kind, got in (("nonconformance", r.parties[0].nonconformance_s), ("incursion", r.parties[0].incursion_s)):
        # each span covers the whole seconds [start, end) (end None: still open, so every second to until)
        expected = sum(
            1 for k, s, e in spans if k == kind for t in range(since, until) if s <= t and (e is None or t < e)
        )
        assert got == expected


acks_st = st.lists(st.tuples(times, st.one_of(st.none(), times), st.one_of(st.none(), times)), max_size=10)


@settings(max_examples=200, deadline=None)
@given(acks_st, st.integers(min_value=0, max_value=30), st.integers(min_value=1, max_value=30))
def test_every_duty_is_counted_once(raw: list[tuple[int, int | None, int | None]], since: int, length: int) -> None:
    until = since + length
    facts = [
        ack("p", str(i), float(s), None if d is None else float(s + d), None if a is None else float(s + a))
        for i, (s, d, a) in enumerate(raw)
    ]
    p = compliance_report(["p"], float(since), float(until), [], [], facts, [], 0.0).parties[0]
    duties = [f for f in facts if f.deadline is not None and since <= f.sent_at < until]
    assert p.ack_duties == len(duties)
    acked = sorted(f.acked_at - f.sent_at for f in duties if f.acked_at is not None and f.acked_at <= until)
    assert list(p.ack_latencies_s) == acked
    assert p.acks_on_time + p.acks_late == len(acked)


# The HTML page.


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.ids += [v for k, v in attrs if k == "id" and v]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> _Collect:
    p = _Collect()
    p.feed(page)
    p.close()
    return p


def test_html_page_parses_with_a_chart_each() -> None:
    page = render_html(scenario(), report_hash="ab" * 32, log_seq=17)
    p = parse(page)
    assert p.tags.count("svg") == 2
    assert {"lead-time-chart", "ack-latency-chart", "summary"} <= set(p.ids)
    assert "script" not in p.tags and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    text = " ".join(p.text)
    for word in ("alpha", "bravo", "charlie", "minimum notice 3.0 h", "ab" * 32, "17", "hours", "minutes"):
        assert word in text
    # one dot per notice (7) and per acknowledgement (5)
    assert page.count('<circle class="mark"') == 7 + 5


def test_html_highlights_late_and_missing() -> None:
    page = render_html(scenario())
    assert '<td class="missing">2</td>' in page  # alpha's missing acknowledgements
    assert '<td class="late">1</td>' in page


def test_html_escapes_every_string() -> None:
    evil = "<script>alert('x')</script>"
    r = compliance_report([evil], SINCE, UNTIL, [notice(evil, "n", SINCE, 1 * H, True)], [], [], [], MIN_NOTICE)
    page = render_html(r, title=evil, report_hash=evil)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    p = parse(page)
    assert "script" not in p.tags and p.tags.count("svg") == 2


def test_empty_report_renders() -> None:
    r = compliance_report(["alpha"], SINCE, UNTIL, [], [], [], [], MIN_NOTICE)
    p = parse(render_html(r))
    assert p.tags.count("svg") == 2
    assert "no notices filed" in " ".join(p.text)


def test_rich_table_has_a_row_per_party() -> None:
    t = render_table(scenario())
    assert t.row_count == 3
    assert len(t.columns) == 13


def _ack_chart(page: str) -> str:
    start = page.index('<svg id="ack-latency-chart"')
    return page[start : page.index("</svg>", start)]


def test_latency_chart_says_so_when_nothing_was_acknowledged() -> None:
    """No acknowledgement in the period: a plain sentence, not an empty axis running 0 to 1."""
    acks = [
        ack("alpha", "m1", T0 + H, T0 + H + 15 * M, None),
        ack("bravo", "m2", T0 + 2 * H, T0 + 2 * H + 15 * M, None),
    ]
    r = compliance_report(["alpha", "bravo"], SINCE, UNTIL, [], [], acks, [], MIN_NOTICE)
    assert r.parties[0].acks_missing == 1 and not any(p.ack_latencies_s for p in r.parties)
    chart = _ack_chart(render_html(r))
    assert "no acknowledgements in the period" in chart
    assert ">0.2<" not in chart and ">0.8<" not in chart  # the old empty 0–1 axis (and no 0.2 of a duty)
    assert "time to acknowledge (" not in chart  # no unit axis without values
    assert "none acknowledged" not in chart  # said once for the chart, not on every row
    assert chart.count('<rect class="mark"') == 2  # the duties (missing) are still drawn


def test_latency_axis_is_drawn_when_something_was_acknowledged() -> None:
    chart = _ack_chart(render_html(scenario()))
    assert "no acknowledgements in the period" not in chart
    assert "time to acknowledge (minutes)" in chart


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (3600.684, "1 h 0 min"),
        (3600.0, "1 h"),
        (5400.0, "1 h 30 min"),
        (24 * H, "1 d"),
        (48 * H, "2 d"),
        (26 * H + 59 * M, "1 d 2 h"),
        (45 * M, "45 min"),
        (90.0, "1 min 30 s"),
        (42.4, "42 s"),
        (0.2, "under 1 s"),
    ],
)
def test_periods_read_in_whole_units(seconds: float, text: str) -> None:
    r = compliance_report(["alpha"], SINCE, SINCE + seconds, [], [], [], [], MIN_NOTICE)
    page = render_html(r)
    assert f"({text}, end excluded)" in page
    assert "1.00019" not in page
