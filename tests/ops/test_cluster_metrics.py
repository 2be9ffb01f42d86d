"""Metrics and probes of real workers during real crawls: the series a worker exports grow with
the crawls it serves, not with the hosts it visits (a crawl of 500 distinct hosts against one of
three), and no label carries a URL or host."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from spiders import health
from spiders.metrics import LATENCY_BUCKETS, STATUS_CLASSES, WORKER_METRICS
from tests.e2e.conftest import unique
from tests.ops.conftest import ROOT, OpsCluster
from tests.ops.manyhosts import address

pytestmark = pytest.mark.e2e

HOSTS = 500
# every per-crawl series of spiders.metrics: status classes, histogram buckets (+Inf, _sum, _count), counters
PER_CRAWL = len(STATUS_CLASSES) + len(LATENCY_BUCKETS) + 3 + sum(
    1 for name, (_, _, labels) in WORKER_METRICS.items()
    if "crawl" in labels and name not in ("crawlfleet_pages_fetched_total", "crawlfleet_fetch_duration_seconds")
)


@pytest.fixture(scope="module")
def many_hosts() -> Iterator[int]:
    """The port of a server answering on HOSTS loopback addresses."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.ops.manyhosts", str(HOSTS)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield int(proc.stdout.readline())
    finally:
        proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def series(port: int) -> list[tuple[str, dict[str, str]]]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return [(s.name, s.labels) for family in text_string_to_metric_families(text) for s in family.samples]


def crawl_series(all_series: list[tuple[str, dict[str, str]]], crawl_id: str) -> Counter[str]:
    return Counter(name for name, labels in all_series if labels.get("crawl") == crawl_id)


def run_crawl(cluster: OpsCluster, seeds: list[str], timeout: float = 180) -> str:
    name = unique("hosts")
    job = cluster.create(name, " ".join(seeds), maxHops=1)
    done = cluster.wait(name, {9}, timeout=timeout)
    assert done["pageCrawlSuccesses"] == 3 * len(seeds), done
    crawl_id = cluster.db.crawls.find_one({"name": name})["_id"]
    assert job["name"] == name
    return str(crawl_id)


def test_worker_series_do_not_grow_with_hosts(ops_cluster: OpsCluster, many_hosts: int) -> None:
    few = run_crawl(ops_cluster, [f"http://{address(i)}:{many_hosts}/" for i in range(3)])
    many = run_crawl(ops_cluster, [f"http://{address(i)}:{many_hosts}/" for i in range(HOSTS)])
    fetched_by_workers = 0.0
    for port in ops_cluster.metrics_ports:
        exported = series(port)
        total = len(exported)
        assert total < 400, f"worker on {port} exports {total} series"
        per_few, per_many = crawl_series(exported, few), crawl_series(exported, many)
        # a crawl's series on a worker: a fixed set (every status class, every bucket), whatever its hosts
        assert sum(per_many.values()) in (0, PER_CRAWL), per_many
        assert sum(per_few.values()) in (0, PER_CRAWL), per_few
        for name, labels in exported:
            for value in labels.values():
                assert "127.0." not in value and "://" not in value, (name, labels)
        fetched_by_workers += sum(
            1.0 for name, labels in exported
            if name == "crawlfleet_pages_fetched_total" and labels.get("crawl") == many
        )
    assert fetched_by_workers > 0, "no worker reported the 500-host crawl"
    # the workers' counters add up to what the crawl recorded
    total = 0.0
    for port in ops_cluster.metrics_ports:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name == "crawlfleet_pages_fetched_total" and s.labels.get("crawl") == many:
                    total += s.value
    assert total == 3 * HOSTS
    controller = httpx.get(ops_cluster.base + "/metrics", timeout=10).text
    assert "127.0.1." not in controller


def test_real_workers_are_live_and_a_frozen_one_is_not(ops_cluster: OpsCluster) -> None:
    for port in ops_cluster.metrics_ports:
        body = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
        assert body["status"] == "ok" and body["heartbeat_age_seconds"] < 3
        assert health.main(["--url", f"http://127.0.0.1:{port}/healthz"]) == 0
    port = ops_cluster.add_metrics_worker()
    proc = ops_cluster.workers[-1]
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        deadline = time.monotonic() + 60
        while not health.probe(url, 2)[0]:
            assert proc.popen.poll() is None, proc.tail()
            assert time.monotonic() < deadline, "the new worker's /healthz never came up\n" + proc.tail()
            time.sleep(0.5)
        os.kill(proc.popen.pid, signal.SIGSTOP)  # the whole process freezes: no answer at all
        assert health.main(["--url", url, "--timeout", "2"]) == 1
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.popen.pid, signal.SIGKILL)
        proc.stop()
        ops_cluster.workers.remove(proc)
        ops_cluster.metrics_ports.remove(port)
