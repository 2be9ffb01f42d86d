"""The frontier under real workers: politeness across processes, crashes, retries, idleness."""

from __future__ import annotations

import itertools
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from crawlfleet.servers import free_port, start_redis
from tests.sites.fixtures import generate_site
from tests.sites.model import Page, Site
from tests.sites.process import SiteProcess
from tests.sites.truth import expected_report

from .conftest import Cluster, Proc, report_hops, unique

pytestmark = [pytest.mark.servers, pytest.mark.e2e]


def _gaps(fetches: list[dict[str, object]]) -> list[float]:
    times = sorted(float(f["t"]) for f in fetches)  # type: ignore[arg-type]
    return [b - a for a, b in itertools.pairwise(times)]


def test_crawl_delay_holds_across_workers_while_other_hosts_run_at_full_speed(cluster: Cluster) -> None:
    slow_site = generate_site(12, links_per_page=4, seed=11, page_bytes=800)
    fast_site = generate_site(80, links_per_page=6, seed=12, page_bytes=800)
    with SiteProcess(slow_site, host="127.0.0.1") as slow, SiteProcess(fast_site, host="127.0.0.2") as fast:
        polite, quick = unique("polite"), unique("quick")
        cluster.create(polite, slow.base_url + "/", crawlDelay=0.5)
        cluster.create(quick, fast.base_url + "/", crawlDelay=0)
        quick_done = cluster.wait(quick, {9}, timeout=60)
        cluster.wait(polite, {9}, timeout=60)

        gaps = _gaps(slow.fetches())  # both workers' requests, robots.txt included
        assert len(slow.fetches()) >= 12 and min(gaps) >= 0.5 - 0.02, gaps
        fast_times = sorted(float(f["t"]) for f in fast.fetches())
        slow_times = sorted(float(f["t"]) for f in slow.fetches())
        # 80 pages of the other host went through while the polite host was still being crawled
        assert quick_done["pageCrawlAttempts"] == 80
        assert fast_times[-1] < slow_times[-1]
        assert fast_times[-1] - fast_times[0] < (slow_times[-1] - slow_times[0]) / 2


def test_robots_crawl_delay_holds_across_workers(cluster: Cluster) -> None:
    site = generate_site(8, links_per_page=3, seed=21, page_bytes=600)
    site.robots_txt = "User-agent: *\nCrawl-delay: 0.6\n"
    with SiteProcess(site) as server:
        name = unique("robotsdelay")
        cluster.create(name, server.base_url + "/", crawlDelay=0)
        cluster.wait(name, {9})
        assert min(_gaps(server.fetches())) >= 0.6 - 0.02
        rows = cluster.url_report(name)
        assert {r["Robots.txt Crawl Delay (ms)"] for r in rows} == {"600"}


def test_download_errors_are_retried_then_recorded_as_failed(cluster: Cluster) -> None:
    site = Site("timeouts", {"/": Page("/", links=["/slow.html"]), "/slow.html": Page("/slow.html", delay=8.0)})
    with SiteProcess(site) as server:
        name = unique("timeout")
        cluster.create(name, server.base_url + "/")
        cluster.wait(name, {9}, timeout=90)
        rows = {r["Url"]: r for r in cluster.url_report(name)}
        failed = rows[server.base_url + "/slow.html"]
        assert failed["Crawl Try #"] == "3"
        assert failed["Crawl Status"].startswith("Failed after 3 tries")
        assert len([f for f in server.fetches() if f["path"] == "/slow.html"]) == 3


# ---------------------------------------------------------------- a cluster of its own


@pytest.fixture
def own_cluster(cluster_env: dict[str, str], tmp_path: Path) -> Iterator[Cluster]:
    prefix = "own" + uuid.uuid4().hex[:6]
    env = {**cluster_env, "CRAWLFLEET_KEY_PREFIX": prefix, "CRAWLFLEET_MONGO_DB": prefix,
           "CRAWLFLEET_PORT": str(free_port())}
    c = Cluster(env, tmp_path)
    try:
        yield c
    finally:
        c.stop()


def test_a_worker_killed_mid_crawl_costs_nothing(own_cluster: Cluster) -> None:
    site = generate_site(160, links_per_page=6, seed=31, page_bytes=1200)
    for page in site.pages.values():
        page.delay = 0.05  # slow enough that the kill lands mid-crawl
    with SiteProcess(site) as server:
        victim = own_cluster.add_worker()
        own_cluster.add_worker()
        name = unique("crash")
        own_cluster.create(name, server.base_url + "/")
        deadline = time.monotonic() + 30
        while len(server.fetches()) < 40:
            assert time.monotonic() < deadline, own_cluster.logs()
            time.sleep(0.05)
        victim.stop(signal.SIGKILL)
        own_cluster.add_worker()
        job = own_cluster.wait(name, {9}, timeout=120)

        truth = expected_report({server.base_url: site}, [server.base_url + "/"])
        rows = own_cluster.url_report(name)
        assert report_hops(rows) == truth  # every page exactly once, with its shortest hop
        objects = own_cluster.objects(name)
        urls = [o["pageUrl"] for o in objects]
        assert len(urls) == len(set(urls)) == job["objectsFound"] == len(truth)
        assert job["pageCrawlAttempts"] == len(truth)
        # the killed worker's leases expired and were tried again
        assert any(int(r["Crawl Try #"]) > 1 for r in rows), "the kill should have stranded some leases"


def test_an_idle_worker_barely_talks_to_redis(cluster_env: dict[str, str], tmp_path: Path) -> None:
    with start_redis(free_port(), data_dir=None, log_path=tmp_path / "redis.log") as server:
        env = {**cluster_env, "REDIS_URL": server.url, "CRAWLFLEET_KEY_PREFIX": "idle"}
        worker = Proc(["worker"], env, tmp_path / "worker.log")
        client = redis.Redis.from_url(server.url)
        try:
            deadline = time.monotonic() + 30
            while not client.hlen("idle:workers"):  # started: it has written a heartbeat
                assert worker.popen.poll() is None and time.monotonic() < deadline, worker.tail()
                time.sleep(0.2)
            time.sleep(1.0)
            before = int(client.info("stats")["total_commands_processed"])
            time.sleep(5.0)
            after = int(client.info("stats")["total_commands_processed"])
            print(f"idle worker: {after - before - 1} Redis commands in 5 s")
            assert after - before - 1 < 10, f"{after - before - 1} commands in 5 s"  # -1: our own INFO
        finally:
            client.close()
            worker.stop()


def test_a_url_whose_leases_keep_expiring_is_recorded_as_failed(own_cluster: Cluster) -> None:
    """Each time a worker dies holding a URL, its lease expires and counts a try; after the last
    try the next worker records the URL as failed instead of fetching it again."""
    from crawlstore.frontier import Frontier

    site = generate_site(3, links_per_page=1, seed=41, page_bytes=300)
    with SiteProcess(site) as server:
        name = unique("poison")
        job = own_cluster.create(name, server.base_url + "/", maxHops=0)  # no worker runs yet
        frontier = Frontier(own_cluster.redis, own_cluster.env["CRAWLFLEET_KEY_PREFIX"], host_concurrency=8)
        for _ in range(3):  # a "worker" leases the seed and dies, three times
            assert len(frontier.pop(job["id"], 1, 100).members) == 1
            time.sleep(0.15)
        own_cluster.add_worker()
        own_cluster.wait(name, {10}, timeout=60)  # its only seed never got fetched
        (row,) = own_cluster.url_report(name)
        assert row["Crawl Status"] == "Failed after 3 tries: lease expired"
        assert row["Crawl Try #"] == "3"
        assert server.fetches() == []
