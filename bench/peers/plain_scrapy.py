"""Peer (a): plain single-process Scrapy with its in-memory scheduler and dupefilter.

    python -m bench.peers.plain_scrapy --start URL --expect N --mongo URL --db NAME --out result.json
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response, TextResponse

from spiders.processing import PageProcessor

from .common import parse_page, peer_settings, scope_for


class PlainSpider(Spider):
    name = "plain"

    def __init__(self, start: str, processing: str = "analyze", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = start
        self.scope = scope_for(start)
        self.processor = PageProcessor()
        self.processing = processing != "off"

    async def start(self) -> Any:
        yield Request(self.seed, callback=self.parse)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        assert isinstance(response, TextResponse)  # the benchmark site serves HTML only
        yield from parse_page(self, response)


def main() -> None:
    parser = argparse.ArgumentParser()
    for arg in ("--start", "--mongo", "--db", "--out"):
        parser.add_argument(arg, required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--processing", choices=("analyze", "off"), default="analyze")
    args = parser.parse_args()
    process = CrawlerProcess(peer_settings(args.concurrency, args.mongo, args.db, args.expect, args.out))
    process.crawl(PlainSpider, start=args.start, processing=args.processing)
    process.start()


if __name__ == "__main__":
    main()
