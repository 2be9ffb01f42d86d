"""A worker's metrics, its HTTP port and its Scrapy components, in-process (no servers)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError
from twisted.internet.task import Clock

from crawlbase.config import Config
from crawlcore.report import Outcome as RecordOutcome
from crawlstore.frontier import Discovery, PageResult
from crawlstore.frontier import Outcome as Kind
from spiders import health
from spiders.extensions import FetchMetrics, Telemetry
from spiders.health import TelemetryServer
from spiders.leases import Lease
from spiders.metrics import RETIRE_AFTER, WorkerMetrics, status_class
from spiders.pages import PageOutput

CONFIG = Config.from_env({"REDIS_URL": "redis://127.0.0.1:1/0", "MONGO_URL": "mongodb://127.0.0.1:1/"})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def value(m: WorkerMetrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(name, {"role": "worker", **labels})


def lease(crawl: str = "c1", url: str = "http://a.example/") -> Lease:
    return Lease.parse(crawl, f'a.example C{{"u":"{url}","h":1}}'.encode())


def output(kind: str, *, crawl: str = "c1", processed: bool = False, objects: int = 0, links: int = 0,
           failed: bool = False) -> PageOutput:
    found = [Discovery(f"http://a.example/{i}", b"12345678", "a.example", True) for i in range(links)]
    result = PageResult(member=b"m", fp=b"12345678", outcome=kind, processed=processed, objects=objects,
                        links=found)
    url_doc = {"outcome": str(RecordOutcome.FAILED if failed else RecordOutcome.FETCHED)}
    return PageOutput(lease(crawl), result, url_doc if kind in (Kind.FETCHED, Kind.BLOCKED) else None)


# --------------------------------------------------------------------------- WorkerMetrics


@pytest.mark.parametrize(("status", "cls"), [(200, "2xx"), (301, "3xx"), (404, "4xx"), (503, "5xx"), (100, "1xx"),
                                              (0, "other"), (600, "other")])
def test_status_class(status: int, cls: str) -> None:
    assert status_class(status) == cls


def test_fetches_count_by_crawl_and_status_class_with_bytes_and_latency() -> None:
    m = WorkerMetrics()
    m.fetched("c1", 200, 1000, 0.2)
    m.fetched("c1", 200, 500, 0.4)
    m.fetched("c1", 404, 10, None)
    m.fetch_failed("c1")
    assert value(m, "crawlfleet_pages_fetched_total", crawl="c1", status_class="2xx") == 2
    assert value(m, "crawlfleet_pages_fetched_total", crawl="c1", status_class="4xx") == 1
    assert value(m, "crawlfleet_pages_fetched_total", crawl="c1", status_class="error") == 1
    assert value(m, "crawlfleet_pages_fetched_total", crawl="c1", status_class="5xx") == 0  # exists from the start
    assert value(m, "crawlfleet_downloaded_bytes_total", crawl="c1") == 1510
    assert value(m, "crawlfleet_fetch_duration_seconds_count", crawl="c1") == 2
    assert value(m, "crawlfleet_fetch_duration_seconds_bucket", crawl="c1", le="0.25") == 1


def test_a_new_crawl_gets_every_series_at_zero() -> None:
    m = WorkerMetrics()
    m.leased("c9", 3)
    for name in ("crawlfleet_retries_total", "crawlfleet_failures_total", "crawlfleet_robots_blocked_total",
                 "crawlfleet_leases_acknowledged_total", "crawlfleet_objects_stored_total"):
        assert value(m, name, crawl="c9") == 0, name
    assert value(m, "crawlfleet_leases_taken_total", crawl="c9") == 3


def test_committed_outputs_are_counted_by_outcome() -> None:
    m = WorkerMetrics()
    outs = [
        output(Kind.FETCHED, processed=True, objects=1, links=4),
        output(Kind.FETCHED, processed=True, objects=0, links=2),
        output(Kind.FETCHED, failed=True),
        output(Kind.BLOCKED),
        output(Kind.RETRY, links=9),  # a retry's links are not sent on
        output(Kind.EXPANDED, links=3),
    ]
    m.committed("c1", outs, lost=1)
    expected = {
        "crawlfleet_leases_acknowledged_total": 5, "crawlfleet_leases_lost_total": 1,
        "crawlfleet_pages_processed_total": 2, "crawlfleet_objects_stored_total": 1,
        "crawlfleet_robots_blocked_total": 1, "crawlfleet_retries_total": 1, "crawlfleet_failures_total": 1,
        "crawlfleet_links_reported_total": 9, "crawlfleet_urls_filtered_total": 0,
    }
    assert {name: value(m, name, crawl="c1") for name in expected} == expected


def test_filtered_links_are_counted_when_the_page_output_reports_them() -> None:
    m = WorkerMetrics()
    out = output(Kind.FETCHED, links=2)
    out.filtered = 7  # links the crawl's scope or patterns left out (set by the page builder)
    m.committed("c1", [out], lost=0)
    assert value(m, "crawlfleet_urls_filtered_total", crawl="c1") == 7


def test_content_duplicates_are_not_processed_and_guard_blocks_are_not_robots_blocks() -> None:
    m = WorkerMetrics()
    guarded = output(Kind.BLOCKED)
    assert guarded.url_doc is not None
    guarded.url_doc["error"] = "BlockedAddress: 10.0.0.1 is a private address"
    outs = [output(Kind.FETCHED, processed=True, objects=1), output(Kind.FETCHED, processed=True, objects=1),
            output(Kind.BLOCKED), guarded]
    m.committed("c1", outs, lost=0, duplicates={1})
    assert value(m, "crawlfleet_pages_processed_total", crawl="c1") == 1
    assert value(m, "crawlfleet_objects_stored_total", crawl="c1") == 1
    assert value(m, "crawlfleet_robots_blocked_total", crawl="c1") == 1
    assert value(m, "crawlfleet_leases_acknowledged_total", crawl="c1") == 4


def test_series_of_inactive_crawls_are_retired() -> None:
    clock = FakeClock()
    m = WorkerMetrics(clock=clock)
    m.fetched("old", 200, 1, 0.1)
    m.fetched("busy", 200, 1, 0.1)
    clock.now += RETIRE_AFTER / 2
    m.retire({"busy"})
    assert value(m, "crawlfleet_pages_fetched_total", crawl="old", status_class="2xx") == 1
    clock.now += RETIRE_AFTER
    m.retire({"busy"})
    assert value(m, "crawlfleet_pages_fetched_total", crawl="old", status_class="2xx") is None
    assert value(m, "crawlfleet_fetch_duration_seconds_count", crawl="old") is None
    assert value(m, "crawlfleet_pages_fetched_total", crawl="busy", status_class="2xx") == 1
    m.fetched("old", 200, 1, 0.1)  # it came back: counted from zero again
    assert value(m, "crawlfleet_pages_fetched_total", crawl="old", status_class="2xx") == 1


def test_store_operations_are_timed_by_operation() -> None:
    m = WorkerMetrics()
    with m.redis_op("pop"):
        pass
    with pytest.raises(ValueError), m.mongodb_op("write"):
        raise ValueError("a failed write is timed too")
    assert value(m, "crawlfleet_redis_operation_duration_seconds_count", operation="pop") == 1
    assert value(m, "crawlfleet_mongodb_operation_duration_seconds_count", operation="write") == 1


def test_heartbeat_age_and_tracked_state() -> None:
    clock = FakeClock()
    m = WorkerMetrics(clock=clock)
    m.track(lambda: 12, lambda: 5)
    clock.now += 7
    assert value(m, "crawlfleet_worker_heartbeat_age_seconds") == 7
    m.beat()
    assert value(m, "crawlfleet_worker_heartbeat_age_seconds") == 0
    assert value(m, "crawlfleet_worker_held_leases") == 12
    assert value(m, "crawlfleet_worker_in_flight_requests") == 5


# --------------------------------------------------------------------------- the HTTP port


@pytest.fixture
def served() -> Iterator[tuple[WorkerMetrics, FakeClock, str]]:
    clock = FakeClock()
    metrics = WorkerMetrics(clock=clock)
    server = TelemetryServer(metrics, "127.0.0.1", 0, timeout_seconds=30)
    server.start()
    try:
        yield metrics, clock, f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def test_metrics_endpoint(served: tuple[WorkerMetrics, FakeClock, str]) -> None:
    metrics, _, base = served
    metrics.fetched("c1", 200, 10, 0.1)
    status, content_type, body = get(base + "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    assert 'crawlfleet_pages_fetched_total{crawl="c1",role="worker",status_class="2xx"} 1.0' in body
    assert "_created" not in body


def test_healthz_follows_the_event_loop_heartbeat(served: tuple[WorkerMetrics, FakeClock, str]) -> None:
    metrics, clock, base = served
    status, content_type, body = get(base + "/healthz")
    assert (status, json.loads(body)["status"]) == (200, "ok") and content_type == "application/json"
    clock.now += 31  # the reactor stopped beating; this thread still answers
    status, _, body = get(base + "/healthz")
    assert status == 503 and json.loads(body) == {"status": "stuck", "heartbeat_age_seconds": 31.0,
                                                 "timeout_seconds": 30}
    assert get(base + "/metrics")[0] == 200
    metrics.beat()
    assert get(base + "/healthz")[0] == 200
    assert get(base + "/nope")[0] == 404


def test_exec_probe(served: tuple[WorkerMetrics, FakeClock, str], capsys: pytest.CaptureFixture[str]) -> None:
    _, clock, base = served
    assert health.main(["--url", base + "/healthz"]) == 0
    clock.now += 60
    assert health.main(["--url", base + "/healthz"]) == 1
    assert '"stuck"' in capsys.readouterr().out
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert health.main(["--url", f"http://127.0.0.1:{closed}/healthz", "--timeout", "1"]) == 1


# --------------------------------------------------------------------------- Scrapy components


def crawler_with(config: Config) -> Any:
    return get_crawler(settings_dict={"CRAWLFLEET_CONFIG": config})


def test_telemetry_is_off_with_port_zero() -> None:
    with pytest.raises(NotConfigured):
        Telemetry.from_crawler(crawler_with(CONFIG.replace(metrics_port=0)))


def fake_spider(metrics: WorkerMetrics) -> Any:
    frontier = SimpleNamespace(active=set)  # what the collector reads at scrape time; not scraped here
    return SimpleNamespace(fleet=SimpleNamespace(metrics=metrics, frontier=frontier, book=[], in_engine=0))


def test_telemetry_serves_and_beats_then_stops() -> None:
    clock = Clock()
    metrics = WorkerMetrics()
    ext = Telemetry(crawler_with(CONFIG), "127.0.0.1", 0, 30.0, clock=clock)
    ext.spider_opened(fake_spider(metrics))
    assert ext.server is not None
    base = f"http://127.0.0.1:{ext.server.port}"
    assert get(base + "/healthz")[0] == 200
    assert ext._beat is not None and ext._beat.running
    ext.spider_closed(fake_spider(metrics))
    assert ext.server is None and not ext._beat.running
    with pytest.raises(OSError):
        urllib.request.urlopen(base + "/healthz", timeout=2)


def test_telemetry_crawls_on_when_its_port_is_taken(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ext = Telemetry(crawler_with(CONFIG), "127.0.0.1", taken.getsockname()[1], 30.0, clock=Clock())
        ext.spider_opened(fake_spider(WorkerMetrics()))
    assert ext.server is None
    assert "serves no /metrics" in caplog.text
    ext.spider_closed(fake_spider(WorkerMetrics()))


def test_fetch_metrics_middleware_counts_crawl_pages_only() -> None:
    metrics = WorkerMetrics()
    crawler = SimpleNamespace(spider=fake_spider(metrics))
    mw = FetchMetrics(crawler)  # type: ignore[arg-type]
    page = Request("http://a.example/", meta={"cf_lease": lease(), "download_latency": 0.3})
    robots = Request("http://a.example/robots.txt")
    response = HtmlResponse("http://a.example/", status=200, body=b"<html>hello</html>")
    assert mw.process_response(page, response) is response
    mw.process_response(robots, HtmlResponse("http://a.example/robots.txt", status=404, body=b""))
    assert mw.process_exception(page, DNSLookupError("a.example")) is None
    mw.process_exception(page, IgnoreRequest("Forbidden by robots.txt"))  # counted at commit, as blocked
    assert value(metrics, "crawlfleet_pages_fetched_total", crawl="c1", status_class="2xx") == 1
    assert value(metrics, "crawlfleet_pages_fetched_total", crawl="c1", status_class="4xx") == 0
    assert value(metrics, "crawlfleet_pages_fetched_total", crawl="c1", status_class="error") == 1
    assert value(metrics, "crawlfleet_downloaded_bytes_total", crawl="c1") == len(b"<html>hello</html>")
    assert value(metrics, "crawlfleet_fetch_duration_seconds_sum", crawl="c1") == pytest.approx(0.3)
