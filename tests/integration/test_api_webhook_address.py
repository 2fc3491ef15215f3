"""A webhook URL whose host is an IPv6 form of a loopback or private IPv4 address is refused over
HTTP on both stores, and nothing is stored (issue 11, item 10)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from api_support import broker_config, start_api


@pytest.mark.parametrize("host", ["[::127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:a9fe:a9fe::]"])
def test_ipv6_disguised_private_hosts_are_refused_and_nothing_is_stored(db_url: str, host: str) -> None:
    config = broker_config()
    api = start_api(db_url, replace(config, server=replace(config.server, webhooks_to_private=False)))
    try:
        seq = api.broker.last_seq()
        r = api.as_("ru-vks").put("/v1/webhook", json={"url": f"https://{host}/hook", "secret": "s" * 20})
        assert r.status_code == 422, r.text
        [error] = r.json()["detail"]
        assert error["field"] == "url" and "webhooks_to_private" in error["reason"]
        assert api.broker.last_seq() == seq  # no webhook.set logged
        assert api.as_("ru-vks").delete("/v1/webhook").status_code == 404  # none stored
    finally:
        api.close()
