"""The controller's Prometheus metrics, served on `/metrics`.

- HTTP requests by route *template* (`/v3/crawl/download/{filename:path}`, never the raw path;
  `unmatched` for 404s), method and status, with their latency;
- crawls by status (the MongoDB registry), live workers (fresh heartbeats in Redis), Redis
  memory against its `maxmemory`, and the frontier gauges of `crawlstore.metrics`;
- process_* and python_info of the controller process.

Store-backed numbers are read when Prometheus scrapes, with short timeouts; a store that does
not answer costs its own metrics (and counts in crawlfleet_collect_errors_total), not the scrape.

    app = Starlette(routes=[*metrics.routes, ...])
    metrics.instrument(app)          # before other middleware that copies the scope
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

import pymongo
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from redis.cluster import RedisCluster
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crawlcore.status import Status
from crawlstore.metrics import CollectErrors, FrontierCollector

__all__ = ["CONTROLLER_METRICS", "ControllerMetrics", "RequestMetrics", "instrument", "routes"]

log = logging.getLogger(__name__)

STORE_TIMEOUT = 5.0  # seconds a scrape waits for MongoDB

#: name -> (type, HELP) of every metric the controller defines itself.
CONTROLLER_METRICS: dict[str, tuple[str, str]] = {
    "crawlfleet_http_requests_total": ("counter", "HTTP requests answered, by route template, method and status."),
    "crawlfleet_http_request_duration_seconds": ("histogram", "Time to answer an HTTP request, by route template."),
    "crawlfleet_crawls": ("gauge", "Crawls in the registry (MongoDB), by jobStatus code."),
    "crawlfleet_live_workers": (
        "gauge", "Workers whose heartbeat in Redis is fresher than CRAWLFLEET_HEARTBEAT_TIMEOUT."),
    "crawlfleet_redis_memory_used_bytes": ("gauge", "Memory Redis uses (INFO used_memory)."),
    "crawlfleet_redis_memory_max_bytes": ("gauge", "Redis maxmemory (0: no limit set)."),
    "crawlfleet_redis_cpu_seconds_total": (
        "counter", "CPU time Redis has used (INFO used_cpu_sys + used_cpu_user; summed over the primaries of a "
        "Redis Cluster): over pages fetched, the Redis cost per page that sizes the cluster."),
    "crawlfleet_build_info": ("info", "Always 1: the crawlfleet version."),
}

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ClusterCollector(Collector):
    """Crawls by status, live workers and Redis memory, read from the app's stores at scrape time."""

    def __init__(self, app: Starlette, errors: CollectErrors) -> None:
        self.app = app
        self.errors = errors
        self._frontier: FrontierCollector | None = None

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        svc = getattr(self.app.state, "services", None)
        if svc is None:  # not started (or already stopped): nothing to read
            return
        for name, read in (("crawls", self._crawls), ("workers", self._workers), ("redis", self._redis)):
            try:
                yield from read(svc)
            except Exception as exc:  # one store down must not cost the rest of the scrape
                log.warning("%s metrics unavailable: %s", name, exc)
                self.errors.add(name)
        if self._frontier is None or self._frontier.frontier is not svc.crawls.frontier:
            self._frontier = FrontierCollector(svc.crawls.frontier, errors=self.errors)
        yield from self._frontier.collect()  # ends with crawlfleet_collect_errors_total

    @staticmethod
    def _crawls(svc: Any) -> list[Metric]:
        with pymongo.timeout(STORE_TIMEOUT):
            rows = list(svc.db.crawls.aggregate([{"$group": {"_id": "$status", "n": {"$sum": 1}}}]))
        counts = {int(s): 0 for s in Status}
        for row in rows:
            if row["_id"] is not None:
                counts[int(row["_id"])] = int(row["n"])
        fam = GaugeMetricFamily("crawlfleet_crawls", CONTROLLER_METRICS["crawlfleet_crawls"][1], labels=["status"])
        for status, n in sorted(counts.items()):
            fam.add_metric([str(status)], n)
        return [fam]

    @staticmethod
    def _workers(svc: Any) -> list[Metric]:
        beats = svc.redis.hgetall(svc.crawls.frontier.globals.workers)
        now = time.time()
        live = 0
        for raw in beats.values():
            try:
                beat = json.loads(raw)
            except ValueError:
                continue
            if now - float(beat.get("time", 0)) <= svc.config.heartbeat_timeout:
                live += 1
        fam = GaugeMetricFamily("crawlfleet_live_workers", CONTROLLER_METRICS["crawlfleet_live_workers"][1])
        fam.add_metric([], live)
        return [fam]

    @staticmethod
    def _redis(svc: Any) -> list[Metric]:
        client = svc.redis
        if isinstance(client, RedisCluster):  # the fullest primary is the one that matters
            infos = list(client.info("memory", target_nodes=RedisCluster.PRIMARIES).values())
            cpus = list(client.info("cpu", target_nodes=RedisCluster.PRIMARIES).values())
        else:
            infos = [client.info("memory")]
            cpus = [client.info("cpu")]

        def fill(info: dict[str, Any]) -> float:
            limit = float(info.get("maxmemory", 0) or 0)
            return float(info.get("used_memory", 0)) / limit if limit else 0.0

        info = max(infos, key=fill)
        used = GaugeMetricFamily("crawlfleet_redis_memory_used_bytes",
                                 CONTROLLER_METRICS["crawlfleet_redis_memory_used_bytes"][1])
        used.add_metric([], float(info.get("used_memory", 0)))
        limit = GaugeMetricFamily("crawlfleet_redis_memory_max_bytes",
                                  CONTROLLER_METRICS["crawlfleet_redis_memory_max_bytes"][1])
        limit.add_metric([], float(info.get("maxmemory", 0) or 0))
        cpu = CounterMetricFamily("crawlfleet_redis_cpu", CONTROLLER_METRICS["crawlfleet_redis_cpu_seconds_total"][1],
                                  unit="seconds")
        cpu.add_metric([], sum(float(c.get("used_cpu_sys", 0)) + float(c.get("used_cpu_user", 0)) for c in cpus))
        return [used, limit, cpu]


class ControllerMetrics:
    """The controller's registry and request metrics. Constructing it does no I/O."""

    def __init__(self, app: Starlette | None = None, *, process: bool = True) -> None:
        disable_created_metrics()  # *_created series would double the series count for no query we make
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("crawlfleet_http_requests", CONTROLLER_METRICS["crawlfleet_http_requests_total"][1],
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("crawlfleet_http_request_duration_seconds",
                                 CONTROLLER_METRICS["crawlfleet_http_request_duration_seconds"][1],
                                 ["route", "method"], buckets=LATENCY_BUCKETS, registry=self.registry)
        Info("crawlfleet_build", CONTROLLER_METRICS["crawlfleet_build_info"][1],
             registry=self.registry).info({"version": _version()})
        if process:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
        if app is not None:
            self.registry.register(ClusterCollector(app, CollectErrors()))

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)


_METHODS = frozenset({"GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"})


class RequestMetrics:
    """ASGI middleware: counts and times every HTTP request by the route that matched."""

    def __init__(self, app: ASGIApp, metrics: ControllerMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"] if scope["method"] in _METHODS else "other"
            self.metrics.observe(route, method, status, time.perf_counter() - start)


def instrument(app: Starlette) -> ControllerMetrics:
    """Give the app its metrics: the registry on `app.state.metrics` and the request middleware."""
    metrics = ControllerMetrics(app)
    app.state.metrics = metrics
    app.add_middleware(RequestMetrics, metrics=metrics)
    return metrics


async def metrics_endpoint(request: Request) -> Response:
    metrics: ControllerMetrics = request.app.state.metrics
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    body = await run_in_threadpool(encoder, metrics.registry)  # collectors read the stores
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


routes = [Route("/metrics", metrics_endpoint)]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("crawlfleet")
    except PackageNotFoundError:
        return "unknown"
