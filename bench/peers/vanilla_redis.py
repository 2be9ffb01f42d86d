"""Peer (b): vanilla scrapy-redis: RedisSpider with its default scheduler, queue
(PriorityQueue), dupefilter (RFPDupeFilter) and serializer (pickle).

    python -m bench.peers.vanilla_redis --start URL --expect N --redis URL --key NAME \\
        --mongo URL --db NAME --out result.json
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

import redis
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response, TextResponse
from scrapy_redis.spiders import RedisSpider

from spiders.processing import PageProcessor

from .common import parse_page, peer_settings, scope_for


class VanillaSpider(RedisSpider):
    name = "vanilla"

    def __init__(self, start: str, key: str, processing: str = "analyze", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.redis_key = f"{key}:start_urls"
        self.scope = scope_for(start)
        self.processor = PageProcessor()
        self.processing = processing != "off"

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        assert isinstance(response, TextResponse)  # the benchmark site serves HTML only
        yield from parse_page(self, response)


def main() -> None:
    parser = argparse.ArgumentParser()
    for arg in ("--start", "--redis", "--key", "--mongo", "--db", "--out"):
        parser.add_argument(arg, required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--processing", choices=("analyze", "off"), default="analyze")
    args = parser.parse_args()
    settings = peer_settings(args.concurrency, args.mongo, args.db, args.expect, args.out)
    settings.update({
        "REDIS_URL": args.redis,
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_KEY": f"{args.key}:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{args.key}:dupefilter",
    })
    client = redis.Redis.from_url(args.redis)
    client.lpush(f"{args.key}:start_urls", args.start)
    client.close()
    process = CrawlerProcess(settings)
    process.crawl(VanillaSpider, start=args.start, key=args.key, processing=args.processing)
    process.start()


if __name__ == "__main__":
    main()
