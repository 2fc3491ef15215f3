"""The API's documentation pages, served by the broker itself: ``/docs`` (Swagger UI) and
``/redoc`` with their scripts, style sheet and icon under ``/static/docs/``.

FastAPI's default pages load Swagger UI and ReDoc from a CDN (and ReDoc's fonts from Google), so on
a network without internet, which is where a broker may well run, they stay blank. The assets come
from the ``fastapi-offline`` package (PyPI, MIT): a maintained wheel that ships both bundles
(``swagger-ui-bundle.js``, ``swagger-ui.css``, ``redoc.standalone.js``) and a favicon as package
data. Only its files are used; the pages are FastAPI's own ``get_swagger_ui_html`` and
``get_redoc_html`` pointed at the broker's URLs.

Both pages also carry a Content-Security-Policy that lets them load only from the broker (and run
only the broker's scripts and the page's own inline start-up script, by hash), so nothing in a
bundle can reach outside either: ReDoc's side menu, for one, always shows a logo from its vendor's
CDN, which the browser now refuses without trying (the menu then shows the text alone).
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_URL = "/static/docs"
"""Where the assets are mounted."""

ASSET_NAMES = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")

SWAGGER_UI_PARAMETERS = {
    # Swagger UI's default validator badge would fetch an image from validator.swagger.io.
    "validatorUrl": None,
}


_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def with_policy(page: HTMLResponse) -> HTMLResponse:
    """``page`` with a Content-Security-Policy that allows the broker's own origin only; its inline
    scripts are allowed by their SHA-256 (no ``'unsafe-inline'`` for scripts)."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(bytes(page.body))
    )
    page.headers["Content-Security-Policy"] = "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {hashes}".rstrip(),
            # both bundles inject <style> elements; ReDoc runs its search in a blob: worker
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "worker-src 'self' blob:",
            "connect-src 'self'",
            "frame-ancestors 'self'",
            "base-uri 'self'",
            "form-action 'self'",
        )
    )
    return page


def asset_dir() -> Path:
    """The installed package's folder of assets; fails loudly if one is missing."""
    folder = Path(str(files("fastapi_offline").joinpath("static")))
    missing = [name for name in ASSET_NAMES if not (folder / name).is_file()]
    if missing:
        raise RuntimeError(f"fastapi-offline at {folder} lacks {', '.join(missing)}; reinstall deconflict")
    return folder


def install(app: FastAPI) -> None:
    """Mount the assets and add ``/docs``, its OAuth2 redirect and ``/redoc`` to ``app``, which
    must be built with ``docs_url=None, redoc_url=None`` (FastAPI's CDN pages off)."""
    assert app.docs_url is None and app.redoc_url is None, "turn FastAPI's CDN pages off first"
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"
    app.mount(STATIC_URL, StaticFiles(directory=asset_dir()), name="docs-assets")

    def base(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = base(request)
        page = get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{oauth2_redirect_url}",
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            swagger_ui_parameters={**SWAGGER_UI_PARAMETERS, **(app.swagger_ui_parameters or {})},
        )
        return with_policy(page)

    @app.get(oauth2_redirect_url, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = base(request)
        page = get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{STATIC_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            with_google_fonts=False,
        )
        return with_policy(page)
