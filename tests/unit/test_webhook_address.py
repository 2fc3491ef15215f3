"""Which webhook addresses count as public: every IPv6 form that carries an IPv4 address is judged
by that IPv4 address (issue 11, item 10: ``[::127.0.0.1]`` and NAT64 ``[64:ff9b::7f00:1]`` were
accepted as public)."""

from __future__ import annotations

import ipaddress

import pytest

from deconflict.api.events import check_public_url
from deconflict.api.webhook_address import embedded_ipv4, refusal
from deconflict.domain.errors import ValidationError

NOT_PUBLIC = [
    "127.0.0.1",
    "10.1.2.3",
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "169.254.169.254",  # cloud metadata
    "0.0.0.0",
    "224.0.0.1",  # multicast
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fec0::1",  # site-local (deprecated, still routed by some stacks)
    "ff02::1",  # multicast
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::127.0.0.1",  # IPv4-compatible (deprecated)
    "::10.0.0.1",
    "64:ff9b::7f00:1",  # NAT64 well-known prefix → 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # → 169.254.169.254
    "64:ff9b:1::7f00:1",  # NAT64 local-use prefix: maps into the local network
    "2002:7f00:1::",  # 6to4 → 127.0.0.1
    "2002:a00:1::1",  # 6to4 → 10.0.0.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo
    "2001:db8::1",  # documentation
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"]


@pytest.mark.parametrize("text", NOT_PUBLIC)
def test_non_public_addresses_are_refused_with_a_reason(text: str) -> None:
    reason = refusal(ipaddress.ip_address(text))
    assert reason is not None and reason.strip()


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_pass(text: str) -> None:
    assert refusal(ipaddress.ip_address(text)) is None


def test_the_embedded_ipv4_address_is_named() -> None:
    assert embedded_ipv4(ipaddress.IPv6Address("64:ff9b::7f00:1")) == ipaddress.IPv4Address("127.0.0.1")
    assert embedded_ipv4(ipaddress.IPv6Address("::127.0.0.1")) == ipaddress.IPv4Address("127.0.0.1")
    assert embedded_ipv4(ipaddress.IPv6Address("2002:a00:1::1")) == ipaddress.IPv4Address("10.0.0.1")
    assert embedded_ipv4(ipaddress.IPv6Address("2001:4860:4860::8888")) is None
    reason = refusal(ipaddress.ip_address("64:ff9b::7f00:1"))
    assert reason is not None and "127.0.0.1" in reason


@pytest.mark.parametrize("host", ["[::127.0.0.1]", "[64:ff9b::7f00:1]", "[::ffff:7f00:1]", "[2002:7f00:1::]", "127.1"])
def test_check_public_url_refuses_ipv4_in_disguise(host: str) -> None:
    with pytest.raises(ValidationError) as err:
        check_public_url(f"https://{host}/hook")
    assert [e.path for e in err.value.errors] == ["url"]
    assert "webhooks_to_private" in str(err.value)


def test_check_public_url_passes_a_public_literal() -> None:
    check_public_url("https://[2001:4860:4860::8888]/hook")
    check_public_url("https://8.8.8.8/hook")
