"""Separate processing workers (CRAWLFLEET_ROLE): crawl workers fetch, process workers extract.

Built-in extraction costs more CPU than crawling a page (bench/extraction.py: analyze on
realistic pages takes several times a crawl worker's whole per-page budget), so a deployment may
run the two apart and scale them separately:

- `both` (the default): a worker crawls and processes, as before.
- `crawl`: a worker fetches pages, writes nothing for pages to be processed with a built-in
  extractor, and hands each one (its URL-report row, frontier result, links, and the compressed
  HTML) to the Redis list `{prefix}:process`, together with its lease. External processing
  services are still called by the crawl worker (they cost I/O, not CPU).
- `process`: a worker (no Scrapy) takes pages from that list, runs the crawl's extractor and
  custom selectors, and stores and acknowledges them with the same committer as a crawl worker:
  MongoDB first, then the frontier commit, so counters, limits, duplicate detection and the URL
  report are exactly as with `both`.

The lease travels with the page: the crawl worker stops renewing it when it hands the page
over, the process worker renews it from when it takes the page. A page that waits in the list
longer than CRAWLFLEET_LEASE_SECONDS, or whose process worker dies, loses its lease and is
crawled again (a try counted), so nothing is lost; crawl workers stop leasing new requests while
more than BACKLOG pages wait, so the list stays short. Run at least one process worker with
crawl workers.

The job is compact JSON compressed with zlib (no pickle); bytes are hex or base64.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import signal
import socket
import threading
import time
import zlib
from typing import Any

import lxml.html
import redis
from lxml import etree

from crawlbase.config import Config
from crawlcore.netguard import NetGuard
from crawlstore.clock import make_clock
from crawlstore.connection import Client, connect_redis
from crawlstore.crawls import CrawlStore
from crawlstore.frontier import Discovery, Frontier, PageResult
from crawlstore.mongo import connect, ensure_indexes

from .catalog import Catalog, CrawlInfo
from .committer import Committer
from .health import TelemetryServer
from .leases import Lease, LeaseBook
from .metrics import WorkerMetrics
from .pages import PageBuilder, PageOutput
from .processing import PageProcessor, Processed, ProcessingClient

__all__ = ["BACKLOG", "ProcessWorker", "decode_job", "encode_job", "queue_key"]

log = logging.getLogger(__name__)

#: Pages waiting in the list beyond which crawl workers stop leasing new requests.
BACKLOG = 256
#: Pages a process worker holds (processed, not yet committed) before it waits for its committer.
MAX_UNCOMMITTED = 200
HEARTBEAT_SECONDS = 5.0


def queue_key(prefix: str) -> str:
    """The Redis list of pages handed from crawl workers to process workers (one per deployment)."""
    return f"{prefix}:process"


def _links(links: Any) -> list[list[Any]]:
    return [[d.url, d.fp.hex(), d.host, d.processable, d.hop_delta] for d in links]


def encode_job(output: PageOutput, crawl: CrawlInfo, *, body: bytes, encoding: str, api_url: str) -> bytes:
    """A deferred page (PageBuilder.from_response with `pending.handoff`) as a list entry."""
    assert output.pending is not None and output.url_doc is not None
    res = output.result
    job = {
        "c": crawl.id, "m": output.lease.member.decode("latin-1"), "r": output.lease.round,
        "u": output.url_doc, "f": output.filtered, "a": api_url, "ru": output.pending.resolved_url,
        "res": [res.outcome, res.ok, res.processed, res.delay_ms, res.content_fp.hex(), _links(res.links)],
        "e": encoding, "b": base64.b64encode(body).decode("ascii"),
    }
    return zlib.compress(json.dumps(job, separators=(",", ":"), ensure_ascii=False).encode(), 1)


def decode_job(raw: bytes) -> tuple[PageOutput, str, str]:
    """(the page's output, still pending, its HTML as text, the apiUrl) of a list entry."""
    job = json.loads(zlib.decompress(raw))
    outcome, ok, processed, delay_ms, content_fp, links = job["res"]
    lease = Lease.parse(job["c"], job["m"].encode("latin-1"), int(job["r"]))
    result = PageResult(
        member=lease.member, fp=bytes.fromhex(job["u"]["fp"]), outcome=outcome, ok=ok, processed=processed,
        delay_ms=delay_ms, content_fp=bytes.fromhex(content_fp),
        links=[Discovery(u, bytes.fromhex(fp), host, proc, delta) for u, fp, host, proc, delta in links],
    )
    pending = Processed([], "", None, job["ru"], handoff=True)
    output = PageOutput(lease, result, job["u"], [], job["f"], pending)
    body = base64.b64decode(job["b"])
    return output, body.decode(job["e"] or "utf-8", errors="replace"), job["a"]


class ProcessWorker:
    """A worker of role `process`: takes handed-over pages, extracts, commits."""

    def __init__(self, config: Config, client: Client | None = None) -> None:
        self.config = config
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:process"
        self.client = client or connect_redis(config.redis_url, cluster=config.redis_cluster)
        self.frontier = Frontier(self.client, config.key_prefix, config.host_concurrency)
        self.db = connect(config.mongo_url, config.mongo_db)
        ensure_indexes(self.db)
        self.crawls = CrawlStore(self.frontier, self.db, lease_seconds=config.lease_seconds,
                                 clock=make_clock(config.clock, self.client, config.key_prefix))
        self.catalog = Catalog(self.client, self.frontier.keys)
        self.book = LeaseBook()
        self.processor = PageProcessor(ProcessingClient(
            concurrency=config.process_concurrency, timeout=config.process_timeout, tries=config.process_tries,
            user_agent=config.user_agent, guard=NetGuard.parse(config.allow_networks)),
            selector_timeout=config.selector_timeout)
        self.builder = PageBuilder(config.max_tries, processor=self.processor)
        self.metrics = WorkerMetrics(role="process", process=True)
        self.committer = Committer(
            self.frontier, self.crawls, self.crawls.output, self.catalog, self.book, self.builder,
            lease_ms=int(config.lease_seconds * 1000), on_committed=self._committed, metrics=self.metrics,
        )
        self.key = queue_key(config.key_prefix)
        self.halt = threading.Event()
        self.pages_done = 0
        self._beat = 0.0

    def _committed(self, outputs: list[PageOutput]) -> None:
        self.pages_done += len(outputs)

    def heartbeat(self) -> None:
        now = time.time()
        if now - self._beat < HEARTBEAT_SECONDS:
            return
        self._beat = now
        beat = {"pid": os.getpid(), "time": now, "leases": len(self.book), "pages": self.pages_done,
                "in_flight": 0, "role": "process"}
        try:
            self.client.hset(self.frontier.globals.workers, self.worker_id, json.dumps(beat))
        except redis.RedisError as exc:
            log.warning("heartbeat not written: %s", exc)

    def handle(self, raw: bytes) -> PageOutput | None:
        """Process one handed-over page: its finished output (None when the crawl is gone)."""
        output, html, api_url = decode_job(raw)
        lease = output.lease
        self.book.add(lease.crawl_id, [lease.member])  # renewed from now on
        crawl = self.catalog.get(lease.crawl_id)
        if crawl is None:
            self.book.remove(lease.crawl_id, [lease.member])
            return None
        try:
            return self._process(crawl, output, html, api_url)
        except Exception:
            self.book.remove(lease.crawl_id, [lease.member])  # it expires and is crawled again
            raise

    def _process(self, crawl: CrawlInfo, output: PageOutput, html: str, api_url: str) -> PageOutput:
        assert output.url_doc is not None and output.pending is not None
        lease = output.lease
        try:
            root = lxml.html.document_fromstring(html)
        except (etree.ParserError, ValueError):
            root = None
        if root is None:
            processed = Processed([], "Could not parse the page as HTML")
        else:
            processed = self.processor.process(
                api_url=api_url, selectors=crawl.definition.selectors, root=root, url=output.url_doc["url"],
                resolved_url=output.pending.resolved_url, fp=bytes.fromhex(output.url_doc["fp"]), crawl_id=crawl.id,
                crawl_name=crawl.name, crawl_round=lease.round, crawled=float(output.url_doc["crawled"]))
            if processed.pending is not None:  # not expected (crawl workers call services), but handled
                output.pending = processed
                return self.builder.completed(crawl, output, processed.pending.result())
        return self.builder.finished(crawl, output, processed)

    def serve_telemetry(self) -> TelemetryServer | None:
        """/metrics and /healthz on CRAWLFLEET_METRICS_PORT (0: none), as a crawl worker serves them;
        liveness is the age of the beat the main loop writes (at least once a second)."""
        if self.config.metrics_port == 0:
            return None
        self.metrics.track(lambda: len(self.book), lambda: 0)
        server = TelemetryServer(self.metrics, self.config.metrics_host, self.config.metrics_port,
                                 timeout_seconds=self.config.heartbeat_timeout)
        try:
            server.start()
        except OSError as exc:
            log.warning("telemetry: cannot serve on %s:%d (%s); this worker serves no /metrics or /healthz",
                        self.config.metrics_host, self.config.metrics_port, exc)
            return None
        log.info("metrics on http://%s:%d/metrics, liveness on /healthz", self.config.metrics_host, server.port)
        return server

    def run(self) -> None:
        """Serve until `halt` is set; then commit what was processed."""
        self.committer.start()
        telemetry = self.serve_telemetry()
        log.info("process worker %s taking pages from %s", self.worker_id, self.key)
        try:
            while not self.halt.is_set():
                self.metrics.beat()
                self.heartbeat()
                if self.committer.pending() >= MAX_UNCOMMITTED:
                    time.sleep(0.02)
                    continue
                try:
                    item = self.client.brpop([self.key], timeout=1)
                except redis.RedisError as exc:
                    log.warning("process worker: Redis unavailable: %s", exc)
                    self.halt.wait(1.0)
                    continue
                if item is None:
                    continue
                try:
                    raw = item[1]
                    output = self.handle(raw if isinstance(raw, bytes) else raw.encode("latin-1"))
                except Exception:  # a bad entry must not stop the worker; its lease expires and it is retried
                    log.exception("process worker: could not process a handed-over page")
                    continue
                if output is not None:
                    self.committer.submit(output)
        finally:
            if telemetry is not None:
                telemetry.stop()
            self.committer.stop()
            self.committer.join(timeout=60)
            self.processor.close()
            self.client.hdel(self.frontier.globals.workers, self.worker_id)


def run_process_worker(config: Config) -> None:
    """`crawlfleet worker` with CRAWLFLEET_ROLE=process: until SIGTERM or SIGINT."""
    from .extractors import warm_up

    worker = ProcessWorker(config)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.halt.set())
    warm_up()
    worker.run()
