"""The private-network guard in the worker: after DNS resolution, and for IP literals.

Every request (pages, redirect targets, robots.txt) to a host that resolves to a loopback,
private, link-local or otherwise non-public address is refused unless the deployment's
allowlist (CRAWLFLEET_ALLOW_NETWORKS) opens it; the page is then reported as blocked.
The decision is `crawlcore.netguard.NetGuard`'s; this module only feeds it addresses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawlcore.netguard import NetGuard, ip_literal

__all__ = ["BlockedAddress", "GuardedResolver", "NetGuardMiddleware"]


class BlockedAddress(IgnoreRequest):
    """The request's host is on a network crawls may not reach."""


def _guard(settings: Any) -> NetGuard:
    return NetGuard.parse(settings.get("CRAWLFLEET_ALLOW_NETWORKS", "") or "")


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver that refuses names resolving to a refused address."""

    guard = NetGuard()

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> GuardedResolver:
        resolver = super().from_crawler(crawler, reactor)
        resolver.guard = _guard(crawler.settings)
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:  # Twisted's name
        def check(address: str) -> str:
            reason = self.guard.refusal(name, [address])
            if reason is not None:
                raise BlockedAddress(reason)
            return address

        return super().getHostByName(name, timeout).addCallback(check)


class NetGuardMiddleware:
    """Downloader middleware for URLs whose host is an IP address (no DNS lookup to guard)."""

    def __init__(self, guard: NetGuard) -> None:
        self.guard = guard

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NetGuardMiddleware:
        if crawler.settings.get("TWISTED_DNS_RESOLVER") != "spiders.netguard.GuardedResolver":
            raise NotConfigured("the guard needs its resolver too")
        return cls(_guard(crawler.settings))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        host = urlparse_cached(request).hostname or ""
        address = ip_literal(host)
        if address is not None:
            reason = self.guard.refusal(host, [address])
            if reason is not None:
                raise BlockedAddress(reason)
