"""Scrapy scheduler backed by the shared Redis frontier.

Scrapy's engine asks `next_request()` whenever it can download more; the answer comes from
a local buffer the feeder thread keeps filled with leased requests, so the engine never
waits on Redis. Follows scrapy-redis's split (scheduler / queue / dupefilter, Redis
connection from `REDIS_URL` via `scrapy_redis.connection`) but replaces its queue and
dupefilter: a pop there deletes the request, so a worker that dies loses it; here a
request is leased, and dedupe, politeness and limits live in the frontier's Lua scripts.

Building the scheduler does no I/O; connections open in `open()`.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, Spider
from scrapy.core.scheduler import BaseScheduler
from scrapy.crawler import Crawler
from twisted.internet import reactor

from crawlbase.config import Config

from .leases import Lease
from .runtime import Fleet

__all__ = ["FrontierScheduler"]

log = logging.getLogger(__name__)


class FrontierScheduler(BaseScheduler):
    def __init__(self, crawler: Crawler, config: Config) -> None:
        self.crawler = crawler
        self.config = config
        self.fleet: Fleet | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        config = crawler.settings.get("CRAWLFLEET_CONFIG") or Config.from_env()
        return cls(crawler, config)

    def open(self, spider: Spider) -> None:
        self.fleet = Fleet(self.config, self.crawler.settings, wake=self._wake_soon)
        spider.fleet = self.fleet  # type: ignore[attr-defined]
        self.fleet.start()

    def close(self, reason: str) -> None:
        if self.fleet is not None:
            self.fleet.stop()

    def has_pending_requests(self) -> bool:
        return self.fleet is not None and bool(self.fleet.feeder.buffer)

    def enqueue_request(self, request: Request) -> bool:
        # The fleet spider reports links through its page output; nothing else should
        # schedule requests directly. Refuse instead of fetching outside the frontier.
        log.warning("request scheduled outside the frontier, dropped: %s", request)
        return False

    def next_request(self) -> Request | None:
        fleet = self.fleet
        if fleet is None:
            return None
        while True:
            lease = fleet.take()
            if lease is None:
                return None
            request = fleet.start_request(lease, self._callbacks())
            if request is not None:
                return request

    def _callbacks(self) -> dict[str, Any]:
        spider = self.crawler.spider
        assert spider is not None
        return {"callback": spider.parse, "errback": spider.errback}  # type: ignore[attr-defined]

    def _wake_soon(self) -> None:
        """Called from the feeder thread: have the engine ask for requests now."""
        reactor.callFromThread(self._wake)

    def _wake(self) -> None:
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None) if engine is not None else None
        if slot is not None:
            slot.nextcall.schedule()


def lease_of(request: Request) -> Lease:
    return request.meta["cf_lease"]
