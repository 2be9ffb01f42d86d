"""A worker's runtime: the frontier client, the feeder and committer threads, and the
translation between leases and Scrapy requests.

One Redis connection pool and one MongoDB client per process, shared by all threads.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from scrapy import Request
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from crawlbase.config import Config, redact
from crawlcore.netguard import NetGuard
from crawlstore.clock import make_clock
from crawlstore.connection import connect_redis
from crawlstore.crawls import CrawlStore
from crawlstore.frontier import Frontier
from crawlstore.mongo import connect, ensure_indexes
from crawlstore.settings_store import read_cluster

from .catalog import Catalog
from .committer import Committer
from .feeder import Feeder
from .handoff import BACKLOG, encode_job, queue_key
from .leases import Lease, LeaseBook
from .metrics import WorkerMetrics
from .pages import PageBuilder, PageOutput
from .processing import PageProcessor, ProcessingClient

__all__ = ["Fleet"]

log = logging.getLogger(__name__)

COMMIT_WINDOW = 512  # leases a worker may hold beyond its downloads and buffer (waiting to be committed)


def _rss_bytes() -> int | None:
    """The process's resident memory (Linux; None elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class Fleet:
    def __init__(self, config: Config, settings: BaseSettings, wake: Callable[[], None]) -> None:
        self.config = config
        self.settings = settings
        self.wake = wake
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.in_engine = 0  # requests handed to Scrapy whose output has not come back
        self.pages_done = 0
        self._lock = threading.Lock()
        self.metrics = WorkerMetrics(role="worker", process=True)  # served by spiders.extensions.Telemetry
        self._started = time.time()
        self.memory_limited = False  # over the cluster's memory_limit_mb: the feeder leases nothing new
        self._last_beat: tuple[float, int] | None = None  # (monotonic time, pages done) at the last heartbeat

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        cfg = self.config
        client = connect_redis(cfg.redis_url, cluster=cfg.redis_cluster)
        self.frontier = Frontier(client, cfg.key_prefix, cfg.host_concurrency)
        db = connect(cfg.mongo_url, cfg.mongo_db)
        ensure_indexes(db)
        self.crawls = CrawlStore(self.frontier, db, lease_seconds=cfg.lease_seconds,
                                 clock=make_clock(cfg.clock, client, cfg.key_prefix))
        self.catalog = Catalog(client, self.frontier.keys)
        self.book = LeaseBook()
        self.processor = PageProcessor(ProcessingClient(
            concurrency=cfg.process_concurrency, timeout=cfg.process_timeout, tries=cfg.process_tries,
            user_agent=cfg.user_agent, guard=NetGuard.parse(cfg.allow_networks)), handoff=cfg.role == "crawl",
            selector_timeout=cfg.selector_timeout)
        self.handoff_key = queue_key(cfg.key_prefix)
        self._backlog = (0.0, 0)  # (when read, pages waiting for process workers)
        self.builder = PageBuilder(cfg.max_tries, processor=self.processor)
        lease_ms = int(cfg.lease_seconds * 1000)
        self.committer = Committer(
            self.frontier, self.crawls, self.crawls.output, self.catalog, self.book, self.builder,
            lease_ms=lease_ms, on_committed=self._committed, metrics=self.metrics,
        )
        self.feeder = Feeder(
            self.frontier, self.crawls, self.catalog, self.book,
            batch=cfg.pop_batch, lease_ms=lease_ms,
            buffer_target=cfg.concurrency + cfg.prefetch,
            max_held=cfg.concurrency + cfg.prefetch + COMMIT_WINDOW,
            in_flight=lambda: self.in_engine + self.processor.in_flight + self.backlog() + self._held_back(),
            on_leases=self.wake, metrics=self.metrics,
        )
        self.committer.start()
        self.feeder.start()
        log.info("worker %s serving the frontier at %s", self.worker_id, redact(cfg.redis_url))

    def stop(self) -> None:
        """Stop leasing, commit everything produced, hand back what was never started."""
        self.feeder.stop()
        self.feeder.join(timeout=10)
        self.committer.stop()
        self.committer.join(timeout=60)
        self.processor.close()
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
                "in_flight": self.in_engine, **self._vitals()}
        try:  # an exception would stop the LoopingCall for good: a Redis blip must not end the heartbeat
            self.frontier.redis.hset(self.frontier.globals.workers, self.worker_id, json.dumps(beat))
        except redis.RedisError as exc:
            log.warning("heartbeat not written: %s", exc)

    def _held_back(self) -> int:
        """Counted as in flight by the feeder: everything, while over the cluster's memory limit."""
        return 1 << 30 if self.memory_limited else 0

    def _check_memory(self, rss: int | None) -> None:
        """Apply the cluster's memory_limit_mb (/api/v1/admin/settings): above it, lease nothing new."""
        limit = read_cluster(self.frontier.redis, self.config.key_prefix).get("memory_limit_mb")
        limited = bool(limit and rss and rss > int(limit) * 2**20)
        if limited != self.memory_limited:
            log.warning("worker memory %s MiB %s the cluster limit of %s MiB: %s", (rss or 0) >> 20,
                        "above" if limited else "back under", limit, "leasing paused" if limited else "leasing again")
            self.memory_limited = limited
            if not limited:
                self.feeder.room.set()

    def _vitals(self) -> dict[str, Any]:
        """What /api/v1/monitoring shows of this worker: host, start, active crawls, memory."""
        if getattr(self, "feeder", None) is None:  # not started yet
            return {"host": socket.gethostname(), "started": self._started}
        held = self.book.snapshot()
        rss = _rss_bytes()
        now, pages = time.monotonic(), self.pages_done
        last = self._last_beat
        self._last_beat = (now, pages)
        rate = round(max(0, pages - last[1]) / (now - last[0]), 2) if last and now > last[0] else None
        try:
            self._check_memory(rss)
        except redis.RedisError as exc:
            log.warning("cluster memory limit not read: %s", exc)
        return {
            "host": socket.gethostname(), "started": self._started, "rss": rss, "crawls": sorted(held),
            "memory_limited": self.memory_limited, "pages_per_second": rate,
            "memory": {
                "held_leases": len(self.book),
                "held_leases_by_crawl": {crawl_id: len(members) for crawl_id, members in held.items()},
                "feeder_buffer": len(self.feeder.buffer),
                "committer_queue": self.committer.pending(),
                "catalog_entries": len(self.catalog._entries),
                "in_flight_requests": self.in_engine,
                "threads": threading.active_count(),
            },
        }

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
                "cf_use_proxies": d.use_proxies,
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

    def backlog(self) -> int:
        """Handed-over pages beyond handoff.BACKLOG waiting for process workers (read at most twice a
        second; 0 unless this is a crawl-role worker): the feeder leases that many fewer requests."""
        if not self.processor.handoff:
            return 0
        now = time.monotonic()
        if now - self._backlog[0] >= 0.5:
            try:
                waiting = int(self.frontier.redis.llen(self.handoff_key))
            except redis.RedisError:
                waiting = self._backlog[1]
            self._backlog = (now, waiting)
        return max(0, self._backlog[1] - BACKLOG)

    def hand_over(self, output: PageOutput, response: Response) -> None:
        """Give a page to the process workers (CRAWLFLEET_ROLE=crawl), its lease with it."""
        lease = output.lease
        crawl = self.catalog.cached(lease.crawl_id)
        if crawl is not None:
            api_url = crawl.scope.api_for(lease.request.url, crawl.definition.api_url)
            encoding = getattr(response, "encoding", None) or "utf-8"
            job = encode_job(output, crawl, body=response.body, encoding=encoding, api_url=api_url)
            try:
                self.frontier.redis.lpush(self.handoff_key, job)
            except redis.RedisError as exc:  # the lease expires and the page is crawled again
                log.warning("could not hand a page to the process workers: %s", exc)
        self.book.remove(lease.crawl_id, [lease.member])

    async def processed(self, output: PageOutput, response: Response) -> PageOutput | None:
        """Finish a page whose processing was deferred: hand it to the process workers, or wait
        (without blocking the reactor) for its external processing call."""
        assert output.pending is not None
        if output.pending.handoff:
            self.hand_over(output, response)
            return None
        assert output.pending.pending is not None
        result = await asyncio.wrap_future(output.pending.pending)
        crawl = self.catalog.cached(output.lease.crawl_id)
        if crawl is None:
            self.book.remove(output.lease.crawl_id, [output.lease.member])
            return None
        return self.builder.completed(crawl, output, result)

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
