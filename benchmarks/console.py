"""The operator's console in headless Chromium: time to first render and frame times.

Run ``python benchmarks/console.py --help``. It serves a real broker (the app of
``deconflict serve`` on uvicorn, in this process, on fresh SQLite stores) and opens the console in
Debian's Chromium (Playwright, ``--chromium``), logged in through a login link:

1. **First render**: a party with ``--notices`` notices (10 000: circles 3 km wide on a grid, no
   conflicts); the time from the start of the navigation until every notice is drawn on the map.
   The peer, in the same run: the same page for a party with no notice (the map alone).
2. **Frames**: a party with ``--aircraft`` aircraft (5 000) that all report every second (in
   process, ``TacticalService.ingest`` of a parsed report), the broker's detection cycle every second pushing the
   whole picture to the page over ``GET /v1/tracks/live``; the page's frame times (the gaps between
   ``requestAnimationFrame`` callbacks) over ``--seconds``, p50 / p95 / max, and the share of the
   time in long tasks (> 50 ms). The peer: the page of a party with no aircraft on the same server
   while the fleet goes on updating (what the browser and the machine give an idle page).

Targets (issue 13): first render <= 2 s with 10 000 notices; frame p95 <= 50 ms with 5 000
aircraft updating every second.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import uvicorn

from deconflict.api import create_app
from deconflict.bootstrap import build_broker
from deconflict.config import Config
from deconflict.domain.disclosure_policy import Level
from deconflict.domain.notice_json import parse_notice
from deconflict.domain.parties import Role
from deconflict.services.broker import Broker
from deconflict.services.commands import parse_report_tracks
from deconflict.services.tactical_settings import TacticalSettings

T0 = "2030-06-01T00:00:00Z"
T1 = "2030-06-07T00:00:00Z"


def circle(i: int, party: str, lat: float, lon: float, radius_km: float) -> dict[str, Any]:
    return {
        "id": f"n{i}",
        "party": party,
        "volumes": [
            {
                "volume": {
                    "outline_circle": {
                        "center": {"lat": lat, "lng": lon},
                        "radius": {"value": radius_km, "units": "KM"},
                    },
                    "altitude_lower": {"value": 3000, "reference": "AMSL", "units": "M"},
                    "altitude_upper": {"value": 8000, "reference": "AMSL", "units": "M"},
                },
                "time_start": {"value": T0, "format": "RFC3339"},
                "time_end": {"value": T1, "format": "RFC3339"},
            }
        ],
    }


class Served:
    """A broker on a fresh SQLite store behind uvicorn on a thread."""

    def __init__(self, tmp: Path, name: str, config: Config) -> None:
        cfg = replace(config, db_url=f"sqlite:///{tmp / name}.sqlite", key_file=str(tmp / f"{name}.key"))
        self.broker: Broker = build_broker(cfg, time.time)
        self.app = create_app(self.broker, cfg, webhooks=False)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", timeout_graceful_shutdown=1)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise SystemExit("the broker did not start")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{self.port}"

    def party(self, name: str) -> tuple[Any, str]:
        return self.broker.add_party(name, Role.PARTY)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def file_grid(broker: Broker, party: str, n: int) -> None:
    """``n`` notices of ``party``, 3 km circles 0.25° apart: no two conflict."""
    side = math.ceil(math.sqrt(n))
    chunk = []
    for i in range(n):
        body = circle(i, party, 25 + (i % side) * 0.25, 25 + (i // side) * 0.25, 1.5)
        chunk.append(parse_notice(body, broker.limits, "notice"))
        if len(chunk) == 500 or i == n - 1:
            broker.file_all_as_operator(chunk)
            chunk = []


def open_page(browser: Any, url: str, token: str, gate: list[str]) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 900})

    def route(r: Any) -> None:
        if r.request.url.startswith("http://127.0.0.1"):
            r.continue_()
        else:
            gate.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.goto(f"{url}/#token={token}", wait_until="commit")
    return page


LOADED_JS = """() => Math.max(0, ...performance.getEntriesByType('resource')
  .filter((e) => e.name.includes('/v1/notices')).map((e) => e.responseEnd))"""


def first_render(browser: Any, url: str, token: str, drawn: str, gate: list[str]) -> tuple[float, float]:
    """Seconds from the navigation's start until the expression ``drawn`` holds (checked every
    frame), and until the last page of ``GET /v1/notices`` had arrived."""
    page = open_page(browser, url, token, gate)
    page.wait_for_function(f"() => {drawn}", polling="raf", timeout=300_000)
    ms: float = page.evaluate("() => performance.now()")
    loaded: float = page.evaluate(LOADED_JS)
    page.context.close()
    return ms / 1000, loaded / 1000


FRAMES_JS = """(seconds) => new Promise((done) => {
  const gaps = []; let last = performance.now(); const end = last + seconds * 1000; let longMs = 0;
  const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) longMs += e.duration; });
  try { obs.observe({ entryTypes: ["longtask"] }); } catch (e) { /* not supported */ }
  function frame(t) { gaps.push(t - last); last = t;
    if (t < end) requestAnimationFrame(frame); else { obs.disconnect(); done({ gaps, longMs }); } }
  requestAnimationFrame(frame);
})"""


def frames(page: Any, seconds: float) -> dict[str, float]:
    got = page.evaluate(FRAMES_JS, seconds)
    gaps = sorted(got["gaps"][1:])
    q = statistics.quantiles(gaps, n=100, method="inclusive")
    long_share = got["longMs"] / (seconds * 1000)
    return {"p50": q[49], "p95": q[94], "max": gaps[-1], "frames": len(gaps), "long_share": long_share}


def fleet_states(n: int, t: float) -> list[dict[str, Any]]:
    """``n`` aircraft flying east at 200 m/s on a grid over 15 x 15 degrees, at ``t``."""
    side = math.ceil(math.sqrt(n))
    out = []
    for i in range(n):
        lat = 28 + (i % side) * 15 / side
        lon = 30 + (i // side) * 15 / side + ((t * 200 / 100_000) % 1.0)
        out.append({"aircraft": f"a{i}", "time": t, "lat": lat, "lon": lon, "alt_m": 6000.0, "alt_ref": "AMSL",
                    "gs_mps": 200.0, "trk_deg": 90.0, "vs_mps": 0.0, "callsign": f"F{i}"})  # fmt: skip
    return out


def feed(served: Served, party: Any, n: int, stop: threading.Event) -> None:
    tactical = served.app.state.tactical
    while not stop.is_set():
        t0 = time.monotonic()
        now, timeout_s = tactical.clock(), tactical.settings.track_timeout_s
        tactical.ingest(parse_report_tracks(party, {"states": fleet_states(n, time.time())}, now, timeout_s))
        stop.wait(max(0.0, 1.0 - (time.monotonic() - t0)))


def decoding_list(broker: Broker) -> Any:
    """The list of notices the way it was made before (issue 13's figures up to code 60dff13): each
    stored notice decoded to objects (shapes rebuilt), its wire form made and copied by
    disclosure, then encoded; the peer of the list made from the stored text."""
    from deconflict.services.notice_views import NoticeFilter
    from deconflict.services.transaction import page
    from deconflict.services.wire import notice_json, wire_text

    core = broker.list_notice_texts.__self__.core  # type: ignore[attr-defined]

    def list_notice_texts(caller: Any, f: NoticeFilter, cursor: str | None, limit: int) -> Any:
        with core.read() as repo:
            d = core.disclosure(repo)
            scope = core.scope(repo, d, caller, Level.FULL)

            def fetch(after: Any, n: int) -> Any:
                return repo.page_notices(scope, after=after, limit=n, **f.in_sql())

            def view(row: Any) -> str | None:
                seen = d.notice_view(caller, notice_json(row[1]))
                return None if seen is None else wire_text(seen)

            return page(fetch, lambda row: row[0], view, cursor, limit)

    return list_notice_texts


def first_renders(browser: Any, tmp: Path, args: argparse.Namespace, gate: list[str]) -> None:
    """The first render with ``args.notices`` notices, against the empty map's and against the
    list made the way it was before (each notice decoded and encoded again), printed."""
    served = Served(tmp, "render", Config())
    _, full = served.party("full")
    _, empty = served.party("empty")
    t = time.monotonic()
    file_grid(served.broker, "full", args.notices)
    print(f"filed {args.notices} notices in {time.monotonic() - t:.1f} s")
    ways = {"from the stored text": served.broker.list_notice_texts, "decoded (before)": decoding_list(served.broker)}
    got: dict[str, tuple[list[float], list[float]]] = {way: ([], []) for way in ways}
    peers = []
    # the map's count of notices drawn, SVG paths and canvas together (console/src/map.ts)
    every = f"Number(document.getElementById('map')?.dataset.notices) >= {args.notices}"
    for _ in range(args.repeat):
        peers.append(first_render(browser, served.url, empty, "document.querySelector('#map path.countries')", gate)[0])
        for way, lister in ways.items():  # the two ways in turn, on the same server and store
            served.broker.list_notice_texts = lister
            drawn, loaded = first_render(browser, served.url, full, every, gate)
            got[way][0].append(drawn)
            got[way][1].append(loaded)
    served.broker.list_notice_texts = ways["from the stored text"]
    served.stop()
    p = statistics.median(peers)
    medians = {way: statistics.median(renders) for way, (renders, _) in got.items()}
    for way, (renders, loads) in got.items():
        r, ld = medians[way], statistics.median(loads)
        runs = ", ".join(f"{x:.2f}" for x in renders)
        verdict = "met" if r <= 2 else "MISSED"
        print(f"first render, {args.notices} notices, list {way}: {r:.2f} s (runs {runs}); "
              f"the empty map: {p:.2f} s; ratio {r / p:.1f}x; target <= 2 s: {verdict}")  # fmt: skip
        print(f"  of which until the last page of GET /v1/notices arrived: {ld:.2f} s; after it: {r - ld:.2f} s")
    ratio = medians["decoded (before)"] / medians["from the stored text"]
    print(f"first render ratio, decoded (before) / from the stored text: {ratio:.2f}x; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notices", type=int, default=10_000, help="notices for the first render (default 10000)")
    ap.add_argument("--aircraft", type=int, default=5_000, help="aircraft updating every second (default 5000)")
    ap.add_argument("--seconds", type=float, default=15.0, help="how long frames are measured (default 15)")
    ap.add_argument("--repeat", type=int, default=3, help="first renders timed, median kept (default 3)")
    ap.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium to drive (default Debian's)")
    ap.add_argument("--only", choices=("render", "frames"), help="run one of the two measures")
    ap.add_argument("--trace", type=Path, help="write Chromium's performance trace of the frames phase here")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    gate: list[str] = []
    print(f"{platform.node()}: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as d, sync_playwright() as pw:
        tmp = Path(d)
        browser = pw.chromium.launch(executable_path=args.chromium, headless=True)
        if args.only != "frames":
            first_renders(browser, tmp, args, gate)
        if args.only != "render":
            frames_phase(browser, tmp, args, gate)
        browser.close()
    if gate:
        sys.exit(f"the console tried to reach outside the broker: {gate[:5]}")


def frames_phase(browser: Any, tmp: Path, args: argparse.Namespace, gate: list[str]) -> None:
    """Frame times while ``args.aircraft`` aircraft update every second, against a peer page's, printed."""
    # 2. frames while the fleet updates every second
    quiet = TacticalSettings(conformance_grace_s=10**9)  # one party, no volumes: no nonconformance storm
    served = Served(tmp, "frames", replace(Config(), tactical=quiet))
    fleet, token = served.party("fleet")
    stop = threading.Event()
    feeder = threading.Thread(target=feed, args=(served, fleet, args.aircraft, stop))
    feeder.start()
    page = open_page(browser, served.url, token, gate)
    # the aircraft canvas's count of aircraft in the picture, and what it drew (console/src/aircraft.ts;
    # it draws those on the screen)
    page.wait_for_function(
        f"() => Number(document.querySelector('#map canvas.aircraft-layer')?.dataset.picture) >= {args.aircraft}",
        polling=200,
        timeout=300_000,
    )
    page.wait_for_function(  # trails of three reports: the page has been updating for a while
        "() => document.getElementById('map').drawn.aircraft.some((a) => a.trail >= 3)", polling=500, timeout=300_000
    )
    if args.trace:
        browser.start_tracing(page=page, path=str(args.trace), screenshots=False)
    live = frames(page, args.seconds)
    shown = page.evaluate("() => document.querySelector('#map canvas.aircraft-layer').dataset")
    if args.trace:
        browser.stop_tracing()
    page.context.close()
    _, none = served.party("nobody")  # the peer: the same page and server load, no aircraft of its own
    peer = open_page(browser, served.url, none, gate)
    peer.locator("#map path.countries").wait_for(state="attached", timeout=300_000)
    idle = frames(peer, args.seconds)
    stop.set()
    feeder.join()
    peer.context.close()  # its live streams first: the server then stops at once
    served.stop()
    for name, f in (("updating", live), ("peer: a party with no aircraft, same server", idle)):
        print(f"frames, {args.aircraft} aircraft, {name}: p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f} ms, "
              f"max {f['max']:.0f} ms, {f['frames']:.0f} frames in {args.seconds:g} s, "
              f"long tasks {100 * f['long_share']:.0f}% of the time")  # fmt: skip
    print(f"  aircraft drawn (on the screen): {shown['aircraft']} of {shown['picture']}, labels {shown['labels']}")
    print(f"frame p95 ratio updating / peer: {live['p95'] / idle['p95']:.1f}x; "
          f"target p95 <= 50 ms: {'met' if live['p95'] <= 50 else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
