"""Which addresses a party's webhook may point at: public ones only, so that no party can make the
broker post into the broker's own network (loopback, private ranges, cloud metadata).

An IPv6 address can carry an IPv4 address inside it, and a stack or a NAT64 gateway on the way may
deliver to that IPv4 address: the IPv4-mapped (``::ffff:a.b.c.d``), the deprecated IPv4-compatible
(``::a.b.c.d``), the NAT64 well-known prefix (``64:ff9b::/96``, RFC 6052) and 6to4 (``2002::/16``,
RFC 3056) forms are judged by the IPv4 address they carry. Prefixes whose IPv4 part cannot be read
without knowing the local network (the NAT64 local-use prefix ``64:ff9b:1::/48``, RFC 8215; Teredo
``2001::/32``) and the deprecated site-local ``fec0::/10`` are refused outright, as are multicast
addresses.

>>> import ipaddress
>>> refusal(ipaddress.ip_address("64:ff9b::7f00:1"))
'64:ff9b::7f00:1 carries the IPv4 address 127.0.0.1, a loopback address'
>>> refusal(ipaddress.ip_address("64:ff9b::808:808")) is None
True
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")
_REFUSED_V6 = {
    ipaddress.IPv6Network("64:ff9b:1::/48"): "a NAT64 local-use address (it maps into a local network)",
    ipaddress.IPv6Network("2001::/32"): "a Teredo address",
    ipaddress.IPv6Network("fec0::/10"): "a site-local address",
}


def embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address ``addr`` carries (mapped, compatible, NAT64 well-known prefix, 6to4), or ``None``.

    ``::`` and ``::1`` are IPv6's own unspecified and loopback addresses, not IPv4-compatible ones.
    """
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr in _NAT64_WELL_KNOWN or (addr in _COMPATIBLE and int(addr) > 1):
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


def refusal(addr: IPAddress) -> str | None:
    """Why ``addr`` is not a public address a webhook may be delivered to, or ``None`` if it is."""
    if isinstance(addr, ipaddress.IPv6Address):
        for network, what in _REFUSED_V6.items():
            if addr in network:
                return f"{addr} is {what}"
        inner = embedded_ipv4(addr)
        if inner is not None:
            why = _v4_refusal(inner)
            return None if why is None else f"{addr} carries the IPv4 address {inner}, {why}"
        if addr.is_loopback:
            return f"{addr} is a loopback address"
        if addr.is_multicast:
            return f"{addr} is a multicast address"
        if not addr.is_global:
            return f"{addr} is a private or reserved address"
        return None
    why = _v4_refusal(addr)
    return None if why is None else f"{addr} is {why}"


def _v4_refusal(addr: ipaddress.IPv4Address) -> str | None:
    if addr.is_loopback:
        return "a loopback address"
    if addr.is_multicast:
        return "a multicast address"
    if not addr.is_global:
        return "a private or reserved address"
    return None
