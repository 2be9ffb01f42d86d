"""What every crawler in the frontier benchmark shares: the parsing work and the output.

Each page is parsed with crawlfleet's own code (`spiders.extract.read_page`, the scope and
link rules of `crawlcore`, and the worker's `PageProcessor` with the crawl's default apiUrl:
analyze in automatic mode) and its objects are stored in MongoDB in batches, so the peers do
the same work per page as a crawlfleet worker, minus the URL report crawlfleet also writes.
With `--processing off` nobody processes pages: they are parsed for their links only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from pymongo import MongoClient
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import TextResponse

from crawlcore.definition import CrawlDefinition
from crawlcore.links import follow
from crawlcore.scope import Scope
from crawlcore.urls import fingerprint
from crawlstore.output import insert_or_replace
from spiders.extract import read_page
from spiders.processing import PageProcessor

BATCH = 200
STORE = "_store"  # False on the marker item of a page not processed (--processing off)


def peer_settings(concurrency: int, mongo_url: str, mongo_db: str, expect: int, out: str) -> dict[str, Any]:
    return {
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "DOWNLOAD_DELAY": 0,
        "ROBOTSTXT_OBEY": True,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "USER_AGENT": "crawlfleet-bench/0.1",
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "CLOSESPIDER_ITEMCOUNT": expect,
        # as the crawlfleet worker sets it: without it Scrapy starts 100 asyncio tasks per response
        "CONCURRENT_ITEMS": 1,
        "ITEM_PIPELINES": {"bench.peers.common.MongoPipeline": 100},
        "EXTENSIONS": {"bench.peers.common.Timing": 100},
        "BENCH_MONGO_URL": mongo_url,
        "BENCH_MONGO_DB": mongo_db,
        "BENCH_OUT": out,
    }


def parse_page(spider: Spider, response: TextResponse) -> Iterator[Any]:
    """Links to follow (as Requests) and the page's object: the same work a worker does."""
    page = read_page(response.body, response.url, root=response.selector.root)
    for url in follow(spider.scope, response.url, page.base, page.hrefs):  # type: ignore[attr-defined]
        yield Request(url, callback=spider.parse)
    if not spider.processing:  # type: ignore[attr-defined]
        yield {"pageUrl": response.url, STORE: False}  # counted as a page, not stored
        return
    processor: PageProcessor = spider.processor  # type: ignore[attr-defined]
    processed = processor.process(api_url="", selectors="", root=response.selector.root, url=response.url,
                                  resolved_url=response.url, fp=fingerprint(response.url), crawl_id=spider.name,
                                  crawl_name=spider.name, crawl_round=0, crawled=time.time())
    yield from processed.objects


def scope_for(seed: str) -> Scope:
    return Scope.of(CrawlDefinition("bench", (seed,)))


class MongoPipeline:
    """Objects to MongoDB in batches of BATCH, the rest when the spider closes."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.client: MongoClient = MongoClient(settings["BENCH_MONGO_URL"])
        self.collection = self.client[settings["BENCH_MONGO_DB"]].objects
        self.buffer: list[dict[str, Any]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MongoPipeline:
        return cls(crawler)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        if item.get(STORE) is False:
            return item
        self.buffer.append(dict(item))
        if len(self.buffer) >= BATCH:
            self._flush()
        return item

    def close_spider(self) -> None:
        if self.buffer:
            self._flush()
        self.client.close()

    def _flush(self) -> None:
        # keyed like crawlfleet's (crawl, round, URL fingerprint): a page fetched twice (scrapy-redis
        # does not dedupe its start URL) is stored once, as crawlfleet's own writes do
        batch, self.buffer = self.buffer, []
        insert_or_replace(self.collection, batch)


class Timing:
    """Writes {pages, seconds} from the first response to the close of the spider."""

    def __init__(self, crawler: Crawler) -> None:
        self.out = crawler.settings["BENCH_OUT"]
        self.first: float | None = None
        self.items = 0
        crawler.signals.connect(self._response, signal=signals.response_received)
        crawler.signals.connect(self._item, signal=signals.item_scraped)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Timing:
        return cls(crawler)

    def _response(self, **kwargs: Any) -> None:
        if self.first is None:
            self.first = time.time()

    def _item(self, **kwargs: Any) -> None:
        self.items += 1

    def _closed(self, **kwargs: Any) -> None:
        seconds = time.time() - (self.first or time.time())
        with open(self.out, "w") as fh:
            json.dump({"pages": self.items, "seconds": seconds}, fh)
