"""A worker's runtime: the frontier client, the feeder and committer threads, and the
translation between leases and Scrapy requests.

One Redis connection pool and one MongoDB client per process, shared by all threads.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from scrapy import Request
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from crawlfleet.config import Config
from crawlstore.connection import connect_redis
from crawlstore.crawls import CrawlStore
from crawlstore.frontier import Frontier
from crawlstore.mongo import connect, ensure_indexes

from .catalog import Catalog
from .committer import Committer
from .feeder import Feeder
from .leases import Lease, LeaseBook
from .pages import PageBuilder, PageOutput

__all__ = ["Fleet"]

log = logging.getLogger(__name__)

COMMIT_WINDOW = 512  # leases a worker may hold beyond its downloads and buffer (waiting to be committed)


class Fleet:
    def __init__(self, config: Config, settings: BaseSettings, wake: Callable[[], None]) -> None:
        self.config = config
        self.settings = settings
        self.wake = wake
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.in_engine = 0  # requests handed to Scrapy whose output has not come back
        self.pages_done = 0
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        cfg = self.config
        client = connect_redis(cfg.redis_url, cluster=cfg.redis_cluster)
        self.frontier = Frontier(client, cfg.key_prefix, cfg.host_concurrency)
        db = connect(cfg.mongo_url, cfg.mongo_db)
        ensure_indexes(db)
        self.crawls = CrawlStore(self.frontier, db)
        self.catalog = Catalog(client, self.frontier.keys)
        self.book = LeaseBook()
        self.builder = PageBuilder(cfg.max_tries)
        lease_ms = int(cfg.lease_seconds * 1000)
        self.committer = Committer(
            self.frontier, self.crawls, self.crawls.output, self.catalog, self.book, self.builder,
            lease_ms=lease_ms, on_committed=self._committed,
        )
        self.feeder = Feeder(
            self.frontier, self.crawls, self.catalog, self.book,
            batch=cfg.pop_batch, lease_ms=lease_ms,
            buffer_target=cfg.concurrency + cfg.prefetch,
            max_held=cfg.concurrency + cfg.prefetch + COMMIT_WINDOW,
            in_flight=lambda: self.in_engine, on_leases=self.wake,
        )
        self.committer.start()
        self.feeder.start()
        log.info("worker %s serving the frontier at %s", self.worker_id, cfg.redis_url)

    def stop(self) -> None:
        """Stop leasing, commit everything produced, hand back what was never started."""
        self.feeder.stop()
        self.feeder.join(timeout=10)
        self.committer.stop()
        self.committer.join(timeout=60)
        leftover = [Lease.parse(cid, m) for cid, members in self.book.snapshot().items() for m in members]
        if leftover:
            try:
                self.committer.release(leftover)
                log.info("handed back %d unstarted requests", len(leftover))
            except Exception:  # the leases will expire and be retried anyway
                log.warning("could not hand back %d requests; their leases will expire", len(leftover))
        self.frontier.redis.hdel(self.frontier.globals.workers, self.worker_id)

    def heartbeat(self) -> None:
        """Written from the reactor thread: a stuck event loop stops the heartbeat."""
        beat = {"pid": os.getpid(), "time": time.time(), "leases": len(self.book), "pages": self.pages_done,
                "in_flight": self.in_engine}
        self.frontier.redis.hset(self.frontier.globals.workers, self.worker_id, json.dumps(beat))

    # ------------------------------------------------------------------ engine side (reactor thread)

    def take(self) -> Lease | None:
        """The next lease to download, handling those that need no download on the way."""
        buffer = self.feeder.buffer
        while buffer:
            lease = buffer.popleft()
            self.feeder.room.set()
            if lease.request.expand:
                self.committer.submit(lease)
                continue
            crawl = self.catalog.cached(lease.crawl_id)
            if crawl is None:
                self.book.remove(lease.crawl_id, [lease.member])
                continue
            if lease.request.tries >= self.config.max_tries:
                self.committer.submit(self.builder.exhausted(crawl, lease))
                continue
            return lease
        return None

    def start_request(self, lease: Lease, callbacks: dict[str, Any]) -> Request | None:
        crawl = self.catalog.cached(lease.crawl_id)
        if crawl is None:
            self.book.remove(lease.crawl_id, [lease.member])
            return None
        d = crawl.definition
        with self._lock:
            self.in_engine += 1
        return Request(
            lease.request.url,
            headers=dict(d.custom_headers) or None,
            dont_filter=True,
            meta={
                "cf_lease": lease,
                "cf_crawl_delay": d.crawl_delay,
                "dont_obey_robotstxt": not d.obey_robots,
                "handle_httpstatus_all": True,
                "dont_redirect": True,
                "dont_retry": True,
            },
            **callbacks,
        )

    def on_response(self, response: Response) -> PageOutput | None:
        lease: Lease = response.meta["cf_lease"]
        return self._finish(lease, lambda crawl: self.builder.from_response(crawl, lease, response))

    def on_failure(self, failure: Failure) -> PageOutput | None:
        request = failure.request  # type: ignore[attr-defined]
        lease: Lease = request.meta["cf_lease"]
        return self._finish(lease, lambda crawl: self.builder.from_failure(crawl, lease, failure, request.meta))

    def _finish(self, lease: Lease, build: Callable[[Any], PageOutput]) -> PageOutput | None:
        with self._lock:
            self.in_engine -= 1
        self.feeder.room.set()
        crawl = self.catalog.cached(lease.crawl_id)
        if crawl is None:
            self.book.remove(lease.crawl_id, [lease.member])
            return None
        return build(crawl)

    def _committed(self, outputs: list[PageOutput]) -> None:
        self.pages_done += len(outputs)
