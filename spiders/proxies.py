"""useProxies=1: the crawl's requests go through the deployment's proxy pool.

Proxies (CRAWLFLEET_PROXIES) are used in turn; one that fails is benched for
CRAWLFLEET_PROXY_BENCH_SECONDS and the others carry on. The URL report's "Proxy Used" column
says which proxy fetched each page.

    >>> pool = ProxyPool(["http://p1:3128", "http://p2:3128"], bench_seconds=60, clock=lambda: 0.0)
    >>> pool.pick(), pool.pick(), pool.pick()
    ('http://p1:3128', 'http://p2:3128', 'http://p1:3128')
    >>> pool.bench("http://p2:3128"); pool.pick(), pool.pick()
    ('http://p1:3128', 'http://p1:3128')
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

__all__ = ["ProxyPool", "ProxyPoolMiddleware"]

# Answers that mean the proxy, not the site, failed.
_PROXY_FAILURES = frozenset({407, 502, 503, 504})


class ProxyPool:
    def __init__(self, proxies: list[str], bench_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.proxies = proxies
        self.bench_seconds = bench_seconds
        self.clock = clock
        self._benched: dict[str, float] = {}
        self._turn = itertools.cycle(proxies)

    def pick(self) -> str | None:
        """The next proxy not benched; when all are benched, the one benched longest ago."""
        if not self.proxies:
            return None
        now = self.clock()
        for _ in range(len(self.proxies)):
            proxy = next(self._turn)
            if self._benched.get(proxy, 0.0) <= now:
                return proxy
        return min(self.proxies, key=lambda p: self._benched.get(p, 0.0))

    def bench(self, proxy: str) -> None:
        self._benched[proxy] = self.clock() + self.bench_seconds


class ProxyPoolMiddleware:
    """Sets `proxy` on requests of crawls with useProxies=1 (before Scrapy's HttpProxyMiddleware)."""

    def __init__(self, pool: ProxyPool) -> None:
        self.pool = pool

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProxyPoolMiddleware:
        proxies = [p.strip() for p in (crawler.settings.get("CRAWLFLEET_PROXIES") or "").split(",") if p.strip()]
        if not proxies:
            raise NotConfigured("no CRAWLFLEET_PROXIES")
        return cls(ProxyPool(proxies, crawler.settings.getfloat("CRAWLFLEET_PROXY_BENCH_SECONDS", 60.0)))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get("cf_use_proxies") and "proxy" not in request.meta:
            request.meta["proxy"] = self.pool.pick()
            request.meta["cf_proxy"] = request.meta["proxy"]

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        proxy = request.meta.get("cf_proxy")
        if proxy and response.status in _PROXY_FAILURES:
            self.pool.bench(proxy)
        return response

    def process_exception(self, request: Request, exception: Exception, spider: Spider | None = None) -> None:
        proxy = request.meta.get("cf_proxy")
        if proxy:
            self.pool.bench(proxy)
