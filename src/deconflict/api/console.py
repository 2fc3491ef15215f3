"""The operator's console: the page at ``/`` and its files under ``/console/``.

The page is built from ``console/`` (TypeScript, npm) into the package's ``console_dist/`` folder
by the package build (``build_console.py``, run by ``pip install``); it is never committed. The
page gets everything else through the API with the party's token, so it shows exactly what the API
discloses to that token. A Content-Security-Policy keeps it to the broker's own origin: nothing is
loaded from, or sent to, anywhere else.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from deconflict.api import errors
from deconflict.api.deps import Caller
from deconflict.domain.times import format_time

FILES = {
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "countries-50m.json": "application/json",
}
"""What ``/console/`` serves, and as what: nothing else from the folder."""

POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)


def dist_dir() -> Path:
    return Path(str(files("deconflict"))) / "console_dist"


def _missing() -> Response:
    return errors.problem(
        503,
        "console-not-built",
        "the console is not built: reinstall the package (pip install -e .) with Node 20 and npm on the PATH, "
        "or run 'npm ci && npm run build' in console/",
    )


def install(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False, response_model=None)
    def console_page() -> Response:
        page = dist_dir() / "index.html"
        if not page.is_file():
            return _missing()
        resp = HTMLResponse(page.read_text(encoding="utf-8"))
        resp.headers["Content-Security-Policy"] = POLICY
        resp.headers["Cache-Control"] = "no-cache"
        return resp

    @app.get("/console/now", include_in_schema=False, response_model=None)
    def console_now(request: Request, caller: Caller) -> dict[str, Any]:
        """The broker's clock, which the hotline's deadlines run on (the browser's may differ, and a
        replay's or a test's does): the page counts deadlines down from it, ``rate`` times as fast as its
        own clock runs."""
        del caller  # a token is needed, as for everything the page reads
        clock = request.app.state.broker.clock
        # how many broker seconds pass in a second: more than one under the live demo's accelerated clock
        rate = getattr(clock, "speed", 1.0)
        return {"now": format_time(clock()), "rate": rate}

    @app.get("/console/{name}", include_in_schema=False, response_model=None)
    def console_file(name: str) -> Response:
        path = dist_dir() / name
        if name not in FILES:
            return errors.problem(404, "not-found", f"no console file named {name!r}")
        if not path.is_file():
            return _missing()
        return FileResponse(path, media_type=FILES[name], headers={"Cache-Control": "no-cache"})
