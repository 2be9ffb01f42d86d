"""Item pipeline: hand each page's output to the committer thread (MongoDB, then Redis)."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

from .pages import PageOutput

__all__ = ["CommitPipeline"]


class CommitPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CommitPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageOutput):
            self.crawler.spider.fleet.committer.submit(item)  # type: ignore[union-attr]
        return item
