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

__all__ = ["NetGuard", "embedded_ipv4", "ip_literal", "is_refused_range"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# The IANA special-purpose address registries (IPv4 and IPv6), entries not globally reachable,
# plus multicast. An explicit table: Python's `is_global` differs across versions.
REFUSED_RANGES: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in (
    # IPv4
    "0.0.0.0/8",  # "this network"
    "10.0.0.0/8",  # private use
    "100.64.0.0/10",  # shared address space (carrier-grade NAT)
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link local (cloud metadata services)
    "172.16.0.0/12",  # private use
    "192.0.0.0/24",  # IETF protocol assignments (but see GLOBAL_EXCEPTIONS)
    "192.0.2.0/24",  # documentation (TEST-NET-1)
    "192.88.99.0/24",  # deprecated 6to4 relay anycast
    "192.168.0.0/16",  # private use
    "198.18.0.0/15",  # benchmarking
    "198.51.100.0/24",  # documentation (TEST-NET-2)
    "203.0.113.0/24",  # documentation (TEST-NET-3)
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, and 255.255.255.255 (limited broadcast)
    # IPv6 (the forms carrying an IPv4 address are judged by that address: embedded_ipv4)
    "::/128",  # unspecified
    "::1/128",  # loopback
    "64:ff9b:1::/48",  # local-use IPv4/IPv6 translation
    "100::/64",  # discard-only
    "2001::/23",  # IETF protocol assignments (but see GLOBAL_EXCEPTIONS)
    "2001:db8::/32",  # documentation
    "3fff::/20",  # documentation
    "5f00::/16",  # segment routing (SRv6) SIDs
    "fc00::/7",  # unique local
    "fe80::/10",  # link local
    "fec0::/10",  # deprecated site local
    "ff00::/8",  # multicast
))

# Globally reachable entries of the registries inside the refused ranges above.
GLOBAL_EXCEPTIONS: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in (
    "192.0.0.9/32",  # port control protocol anycast
    "192.0.0.10/32",  # traversal using relays around NAT anycast
    "2001:1::1/128",  # port control protocol anycast
    "2001:1::2/128",  # traversal using relays around NAT anycast
    "2001:1::3/128",  # DNS-SD service registration protocol anycast
    "2001:3::/32",  # AMT
    "2001:4:112::/48",  # AS112-v6
    "2001:20::/28",  # ORCHIDv2
    "2001:30::/28",  # drone remote ID protocol entity tags
))

# Host names and addresses a worker resolves at start-up to check its resolver refuses them
# (the first one this deployment's guard refuses; "localhost" is taken to be 127.0.0.1).
PROBES: tuple[tuple[str, str], ...] = (
    ("localhost", "127.0.0.1"), ("169.254.169.254", "169.254.169.254"), ("10.0.0.1", "10.0.0.1"),
    ("192.168.0.1", "192.168.0.1"), ("172.16.0.1", "172.16.0.1"), ("100.64.0.1", "100.64.0.1"),
    ("0.0.0.0", "0.0.0.0"),
)

_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated IPv4-compatible IPv6 addresses
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known IPv4/IPv6 translation prefix


def ip_literal(host: str) -> str | None:
    """The address if `host` is an IP literal (IPv6 with or without brackets), else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def embedded_ipv4(ip: Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address carries (IPv4-mapped, IPv4-compatible, NAT64, 6to4,
    Teredo server and client), which is where a packet to it ends up; () when it carries none.

        >>> embedded_ipv4(ipaddress.ip_address("64:ff9b::a00:1"))
        (IPv4Address('10.0.0.1'),)
        >>> embedded_ipv4(ipaddress.ip_address("2606:4700::1111"))
        ()
    """
    if not isinstance(ip, ipaddress.IPv6Address):
        return ()
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip.teredo is not None:
        return ip.teredo
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF),)
    return ()


def is_refused_range(ip: Address) -> bool:
    """Whether `ip` is in a special-purpose range that is not globally reachable (no allowlist).

        >>> is_refused_range(ipaddress.ip_address("192.0.0.9")), is_refused_range(ipaddress.ip_address("192.0.0.8"))
        (False, True)
    """
    if any(ip in net for net in GLOBAL_EXCEPTIONS):
        return False
    return any(ip in net for net in REFUSED_RANGES)


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

    def _allowed(self, ip: Address) -> bool:
        if any(ip in net for net in self.networks):
            return True
        carried = embedded_ipv4(ip)
        if carried:
            return all(self._allowed(v4) for v4 in carried)
        return not is_refused_range(ip)

    def probes(self) -> list[str]:
        """Hosts (names or addresses) this guard refuses, to check a resolver with; empty when the
        allowlist opens every probe.

            >>> NetGuard().probes()[:2], NetGuard.parse("127.0.0.0/8").probes()[0], NetGuard.parse("0.0.0.0/0").probes()
            (['localhost', '169.254.169.254'], '169.254.169.254', [])
        """
        return [host for host, address in PROBES if self.refusal(host, [address]) is not None]

    def refusal(self, host: str, addresses: Iterable[str]) -> str | None:
        """Why fetching `host` (which resolves to `addresses`) is refused, or None when allowed.

        Every address must be allowed: a name resolving to one public and one private address
        could be pointed at either."""
        if host.lower().rstrip(".") in self.hosts:
            return None
        for address in addresses:
            if not self._allowed(ipaddress.ip_address(address)):
                return f"private network address {address}"
        return None
