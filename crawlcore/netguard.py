"""The guard against crawling private networks.

A hosted crawler must not be a way into its own network: by default only public addresses
may be fetched. An allowlist of networks (CIDRs) and host names opens specific ones.

    >>> guard = NetGuard.parse("10.1.0.0/16, intranet.example.com")
    >>> guard.refusal("127.0.0.1", ["127.0.0.1"])
    'private network address 127.0.0.1'
    >>> guard.refusal("example.com", ["93.184.216.34"]) is None
    True
    >>> guard.refusal("db.internal", ["10.1.2.3"]) is None  # allowlisted network
    True
    >>> guard.refusal("intranet.example.com", ["192.168.0.9"]) is None  # allowlisted name
    True
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import InvalidParameter

__all__ = ["NetGuard", "ip_literal"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def ip_literal(host: str) -> str | None:
    """The address if `host` is an IP literal (IPv6 with or without brackets), else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


@dataclass(frozen=True)
class NetGuard:
    networks: tuple[Network, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, allowlist: str) -> NetGuard:
        """From a comma-separated list of CIDRs and host names (the deployment setting)."""
        networks: list[Network] = []
        hosts: set[str] = set()
        for raw in allowlist.split(","):
            item = raw.strip().lower()
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                if "/" in item or " " in item:
                    raise InvalidParameter("CRAWLFLEET_ALLOW_NETWORKS", f"{raw.strip()!r} is not a network") from None
                hosts.add(item.rstrip("."))
        return cls(tuple(networks), frozenset(hosts))

    def _allowed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        if any(ip in net for net in self.networks):
            return True
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            return self._allowed(str(ip.ipv4_mapped))
        return ip.is_global

    def refusal(self, host: str, addresses: Iterable[str]) -> str | None:
        """Why fetching `host` (which resolves to `addresses`) is refused, or None when allowed.

        Every address must be allowed: a name resolving to one public and one private address
        could be pointed at either."""
        if host.lower().rstrip(".") in self.hosts:
            return None
        for address in addresses:
            if not self._allowed(address):
                return f"private network address {address}"
        return None
