"""The committer thread: stores page output in MongoDB, then acknowledges the leases.

Group commit: while one batch is being written the next one accumulates, so a busy
worker writes hundreds of pages per round trip and an idle one commits at once. The
order (MongoDB first, the frontier second) is what makes a crashed worker cost nothing:
a lease is acknowledged only after its page is stored, and storing twice is harmless.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable

import redis
from pymongo.errors import PyMongoError

from crawlcore.urls import doc_id, fingerprint
from crawlstore.crawls import CrawlStore
from crawlstore.frontier import Frontier, Outcome, PageResult
from crawlstore.output import OutputStore, url_id

from .catalog import Catalog
from .leases import Lease, LeaseBook
from .metrics import WorkerMetrics
from .pages import PageBuilder, PageOutput

__all__ = ["Committer"]

log = logging.getLogger(__name__)

RECORD_EVERY = 2.0  # seconds between copies of a crawl's counters into its MongoDB record


class Committer(threading.Thread):
    def __init__(
        self,
        frontier: Frontier,
        crawls: CrawlStore,
        output: OutputStore,
        catalog: Catalog,
        book: LeaseBook,
        builder: PageBuilder,
        *,
        lease_ms: int,
        max_batch: int = 500,
        on_committed: Callable[[list[PageOutput]], None] | None = None,
        metrics: WorkerMetrics | None = None,
    ) -> None:
        super().__init__(name="crawlfleet-committer", daemon=True)
        self.frontier = frontier
        self.crawls = crawls
        self.output = output
        self.catalog = catalog
        self.book = book
        self.builder = builder
        self.lease_ms = lease_ms
        self.renew_every = lease_ms / 3000
        self.max_batch = max_batch
        self.on_committed = on_committed
        self.metrics = metrics or WorkerMetrics()
        # A deque and a wake-up event set only while the thread sleeps: a Queue's per-item
        # condition notify costs the engine's thread more than the rest of the hand-off.
        self._items: collections.deque[PageOutput | Lease] = collections.deque()
        self._wakeup = threading.Event()
        self._sleeping = False
        self._halt = threading.Event()
        self._renewed = time.monotonic()
        self._recorded: dict[str, float] = {}

    # ------------------------------------------------------------------ interface

    def submit(self, item: PageOutput | Lease) -> None:
        """Queue a page's output, or a re-expansion lease to be resolved here."""
        self._items.append(item)
        if self._sleeping:
            self._wakeup.set()

    def stop(self) -> None:
        """Finish what was submitted, then end."""
        self._halt.set()
        self._wakeup.set()

    def pending(self) -> int:
        return len(self._items)

    # ------------------------------------------------------------------ loop

    def run(self) -> None:
        while True:
            batch = self._take()
            if batch:
                self._retrying(lambda b=batch: self._flush(b))  # type: ignore[misc]
            elif self._halt.is_set():
                return
            if time.monotonic() - self._renewed >= self.renew_every:
                self._retrying(self._renew)

    def _take(self) -> list[PageOutput | Lease]:
        if not self._items:
            self._sleeping = True
            if not self._items and not self._halt.is_set():  # re-check: submit() may have just run
                self._wakeup.wait(min(0.2, self.renew_every))
            self._sleeping = False
            self._wakeup.clear()
        batch: list[PageOutput | Lease] = []
        while self._items and len(batch) < self.max_batch:
            batch.append(self._items.popleft())
        return batch

    def _retrying(self, step: Callable[[], None]) -> None:
        """Run a step until it succeeds: a store being down delays commits, it loses nothing
        (leases keep being renewed meanwhile)."""
        delay = 0.5
        while True:
            try:
                step()
                return
            except (PyMongoError, redis.RedisError) as exc:
                log.warning("committer: %s; retrying in %.1f s", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                if time.monotonic() - self._renewed >= self.renew_every:
                    with contextlib.suppress(PyMongoError, redis.RedisError):
                        self._renew()

    # ------------------------------------------------------------------ steps

    def _expand(self, lease: Lease) -> PageOutput | None:
        crawl = self.catalog.get(lease.crawl_id)
        if crawl is None:
            self.book.remove(lease.crawl_id, [lease.member])
            return None
        fp_hex = fingerprint(lease.request.url).hex()
        _, links = self.output.outlinks(crawl.id, lease.round, fp_hex)
        self.output.set_hops({url_id(crawl.id, lease.round, fp_hex): lease.request.hop})
        return self.builder.expansion(crawl, lease, links)

    def _flush(self, batch: list[PageOutput | Lease]) -> None:
        outputs: list[PageOutput] = []
        for item in batch:
            out = self._expand(item) if isinstance(item, Lease) else item
            if out is not None:
                outputs.append(out)
        with self.metrics.mongodb_op("write"):
            self.output.write(
                [o.url_doc for o in outputs if o.url_doc is not None],
                [doc for o in outputs for doc in o.object_docs],
            )
        by_crawl: dict[str, list[PageOutput]] = defaultdict(list)
        for out in outputs:
            by_crawl[out.lease.crawl_id].append(out)
        with self.metrics.redis_op("commit"):
            replies = self.frontier.commit_many({cid: [o.result for o in outs] for cid, outs in by_crawl.items()})
        now = time.monotonic()
        for crawl_id, outs in by_crawl.items():
            committed = replies[crawl_id]
            if committed.snapshot is None:  # deleted meanwhile: remove what we just wrote
                self.output.delete_ids(
                    [o.url_doc["_id"] for o in outs if o.url_doc is not None],
                    [d["_id"] for o in outs for d in o.object_docs],
                )
            else:
                if committed.duplicates:
                    self._mark_duplicates(outs, committed.duplicates)
                if committed.corrections:
                    self.output.set_hops({
                        outs[i].url_doc["_id"]: hop  # type: ignore[index]
                        for i, hop in committed.corrections.items() if outs[i].url_doc is not None
                    })
                self.metrics.committed(crawl_id, outs, committed.lost, committed.duplicates.keys(), committed.seen_hits)
                self.crawls.lifecycle.observe(crawl_id, committed.snapshot)
                if now - self._recorded.get(crawl_id, 0.0) >= RECORD_EVERY:
                    self._recorded[crawl_id] = now
                    self.crawls.lifecycle.sync_record(crawl_id)
            self.book.remove(crawl_id, [o.lease.member for o in outs])
        if self.on_committed is not None:
            self.on_committed(outputs)

    def _mark_duplicates(self, outs: list[PageOutput], duplicates: dict[int, bytes]) -> None:
        """Pages whose content an earlier page of the round had: say so in their URL-report row
        and remove the object written for them (the original's stands)."""
        dups = [(outs[index], owner) for index, owner in duplicates.items()]
        self.output.mark_duplicates(
            {out.url_doc["_id"]: str(doc_id(owner)) for out, owner in dups if out.url_doc is not None},
            [d["_id"] for out, _ in dups for d in out.object_docs],
        )

    def _renew(self) -> None:
        held = self.book.snapshot()
        self._renewed = time.monotonic()
        if not held:
            return
        with self.metrics.redis_op("renew"):
            replies = self.frontier.renew_many(held, self.lease_ms)
        lost = sum(len(r) for r in replies.values())
        if lost:
            log.info("committer: %d leases had expired before renewal", lost)

    def release(self, leases: list[Lease]) -> None:
        """Hand unstarted leases back to the frontier (shutdown), without counting a try."""
        by_crawl: dict[str, list[PageResult]] = defaultdict(list)
        for lease in leases:
            by_crawl[lease.crawl_id].append(
                PageResult(lease.member, fingerprint(lease.request.url), Outcome.UNSTARTED)
            )
        self.frontier.commit_many(by_crawl)
        for crawl_id, results in by_crawl.items():
            self.book.remove(crawl_id, [r.member for r in results])
