"""A real Prometheus (Debian's package) scrapes a running controller and two workers during a
crawl, with deploy/prometheus's scrape jobs and alert rules: the crawl's fetched-pages counter
increases, every dashboard panel's query returns data, and every rule evaluates cleanly."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from crawlfleet.servers import free_port, wait_for_port
from tests.e2e.conftest import unique
from tests.ops.conftest import DEPLOY, OpsCluster
from tests.ops.test_prometheus_config import RULES, panel_queries
from tests.sites.fixtures import generate_site
from tests.sites.process import SiteProcess

pytestmark = pytest.mark.e2e

SCRAPE = "1s"


class Prometheus:
    def __init__(self, binary: str, config: dict[str, Any], workdir: Path) -> None:
        self.port = free_port()
        config_path = workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.log = (workdir / "prometheus.log").open("wb")
        self.proc = subprocess.Popen(
            [binary, f"--config.file={config_path}", f"--storage.tsdb.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=1h"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10)
        self.logfile = workdir / "prometheus.log"
        wait_for_port("127.0.0.1", self.port, timeout=30)
        deadline = time.monotonic() + 30
        while self.http.get("/-/ready").status_code != 200:
            assert time.monotonic() < deadline, self.logfile.read_text()
            time.sleep(0.2)

    def api(self, path: str, **params: Any) -> Any:
        resp = self.http.get(f"/api/v1/{path}", params=params)
        body = resp.json()
        assert resp.status_code == 200 and body["status"] == "success", (path, params, body)
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = at
        data = self.api("query", **params)
        assert data["resultType"] in ("vector", "scalar"), data
        return data["result"] if data["resultType"] == "vector" else [{"value": data["result"]}]

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


def scrape_config(cluster: OpsCluster) -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml, pointed at this test's processes and scraping every second."""
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    config["global"].update({"scrape_interval": SCRAPE, "evaluation_interval": SCRAPE, "scrape_timeout": SCRAPE})
    config["rule_files"] = [str(RULES)]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    jobs["crawlfleet-controller"]["static_configs"] = [{"targets": [cluster.base.removeprefix("http://")]}]
    worker = jobs["crawlfleet-worker"]
    worker.pop("dns_sd_configs")
    worker["static_configs"] = [{"targets": [f"127.0.0.1:{port}" for port in cluster.metrics_ports]}]
    del jobs["prometheus"]
    config["scrape_configs"] = list(jobs.values())
    return config


@pytest.fixture
def prometheus(prometheus_server: str, ops_cluster: OpsCluster, tmp_path: Path) -> Iterator[Prometheus]:
    prom = Prometheus(prometheus_server, scrape_config(ops_cluster), tmp_path)
    try:
        yield prom
    finally:
        prom.stop()


@pytest.fixture
def redis_maxmemory(redis_url: str) -> Iterator[None]:
    """A maxmemory on the session's Redis (ample), so the Redis-memory panel has both lines."""
    client = redis.Redis.from_url(redis_url)
    before = client.config_get("maxmemory")["maxmemory"]
    client.config_set("maxmemory", str(8 * 2**30))
    try:
        yield
    finally:
        client.config_set("maxmemory", before)
        client.close()


def test_prometheus_sees_the_crawl_and_every_panel_has_data(
    prometheus: Prometheus, ops_cluster: OpsCluster, redis_maxmemory: None
) -> None:
    deadline = time.monotonic() + 30
    while True:
        targets = prometheus.api("targets")["activeTargets"]
        if len(targets) == 1 + len(ops_cluster.metrics_ports) and all(t["health"] == "up" for t in targets):
            break
        assert time.monotonic() < deadline, targets
        time.sleep(0.5)
    assert {t["labels"]["job"] for t in targets} == {"crawlfleet-controller", "crawlfleet-worker"}

    with SiteProcess(generate_site(400, links_per_page=8, page_bytes=3000)) as site:
        name = unique("prom")
        ops_cluster.create(name, site.base_url + "/", crawlDelay=0.05)
        crawl_id = ops_cluster.db.crawls.find_one({"name": name})["_id"]
        fetched = f'sum(crawlfleet_pages_fetched_total{{crawl="{crawl_id}"}})'
        readings: list[float] = []
        deadline = time.monotonic() + 60
        while len(readings) < 3 or not readings[0] < readings[1] < readings[2]:
            assert time.monotonic() < deadline, f"fetched-pages counter did not increase: {readings}"
            result = prometheus.query(fetched)
            if result and (not readings or float(result[0]["value"][1]) > readings[-1]):
                readings.append(float(result[0]["value"][1]))
            time.sleep(1.5)
        assert ops_cluster.job(name)["jobStatus"]["status"] == 7, "the crawl ended too soon to look at it"
        ops_cluster.job(name)  # some API traffic in the window too
        time.sleep(2)  # a couple more scrapes with the crawl in progress
        mid_crawl = time.time() - 1

        empty = [(title, expr) for title, expr in panel_queries() if not prometheus.query(expr, at=mid_crawl)]
        assert empty == [], "dashboard queries that returned nothing during the crawl"
        assert prometheus.query("crawlfleet:frontier_due_hosts:sum", at=mid_crawl)
        assert prometheus.query(f'crawlfleet_crawl_info{{crawl="{crawl_id}",status="7"}}', at=mid_crawl)
        assert prometheus.query('count(crawlfleet_worker_heartbeat_age_seconds{role="worker"} < 60)')[0][
            "value"][1] == str(len(ops_cluster.metrics_ports))

        groups = prometheus.api("rules")["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        assert len(rules) == sum(len(g["rules"]) for g in yaml.safe_load(RULES.read_text())["groups"])
        assert [r["name"] for r in rules if r["health"] != "ok"] == []
        firing = [r["name"] for r in rules if r.get("state") == "firing"]
        assert firing == [], "a healthy cluster fires no alert"

        ops_cluster.wait(name, {9}, timeout=120)
