"""Replicas of one broker as an operator runs them: ``deconflict serve`` processes on free loopback
ports, all on one PostgreSQL schema, with one key file, and clients that read their streams and
receive their webhooks. Every wait is for what is expected, with a generous deadline."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import processes
from api_support import circle_notice, free_port, parse_sse
from processes import EXE as EXE  # the tests that run other commands take it from here
from processes import answers_ready, serve_env, start_serve, wait_serving

from deconflict.adapters.sql.store import SqlStore
from deconflict.domain.audit import BrokerKey
from deconflict.domain.parties import Role
from deconflict.domain.times import format_time
from deconflict.services.broker import Broker

START_TIMEOUT_S = 90.0
"""Generous: a loaded 2-core CI machine takes seconds to import the broker, three times over."""
WAIT_S = 30.0
"""The longest any test waits for something that should take well under a second."""

CONFIG = """\
[server]
events_poll_s = 60          # the streams' fallback poll, as long as allowed: only NOTIFY is quick
webhook_interval_s = 60     # the same for the webhook deliverer
webhooks_to_private = true  # the test's receiver listens on loopback
[tactical]
cycle_s = 0.2
"""


def wait_for(what: str, check: Callable[[], Any], timeout_s: float = WAIT_S, every_s: float = 0.02) -> Any:
    """``check()``'s first truthy answer, looked for every ``every_s`` until ``timeout_s``."""
    return processes.wait_for(what, check, timeout_s, every_s)


@dataclass
class Replica:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def leads(self) -> bool | None:
        """Whether it says it leads (``None``: it does not answer)."""
        try:
            r = httpx.get(f"{self.url}/leaderz", timeout=5)
        except httpx.TransportError:
            return None
        assert r.status_code in (200, 503), r.text
        return r.status_code == 200

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to the database."""
        processes.kill(self.proc, START_TIMEOUT_S)

    def stop(self) -> None:
        processes.stop(self.proc, START_TIMEOUT_S)


def write_config(workdir: Path) -> Path:
    """The replicas' theater configuration in ``workdir`` (written once, before any starts)."""
    config = workdir / "theater.toml"
    if not config.exists():
        config.write_text(CONFIG)
    return config


def start_replica(db_url: str, workdir: Path) -> Replica:
    """``deconflict serve`` on a free port in ``workdir`` (its key file and configuration), ready."""
    config = write_config(workdir)
    port = free_port()
    log = workdir / f"serve-{port}.log"
    args = ["--port", str(port), "--db", db_url, "--config", str(config)]
    replica = Replica(start_serve(args, workdir, serve_env(), log), port, log)
    wait_serving(replica.proc, lambda: answers_ready(replica.url), log, START_TIMEOUT_S, 0.1)
    return replica


def add_parties(db_url: str, names: list[tuple[str, Role]]) -> dict[str, str]:
    """Tokens for ``names``, registered in the shared store (as ``deconflict party add`` does)."""
    with SqlStore(db_url) as store:
        broker = Broker(store, time.time, BrokerKey.generate())
        return {name: broker.add_party(name, role)[1] for name, role in names}


def notice_now(lat: float, lon: float, id: str) -> dict[str, Any]:
    """A notice an hour from now (the replicas run on the real clock)."""
    now = time.time()
    body: dict[str, Any] = circle_notice(
        lat, lon, start=format_time(now + 3600), end=format_time(now + 3 * 3600), id=id
    )
    return body


@dataclass
class Stream:
    """``GET /v1/events`` read on a thread: each event with the monotonic time it arrived."""

    url: str
    token: str
    events: queue.Queue[tuple[float, dict[str, Any]]] = field(default_factory=queue.Queue)
    caught_up: threading.Event = field(default_factory=threading.Event)
    closing: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        assert self.caught_up.wait(WAIT_S), "the stream did not catch up"

    def _read(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with (
            httpx.Client(base_url=self.url, timeout=httpx.Timeout(10, read=None)) as c,
            c.stream("GET", "/v1/events", headers=headers) as r,
        ):
            assert r.status_code == 200

            def lines() -> Iterator[str]:
                for line in r.iter_lines():
                    if line == ": caught up":
                        self.caught_up.set()
                    if self.closing.is_set():
                        return
                    yield line

            for event in parse_sse(lines()):
                self.events.put((time.monotonic(), event))

    def next_of(self, type_: str, timeout_s: float = WAIT_S) -> tuple[float, dict[str, Any]]:
        """The next event of ``type_`` (others are passed over) and when it arrived."""
        deadline = time.monotonic() + timeout_s
        while True:
            at, event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if event["event"] == type_:
                return at, event


class Receiver:
    """A webhook receiver on loopback that answers 200 and keeps what it was sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
