"""Monitoring: statistics, health (503 when a store is down), workers and memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from crawlbase.config import Config
from crawlfleet.servers import free_port, start_mongo, start_redis
from tests.api_v1.conftest import Api, make_api


def test_stats_count_own_crawls_and_the_cluster_for_admins(api: Api, admin: dict[str, str]) -> None:
    bob = api.user("bob")
    one = api.crawl(bob, "a")
    api.crawl(bob, "b")
    api.crawl(admin, "c")
    api.patch(f"/api/v1/crawls/{one['id']}", json={"status": "paused"}, headers=bob)
    mine = api.get("/api/v1/monitoring/stats", headers=bob).json()
    assert mine["scope"] == "user" and mine["total_crawls"] == 2
    assert mine["status_counts"] == {"paused": 1, "running": 1} and mine["crawls_last_24h"] == 2
    assert mine["success_rate"] is None
    cluster = api.get("/api/v1/monitoring/stats", headers=admin).json()
    assert cluster["scope"] == "cluster" and cluster["total_crawls"] == 3


def test_health_reports_each_dependency(api: Api) -> None:
    healthy = api.get("/api/v1/monitoring/health")
    assert healthy.status_code == 200
    assert healthy.json()["checks"] == {"api": "healthy", "redis": "healthy", "mongodb": "healthy",
                                        "workers": "none"}
    assert healthy.json()["status"] == "degraded"  # no worker is alive


@pytest.mark.parametrize("store", ["redis", "mongodb"])
def test_health_is_503_when_a_store_is_down(config: Config, tmp_path: Path, store: str) -> None:
    """A controller on a Redis or MongoDB of its own, which is then stopped (a real outage)."""
    if store == "redis":
        server = start_redis(free_port(), data_dir=None, log_path=tmp_path / "redis.log")
        changes = {"redis_url": server.url}
    else:
        server = start_mongo(free_port(), storage_path=None, log_path=tmp_path / "mongo.log")
        changes = {"mongo_url": server.url}
    try:
        for api in make_api(config, **changes):
            before = api.get("/api/v1/monitoring/health")
            assert before.status_code == 200 and before.json()["checks"][store] == "healthy"
            server.stop()
            after = api.get("/api/v1/monitoring/health")
            assert after.status_code == 503, after.text
            body = after.json()
            assert body["status"] == "unhealthy" and body["checks"][store].startswith("unhealthy")
            other = "mongodb" if store == "redis" else "redis"
            assert body["checks"][other] == "healthy" and body["checks"]["api"] == "healthy"
            assert after.headers["cache-control"] == "no-store"
    finally:
        server.stop()


def _beat(api: Api, worker: str, pages: int, at: float, **extra: Any) -> None:
    svc = api.client.app.state.services  # type: ignore[attr-defined]
    svc.redis.hset(svc.crawls.frontier.globals.workers, worker,
                   json.dumps({"pid": 42, "time": at, "leases": 3, "pages": pages, "in_flight": 2, **extra}))


def test_workers_with_heartbeat_age_and_rate(api: Api, admin: dict[str, str]) -> None:
    now = time.time()
    _beat(api, "w1", 100, now - 1, rss=123456, crawls=2)
    _beat(api, "w2", 5, now - 3600)
    first = api.get("/api/v1/monitoring/workers", headers=admin).json()
    assert first["total"] == 2 and first["alive"] == 1
    w1 = next(w for w in first["workers"] if w["id"] == "w1")
    assert w1["alive"] and 0.5 < w1["heartbeat_age_seconds"] < 30 and w1["pages_per_second"] is None
    assert w1["memory_rss_bytes"] == 123456 and w1["active_crawls"] == 2
    _beat(api, "w1", 150, now)
    second = api.get("/api/v1/monitoring/workers", headers=admin).json()
    assert next(w for w in second["workers"] if w["id"] == "w1")["pages_per_second"] == 50.0
    assert api.get("/api/v1/monitoring/health").json()["checks"]["workers"] == "healthy"


def test_memory_breakdown(api: Api, admin: dict[str, str]) -> None:
    _beat(api, "w1", 1, time.time(), rss=1000, memory={"feeder_buffer": 10, "committer_queue": 2})
    body = api.get("/api/v1/monitoring/memory", headers=admin).json()
    assert body["controller"]["rss_bytes"] > 10_000_000 and body["controller"]["threads"] >= 1
    assert body["workers"] == [{"id": "w1", "pid": 42, "rss_bytes": 1000,
                                "components": {"feeder_buffer": 10, "committer_queue": 2},
                                "heartbeat_age_seconds": body["workers"][0]["heartbeat_age_seconds"]}]


def test_a_real_worker_reports_its_heartbeat_and_memory_and_obeys_the_memory_limit(
        api: Api, admin: dict[str, str], config: Config, tmp_path: Path) -> None:
    """`crawlfleet worker` itself: what /monitoring shows comes from its own heartbeats, and the
    cluster's memory_limit_mb (/admin/settings) stops it leasing until it is lifted."""
    assert api.put("/api/v1/admin/settings", json={"memory_limit_mb": 1}, headers=admin).status_code == 200
    env = {**os.environ, **config.replace(metrics_port=0).as_env()}
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen([sys.executable, "-m", "crawlfleet", "worker"], env=env, stdout=log,
                              stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2])

    def until(predicate: Any, what: str) -> Any:
        deadline = time.monotonic() + 60
        while True:
            found = predicate()
            if found:
                return found
            assert worker.poll() is None and time.monotonic() < deadline, \
                f"{what}\n{(tmp_path / 'worker.log').read_text()}"
            time.sleep(0.2)

    def beat() -> dict[str, Any] | None:
        listed = api.get("/api/v1/monitoring/workers", headers=admin).json()["workers"]
        mine = [w for w in listed if w["pid"] == worker.pid]
        return mine[0] if mine and mine[0]["memory_rss_bytes"] else None

    try:
        w = until(beat, "no heartbeat with memory")
        assert w["alive"] and w["heartbeat_age_seconds"] < 30 and w["started_at"] and w["host"]
        assert w["memory_rss_bytes"] > 10_000_000 and isinstance(w["active_crawls"], list)
        assert api.get("/api/v1/monitoring/health").json()["checks"]["workers"] == "healthy"
        memory = api.get("/api/v1/monitoring/memory", headers=admin).json()
        mine = next(m for m in memory["workers"] if m["pid"] == worker.pid)
        assert mine["rss_bytes"] > 10_000_000
        assert {"held_leases", "feeder_buffer", "committer_queue", "catalog_entries"} <= set(mine["components"])

        # over the limit (1 MiB): a new crawl's seed stays queued through two more heartbeats
        until(lambda: (b := beat()) and b["memory_limited"], "the worker did not apply the memory limit")
        crawl = api.crawl(admin, "held", seeds=["https://example.com/"])
        seen = {beat()["last_heartbeat"]}  # type: ignore[index]
        until(lambda: seen.add(beat()["last_heartbeat"]) or len(seen) >= 3, "no further heartbeats")  # type: ignore
        assert beat()["pages_per_second"] == 0.0  # type: ignore[index]  # the worker's own rate: idle
        held = api.get(f"/api/v1/crawls/{crawl['id']}", headers=admin).json()["counts"]
        assert (held["queued"], held["in_flight"], held["pages_crawled"]) == (1, 0, 0)
        # lifted: the worker leases the seed
        assert api.put("/api/v1/admin/settings", json={"memory_limit_mb": None}, headers=admin).status_code == 200
        until(lambda: api.get(f"/api/v1/crawls/{crawl['id']}", headers=admin).json()["counts"]["queued"] == 0,
              "the worker did not lease once the limit was lifted")
    finally:
        worker.terminate()
        worker.wait(30)
        log.close()
