"""Helpers of the console's browser tests: the console built from console/, and pages of it in
headless Chromium, each logged in as one party, with every request outside loopback blocked and
counted and every console error recorded (the tests fail on either)."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest

from e2e.test_report_browser import _browser_or_fail
from integration.api_support import Api, start_api

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_console", ROOT / "build_console.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def node_or_fail() -> None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found on the PATH: the console is built and type-checked with "
            "Node 20 and npm (https://nodejs.org)",
            pytrace=False,
        )


def built_console() -> Path:
    """console/ built into the package (as pip install does); fails the test when it cannot be."""
    node_or_fail()
    module = _build_module()
    try:
        module.ensure_built()
    except module.ConsoleBuildError as e:
        pytest.fail(str(e), pytrace=False)
    source: Path = module.SOURCE
    return source


@dataclass
class Pages:
    """Console pages in one browser; ``outside`` and ``errors`` must be empty at the end."""

    browser: Any
    url: str
    shots: Path
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def _gate(self, route: Any) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def open(self, party: str, token: str) -> Any:
        """A page of its own context (its own sessionStorage), logged in as ``party``, its live stream up."""
        context = self.browser.new_context(viewport={"width": 1200, "height": 800})
        context.route("**/*", self._gate)
        page = context.new_page()
        page.on("console", lambda m: self.errors.append(f"{party}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"{party}: {e}"))
        page.goto(f"{self.url}/")
        page.locator("#login-form").wait_for(state="visible", timeout=30_000)
        page.fill("#token", token)
        page.click("#login-form button[type=submit]")
        page.locator("#who").filter(has_text=party).wait_for(state="visible", timeout=30_000)
        page.locator("body[data-stream=up]").wait_for(state="attached", timeout=30_000)
        return page

    def shot(self, page: Any, name: str) -> Path:
        path = self.shots / f"{name}.png"
        page.screenshot(path=str(path))
        shutil.copyfile(path, Path("/tmp") / f"console-{name}.png")  # for a person to look at
        return path


def running_api(tmp_path: Path) -> Iterator[Api]:
    """A broker on a fresh SQLite store, for an ``api`` fixture."""
    a = start_api(f"sqlite:///{tmp_path / 'broker.sqlite'}")
    try:
        yield a
    finally:
        a.close()


def console_pages(api: Api, tmp_path: Path) -> Iterator[Pages]:
    """Pages of the console in one headless Chromium, for a ``pages`` fixture; at the end, fails on
    any request outside loopback and any console error."""
    chromium = _browser_or_fail()
    built_console()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True)
        p = Pages(browser, api.url, tmp_path)
        try:
            yield p
        finally:
            browser.close()
    assert p.outside == [], f"the console tried to reach outside the broker: {p.outside}"
    assert p.errors == [], f"console errors: {p.errors}"


def file(api: Api, party: str, body: dict[str, Any]) -> dict[str, Any]:
    r = api.as_(party).post("/v1/notices", json=body)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result
