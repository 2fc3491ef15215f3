"""Errors at the edges of the API, on both stores: times at the ends of the calendar, a token of the
wrong key type, a store that does not answer, a client that drops mid-body, and event times as
RFC 3339. Each answer is the one JSON error shape, never a 500 or a traceback."""

from __future__ import annotations

import json
import logging
import socket
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from api_support import T0, Api, Server, broker_config, circle_notice, free_port, start_api
from cryptography.hazmat.primitives.asymmetric import rsa

from clocks import SetClock
from deconflict.adapters.sql.store import SqlStore
from deconflict.api import create_app
from deconflict.config import Config, JwtSettings, ServerSettings
from deconflict.domain.audit import BrokerKey
from deconflict.domain.notice_json import parse_notice
from deconflict.domain.times import format_time
from deconflict.services.broker import Broker


def assert_error(r: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json", r.headers
    body: dict[str, Any] = r.json()
    assert set(body) <= {"error", "message", "detail"} and body["message"], body
    if field is not None:
        assert field in [d["field"] for d in body["detail"]], body
    return body


# --------------------------------------------------------------------------- the ends of the calendar


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"until": "0001-01-01T00:00:00Z"}, "until"),
        ({"since": "0001-01-01T00:00:00Z", "until": "2015-09-29T00:00:00Z"}, "since"),
        ({"since": "9999-12-31T23:59:59Z"}, "since"),
    ],
)
def test_a_report_period_at_the_ends_of_the_calendar_is_refused_naming_the_field(
    api: Api, query: dict[str, str], field: str
) -> None:
    before = api.broker.last_seq()
    assert_error(api.as_("root").get("/v1/reports/compliance", params=query), 422, field)
    assert api.broker.last_seq() == before  # no report recorded


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("0001-01-01T00:00:00Z", "0001-01-01T03:00:00Z", "volumes[0].time_start.value"),
        ("9999-12-31T20:00:00Z", "9999-12-31T23:59:00Z", "volumes[0].time_start.value"),
        ("8999-12-31T23:00:00Z", "9000-01-01T00:00:00Z", "volumes[0].time_end.value"),
        ("1969-12-31T23:00:00Z", "1970-01-01T01:00:00Z", "volumes[0].time_start.value"),
    ],
)
def test_notice_times_outside_the_supported_range_are_refused_naming_the_field(
    api: Api, start: str, end: str, field: str
) -> None:
    before = api.broker.last_seq()
    body = assert_error(api.as_("us-af").post("/v1/notices", json=circle_notice(start=start, end=end)), 422, field)
    assert "1970" in body["message"] and "9000" in body["message"], body
    assert api.broker.last_seq() == before


def test_notices_stored_at_the_end_of_the_calendar_do_not_break_filings_or_reads(api: Api) -> None:
    """Two conflicting notices stored before times were bounded, ending 9999-12-31T23:59Z (filed
    from the broker's host, past the parser): the conflict's window, widened by the separation
    minimum, runs past the last time RFC 3339 can write. The second filing used to fail, and so
    every later one."""
    for party in ("ru-vks", "us-af"):
        parsed = parse_notice({**circle_notice(), "party": party})
        legacy = replace(
            parsed,
            volumes=tuple(replace(v, time_start=253402286400.0, time_end=253402300740.0) for v in parsed.volumes),
        )
        result, _ = api.broker.file_as_operator(legacy)
    assert result.conflicts
    r = api.as_("us-af").get("/v1/conflicts")
    assert r.status_code == 200 and "9999-12-31T23:59:59.999999Z" in r.text, r.text
    for path in ("/v1/notices", "/v1/conflicts", "/v1/audit/export"):
        assert api.as_("root").get(path).status_code == 200, path
    assert api.as_("us-af").post("/v1/notices", json=circle_notice()).status_code == 201


# --------------------------------------------------------------------------- tokens


def test_an_hs256_token_against_an_rsa_key_set_is_refused_with_401(db_url: str, tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig"}]}))
    cfg = Config(
        jwt=JwtSettings(
            issuer="https://idp.test",
            audience="deconflict",
            jwks_file=str(tmp_path / "jwks.json"),
            algorithms=("HS256", "RS256"),
        ),
        server=ServerSettings(events_poll_s=0.1, webhooks_to_private=True),
    )
    api = start_api(db_url, cfg)
    try:
        claims = {"iss": "https://idp.test", "aud": "deconflict", "exp": int(time.time()) + 600, "party": "us-af"}
        forged = jwt.encode(claims, "a shared secret of thirty-two bytes!", algorithm="HS256", headers={"kid": "k1"})
        r = httpx.get(f"{api.url}/v1/me", headers={"Authorization": f"Bearer {forged}"})
        body = assert_error(r, 401)
        assert "HS256" in body["message"], body
        good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
        assert httpx.get(f"{api.url}/v1/me", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    finally:
        api.close()


# --------------------------------------------------------------------------- a store that does not answer


def unreachable_url(db_url: str, tmp_path: Path) -> str:
    """The same kind of store, unreachable: a PostgreSQL port nobody listens on, or an SQLite
    "file" that is a directory (unreadable as a database, whoever runs the test)."""
    if db_url.startswith("sqlite"):
        (tmp_path / "not-a-file").mkdir()
        return f"sqlite:///{tmp_path / 'not-a-file'}"
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test?connect_timeout=5"


def test_a_store_that_does_not_answer_gives_503_in_the_error_shape(db_url: str, tmp_path: Path) -> None:
    clock = SetClock(T0)
    store = SqlStore(unreachable_url(db_url, tmp_path), clock=clock)
    config = broker_config()
    broker = Broker(store, clock, BrokerKey.generate(), settings=config.settings, disclosure=config.disclosure)
    app = create_app(broker, config, webhooks=False, tactical_cycles=False, hotline_ticks=False, expire_notices=False)
    server = Server(app)
    try:
        with httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": "Bearer dcf_x"}) as c:
            for method, path, body in (
                ("GET", "/v1/me", None),
                ("GET", "/v1/notices", None),
                ("POST", "/v1/notices", circle_notice()),
            ):
                r = c.request(method, path, json=body)
                err = assert_error(r, 503)
                assert err["error"] == "unavailable", err
                assert r.headers["retry-after"].isdigit(), r.headers
            assert c.get("/readyz").status_code == 503
    finally:
        server.stop()
        store.close()


# --------------------------------------------------------------------------- a client that drops mid-body


def test_a_client_dropping_mid_body_leaves_no_traceback(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with socket.create_connection(("127.0.0.1", api.server.port), timeout=10) as s:
        s.sendall(
            b"POST /v1/notices HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {api.tokens['us-af']}\r\n".encode()
            + b"Content-Length: 5000\r\n\r\n"
            + b'{"volumes": ['
        )
    deadline = time.monotonic() + 30
    while not any("disconnect" in r.getMessage().lower() or r.exc_info for r in caplog.records):
        assert time.monotonic() < deadline, "the server logged nothing about the dropped client"
        time.sleep(0.05)
    assert "Traceback" not in caplog.text, caplog.text
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    assert api.as_("us-af").get("/v1/notices").status_code == 200  # and the server still serves


# --------------------------------------------------------------------------- times as RFC 3339


def test_message_overdue_gives_its_deadline_as_rfc3339(api: Api) -> None:
    r = api.as_("us-af").post("/v1/messages", json={"to": ["ru-vks"], "subject": "s", "text": "t", "ack_within_s": 900})
    assert r.status_code == 201, r.text
    start = api.broker.last_seq()
    api.clock.t = T0 + 901
    assert api.hotline.tick() == 1
    [event] = [e for e in api.events("us-af", after=start) if e["event"] == "message.overdue"]
    assert event["data"]["data"]["deadline"] == format_time(T0 + 900), event
    export = api.as_("root").get("/v1/audit/export").json()
    [logged] = [e for e in export["events"] if e["type"] == "message.overdue"]
    assert logged["payload"]["deadline"] == format_time(T0 + 900), logged


# --------------------------------------------------------------------------- methods


def test_a_method_a_route_does_not_take_is_405_with_its_allow_header(api: Api) -> None:
    r = api.as_("us-af").delete("/v1/me")
    assert_error(r, 405)
    assert r.headers["allow"] == "GET", r.headers


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("OPTIONS", "/v1/notices", "GET, POST"), ("POST", "/v1/notices/x", "DELETE, GET, PUT"), ("PUT", "/v1/me", "GET")],
)
def test_405_allow_lists_every_method_the_path_takes(api: Api, method: str, path: str, allow: str) -> None:
    """Starlette's router answers with the methods of the first route that matches the path only:
    /v1/notices is two routes (GET and POST), so it said ``Allow: POST`` (found by Schemathesis)."""
    r = api.as_("us-af").request(method, path)
    assert_error(r, 405)
    assert r.headers["allow"] == allow, r.headers
