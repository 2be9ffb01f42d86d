"""The controller's /metrics (in-process, on the session's Redis and MongoDB-wire servers), and
the frontier gauges that the controller and the workers both export."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from controller.app import create_app
from crawlbase.config import Config
from crawlcore.definition import CrawlDefinition
from crawlstore.connection import connect_redis
from crawlstore.crawls import CrawlStore
from crawlstore.frontier import Frontier
from crawlstore.metrics import FrontierCollector
from crawlstore.mongo import connect


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def sample(text: str, metric: str, **labels: str) -> float | None:
    return samples(text).get((metric, tuple(sorted(labels.items()))))


@pytest.fixture
def stores(config: Config) -> Iterator[CrawlStore]:
    client = connect_redis(config.redis_url)
    db = connect(config.mongo_url, config.mongo_db)
    try:
        yield CrawlStore(Frontier(client, config.key_prefix, config.host_concurrency), db)
    finally:
        client.close()
        db.client.close()


@pytest.fixture
def client(config: Config) -> Iterator[TestClient]:
    with TestClient(create_app(config)) as c:
        yield c


def test_requests_are_counted_by_route_template_never_by_path(client: TestClient, config: Config) -> None:
    client.get("/healthz")
    client.get("/v3/crawl/download/secret-token-name_data.json")
    client.get("/v3//crawl", params={"token": "nope"})  # collapsed to /v3/crawl (CollapseSlashes); 401
    client.get("/wp-admin/setup.php?x=1")
    body = client.get("/metrics").text
    assert sample(body, "crawlfleet_http_requests_total", route="/healthz", method="GET", status="200") == 1
    assert sample(body, "crawlfleet_http_requests_total", route="/v3/crawl", method="GET", status="401") == 1
    assert sample(body, "crawlfleet_http_requests_total", route="unmatched", method="GET", status="404") == 1
    download = [k for k in samples(body) if k[0] == "crawlfleet_http_requests_total"
                and ("route", "/v3/crawl/download/{filename:path}") in k[1]]
    assert len(download) == 1
    assert "secret-token" not in body and "wp-admin" not in body
    assert sample(body, "crawlfleet_http_request_duration_seconds_count", route="/healthz", method="GET") == 1


def test_process_and_build_metrics(client: TestClient) -> None:
    body = client.get("/metrics").text
    assert (sample(body, "process_resident_memory_bytes") or 0) > 0
    assert "crawlfleet_build_info{" in body
    assert "_created" not in body


def test_crawls_by_status_live_workers_and_redis_memory(client: TestClient, stores: CrawlStore,
                                                        config: Config) -> None:
    crawl = stores.registry.create("tok", CrawlDefinition("ops", ("http://127.0.0.1:9/",)))
    stores.registry.create("tok", CrawlDefinition("none", ("http://127.0.0.1:9/",), url_crawl_pattern="^ftp:"))
    workers = stores.frontier.globals.workers
    now = time.time()
    stores.frontier.redis.hset(workers, mapping={
        "w1:1": json.dumps({"time": now}), "w2:2": json.dumps({"time": now - 1}),
        "dead:3": json.dumps({"time": now - config.heartbeat_timeout - 5}), "junk:4": "{not json",
    })
    body = client.get("/metrics").text
    assert sample(body, "crawlfleet_crawls", status="7") == 1
    assert sample(body, "crawlfleet_crawls", status="5") == 1  # no URLs: every seed filtered out
    assert sample(body, "crawlfleet_crawls", status="9") == 0  # every status has a series
    assert sample(body, "crawlfleet_live_workers") == 2
    assert (sample(body, "crawlfleet_redis_memory_used_bytes") or 0) > 0
    assert sample(body, "crawlfleet_redis_memory_max_bytes") == 0  # the test Redis has no maxmemory
    assert (sample(body, "crawlfleet_redis_cpu_seconds_total") or 0) > 0
    assert sample(body, "crawlfleet_active_crawls") == 1
    assert sample(body, "crawlfleet_crawl_info", crawl=crawl.id, name="ops", status="7") == 1
    assert sample(body, "crawlfleet_frontier_queued_requests", crawl=crawl.id) == 1


def test_a_store_outage_costs_its_metrics_not_the_scrape(config: Config) -> None:
    app = create_app(config)
    with TestClient(app) as c:
        services = app.state.services
        broken: Any = connect_redis("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
        services.redis = broken
        services.crawls.frontier.redis = broken
        resp = c.get("/metrics")
        assert resp.status_code == 200
        body = resp.text
        assert sample(body, "crawlfleet_crawls", status="7") is not None  # MongoDB still answers
        assert sample(body, "crawlfleet_live_workers") is None
        assert sample(body, "crawlfleet_collect_errors_total", collector="workers") == 1
        assert sample(body, "crawlfleet_collect_errors_total", collector="frontier") == 1
        assert "process_cpu_seconds_total" in body


# --------------------------------------------------------------------------- the frontier collector


def test_frontier_gauges_per_active_crawl(stores: CrawlStore) -> None:
    seeds = tuple(f"http://127.0.0.{i}:9/" for i in range(2, 7))
    crawl = stores.registry.create("tok", CrawlDefinition("five", seeds, max_to_crawl=50, max_to_process=20))
    paused = stores.registry.create("tok", CrawlDefinition("later", ("http://127.0.0.1:9/",)))
    stores.frontier.sync_active(paused.id, None)  # not active: not reported
    frontier = stores.frontier
    popped = frontier.pop(crawl.id, 2, 60_000)
    assert len(popped.members) == 2
    seen: list[set[str]] = []
    text = "\n".join(_expose(FrontierCollector(frontier, on_active=seen.append)))
    assert seen == [{crawl.id}]
    assert sample(text, "crawlfleet_frontier_queued_requests", crawl=crawl.id) == 3
    assert sample(text, "crawlfleet_frontier_in_flight_requests", crawl=crawl.id) == 2
    assert sample(text, "crawlfleet_frontier_due_hosts", crawl=crawl.id) == 3  # robots unknown: one at a time
    assert sample(text, "crawlfleet_frontier_scheduled_hosts", crawl=crawl.id) == 3
    assert sample(text, "crawlfleet_crawl_max_to_crawl_pages", crawl=crawl.id) == 50
    assert sample(text, "crawlfleet_crawl_max_to_process_pages", crawl=crawl.id) == 20
    assert sample(text, "crawlfleet_crawl_crawled_pages", crawl=crawl.id) == 0
    assert sample(text, "crawlfleet_crawl_urls_harvested_total", crawl=crawl.id) == 5
    assert sample(text, "crawlfleet_leases_reaped_total", crawl=crawl.id) == 0
    assert sample(text, "crawlfleet_active_crawls") == 1
    assert paused.id not in text


def _expose(collector: FrontierCollector) -> list[str]:
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    registry.register(collector)
    return [generate_latest(registry).decode()]
