"""The guard's address ranges: every special-purpose range that is not globally reachable is
refused (its first and last address), its neighbours outside are not, the globally reachable
exceptions inside are not, IPv6 forms carrying an IPv4 address are judged by that address,
and the allowlist opens networks and names."""

from __future__ import annotations

import ipaddress

import pytest

from crawlcore.errors import InvalidParameter
from crawlcore.netguard import NetGuard

REFUSED = [  # (range, first address, last address)
    ("0.0.0.0/8", "0.0.0.0", "0.255.255.255"),
    ("10.0.0.0/8", "10.0.0.0", "10.255.255.255"),
    ("100.64.0.0/10", "100.64.0.0", "100.127.255.255"),
    ("127.0.0.0/8", "127.0.0.0", "127.255.255.255"),
    ("169.254.0.0/16", "169.254.0.0", "169.254.255.255"),
    ("172.16.0.0/12", "172.16.0.0", "172.31.255.255"),
    ("192.0.0.0/24", "192.0.0.0", "192.0.0.255"),
    ("192.0.2.0/24", "192.0.2.0", "192.0.2.255"),
    ("192.88.99.0/24", "192.88.99.0", "192.88.99.255"),
    ("192.168.0.0/16", "192.168.0.0", "192.168.255.255"),
    ("198.18.0.0/15", "198.18.0.0", "198.19.255.255"),
    ("198.51.100.0/24", "198.51.100.0", "198.51.100.255"),
    ("203.0.113.0/24", "203.0.113.0", "203.0.113.255"),
    ("224.0.0.0/4", "224.0.0.0", "239.255.255.255"),
    ("240.0.0.0/4", "240.0.0.0", "255.255.255.255"),
    ("::/128", "::", "::"),
    ("::1/128", "::1", "::1"),
    ("64:ff9b:1::/48", "64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff"),
    ("100::/64", "100::", "100::ffff:ffff:ffff:ffff"),
    ("2001::/23", "2001:2::", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff"),
    ("2001:db8::/32", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
    ("3fff::/20", "3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff"),
    ("5f00::/16", "5f00::", "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    ("fc00::/7", "fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    ("fe80::/10", "fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    ("fec0::/10", "fec0::", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    ("ff00::/8", "ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
]

PUBLIC = [  # the neighbours of refused ranges, and ordinary public addresses
    "1.0.0.0", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "126.255.255.255",
    "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0", "191.255.255.255",
    "192.0.1.0", "192.0.3.0", "192.88.98.255", "192.88.100.0", "192.167.255.255", "192.169.0.0",
    "198.17.255.255", "198.20.0.0", "198.51.99.255", "198.51.101.0", "203.0.112.255", "203.0.114.0",
    "223.255.255.255", "93.184.216.34", "8.8.8.8",
    "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "2001:200::", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
    "2001:db9::", "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "64:ff9b:2::",
]

GLOBAL_INSIDE_REFUSED = [  # globally reachable entries of the registries
    "192.0.0.9", "192.0.0.10", "2001:1::1", "2001:1::2", "2001:1::3", "2001:3::", "2001:3:ffff::1",
    "2001:4:112::", "2001:4:112:ffff::1", "2001:20::", "2001:2f:ffff::1", "2001:30::", "2001:3f:ffff::1",
]

GLOBAL_NEIGHBOURS_REFUSED = ["192.0.0.8", "192.0.0.11", "2001:1::4", "2001:4:113::", "2001:10::", "2001:40::"]

EMBEDDED = [  # (IPv6 form, the IPv4 address it carries)
    ("::ffff:127.0.0.1", "127.0.0.1"),  # IPv4-mapped
    ("::ffff:10.1.2.3", "10.1.2.3"),
    ("::ffff:169.254.169.254", "169.254.169.254"),
    ("::127.0.0.1", "127.0.0.1"),  # IPv4-compatible
    ("::10.0.0.1", "10.0.0.1"),
    ("64:ff9b::7f00:1", "127.0.0.1"),  # NAT64 well-known prefix
    ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
    ("2002:7f00:1::", "127.0.0.1"),  # 6to4
    ("2002:c0a8:101::1", "192.168.1.1"),
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "10.0.0.1"),  # Teredo client (obfuscated 10.0.0.1)
    ("2001:0:7f00:1:8000:63bf:f7f7:f7f7", "127.0.0.1"),  # Teredo server 127.0.0.1 (client 8.8.8.8)
]

EMBEDDED_PUBLIC = ["::ffff:93.184.216.34", "::8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
                   "2001:0:4136:e378:8000:63bf:f7f7:f7f7"]  # Teredo: server 65.54.227.120, client 8.8.8.8

guard = NetGuard()


@pytest.mark.parametrize(("network", "first", "last"), REFUSED)
def test_every_special_purpose_range_is_refused_to_its_edges(network: str, first: str, last: str) -> None:
    net = ipaddress.ip_network(network)
    assert ipaddress.ip_address(first) in net and ipaddress.ip_address(last) in net
    for address in (first, last):
        assert guard.refusal("h", [address]) == f"private network address {address}"


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_and_range_neighbours_are_allowed(address: str) -> None:
    assert guard.refusal("h", [address]) is None


@pytest.mark.parametrize("address", GLOBAL_INSIDE_REFUSED)
def test_globally_reachable_exceptions_are_allowed(address: str) -> None:
    assert guard.refusal("h", [address]) is None


@pytest.mark.parametrize("address", GLOBAL_NEIGHBOURS_REFUSED)
def test_the_exceptions_are_exact(address: str) -> None:
    assert guard.refusal("h", [address]) is not None


@pytest.mark.parametrize(("v6", "v4"), EMBEDDED)
def test_ipv6_forms_are_judged_by_the_ipv4_address_they_carry(v6: str, v4: str) -> None:
    assert guard.refusal("h", [v6]) is not None
    opened = NetGuard.parse(f"{v4}/32")
    assert opened.refusal("h", [v6]) is None, "the allowlisted IPv4 address opens its IPv6 forms"


@pytest.mark.parametrize("v6", EMBEDDED_PUBLIC)
def test_ipv6_forms_carrying_a_public_ipv4_address_are_allowed(v6: str) -> None:
    assert guard.refusal("h", [v6]) is None


ALLOWLIST = [  # (allowlist, host, addresses, allowed)
    ("", "example.com", ["93.184.216.34"], True),
    ("", "example.com", ["93.184.216.34", "10.0.0.1"], False),  # every address must be allowed
    ("10.1.0.0/16", "db", ["10.1.2.3"], True),
    ("10.1.0.0/16", "db", ["10.2.0.1"], False),
    ("127.0.0.1/32", "h", ["127.0.0.1"], True),
    ("127.0.0.1/32", "h", ["127.0.0.2"], False),
    ("127.0.0.0/8", "h", ["::ffff:127.0.0.2"], True),  # the IPv4 allowlist opens the mapped form
    ("127.0.0.0/8", "h", ["::1"], False),  # but not IPv6 loopback
    ("::1/128", "h", ["::1"], True),
    ("fd00::/8", "h", ["fd12::1"], True),
    ("64:ff9b::/96", "h", ["64:ff9b::a00:1"], True),  # the IPv6 prefix itself can be opened
    ("intranet.example.com", "intranet.example.com.", ["192.168.0.9"], True),  # names, trailing dot
    ("Intranet.Example.com", "INTRANET.example.com", ["10.0.0.1"], True),
    ("intranet.example.com", "other.example.com", ["10.0.0.1"], False),
    ("0.0.0.0/0, ::/0", "h", ["127.0.0.1", "::1"], True),
]


@pytest.mark.parametrize(("allowlist", "host", "addresses", "allowed"), ALLOWLIST)
def test_the_allowlist_opens_networks_and_names(allowlist: str, host: str, addresses: list[str],
                                                allowed: bool) -> None:
    assert (NetGuard.parse(allowlist).refusal(host, addresses) is None) is allowed


@pytest.mark.parametrize("allowlist", ["10.0.0.0/33", "not a host", "10.0.0.0/8, 300.1.1.1/8"])
def test_a_bad_allowlist_names_the_setting(allowlist: str) -> None:
    with pytest.raises(InvalidParameter, match="CRAWLFLEET_ALLOW_NETWORKS"):
        NetGuard.parse(allowlist)
