"""The private-network guard in the worker: every request's host, after DNS resolution.

Every request (pages, redirect targets, robots.txt, requests sent through a proxy) to a host
that resolves to a loopback, private, link-local or otherwise non-public address is refused
unless the deployment's allowlist (CRAWLFLEET_ALLOW_NETWORKS) opens it; the page is then
reported as blocked. The decision is `crawlcore.netguard.NetGuard`'s; this module only feeds
it addresses:

- `NetGuardMiddleware` resolves each request's host (through the reactor's resolver, whose
  cache the connection then uses) before anything else, so a proxy never sees a refused target;
- `GuardedResolver`, the reactor's resolver, refuses the same names once more when Scrapy
  connects (a request that went around the middleware gets no address);
- `check_resolver` runs when a worker starts: a worker whose reactor resolves a name the guard
  refuses (Scrapy's plain resolver installed by a settings override, or a Scrapy version that
  reads another setting) does not start.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolutionReceiver
from zope.interface import implementer

from crawlcore.netguard import NetGuard, ip_literal

__all__ = ["RESOLVER", "BlockedAddress", "GuardedResolver", "NetGuardMiddleware", "RefusedLookup",
           "check_resolver", "guard_of"]

RESOLVER = "spiders.netguard.GuardedResolver"  # the DNS_RESOLVER / TWISTED_DNS_RESOLVER setting


class BlockedAddress(IgnoreRequest):
    """The request's host is on a network crawls may not reach."""


class RefusedLookup(DNSLookupError):
    """The resolver's refusal: to Twisted, a name without addresses (connecting fails quietly)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "refused"


def guard_of(settings: Any) -> NetGuard:
    """The deployment's guard, from the worker's Scrapy settings."""
    return NetGuard.parse(settings.get("CRAWLFLEET_ALLOW_NETWORKS", "") or "")


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver that refuses names resolving to a refused address."""

    guard = NetGuard()

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> GuardedResolver:
        resolver = super().from_crawler(crawler, reactor)
        resolver.guard = guard_of(crawler.settings)
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:  # Twisted's name
        def check(address: str) -> str:
            reason = self.guard.refusal(name, [address])
            if reason is not None:
                raise RefusedLookup(reason)
            return address

        return super().getHostByName(name, timeout).addCallback(check)


class NetGuardMiddleware:
    """Downloader middleware (first of all): refuses a request whose host resolves to a refused
    address, raising BlockedAddress (reported as blocked, with the reason)."""

    def __init__(self, guard: NetGuard) -> None:
        self.guard = guard

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NetGuardMiddleware:
        return cls(guard_of(crawler.settings))

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        parts = urlparse_cached(request)
        host = parts.hostname or ""
        if parts.scheme not in ("http", "https") or not host:  # file:, ftp:, data: ... never fetched
            raise BlockedAddress(f"not an http(s) URL: {parts.scheme}:")
        address = ip_literal(host) or await self._resolve(host)
        reason = self.guard.refusal(host, [address])
        if reason is not None:
            raise BlockedAddress(reason)


    @staticmethod
    async def _resolve(host: str) -> str:
        """The address the connection will use: the reactor's resolver caches it."""
        from twisted.internet import reactor

        try:
            return str(await maybe_deferred_to_future(reactor.resolver.getHostByName(host)))
        except RefusedLookup as exc:
            raise BlockedAddress(str(exc)) from None


@implementer(IResolutionReceiver)
class _Addresses:
    def __init__(self) -> None:
        self.addresses: list[str] = []
        self.done: Deferred[list[str]] = Deferred()

    def resolutionBegan(self, resolution: Any) -> None:
        pass

    def addressResolved(self, address: Any) -> None:
        self.addresses.append(str(address.host))

    def resolutionComplete(self) -> None:
        self.done.callback(self.addresses)


async def check_resolver(reactor: Any, guard: NetGuard) -> str | None:
    """Why the reactor's resolvers do not guard, or None when they refuse what `guard` refuses.

    Resolves a probe the guard refuses (`localhost`, or a private address when the allowlist
    opens loopback) through both resolvers a connection may use: the simple one and the name
    resolver. A probe that does not resolve at all (no such name here) proves nothing: the
    next one is tried."""
    probes = guard.probes()
    if not probes:  # the allowlist opens every probe: nothing would be refused anyway
        return None
    for probe in probes:
        try:
            address = await maybe_deferred_to_future(reactor.resolver.getHostByName(probe))
        except RefusedLookup:
            break
        except DNSLookupError:
            continue
        return f"the reactor's resolver {type(reactor.resolver).__name__} resolved {probe} to {address}"
    else:
        return f"the reactor's resolver refused none of {', '.join(probes)}"
    receiver = _Addresses()
    reactor.nameResolver.resolveHostName(receiver, probe, 0)
    addresses = await maybe_deferred_to_future(receiver.done)
    if addresses:
        return f"the reactor's name resolver {type(reactor.nameResolver).__name__} resolved {probe} to {addresses[0]}"
    return None
