"""The broker after its PostgreSQL connections died (a restart, a failover: docs/deploy.md, "The
Patroni cluster"): the first request once the store answers again is served, not answered 503 by a
pooled connection that died meanwhile; no restart of the broker is needed. A real outage: the
store behind a TCP proxy that drops every connection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from api_support import Api, circle_notice, free_port, start_api
from tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres


@pytest.fixture
def behind_proxy(pg_url: str, tmp_path: Path) -> Iterator[tuple[Api, TcpProxy]]:
    url = sa.make_url(pg_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432), free_port())
    api = start_api(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    try:
        yield api, proxy
    finally:
        api.close()
        proxy.cut()


def test_the_first_filing_after_the_store_came_back_is_served(behind_proxy: tuple[Api, TcpProxy]) -> None:
    api, proxy = behind_proxy
    vks = api.as_("ru-vks")
    for i in range(3):  # the pool holds connections now
        assert vks.post("/v1/notices", json=circle_notice(id=f"vks-{i}")).status_code == 201
    proxy.cut()  # every pooled connection dies
    proxy.restore()
    for i in range(3, 6):
        r = vks.post("/v1/notices", json=circle_notice(id=f"vks-{i}"))
        assert r.status_code == 201, r.text
    assert [n["id"] for n in vks.get("/v1/notices?start=1970-01-01T00:00:00Z").json()] == [
        f"ru-vks:vks-{i}" for i in range(6)
    ]


def test_a_store_that_refuses_writes_is_answered_503_and_nothing_is_filed(behind_proxy: tuple[Api, TcpProxy]) -> None:
    # What a connection to a node that is no longer the primary meets (a standby, or a demoted
    # primary reached without target_session_attrs=read-write): the client is told to try again,
    # as for a store that does not answer, rather than given a 500.
    api, _ = behind_proxy
    vks = api.as_("ru-vks")
    assert vks.post("/v1/notices", json=circle_notice(id="vks-0")).status_code == 201

    def read_only(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("SET default_transaction_read_only = on")
        dbapi_connection.commit()

    sa.event.listen(api.store.engine, "connect", read_only)
    api.store.engine.dispose()
    r = vks.post("/v1/notices", json=circle_notice(id="vks-1"))
    assert r.status_code == 503 and r.json()["error"] == "unavailable", r.text
    assert r.headers["retry-after"].isdigit()
    sa.event.remove(api.store.engine, "connect", read_only)
    api.store.engine.dispose()
    assert [n["id"] for n in vks.get("/v1/notices?start=1970-01-01T00:00:00Z").json()] == ["ru-vks:vks-0"]
    assert vks.post("/v1/notices", json=circle_notice(id="vks-1")).status_code == 201
