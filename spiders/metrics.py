"""A worker's Prometheus metrics: one registry per worker, written by the reactor, feeder and
committer threads (prometheus-client is thread-safe), served by `spiders.health`.

Labels are the crawl id and the worker's role, plus small fixed sets (status class, operation);
never a URL, host or pod name: a worker's series grow with the crawls it serves, not with the
hosts they visit, and the series of a crawl that stopped being active are dropped after
`RETIRE_AFTER` seconds.

    >>> m = WorkerMetrics(role="worker")
    >>> m.fetched("c0ffee", 200, 5120, 0.25)
    >>> m.registry.get_sample_value("crawlfleet_pages_fetched_total",
    ...                             {"crawl": "c0ffee", "role": "worker", "status_class": "2xx"})
    1.0
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

from crawlcore.report import Outcome as RecordOutcome
from crawlstore.frontier import Outcome

__all__ = ["RETIRE_AFTER", "STATUS_CLASSES", "WORKER_METRICS", "WorkerMetrics", "status_class"]

RETIRE_AFTER = 600.0  # seconds a crawl's series stay after it was last seen active
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx", "error")  # created up front for every crawl: queries see 0, not nothing

LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)

#: name -> (type, HELP, labels) of every metric a worker defines itself (the frontier gauges
#: come from `crawlstore.metrics`, process_* from prometheus-client).
WORKER_METRICS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "crawlfleet_pages_fetched_total": (
        "counter", "Crawl pages downloaded, by HTTP status class (1xx..5xx, other), or `error` when no response "
        "came back (timeout, DNS, refused connection). robots.txt files are not counted.",
        ("crawl", "role", "status_class")),
    "crawlfleet_downloaded_bytes_total": (
        "counter", "Bytes of response bodies downloaded for crawl pages.", ("crawl", "role")),
    "crawlfleet_fetch_duration_seconds": (
        "histogram", "Download latency of crawl pages: from sending the request to the response headers.",
        ("crawl", "role")),
    "crawlfleet_pages_processed_total": (
        "counter", "Pages whose processing was attempted (they matched the crawl's process patterns), committed.",
        ("crawl", "role")),
    "crawlfleet_objects_stored_total": ("counter", "Objects written to MongoDB and committed.", ("crawl", "role")),
    "crawlfleet_robots_blocked_total": ("counter", "URLs robots.txt disallowed (recorded, not fetched).",
                                        ("crawl", "role")),
    "crawlfleet_urls_filtered_total": (
        "counter", "Links found on pages that the crawl's scope or patterns left out.", ("crawl", "role")),
    "crawlfleet_links_reported_total": (
        "counter", "In-scope links sent to the frontier (new URLs, dedupe hits, and links past maxHops).",
        ("crawl", "role")),
    "crawlfleet_dedupe_hits_total": (
        "counter", "Links sent to the frontier that the crawl's seen store knew already (exact or Bloom).",
        ("crawl", "role")),
    "crawlfleet_leases_taken_total": ("counter", "Requests leased from the frontier.", ("crawl", "role")),
    "crawlfleet_leases_acknowledged_total": (
        "counter", "Leases acknowledged with their result, after the output was stored.", ("crawl", "role")),
    "crawlfleet_leases_lost_total": (
        "counter", "Results committed after their lease had expired (another try owned the request).",
        ("crawl", "role")),
    "crawlfleet_retries_total": (
        "counter", "Downloads that failed (error or retryable status) and went back to the queue.",
        ("crawl", "role")),
    "crawlfleet_failures_total": (
        "counter", "URLs recorded as failed after their last try.", ("crawl", "role")),
    "crawlfleet_redis_operation_duration_seconds": (
        "histogram", "Latency of the worker's Redis operations (one Lua script call or pipeline each).",
        ("role", "operation")),
    "crawlfleet_mongodb_operation_duration_seconds": (
        "histogram", "Latency of the worker's MongoDB operations.", ("role", "operation")),
    "crawlfleet_worker_held_leases": ("gauge", "Leases this worker holds (downloading, buffered or committing).",
                                      ("role",)),
    "crawlfleet_worker_in_flight_requests": ("gauge", "Requests handed to Scrapy whose output has not come back.",
                                             ("role",)),
    "crawlfleet_worker_heartbeat_age_seconds": (
        "gauge", "Seconds since the worker's event loop last beat (liveness fails past CRAWLFLEET_HEARTBEAT_TIMEOUT).",
        ("role",)),
    "crawlfleet_build_info": ("info", "Always 1: the crawlfleet version.", ()),
}

_PER_CRAWL = tuple(name for name, (_, _, labels) in WORKER_METRICS.items() if "crawl" in labels)


def status_class(status: int) -> str:
    """The `status_class` label of an HTTP status.

    >>> status_class(404), status_class(99)
    ('4xx', 'other')
    """
    return f"{status // 100}xx" if 100 <= status < 600 else "other"


class WorkerMetrics:
    """Every metric of one worker process, in its own registry. Constructing it does no I/O."""

    def __init__(self, role: str = "worker", *, clock: Callable[[], float] = time.monotonic,
                 process: bool = False) -> None:
        self.role = role
        self.clock = clock
        disable_created_metrics()  # *_created series would double the series count for no query we make
        self.registry = CollectorRegistry(auto_describe=True)
        if process:  # process_* and python_info; only for the registry a real process serves
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
        self._m: dict[str, Any] = {}
        for name, (kind, doc, labels) in WORKER_METRICS.items():
            if kind == "counter":
                self._m[name] = Counter(name.removesuffix("_total"), doc, labels, registry=self.registry)
            elif kind == "histogram":
                buckets = LATENCY_BUCKETS if name == "crawlfleet_fetch_duration_seconds" else STORE_BUCKETS
                self._m[name] = Histogram(name, doc, labels, buckets=buckets, registry=self.registry)
            elif kind == "gauge":
                self._m[name] = Gauge(name, doc, labels, registry=self.registry)
            else:
                self._m[name] = Info(name.removesuffix("_info"), doc, registry=self.registry)
        self._m["crawlfleet_build_info"].info({"version": _version()})
        self._lock = threading.Lock()
        self._seen: dict[str, float] = {}  # crawl id -> when last active or written
        self._beat = clock()
        self._m["crawlfleet_worker_heartbeat_age_seconds"].labels(role).set_function(self.heartbeat_age)

    # ------------------------------------------------------------------ per crawl

    def _c(self, name: str, crawl_id: str, *extra: str) -> Any:
        with self._lock:
            first = crawl_id not in self._seen
            self._seen[crawl_id] = self.clock()
        if first:  # every series of the crawl exists from its first event: rate() sees 0s, not gaps
            for metric in _PER_CRAWL:
                if metric == "crawlfleet_pages_fetched_total":
                    for cls in STATUS_CLASSES:
                        self._m[metric].labels(crawl_id, self.role, cls)
                else:
                    self._m[metric].labels(crawl_id, self.role)
        return self._m[name].labels(crawl_id, self.role, *extra)

    def fetched(self, crawl_id: str, status: int, size: int, latency: float | None) -> None:
        """A crawl page's response arrived (reactor thread)."""
        self._c("crawlfleet_pages_fetched_total", crawl_id, status_class(status)).inc()
        self._c("crawlfleet_downloaded_bytes_total", crawl_id).inc(size)
        if latency is not None:
            self._c("crawlfleet_fetch_duration_seconds", crawl_id).observe(latency)

    def fetch_failed(self, crawl_id: str) -> None:
        """A crawl page's download ended without a response (reactor thread)."""
        self._c("crawlfleet_pages_fetched_total", crawl_id, "error").inc()

    def leased(self, crawl_id: str, count: int) -> None:
        """The feeder leased `count` requests of a crawl."""
        if count:
            self._c("crawlfleet_leases_taken_total", crawl_id).inc(count)

    def committed(self, crawl_id: str, outputs: Sequence[Any], lost: int, duplicates: Collection[int] = (),
                  seen_hits: int = 0) -> None:
        """The committer stored and acknowledged the outputs (PageOutput) of one crawl; the
        outputs at the indexes `duplicates` had content seen before: not processed after all,
        their objects removed. `seen_hits`: links of theirs the frontier had seen already."""
        processed = objects = blocked = retries = failures = links = filtered = 0
        for index, out in enumerate(outputs):
            result = out.result
            if index not in duplicates:
                processed += bool(result.processed)
                objects += result.objects
            links += len(result.links) if result.outcome in (Outcome.FETCHED, Outcome.EXPANDED) else 0
            filtered += out.filtered
            if result.outcome == Outcome.BLOCKED:
                blocked += not (out.url_doc or {}).get("error")  # with an error: the network guard, not robots.txt
            elif result.outcome == Outcome.RETRY:
                retries += 1
            elif out.url_doc is not None and out.url_doc.get("outcome") == RecordOutcome.FAILED:
                failures += 1
        for name, value in (
            ("crawlfleet_leases_acknowledged_total", len(outputs) - lost),
            ("crawlfleet_leases_lost_total", lost),
            ("crawlfleet_pages_processed_total", processed),
            ("crawlfleet_objects_stored_total", objects),
            ("crawlfleet_robots_blocked_total", blocked),
            ("crawlfleet_retries_total", retries),
            ("crawlfleet_failures_total", failures),
            ("crawlfleet_links_reported_total", links),
            ("crawlfleet_urls_filtered_total", filtered),
            ("crawlfleet_dedupe_hits_total", seen_hits),
        ):
            counter = self._c(name, crawl_id)
            if value:
                counter.inc(value)

    def retire(self, active: Iterable[str]) -> None:
        """Drop the series of crawls not active (nor written) for RETIRE_AFTER seconds."""
        now = self.clock()
        with self._lock:
            for crawl_id in active:
                if crawl_id in self._seen:
                    self._seen[crawl_id] = now
            gone = [c for c, seen in self._seen.items() if now - seen > RETIRE_AFTER]
            for crawl_id in gone:
                del self._seen[crawl_id]
        for crawl_id in gone:
            for metric in _PER_CRAWL:
                classes = (*STATUS_CLASSES, "1xx", "other") if metric == "crawlfleet_pages_fetched_total" else ("",)
                for cls in classes:
                    with contextlib.suppress(KeyError):
                        self._m[metric].remove(crawl_id, self.role, *((cls,) if cls else ()))

    # ------------------------------------------------------------------ stores

    @contextlib.contextmanager
    def redis_op(self, operation: str) -> Iterator[None]:
        """Time one Redis operation: `with metrics.redis_op("pop"): ...`."""
        with self._m["crawlfleet_redis_operation_duration_seconds"].labels(self.role, operation).time():
            yield

    @contextlib.contextmanager
    def mongodb_op(self, operation: str) -> Iterator[None]:
        with self._m["crawlfleet_mongodb_operation_duration_seconds"].labels(self.role, operation).time():
            yield

    # ------------------------------------------------------------------ process state

    def track(self, held: Callable[[], float], in_flight: Callable[[], float]) -> None:
        """Read the worker's lease count and requests in flight at scrape time."""
        self._m["crawlfleet_worker_held_leases"].labels(self.role).set_function(held)
        self._m["crawlfleet_worker_in_flight_requests"].labels(self.role).set_function(in_flight)

    def beat(self) -> None:
        """Called from the event loop: proves it is running."""
        self._beat = self.clock()

    def heartbeat_age(self) -> float:
        return max(0.0, self.clock() - self._beat)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("crawlfleet")
    except PackageNotFoundError:
        return "unknown"
