"""Scrapy components that observe a worker: the telemetry extension and the fetch-metrics middleware.

`Telemetry` (an extension) serves `/metrics` and `/healthz` on CRAWLFLEET_METRICS_PORT and
beats from the reactor every `BEAT_SECONDS`; it switches itself off (`NotConfigured`) when the
port is 0. `FetchMetrics` (a downloader middleware next to the downloader) counts every crawl
page's response or download error, its size and latency. Both only translate events into calls
on the worker's `WorkerMetrics` (`spider.fleet.metrics`).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall

from crawlbase.config import Config
from crawlstore.metrics import FrontierCollector

from .health import TelemetryServer
from .metrics import WorkerMetrics

__all__ = ["BEAT_SECONDS", "FetchMetrics", "Telemetry"]

log = logging.getLogger(__name__)

BEAT_SECONDS = 1.0  # how often the reactor proves it runs (liveness tolerates CRAWLFLEET_HEARTBEAT_TIMEOUT)


def _metrics(spider: Spider | None) -> WorkerMetrics | None:
    fleet = getattr(spider, "fleet", None)
    return getattr(fleet, "metrics", None)


class Telemetry:
    def __init__(self, crawler: Crawler, host: str, port: int, heartbeat_timeout: float,
                 clock: IReactorTime | None = None) -> None:
        self.crawler = crawler
        self.host = host
        self.port = port
        self.heartbeat_timeout = heartbeat_timeout
        self.clock = clock  # the reactor (None), or a test clock
        self.server: TelemetryServer | None = None
        self._beat: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Telemetry:
        config: Config = crawler.settings.get("CRAWLFLEET_CONFIG") or Config.from_env()
        if config.metrics_port == 0:
            raise NotConfigured("CRAWLFLEET_METRICS_PORT is 0")
        ext = cls(crawler, config.metrics_host, config.metrics_port, config.heartbeat_timeout)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        metrics = _metrics(spider)
        if metrics is None:
            log.warning("telemetry: the spider has no fleet; no metrics served")
            return
        fleet: Any = spider.fleet  # type: ignore[attr-defined]
        metrics.registry.register(FrontierCollector(fleet.frontier, on_active=metrics.retire))
        metrics.track(lambda: len(fleet.book), lambda: fleet.in_engine)
        self._beat = LoopingCall(metrics.beat)
        if self.clock is not None:
            self._beat.clock = self.clock
        self._beat.start(BEAT_SECONDS, now=True)
        server = TelemetryServer(metrics, self.host, self.port, timeout_seconds=self.heartbeat_timeout)
        try:
            server.start()
        except OSError as exc:  # e.g. two workers on one machine with the same port: crawl on without metrics
            log.warning("telemetry: cannot serve on %s:%d (%s); this worker serves no /metrics or /healthz",
                        self.host, self.port, exc)
            return
        self.server = server
        log.info("metrics on http://%s:%d/metrics, liveness on /healthz", self.host, server.port)

    def spider_closed(self, spider: Spider) -> None:
        if self._beat is not None and self._beat.running:
            self._beat.stop()
        if self.server is not None:
            self.server.stop()
            self.server = None


class FetchMetrics:
    """Downloader middleware: counts what the downloader returned for requests of a lease."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FetchMetrics:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        lease = request.meta.get("cf_lease")
        metrics = _metrics(self.crawler.spider)
        if lease is not None and metrics is not None:
            latency = request.meta.get("download_latency")
            metrics.fetched(lease.crawl_id, response.status, len(response.body),
                            float(latency) if latency is not None else None)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        lease = request.meta.get("cf_lease")
        metrics = _metrics(self.crawler.spider)
        if lease is not None and metrics is not None and not isinstance(exception, IgnoreRequest):
            metrics.fetch_failed(lease.crawl_id)
