"""The feeder thread: keeps a small buffer of leased requests ready for Scrapy's engine.

It leases in batches (one Lua call per crawl and batch), serves every active crawl in
turn, and when there is nothing to do it waits on the wake-up channel instead of polling:
an idle worker sends a command every few seconds, not hundreds.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable

import redis

from crawlstore.crawls import CrawlStore
from crawlstore.frontier import Frontier

from .catalog import Catalog
from .leases import Lease, LeaseBook
from .metrics import WorkerMetrics

__all__ = ["Feeder"]

log = logging.getLogger(__name__)

ACTIVE_REFRESH = 5.0  # seconds between re-reads of the active set without a wake-up
IDLE_WAIT = 1.0  # longest wait on the wake-up channel when no crawl is active (waiting sends nothing)
BUSY_WAIT = 1.0  # longest wait when crawls are active but nothing of theirs is due


class Feeder(threading.Thread):
    def __init__(
        self,
        frontier: Frontier,
        crawls: CrawlStore,
        catalog: Catalog,
        book: LeaseBook,
        *,
        batch: int,
        lease_ms: int,
        buffer_target: int,
        max_held: int,
        in_flight: Callable[[], int],
        on_leases: Callable[[], None],
        metrics: WorkerMetrics | None = None,
    ) -> None:
        super().__init__(name="crawlfleet-feeder", daemon=True)
        self.frontier = frontier
        self.crawls = crawls
        self.catalog = catalog
        self.book = book
        self.batch = batch
        self.lease_ms = lease_ms
        self.buffer_target = buffer_target
        self.max_held = max_held
        self.in_flight = in_flight  # requests handed to the engine and not yet finished
        self.on_leases = on_leases
        self.metrics = metrics or WorkerMetrics()
        self.buffer: collections.deque[Lease] = collections.deque()
        self.room = threading.Event()  # set when the engine took from the buffer
        self._halt = threading.Event()
        self._turn = 0  # rotates which active crawl is served first

    def stop(self) -> None:
        self._halt.set()
        self.room.set()

    def _space(self) -> int:
        return min(
            self.max_held - len(self.book),
            self.buffer_target - len(self.buffer) - self.in_flight(),
        )

    def run(self) -> None:
        pubsub = self.frontier.redis.pubsub(ignore_subscribe_messages=True)
        active: list[str] = []
        refreshed = -ACTIVE_REFRESH
        woken = True
        try:
            pubsub.subscribe(self.frontier.globals.wake)
            while not self._halt.is_set():
                try:
                    if woken or time.monotonic() - refreshed >= ACTIVE_REFRESH:
                        active = sorted(self.frontier.active())
                        refreshed = time.monotonic()
                    woken = False
                    if self._space() <= 0:
                        self.room.wait(0.5)
                        self.room.clear()
                        continue
                    got, wait = self._fill(active)
                    if got == 0:
                        woken = self._wait(pubsub, wait if active else IDLE_WAIT)
                except redis.RedisError as exc:
                    log.warning("feeder: Redis error (%s); retrying in 1 s", exc)
                    self._halt.wait(1.0)
                except Exception:  # one crawl's bad state must not end leasing for every crawl
                    log.exception("feeder: unexpected error; retrying in 1 s")
                    self._halt.wait(1.0)
        finally:
            pubsub.close()

    def _fill(self, active: list[str]) -> tuple[int, float]:
        """Lease from each active crawl in turn; returns (leased, seconds until a host is due)."""
        got = 0
        wait = BUSY_WAIT
        self._turn += 1
        start = self._turn % len(active) if active else 0
        for crawl_id in active[start:] + active[:start]:
            space = self._space()
            if space <= 0:
                break
            if self.catalog.get(crawl_id) is None:
                continue
            with self.metrics.redis_op("pop"):
                result = self.frontier.pop(crawl_id, min(space, self.batch), self.lease_ms)
            self.metrics.leased(crawl_id, len(result.members))
            self.crawls.lifecycle.observe(crawl_id, result.snapshot)
            if result.members:
                leases = [Lease.parse(crawl_id, m, result.round) for m in result.members]
                self.book.add(crawl_id, result.members)
                self.buffer.extend(leases)
                got += len(leases)
            elif result.next_due_ms >= 0:
                wait = min(wait, max(0.01, result.next_due_ms / 1000))
        if got:
            self.on_leases()
        return got, wait

    def _wait(self, pubsub: redis.client.PubSub, timeout: float) -> bool:
        """Sleep until a wake-up message or the timeout; True when woken."""
        message = pubsub.get_message(timeout=timeout)
        woken = message is not None
        while message is not None:  # drain a burst of wake-ups at once
            message = pubsub.get_message(timeout=0)
        return woken
