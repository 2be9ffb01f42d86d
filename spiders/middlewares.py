"""Downloader middleware: robots.txt with politeness.

Scrapy's RobotsTxtMiddleware (Protego: honours Allow as well as Disallow, and wildcards),
plus three things a shared, long-running crawler needs:

- the robots.txt fetch is a fetch of the host too: the first page of a host waits the
  host's delay after it, so no two requests to a host are closer than the delay;
- the Crawl-delay it finds (capped) travels with the page to the frontier, which applies
  it to every worker, and into the URL report;
- parsed robots.txt files expire, so a worker running for weeks sees changes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.utils.httpobj import urlparse_cached

__all__ = ["PoliteRobotsTxtMiddleware"]

ROBOTS_TTL = 6 * 3600.0  # seconds a parsed robots.txt is trusted


class PoliteRobotsTxtMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._delay_cap = float(crawler.settings.getfloat("CRAWLFLEET_ROBOTS_DELAY_CAP", 30.0))
        self._fetched: dict[str, float] = {}

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get("dont_obey_robotstxt"):
            return
        netloc = urlparse_cached(request).netloc
        fetched = self._fetched.get(netloc)
        if fetched is not None and time.monotonic() - fetched > ROBOTS_TTL:
            self._parsers.pop(netloc, None)
        first = netloc not in self._parsers
        if first:
            self._fetched[netloc] = time.monotonic()
        parser: Any = await self.robot_parser(request)
        robots_delay = 0.0
        if parser is not None:
            delay = parser.crawl_delay(self._robotstxt_useragent or self._default_useragent)
            robots_delay = min(float(delay or 0.0), self._delay_cap)
        request.meta["cf_robots_delay_ms"] = int(robots_delay * 1000)
        if first:
            wait = max(robots_delay, float(request.meta.get("cf_crawl_delay", 0.0)))
            if wait > 0:
                await asyncio.sleep(wait)
        self.process_request_2(parser, request)
