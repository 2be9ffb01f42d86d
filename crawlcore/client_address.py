"""The address a request comes from, trusting forwarding headers only from trusted proxies.

A client can put anything in `X-Forwarded-For`; only a proxy we run appends the truth. So
the headers count only when the socket peer is a trusted proxy, and then the address is
the right-most one in `X-Forwarded-For` that is not itself a trusted proxy.

    >>> proxies = parse_proxies("10.0.0.0/8, 127.0.0.1")
    >>> client_address("127.0.0.1", {"x-forwarded-for": "6.6.6.6, 203.0.113.9"}, proxies)
    '203.0.113.9'
    >>> client_address("198.51.100.7", {"x-forwarded-for": "203.0.113.9"}, proxies)
    '198.51.100.7'
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from .errors import InvalidParameter

__all__ = ["FORWARDING_HEADERS", "Network", "client_address", "parse_proxies"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Consulted in this order when the peer is a trusted proxy (all lower-case).
FORWARDING_HEADERS = ("cf-connecting-ip", "x-forwarded-for", "x-real-ip")


def parse_proxies(raw: str) -> tuple[Network, ...]:
    """Comma- or space-separated addresses and CIDR networks."""
    nets: list[Network] = []
    for part in raw.replace(",", " ").split():
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise InvalidParameter("trusted proxies", f"{part!r} is not an IP address or network") from None
    return tuple(nets)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Sequence[Network]) -> bool:
    return any(addr.version == net.version and addr in net for net in proxies)


def client_address(peer: str, headers: Mapping[str, str], proxies: Sequence[Network]) -> str:
    """The client's address: `peer` itself unless `peer` is a trusted proxy."""
    peer_ip = _ip(peer)
    if peer_ip is None or not _trusted(peer_ip, proxies):
        return peer
    for name in FORWARDING_HEADERS:
        value = headers.get(name)
        if not value:
            continue
        hops = [_ip(p) for p in value.split(",")]
        for hop in reversed(hops):
            if hop is None:
                break  # garbage: do not look further left than what a proxy wrote
            if not _trusted(hop, proxies):
                return str(hop)
        if hops and hops[0] is not None:
            return str(hops[0])  # every hop is a proxy of ours: the left-most is the origin
    return peer
