"""The one generic spider: it serves every active crawl of the frontier.

It has no start URLs and never closes by itself; what it fetches comes from the
scheduler (leased from Redis), and what it finds goes out as one `PageOutput` item per
page, which the commit pipeline stores and acknowledges.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from .pages import PageOutput
from .runtime import Fleet

__all__ = ["FleetSpider"]

HEARTBEAT_SECONDS = 5.0


class FleetSpider(Spider):
    name = "fleet"
    fleet: Fleet

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> FleetSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        # Work comes from the frontier, not from start URLs.
        return
        yield  # pragma: no cover

    async def parse(self, response: Response, **kwargs: Any) -> AsyncIterator[PageOutput]:
        out = self.fleet.on_response(response)
        if out is not None and out.pending is not None:  # an external processing service is working on it
            out = await self.fleet.processed(out, response)
        if out is not None:
            yield out

    def errback(self, failure: Failure) -> Iterator[PageOutput]:
        out = self.fleet.on_failure(failure)
        if out is not None:
            yield out

    def _idle(self) -> None:
        raise DontCloseSpider

    def _opened(self, spider: Spider) -> None:
        self._beat = LoopingCall(self.fleet.heartbeat)
        self._beat.start(HEARTBEAT_SECONDS, now=True)

    def _closed(self, spider: Spider) -> None:
        if getattr(self, "_beat", None) is not None and self._beat.running:
            self._beat.stop()
