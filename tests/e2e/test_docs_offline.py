"""The API's documentation pages work without internet: ``/docs`` (Swagger UI), ``/redoc`` and ``/``
opened in headless Debian Chromium against a real ``uvicorn`` server, with every request that does
not go to the broker (127.0.0.1) aborted and counted.

FastAPI's defaults load Swagger UI and ReDoc from a CDN; on a network without internet those pages
stay blank. The broker serves the assets itself (``deconflict.api.docs_assets``), and the pages'
Content-Security-Policy lets the browser load nothing from anywhere else: what a bundle would still
fetch from outside (ReDoc's menu logo) is refused by the browser before any request, and listed here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from e2e.console_support import built_console
from e2e.test_report_browser import _browser_or_fail
from integration.api_support import Api, start_api

REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
"""ReDoc 2 always shows this image in its side menu; the page's policy refuses it."""


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    a = start_api(f"sqlite:///{tmp_path / 'broker.sqlite'}")
    try:
        yield a
    finally:
        a.close()


def test_docs_redoc_and_root_render_with_outside_requests_blocked(api: Api) -> None:
    chromium = _browser_or_fail()
    built_console()
    from playwright.sync_api import Route, sync_playwright

    outside: list[str] = []
    local: list[str] = []
    failed: list[str] = []

    def gate(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            local.append(url)
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True)
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            context.route("**/*", gate)
            # what the pages' Content-Security-Policy refused, as the browser reports it
            refused: list[tuple[str, str]] = []
            context.expose_function("reportRefused", lambda uri, directive: refused.append((uri, directive)))
            context.add_init_script(
                "document.addEventListener('securitypolicyviolation',"
                " e => window.reportRefused(e.blockedURI, e.effectiveDirective))"
            )
            page = context.new_page()
            page.on("requestfailed", lambda r: failed.append(r.url))

            # Swagger UI: the operations are rendered from /openapi.json
            page.goto(f"{api.url}/docs")
            page.get_by_text("File a notice", exact=False).first.wait_for(state="visible", timeout=30_000)
            assert page.locator(".opblock").count() > 20

            # ReDoc: the same operations, each with its heading in the body
            page.goto(f"{api.url}/redoc")
            page.locator("h2", has_text="File a notice").first.wait_for(state="visible", timeout=30_000)
            assert page.locator("h2", has_text="Get a notice").first.is_visible()

            # / is the operator's console: its login form (the console itself: test_console_browser.py)
            page.goto(f"{api.url}/")
            page.locator("#login-form").wait_for(state="visible", timeout=30_000)
        finally:
            browser.close()

    assert outside == [], f"the docs pages tried to reach outside the broker: {outside}"
    # Only what the policy is there to stop: nothing of the broker's own was refused (that would
    # break a page), and nothing new from outside turned up without this test saying so.
    assert set(refused) <= {(REDOCLY_LOGO, "img-src")}, f"the pages' policy refused: {refused}"
    local_failed = [u for u in failed if urlsplit(u).hostname == "127.0.0.1"]
    assert local_failed == [], f"requests to the broker failed: {local_failed}"
    # a request the policy stopped fails in the browser without ever being sent (no route saw it)
    assert set(failed) - set(local_failed) <= {uri for uri, _ in refused}, (failed, refused)
    assert any(u.endswith(".js") for u in local), local  # the assets came from the broker itself


def test_docs_assets_are_served_by_the_broker(api: Api) -> None:
    """The pages name only the broker's own URLs, and those URLs answer."""
    built_console()
    with httpx.Client(base_url=api.url, timeout=30) as c:
        for page in ("/docs", "/redoc"):
            r = c.get(page)
            html = r.text
            assert "default-src 'self'" in r.headers["content-security-policy"], page
            assert "cdn.jsdelivr.net" not in html and "fonts.googleapis.com" not in html, page
            assert "fastapi.tiangolo.com" not in html, page
        for asset in (
            "/static/docs/swagger-ui-bundle.js",
            "/static/docs/swagger-ui.css",
            "/static/docs/redoc.standalone.js",
            "/static/docs/favicon.png",
        ):
            r = c.get(asset)
            assert r.status_code == 200 and len(r.content) > 1000, asset
        assert c.get("/static/docs/../app.py").status_code == 404
        # "/" is the operator's console now (tests/e2e/test_console_browser.py), no longer a redirect
        r = c.get("/", follow_redirects=False)
        assert r.status_code == 200 and "deconflict console" in r.text
        assert "default-src 'self'" in r.headers["content-security-policy"]
