"""Cluster gauges read from Redis when Prometheus scrapes: frontier depth, progress against limits,
lease reaps, for every active crawl.

Controller and workers both register a `FrontierCollector`, so the numbers are there whichever
of them Prometheus reaches (queries take `max by (crawl)`). Its cost is one pipeline per scrape
with four commands per *active* crawl, and its series are bounded the same way: labels are the
crawl id (and, on `crawlfleet_crawl_info`, its name and status), never a URL, host or pod.

    >>> registry = prometheus_client.CollectorRegistry()
    >>> registry.register(FrontierCollector(frontier))           # doctest: +SKIP
    >>> prometheus_client.generate_latest(registry)                                # doctest: +SKIP
    b'# HELP crawlfleet_frontier_queued_requests ...'
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .connection import text
from .frontier import Frontier

__all__ = ["FRONTIER_METRICS", "UNIT_SUFFIXES", "CollectErrors", "FrontierCollector"]

log = logging.getLogger(__name__)

#: The endings a crawlfleet metric name may have: its unit, or what it counts (tests check every name).
UNIT_SUFFIXES = ("_total", "_seconds", "_bytes", "_ratio", "_info", "_requests", "_hosts", "_pages",
                 "_crawls", "_workers", "_leases")

#: name -> (type, HELP) of every metric this module exports.
FRONTIER_METRICS: dict[str, tuple[str, str]] = {
    "crawlfleet_active_crawls": ("gauge", "Crawls in progress (status 7), which workers serve."),
    "crawlfleet_crawl_info": ("gauge", "Always 1 for an active crawl; its name and status are labels."),
    "crawlfleet_frontier_queued_requests": ("gauge", "Requests queued in the crawl's frontier, not leased."),
    "crawlfleet_frontier_in_flight_requests": ("gauge", "Requests of the crawl leased by workers right now."),
    "crawlfleet_frontier_due_hosts": (
        "gauge", "Hosts of the crawl with queued work that are due to be fetched now (politeness allows it) "
        "and not yet leased: the work waiting for a free worker."),
    "crawlfleet_frontier_scheduled_hosts": (
        "gauge", "Hosts of the crawl with queued work and a free slot, due now or later."),
    "crawlfleet_crawl_crawled_pages": ("gauge", "Pages the crawl fetched this round (what maxToCrawl limits)."),
    "crawlfleet_crawl_processed_pages": (
        "gauge", "Pages the crawl processed this round (what maxToProcess limits)."),
    "crawlfleet_crawl_max_to_crawl_pages": ("gauge", "The crawl's maxToCrawl."),
    "crawlfleet_crawl_max_to_process_pages": ("gauge", "The crawl's maxToProcess."),
    "crawlfleet_crawl_urls_harvested_total": ("counter", "Distinct URLs the crawl discovered (urlsHarvested)."),
    "crawlfleet_leases_reaped_total": (
        "counter", "Leases of the crawl that expired unrenewed and went back to the queue (a worker died "
        "or stalled), cluster-wide."),
    "crawlfleet_collect_errors_total": (
        "counter", "Scrapes where a collector could not read its store (its other metrics are missing then)."),
}

# job hash field -> metric (gauges), and the counters read from the same hash
_JOB_GAUGES = {
    "q": "crawlfleet_frontier_queued_requests",
    "crawled": "crawlfleet_crawl_crawled_pages",
    "processed": "crawlfleet_crawl_processed_pages",
    "max_crawl": "crawlfleet_crawl_max_to_crawl_pages",
    "max_proc": "crawlfleet_crawl_max_to_process_pages",
}
_JOB_COUNTERS = {
    "harvested": "crawlfleet_crawl_urls_harvested_total",
    "reaped": "crawlfleet_leases_reaped_total",
}
_JOB_FIELDS = ("status", "name", *_JOB_GAUGES, *_JOB_COUNTERS)


def _family(name: str, labels: Iterable[str]) -> GaugeMetricFamily | CounterMetricFamily:
    kind, doc = FRONTIER_METRICS[name]
    if kind == "counter":
        return CounterMetricFamily(name.removesuffix("_total"), doc, labels=list(labels))
    return GaugeMetricFamily(name, doc, labels=list(labels))


def _number(raw: Any) -> float:
    try:
        return float(text(raw) or 0)
    except ValueError:
        return 0.0


class CollectErrors:
    """A thread-safe count of failed collections, by collector (exported as a counter)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, collector: str) -> None:
        with self._lock:
            self._counts[collector] = self._counts.get(collector, 0) + 1

    def family(self) -> CounterMetricFamily:
        fam = CounterMetricFamily("crawlfleet_collect_errors", FRONTIER_METRICS["crawlfleet_collect_errors_total"][1],
                                  labels=["collector"])
        with self._lock:
            for name, count in sorted(self._counts.items()):
                fam.add_metric([name], count)
        return fam


class FrontierCollector(Collector):
    """Per active crawl: queue depth, leases, hosts due, progress, limits, reaps.

    `on_active` (optional) receives the set of active crawl ids at every scrape: a worker uses
    it to drop the series of crawls it no longer serves.
    """

    def __init__(
        self,
        frontier: Frontier,
        *,
        on_active: Callable[[set[str]], None] | None = None,
        errors: CollectErrors | None = None,
    ) -> None:
        self.frontier = frontier
        self.on_active = on_active
        self.errors = errors or CollectErrors()

    def describe(self) -> Iterable[Metric]:
        return []  # registering must not read Redis

    def collect(self) -> Iterator[Metric]:
        try:
            families = self._read()
        except Exception as exc:  # a scrape must still answer: the other metrics are worth having
            log.warning("frontier metrics unavailable: %s", exc)
            self.errors.add("frontier")
            families = []
        yield from families
        yield self.errors.family()

    def _read(self) -> list[Metric]:
        active = sorted(self.frontier.active())
        if self.on_active is not None:
            self.on_active(set(active))
        redis = self.frontier.redis
        seconds, micros = redis.time()
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        with redis.pipeline(transaction=False) as pipe:
            for crawl_id in active:
                k = self.frontier.keys(crawl_id)
                pipe.hmget(k.job, list(_JOB_FIELDS))
                pipe.zcard(k.leases)
                pipe.zcount(k.sched, "-inf", now_ms)
                pipe.zcard(k.sched)
            replies = pipe.execute() if active else []

        fams: dict[str, Any] = {name: _family(name, ["crawl"]) for name in FRONTIER_METRICS
                                if name not in ("crawlfleet_active_crawls", "crawlfleet_crawl_info",
                                                "crawlfleet_collect_errors_total")}
        info = _family("crawlfleet_crawl_info", ["crawl", "name", "status"])
        live = 0
        for i, crawl_id in enumerate(active):
            job, leased, due, scheduled = replies[4 * i: 4 * i + 4]
            values = dict(zip(_JOB_FIELDS, job, strict=True))
            if values["status"] is None:  # deleted between SMEMBERS and the pipeline
                continue
            live += 1
            info.add_metric([crawl_id, text(values["name"]), text(values["status"])], 1)
            for field, name in (*_JOB_GAUGES.items(), *_JOB_COUNTERS.items()):
                fams[name].add_metric([crawl_id], _number(values[field]))
            fams["crawlfleet_frontier_in_flight_requests"].add_metric([crawl_id], int(leased))
            fams["crawlfleet_frontier_due_hosts"].add_metric([crawl_id], int(due))
            fams["crawlfleet_frontier_scheduled_hosts"].add_metric([crawl_id], int(scheduled))
        count = _family("crawlfleet_active_crawls", [])
        count.add_metric([], live)
        return [count, info, *fams.values()]

