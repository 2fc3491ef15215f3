"""A real broker behind a real HTTP server (uvicorn on a free port), for the API tests.

Every test gets its own store (SQLite file or PostgreSQL schema, from the ``db_url`` fixture), its
own signing key, a clock the test sets, and tokens for a cast of parties:

==========  =========  ===========  ==================================================
name        role       coalition    relation
==========  =========  ===========  ==================================================
us-af       party      coalition    sees uk-raf in full (same coalition)
uk-raf      party      coalition
ru-vks      party      —            default (conflicts-only) with everyone
tr-af       party      —            ``existence`` both ways with ru-vks (config pair)
sy-gcaa     authority  —            files protected sites
un-obs      observer   —            granted ``conflicts-only`` on ru-vks
root        admin      —
==========  =========  ===========  ==================================================
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import uvicorn
from processes import free_port as free_port  # one for the tests and the drills

from builders import circle_volume
from clocks import SetClock
from deconflict.adapters.sql.store import SqlStore
from deconflict.api import create_app
from deconflict.config import Config, ServerSettings
from deconflict.domain.audit import BrokerKey
from deconflict.domain.disclosure_policy import DisclosurePolicy, Level
from deconflict.domain.parties import Role
from deconflict.services.broker import Broker
from deconflict.services.hotline import Hotline
from deconflict.services.rate_settings import RateLimits
from deconflict.services.tactical import TacticalService

T0 = 1_443_571_200.0
"""2015-09-30T00:00:00Z: the broker's time when a test starts."""

CAST: list[tuple[str, Role, str | None]] = [
    ("us-af", Role.PARTY, "coalition"),
    ("uk-raf", Role.PARTY, "coalition"),
    ("ru-vks", Role.PARTY, None),
    ("tr-af", Role.PARTY, None),
    ("sy-gcaa", Role.AUTHORITY, None),
    ("un-obs", Role.OBSERVER, None),
    ("root", Role.ADMIN, None),
]


class Server:
    """uvicorn serving ``app`` on a thread; ``stop()`` shuts it down."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", timeout_graceful_shutdown=1, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def policy() -> DisclosurePolicy:
    return (
        DisclosurePolicy()
        .with_pair("ru-vks", "tr-af", Level.EXISTENCE)
        .with_grant("un-obs", "ru-vks", Level.CONFLICTS_ONLY)
    )


def broker_config(**tactical: Any) -> Config:
    """The configuration ``start_api`` uses by default, with ``tactical`` settings replaced."""
    config = Config(
        disclosure=policy(),
        server=ServerSettings(events_poll_s=0.1, webhooks_to_private=True),
        # tests export and report many times over, and send many bad tokens from one address;
        # the limits themselves: test_api_limits.py
        rate_limits=RateLimits(heavy_per_minute=6000, heavy_burst=1000, refused_burst=1_000_000),
    )
    return replace(config, tactical=replace(config.tactical, **tactical)) if tactical else config


@dataclass
class Api:
    """The running broker and a client per party."""

    broker: Broker
    store: SqlStore
    server: Server
    clock: SetClock
    tokens: dict[str, str]
    tactical: TacticalService
    hotline: Hotline
    """Escalation is the test's to drive: ``api.hotline.tick()`` after moving ``api.clock``."""
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def as_(self, name: str) -> httpx.Client:
        """A client that calls as ``name`` (``"nobody"``: no token)."""
        if name not in self.clients:
            headers = {"Authorization": f"Bearer {self.tokens[name]}"} if name in self.tokens else {}
            self.clients[name] = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        return self.clients[name]

    def events(self, name: str, after: int = 0, idle_s: float = 0.6, **headers: str) -> list[dict[str, Any]]:
        """The SSE events ``name`` receives after ``after``, read until the stream is idle."""
        return read_sse(self.url, self.tokens.get(name), after, idle_s, headers)

    def close(self) -> None:
        for c in self.clients.values():
            c.close()
        self.server.stop()
        self.store.close()


def read_sse(
    url: str, token: str | None, after: int | None, idle_s: float = 0.6, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Connect to ``/v1/events`` and collect events until the stream has caught up with the log
    (its ``: caught up`` comment) and then none arrives for ``idle_s``.

    The read timeout that ends the collection also bounds every wait before the stream has caught
    up (the headers, the replay's first page); on a loaded machine those can take longer than
    ``idle_s``, so a stream that falls silent before it has caught up is read again from the last
    event received, waiting longer (the stream replays from there: nothing is lost or repeated).
    """
    h = {"Authorization": f"Bearer {token}"} if token else {}
    h.update(headers or {})
    out: list[dict[str, Any]] = []
    caught_up = False

    def lines(source: Iterator[str]) -> Iterator[str]:
        nonlocal caught_up
        for line in source:
            caught_up = caught_up or line == ": caught up"
            yield line

    for attempt in range(4):
        params = {} if after is None else {"after": str(after)}
        try:
            with (
                httpx.Client(base_url=url, timeout=httpx.Timeout(10, read=idle_s * 4**attempt)) as c,
                c.stream("GET", "/v1/events", params=params, headers=h) as r,
            ):
                assert r.status_code == 200, r.read()
                assert r.headers["content-type"].startswith("text/event-stream")
                for event in parse_sse(lines(r.iter_lines())):
                    out.append(event)
                    after = int(event["id"])
            return out  # the server ended the stream
        except httpx.ReadTimeout:
            if caught_up:  # idle after the replay: the collection is complete
                return out
            continue  # silent before it caught up: read on from the last event, waiting longer
    raise AssertionError(f"/v1/events did not catch up within {idle_s * 4**3:g} s")


def parse_sse(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """SSE lines → ``{"id", "event", "data"}`` dicts (``data`` decoded from JSON)."""
    cur: dict[str, Any] = {}
    for line in lines:
        if not line:
            if "data" in cur:
                cur["data"] = json.loads(cur["data"])
                yield cur
            cur = {}
        elif line.startswith(":"):
            continue
        else:
            key, _, value = line.partition(":")
            cur[key] = value.removeprefix(" ")


def start_api(db_url: str, config: Config | None = None, webhooks: bool = False, tactical_cycles: bool = False) -> Api:
    """A broker on ``db_url`` behind a real server; webhook deliveries and tactical cycles are
    left to the test (``api.tactical.cycle()``) unless asked for."""
    clock = SetClock(T0)
    store = SqlStore(db_url, clock=clock)
    store.ensure_schema()
    config = config or broker_config()
    broker = Broker(
        store,
        clock,
        BrokerKey.generate(),
        settings=config.settings,
        disclosure=config.disclosure,
        limits=config.limits,
        hotline=config.hotline,
    )
    tokens = {name: broker.add_party(name, role, coalition)[1] for name, role, coalition in CAST}
    app = create_app(
        broker, config, webhooks=webhooks, tactical_cycles=tactical_cycles, hotline_ticks=False, expire_notices=False
    )
    server = Server(app)
    return Api(broker, store, server, clock, tokens, app.state.tactical, app.state.hotline)


def circle_notice(
    lat: float = 35.32,
    lon: float = 36.62,
    radius_km: float = 8,
    start: str = "2015-09-30T07:30:00Z",
    end: str = "2015-09-30T10:30:00Z",
    lower_m: float = 3000,
    upper_m: float = 8000,
    id: str | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    """A one-volume notice body (no party: the broker takes the caller's); a document with its
    party is ``builders.circle_notice_of``."""
    volume = circle_volume(lat, lon, radius_km, start, end, lower_m, upper_m, reference="AMSL", radius_units="KM")
    body: dict[str, Any] = {"volumes": [volume]}
    if id is not None:
        body["id"] = id
    if kind is not None:
        body["kind"] = kind
    return body
