"""`deconflict feed` between two real servers on 127.0.0.1: a BaseStation (SBS-1) TCP server that
writes MSG,4 velocities and MSG,3 positions stamped with the current UTC time, as dump1090 does on
port 30003, and a fake broker that records every `POST /v1/tracks`. Time is real here (a live feed
is about time), so the feeds are kept short."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fake_tracks_broker import FakeBroker, accept_all
from typer.testing import CliRunner, Result

from deconflict import cli
from deconflict.adapters.feeds import FOOT_PER_MIN_MPS, KNOT_MPS
from deconflict.cli.client_feed import FeedRuntime
from deconflict.clients.sender import RETRY_DELAYS_S
from deconflict.domain.units import FOOT_M

runner = CliRunner()

app = cli.app  # the real command line, as a user runs `deconflict feed`


Broker = FakeBroker


@dataclass(frozen=True)
class Aircraft:
    hex_ident: str
    lat: float
    lon: float
    alt_ft: float
    gs_kt: float
    trk_deg: float
    vs_fpm: float


A1 = Aircraft("4CA2D6", 51.5, -1.0, 37000, 450, 90.0, -640)
A2 = Aircraft("3C6444", 51.6, -1.2, 35000, 400, 270.0, 0)


def sbs_line(tx: int, hex_ident: str, t: datetime, **cells: object) -> str:
    """A 22-field BaseStation line generated (and logged) at ``t``, UTC, to the millisecond."""
    day, clock = t.strftime("%Y/%m/%d"), t.strftime("%H:%M:%S.") + f"{t.microsecond // 1000:03d}"
    f = ["MSG", str(tx), "1", "1", hex_ident, "1", day, clock, day, clock] + [""] * 12
    for index, name in ((11, "alt"), (12, "gs"), (13, "trk"), (14, "lat"), (15, "lon"), (16, "vs")):
        if name in cells:
            f[index] = str(cells[name])
    f[21] = "0"
    return ",".join(f) + "\r\n"


@dataclass
class Session:
    """What the SBS server writes to one connection: ``rounds`` of a velocity and a position for
    each aircraft, ``every_s`` apart, then it holds the connection (``drop``: closes it)."""

    aircraft: list[Aircraft]
    rounds: int = 1
    every_s: float = 0.0
    drop: bool = False


@dataclass
class SbsServer:
    """A BaseStation TCP server; connection n is served ``sessions[n]``. ``sent`` holds
    ``(aircraft, time)`` of every position written, as its line gives the time."""

    sessions: list[Session]
    sent: list[tuple[str, datetime]] = field(default_factory=list)
    connections: int = 0
    closing: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        outer = self
        pending: queue.Queue[Session] = queue.Queue()
        for s in self.sessions:
            pending.put(s)

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer.connections += 1
                try:
                    session = pending.get_nowait()
                except queue.Empty:
                    return  # no more sessions: connect and close
                with contextlib.suppress(OSError):  # the feed hung up
                    self.serve(session)

            def serve(self, session: Session) -> None:
                for k in range(session.rounds):
                    if k:
                        time.sleep(session.every_s)
                    t = datetime.now(UTC)
                    lines = []
                    for a in session.aircraft:
                        lines.append(sbs_line(4, a.hex_ident, t, gs=a.gs_kt, trk=a.trk_deg, vs=a.vs_fpm))
                        lines.append(sbs_line(3, a.hex_ident, t, alt=a.alt_ft, lat=a.lat, lon=a.lon))
                        outer.sent.append((a.hex_ident.lower(), t.replace(microsecond=t.microsecond // 1000 * 1000)))
                    self.request.sendall("".join(lines).encode())
                if session.drop:
                    return
                self.request.settimeout(0.05)
                while not outer.closing.is_set():
                    try:
                        if not self.request.recv(1024):
                            return
                    except TimeoutError:
                        continue

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def broker() -> Iterator[Broker]:
    b = FakeBroker(accept_all)
    yield b
    b.close()


@pytest.fixture(autouse=True)
def no_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DECONFLICT_TOKEN", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nothing listens there once closed


def feed(*args: str, runtime: FeedRuntime | None = None) -> tuple[Result, float]:
    """Run ``deconflict feed`` and time it."""
    start = time.monotonic()
    r = runner.invoke(app, ["feed", *args], obj=runtime or FeedRuntime(backoff_s=0.1))
    return r, time.monotonic() - start


def expected_wire(a: Aircraft, t: datetime) -> dict[str, Any]:
    return {
        "aircraft": a.hex_ident.lower(),
        "time": pytest.approx(t.timestamp(), abs=1e-6),
        "lat": a.lat,
        "lon": a.lon,
        "alt_m": pytest.approx(a.alt_ft * FOOT_M, abs=1e-3),
        "alt_ref": "STD",
        "gs_mps": pytest.approx(a.gs_kt * KNOT_MPS),
        "trk_deg": a.trk_deg,
        "vs_mps": pytest.approx(a.vs_fpm * FOOT_PER_MIN_MPS),
    }


# ------------------------------------------------------------------------------------- tests


def test_live_states_arrive_in_si_units_with_their_feed_times(broker: Broker, sbs: Callable[..., SbsServer]) -> None:
    server = sbs(Session([A1, A2], rounds=3, every_s=0.25))
    args = (server.address, "--party", "ru", "--token", "dcf_ru", "--url", broker.url, "--batch-s", "0.2")
    r, elapsed = feed(*args, "--max-seconds", "1", "--json")
    assert r.exit_code == 0, r.output
    assert 1.0 <= elapsed < 2.5  # --max-seconds ends it
    assert broker.received[0].states == []  # the token is checked before the feed is opened
    assert {q.token for q in broker.received} == {"dcf_ru"}
    assert len(broker.batches()) >= 2  # 0.5 s of feed in batches of 0.2 s
    by_aircraft = {"4ca2d6": A1, "3c6444": A2}
    assert broker.states() == [expected_wire(by_aircraft[a], t) for a, t in server.sent]
    assert len(server.sent) == 6
    # stamped as decoded: the time the line gave, which is now
    assert all(abs(s["time"] - time.time()) < 5 for s in broker.states())
    doc = json.loads(r.stdout)
    assert doc["source"] == server.address and doc["party"] == "ru" and doc["error"] is None
    assert (doc["received"], doc["sent"], doc["accepted"], doc["rejected"], doc["dropped"]) == (6, 6, 6, 0, 0)
    assert (doc["aircraft"], doc["connections"], doc["lines"], doc["skipped"]) == (2, 1, 12, 0)
    assert doc["requests"] == len(broker.received) and doc["batches"] == len(broker.batches())


def test_a_dropped_connection_is_reconnected(broker: Broker, sbs: Callable[..., SbsServer]) -> None:
    server = sbs(Session([A1], drop=True), Session([A1, A2]))
    r, elapsed = feed(server.address, "--party", "ru", "--token", "dcf_ru", "--url", broker.url, "--max-seconds", "0.8")
    assert r.exit_code == 0, r.output
    assert server.connections == 2
    assert [s["aircraft"] for s in broker.states()] == ["4ca2d6", "4ca2d6", "3c6444"]
    assert r.stdout.startswith(f"forwarded 3 states of 2 aircraft from {server.address} in ")
    assert "(2 connection(s), " in r.stdout
    assert r.stdout.rstrip().endswith("as party ru: sent 3, accepted 3, rejected 0")
    assert elapsed < 2.5


def test_max_seconds_ends_a_feed_that_cannot_connect(broker: Broker) -> None:
    source = f"tcp://127.0.0.1:{closed_port()}"
    r, elapsed = feed(
        source, "--party", "ru", "--token", "dcf_ru", "--url", broker.url, "--max-seconds", "0.5", "--json"
    )
    assert r.exit_code == 0, r.output
    assert elapsed < 2.0
    doc = json.loads(r.stdout)
    assert (doc["received"], doc["connections"], doc["batches"], doc["requests"]) == (0, 0, 0, 1)


def test_a_broker_down_mid_feed_costs_batches_not_the_feed(broker: Broker, sbs: Callable[..., SbsServer]) -> None:
    failures = iter(range(len(RETRY_DELAYS_S) + 1))

    def down_then_up(token: str, states: list[dict[str, Any]]) -> tuple[int, Any]:
        if states and next(failures, None) is not None:
            return 503, {"error": "unavailable", "message": "restarting"}
        return accept_all(token, states)

    broker.respond = down_then_up
    server = sbs(Session([A1, A2], rounds=2, every_s=0.5))
    sleeps: list[float] = []
    r, _ = feed(
        *(server.address, "--party", "ru", "--token", "dcf_ru", "--url", broker.url),
        *("--batch-s", "0.25", "--max-seconds", "1", "--json"),
        runtime=FeedRuntime(sleep=sleeps.append, backoff_s=0.1),
    )
    assert r.exit_code == 0, r.output
    assert sleeps == list(RETRY_DELAYS_S)
    assert "batch dropped: the broker at " in r.stderr and "answered HTTP 503: restarting" in r.stderr
    doc = json.loads(r.stdout)
    assert (doc["received"], doc["dropped"], doc["sent"], doc["accepted"]) == (4, 2, 2, 2)


def test_a_token_refused_mid_feed_ends_it_with_exit_2(broker: Broker, sbs: Callable[..., SbsServer]) -> None:
    broker.respond = lambda token, states: (401, {"message": "revoked token"}) if states else accept_all(token, states)
    server = sbs(Session([A1]))
    r, elapsed = feed(
        *(server.address, "--party", "ru", "--token", "dcf_ru", "--url", broker.url),
        "--batch-s",
        "0.2",
        "--max-seconds",
        "5",
    )
    assert r.exit_code == 2
    assert elapsed < 2.5  # ended at the first batch, not after --max-seconds
    assert "party ru: the broker refused the token (401: revoked token)" in r.stderr
    assert r.stdout.startswith("forwarded 1 states of 1 aircraft")


def test_a_refused_token_at_the_start_exits_2_before_connecting(broker: Broker, sbs: Callable[..., SbsServer]) -> None:
    broker.respond = lambda token, states: (401, {"error": "unauthorized", "message": "unknown token"})
    server = sbs(Session([A1]))
    r, _ = feed(server.address, "--party", "ru", "--token", "wrong", "--url", broker.url)
    assert r.exit_code == 2
    assert "party ru: the broker refused the token (401: unknown token)" in r.stderr
    assert server.connections == 0 and broker.asked == ["wrong"] and broker.received == []


def test_a_token_of_another_party_is_refused_before_connecting(broker: Broker, sbs: Callable[..., SbsServer]) -> None:
    server = sbs(Session([A1]))
    r, _ = feed(server.address, "--party", "us", "--token", "dcf_ru", "--url", broker.url, "--max-seconds", "5")
    assert r.exit_code == 2, r.output
    (line,) = r.stderr.strip().splitlines()
    assert "--party us: the token given for us is ru's" in line
    assert server.connections == 0 and broker.received == []


def test_a_real_broker_refuses_a_feed_with_another_party_s_token(api: Any, sbs: Callable[..., SbsServer]) -> None:
    server = sbs(Session([A1]))
    ru = api.tokens["ru-vks"]
    r, _ = feed(server.address, "--party", "us-af", "--token", ru, "--url", api.url, "--max-seconds", "5")
    assert r.exit_code == 2, r.output
    assert "--party us-af: the token given for us-af is ru-vks's" in r.stderr
    assert server.connections == 0


def test_an_unreachable_broker_at_the_start_exits_2_after_retries(sbs: Callable[..., SbsServer]) -> None:
    server = sbs(Session([A1]))
    url = f"http://127.0.0.1:{closed_port()}"
    sleeps: list[float] = []
    r, _ = feed(
        server.address, "--party", "ru", "--token", "dcf_ru", "--url", url, runtime=FeedRuntime(sleep=sleeps.append)
    )
    assert r.exit_code == 2
    assert f"cannot reach the broker at {url}" in r.stderr and "gave up after 4 attempts" in r.stderr
    assert sleeps == list(RETRY_DELAYS_S) and server.connections == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["radar:port", "--party", "ru", "--token", "dcf_ru"], "'radar:port': port 'port' is not 1 to 65535"),
        (["radar:1", "--party", "ru"], "no token for party ru: give --token ru=TOKEN (or set DECONFLICT_TOKEN)"),
        (["radar:1", "--party", "ru", "--token", "dcf_ru", "--batch-s", "0"], "option --batch-s: must be a positive"),
        (["radar:1", "--party", "ru", "--token", "dcf_ru", "--max-seconds", "-1"], "option --max-seconds: must be a"),
        (
            ["radar:1", "--party", "ru", "--token", "dcf_ru", "--url", "ftp://x"],
            "option --url: 'ftp://x' is not an http",
        ),
        (["radar:1", "--token", "dcf_ru"], "Missing option '--party'"),
    ],
)
def test_bad_options_exit_2(args: list[str], message: str) -> None:
    r, _ = feed(*args, "--url", "http://127.0.0.1:9") if "--url" not in args else feed(*args)
    assert r.exit_code == 2, r.output
    assert message in r.output


def test_ctrl_c_stops_the_feed_and_prints_the_summary(broker: Broker, sbs: Callable[..., SbsServer]) -> None:
    """Ctrl-C lands while the batch's request is under way (the broker holds its answer until the
    signal is sent): the request finishes and its answer is counted, not abandoned."""
    server = sbs(Session([A1, A2]))
    signalled = threading.Event()

    def answer_after_the_signal(token: str, states: list[dict[str, Any]]) -> tuple[int, Any]:
        if states:
            signalled.wait(8)
        return accept_all(token, states)

    broker.respond = answer_after_the_signal
    env = {k: v for k, v in os.environ.items() if k != "DECONFLICT_TOKEN"}
    code = "import typer; from deconflict.cli.client_feed import feed; typer.run(feed)"
    args = [server.address, "--party", "ru", "--token", "dcf_ru", "--url", broker.url, "--batch-s", "0.1", "--json"]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        deadline = time.monotonic() + 8
        while not broker.states() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert broker.states(), "no states forwarded"
        proc.send_signal(signal.SIGINT)
        time.sleep(0.2)  # the signal reaches the feed while it waits for the answer
        signalled.set()
        out, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    doc = json.loads(out)
    assert (doc["received"], doc["accepted"], doc["connections"], doc["error"]) == (2, 2, 1, None)
