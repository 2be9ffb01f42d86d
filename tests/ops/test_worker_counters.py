"""Every per-crawl worker counter, read from real workers' /metrics after a real crawl of the
fixture site, agrees with what the crawl itself recorded (job counters, URL report).

The fixture site has a robots.txt-disallowed page, a page answering 500 (retried, then failed),
404s, redirects, links to another host (left out by the crawl's scope), link cycles (dedupe
hits) and processed pages, so each counter has something to count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from crawlfleet.servers import free_port
from tests.e2e.conftest import unique
from tests.ops.conftest import OpsCluster
from tests.sites.process import FixtureServers, serve_fixture

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sites() -> Iterator[FixtureServers]:
    with serve_fixture(slow_delay=0.2) as fx:
        yield fx


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]  # (name, labels but crawl and role) -> value


def worker_samples(cluster: OpsCluster, crawl_id: str | None = None) -> Samples:
    """Samples of every worker, summed over workers; only the crawl's, when crawl_id is given."""
    total: Samples = defaultdict(float)
    for port in cluster.metrics_ports:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if crawl_id is not None and s.labels.get("crawl") != crawl_id:
                    continue
                labels = tuple(sorted((k, v) for k, v in s.labels.items() if k not in ("crawl", "role")))
                total[(s.name, labels)] += s.value
    return total


def test_worker_counters_match_the_crawl(ops_cluster: OpsCluster, sites: FixtureServers) -> None:
    store_ops_before = worker_samples(ops_cluster)
    name = unique("counters")
    dead = f"http://127.0.0.1:{free_port()}/"  # nothing listens: robots.txt unreachable at every try
    ops_cluster.create(name, f"{sites.seeds[0]} {dead}")
    job = ops_cluster.wait(name, {9}, timeout=180)
    crawl_id = str(ops_cluster.db.crawls.find_one({"name": name})["_id"])
    rows = ops_cluster.url_report(name)
    got = worker_samples(ops_cluster, crawl_id)

    def v(metric: str, **labels: str) -> float:
        return got.get((metric, tuple(sorted(labels.items()))), 0.0)

    statuses = [row["Crawl Status"] for row in rows]
    blocked = sum(s == "Blocked by robots.txt" for s in statuses)
    failed = sum(s.startswith("Failed after") for s in statuses)
    server_errors = sum(s.startswith("HTTP 5") for s in statuses)
    assert (blocked, failed, server_errors) == (1, 1, 1), statuses  # /private/secret.html, the dead seed, /error.html

    # downloads, by status class: every URL-report row once, plus the tries that were retried
    classes = ("2xx", "3xx", "4xx", "5xx", "error")
    fetched = {cls: v("crawlfleet_pages_fetched_total", status_class=cls) for cls in classes}
    retries = v("crawlfleet_retries_total")
    assert fetched["2xx"] == sum(s == "Success" for s in statuses)
    assert fetched["3xx"] == sum(s.startswith("Redirect") for s in statuses) > 0
    assert fetched["4xx"] == sum(s.startswith("HTTP 4") for s in statuses) > 0
    assert fetched["5xx"] == ops_cluster.max_tries  # every try of /error.html
    # the dead seed's host never answers its robots.txt (RFC 9309: unreachable, so nothing of the
    # host is fetched): its tries are robots.txt tries, retried like downloads, never page fetches
    assert fetched["error"] == 0
    robots_tries = ops_cluster.max_tries * failed
    assert retries == fetched["5xx"] + robots_tries - server_errors - failed
    assert sum(fetched.values()) == job["pageCrawlAttempts"] + retries - robots_tries
    assert v("crawlfleet_downloaded_bytes_total") > 0
    assert v("crawlfleet_fetch_duration_seconds_count") == sum(fetched.values()) - fetched["error"]

    # outcomes, as the frontier and the URL report counted them
    assert v("crawlfleet_robots_blocked_total") == blocked
    assert v("crawlfleet_failures_total") == failed
    assert v("crawlfleet_pages_processed_total") == job["pageProcessAttempts"] > 0
    assert v("crawlfleet_objects_stored_total") == job["objectsFound"] > 0
    assert v("crawlfleet_urls_filtered_total") >= 2, "the links to the other host are out of scope"

    # leases: every one taken came back, acknowledged (or late, after a reap)
    taken = v("crawlfleet_leases_taken_total")
    assert taken == v("crawlfleet_leases_acknowledged_total") + v("crawlfleet_leases_lost_total") > 0
    # (and re-expansions of pages reached again by a shorter path are leases too)
    assert taken >= job["pageCrawlAttempts"] + blocked + retries

    # dedupe hits: links sent to the frontier that it knew already (the site links back and forth);
    # with no maxHops every other link sent is a URL harvested (the two seeds were harvested at creation)
    hits = v("crawlfleet_dedupe_hits_total")
    assert hits > 0 and v("crawlfleet_links_reported_total") == hits + job["urlsHarvested"] - 2

    # store latency histograms moved during the crawl
    after = worker_samples(ops_cluster)
    for metric, operation in [("crawlfleet_redis_operation_duration_seconds_count", "pop"),
                              ("crawlfleet_redis_operation_duration_seconds_count", "commit"),
                              ("crawlfleet_mongodb_operation_duration_seconds_count", "write")]:
        key = (metric, (("operation", operation),))
        assert after[key] > store_ops_before.get(key, 0.0), (metric, operation)
