"""``deconflict demo``'s live run: the broker's app served on uvicorn while the scenario of
:mod:`deconflict.demo.live` plays on its clock (an edge: it composes the store, the API and the
theater, as ``deconflict serve`` does)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from deconflict.config import Config
from deconflict.demo.live import LiveTheater, Scenario, TheaterClock, say
from deconflict.demo.theater import theater_filings


def run_live(cfg: Config, theater: LiveTheater, host: str, port: int, sock: socket.socket) -> None:
    """Run the live demo on ``sock`` until Ctrl-C (or SIGTERM); the store is removed at the end."""
    import uvicorn

    from deconflict import __version__
    from deconflict.api import create_app
    from deconflict.bootstrap import build_broker
    from deconflict.config import theater_policy

    tmp = Path(tempfile.mkdtemp(prefix="deconflict-demo-"))
    try:
        cfg = replace(cfg, db_url=f"sqlite:///{tmp / 'demo.sqlite'}", key_file=str(tmp / "deconflict-broker.key"))
        clock = TheaterClock(theater.speed)
        scenario_start = min([theater.start, *(f.filed_at for f in theater_filings(cfg.limits, theater.doc))])
        clock.hold(scenario_start)
        broker = build_broker(cfg, clock)
        broker.record_start(__version__)
        broker.record_policy(theater_policy(cfg))
        scenario = Scenario(broker, theater, clock, cfg.limits)
        scenario.register()
        scenario.file_before(theater.start, clock.hold)
        clock.hold(theater.start)
        app = create_app(broker, cfg)
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{port}"
        sock.listen(2048)  # a browser opening a link at once waits in the backlog until uvicorn serves
        _print_links(theater, url, scenario.tokens)
        stop = threading.Event()
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
        driver = threading.Thread(target=scenario.run, args=(url, server, stop), name="deconflict-demo", daemon=True)
        driver.start()
        try:
            with contextlib.suppress(KeyboardInterrupt):  # uvicorn raises Ctrl-C again once it has stopped
                server.run(sockets=[sock])
        finally:
            stop.set()
            driver.join(10.0)
        say("demo stopped; its store is removed")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _print_links(theater: LiveTheater, url: str, tokens: dict[str, str]) -> None:
    when = datetime.fromtimestamp(theater.start, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    say(f"deconflict demo: {theater.doc.get('theater', 'the theater')}, live")
    say(f"broker clock from {when}, {theater.speed:g}x real time; a throwaway store")
    say(f"console: {url}/   API docs: {url}/docs")
    say("log in as a party (the token is in the link's #fragment, which the browser never sends):")
    width = max(len(p) for p in tokens)
    for party, token in tokens.items():
        say(f"  {party:<{width}}  {url}/#token={token}")
    say("Ctrl-C stops it.")
