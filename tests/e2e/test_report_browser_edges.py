"""The HTML compliance report's edge cases, measured in headless Debian Chromium (see
``test_report_browser.py``): what is drawn must be inside the chart, where a reader can see it."""

from __future__ import annotations

from pathlib import Path

import pytest

from deconflict.domain.compliance import compliance_report
from deconflict.report_html import render_html
from e2e.test_report_browser import _browser_or_fail
from unit.test_compliance import MIN_NOTICE, SINCE, T0, UNTIL, H, notice


def _boxes(page_file: Path, selectors: list[str]) -> list[dict[str, float]]:
    chromium = _browser_or_fail()
    from playwright.sync_api import sync_playwright

    out: list[dict[str, float]] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(page_file.as_uri())
            for selector in selectors:
                loc = page.locator(selector)
                assert loc.count() == 1, f"{selector}: {loc.count()} found"
                box = loc.bounding_box()
                assert box is not None, selector
                out.append(dict(box))
        finally:
            browser.close()
    return out


@pytest.mark.parametrize(
    "leads_h",
    [
        [-30.0, -2.0, 1.0],  # filed after the activity began: the axis starts far below zero
        [-2.0, 0.5],
        [-8.0, 1.0],  # the minimum notice falls on the last tick, at the right edge
        [-5.0],
        [2.0, 4.0, 6.0],  # the usual case
        [200.0, 400.0],  # long lead times: the minimum notice sits at the left
    ],
)
def test_minimum_notice_label_stays_inside_the_lead_time_chart(tmp_path: Path, leads_h: list[float]) -> None:
    notices = [notice("alpha", f"a{i}", T0 + i * H, v * H, late=v * H < MIN_NOTICE) for i, v in enumerate(leads_h)]
    report = compliance_report(["alpha", "bravo"], SINCE, UNTIL, notices, [], [], [], MIN_NOTICE)
    page_file = tmp_path / "report.html"
    page_file.write_text(render_html(report), encoding="utf-8")
    chart, label, line = _boxes(
        page_file, ["#lead-time-chart", "#lead-time-chart .min-notice-label", "#lead-time-chart .min-notice-line"]
    )
    assert label["x"] >= chart["x"] and label["x"] + label["width"] <= chart["x"] + chart["width"], (label, chart)
    assert label["y"] >= chart["y"], (label, chart)
    # the label stands beside its line, on one side or the other
    gap = min(abs(label["x"] - line["x"]), abs(label["x"] + label["width"] - line["x"]))
    assert gap <= 8, (label, line)
