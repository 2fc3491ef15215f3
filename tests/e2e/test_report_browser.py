"""The HTML compliance report opened in a real browser: headless Debian Chromium driven by Playwright.

Chromium is Debian's (``apt-get install chromium``, ``/usr/bin/chromium``; never ``playwright
install``). Without it the test fails; set ``DECONFLICT_SKIP_BROWSER=1`` to skip it deliberately.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest

from deconflict.report_html import render_html
from unit.test_compliance import scenario

CHROMIUM = Path("/usr/bin/chromium")


def _browser_or_fail() -> Path:
    if os.environ.get("DECONFLICT_SKIP_BROWSER") == "1":
        pytest.skip("DECONFLICT_SKIP_BROWSER=1")
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not at {CHROMIUM}; install Debian's (apt-get install -y chromium) "
            "or set DECONFLICT_SKIP_BROWSER=1 to skip the browser test",
            pytrace=False,
        )
    return CHROMIUM


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered rows of an 8-bit RGB/RGBA PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, "unexpected PNG format"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        ftype, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def distinct_colours(data: bytes) -> int:
    width, _, rows = png_pixels(data)
    channels = len(rows[0]) // width
    return len({row[i : i + 3] for row in rows for i in range(0, len(row), channels)})


def test_report_opens_in_chromium_and_shows_both_charts(tmp_path: Path) -> None:
    chromium = _browser_or_fail()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        pytest.fail("the playwright package is missing; install the project with '.[test]'", pytrace=False)

    page_file = tmp_path / "report.html"
    page_file.write_text(render_html(scenario(), report_hash="0" * 64, log_seq=42), encoding="utf-8")
    shot = tmp_path / "report.png"

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri())
            for chart in ("#lead-time-chart", "#ack-latency-chart"):
                loc = page.locator(chart)
                assert loc.is_visible(), f"{chart} is not visible"
                box = loc.bounding_box()
                assert box is not None and box["width"] > 400 and box["height"] > 80, f"{chart}: {box}"
            # every mark drawn: one dot per notice (7) and per acknowledgement (5), bars of the duties
            assert page.locator("#lead-time-chart circle.mark").count() == 7
            assert page.locator("#ack-latency-chart circle.mark").count() == 5
            assert page.locator("#ack-latency-chart rect.mark").count() >= 4
            assert page.locator("#summary tbody tr").count() == 3
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()

    assert requests == [page_file.as_uri()], f"the page fetched something else: {requests}"
    data = shot.read_bytes()
    width, height, _ = png_pixels(data)
    assert width >= 1000 and height > 600
    # a blank or unstyled page has a handful of colours; charts with anti-aliased marks have hundreds
    assert distinct_colours(data) > 50
