"""A crawl from POST to results, through a real controller and two real workers."""

from __future__ import annotations

import itertools
import json
import time

import pytest

from tests.sites.fixtures import generate_site
from tests.sites.process import FixtureServers, SiteProcess

from .conftest import Cluster, report_hops, unique

pytestmark = [pytest.mark.servers, pytest.mark.e2e]


@pytest.mark.parametrize("max_hops", [-1, 0, 1, 2])
def test_url_report_is_exactly_the_ground_truth(cluster: Cluster, fixture_sites: FixtureServers,
                                                 max_hops: int) -> None:
    name = unique(f"hops{max_hops}")
    cluster.create(name, " ".join(fixture_sites.seeds), maxHops=max_hops)
    job = cluster.wait(name, {9})
    got = report_hops(cluster.url_report(name))
    assert got == fixture_sites.report(max_hops=max_hops)
    assert job["pageCrawlAttempts"] == sum(1 for row in cluster.url_report(name)
                                           if row["Crawl Status"] != "Blocked by robots.txt")


def test_url_report_rows_describe_each_outcome(cluster: Cluster, fixture_sites: FixtureServers) -> None:
    name = unique("outcomes")
    cluster.create(name, fixture_sites.seeds[0])
    cluster.wait(name, {9})
    rows = {row["Url"]: row for row in cluster.url_report(name)}
    base = fixture_sites.main.base_url
    assert rows[base + "/"]["Crawl Status"] == "Success"
    assert rows[base + "/missing.html"]["Crawl Status"] == "HTTP 404"
    assert rows[base + "/error.html"]["Crawl Status"] == "HTTP 500"
    assert rows[base + "/error.html"]["Crawl Try #"] == "3"  # 5xx is retried up to CRAWLFLEET_MAX_TRIES
    assert rows[base + "/private/secret.html"]["Crawl Status"] == "Blocked by robots.txt"
    moved = rows[base + "/old-home.html"]
    assert (moved["Redirects"], moved["Redirected To"]) == ("1", base + "/moved/home.html")
    fetched = {f["path"] for f in fixture_sites.main.fetches()}
    assert "/private/secret.html" not in fetched  # robots.txt Disallow is obeyed


def test_objects_json_and_csv(cluster: Cluster, fixture_sites: FixtureServers) -> None:
    name = unique("objects")
    cluster.create(name, fixture_sites.seeds[0], maxHops=1)
    job = cluster.wait(name, {9})
    objects = cluster.objects(name)
    assert len(objects) == job["objectsFound"] > 0
    home = next(o for o in objects if o["pageUrl"] == fixture_sites.main.base_url + "/")
    for field in ("type", "pageUrl", "resolvedPageUrl", "title", "text", "meta", "links", "crawlName",
                  "crawlRound", "timestamp", "diffbotUri"):
        assert field in home, field
    assert home["title"] and home["text"] and home["crawlName"] == name
    assert set(home["meta"]) >= {"description", "canonical", "language"}
    assert not any(key.startswith("_") for key in home)
    assert len(cluster.objects(name, num=2)) == 2

    csv_text = cluster.objects(name, format="csv")
    header = csv_text.splitlines()[0].split(",")
    assert header[:2] == ["type", "pageUrl"] and "meta" not in header  # top-level scalar fields only
    assert len(csv_text.strip().splitlines()) == len(objects) + 1


def test_max_to_crawl_is_exact_across_two_workers(cluster: Cluster) -> None:
    site = generate_site(300, links_per_page=8, seed=7, page_bytes=1500)
    with SiteProcess(site) as server:
        name = unique("limit")
        cluster.create(name, server.base_url + "/", maxToCrawl=17)
        job = cluster.wait(name, {2})
        assert job["jobStatus"]["message"] == "Job has reached maxToCrawl limit"
        time.sleep(1.0)  # anything still in flight would show up now
        rows = cluster.url_report(name)
        assert len(rows) == 17 == cluster.job(name)["pageCrawlAttempts"]
        assert len({f["path"] for f in server.fetches() if f["path"] != "/robots.txt"}) == 17


def test_pause_stops_fetching_and_resume_finishes(cluster: Cluster) -> None:
    site = generate_site(40, links_per_page=4, seed=3, page_bytes=800)
    with SiteProcess(site) as server:
        name = unique("pause")
        cluster.create(name, server.base_url + "/", crawlDelay=0.2)
        deadline = time.monotonic() + 20
        while len(server.fetches()) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        resp = cluster.crawl(name=name, pause=1)
        assert resp.status_code == 200 and resp.json()["jobs"][0]["jobStatus"]["status"] == 6
        time.sleep(1.0)  # let the request in flight finish
        paused_at = len(server.fetches())
        time.sleep(1.5)
        assert len(server.fetches()) == paused_at
        assert cluster.job(name)["jobStatus"]["status"] == 6

        resp = cluster.crawl(name=name, pause=0)
        assert resp.status_code == 200
        cluster.wait(name, {9}, timeout=60)
        assert len(cluster.url_report(name)) == 40


def test_crawl_delay_is_honoured(cluster: Cluster) -> None:
    site = generate_site(8, links_per_page=3, seed=5, page_bytes=500)
    with SiteProcess(site) as server:
        name = unique("delay")
        cluster.create(name, server.base_url + "/", crawlDelay=0.4)
        cluster.wait(name, {9})
        fetches = server.fetches()
        assert len([f for f in fetches if f["path"] != "/robots.txt"]) == 8
        # every request counts, robots.txt included (each worker reads it once)
        times = sorted(f["t"] for f in fetches)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= 0.4 - 0.02, gaps  # server-side arrival times, 20 ms of scheduling slack


def test_delete_removes_everything(cluster: Cluster, fixture_sites: FixtureServers) -> None:
    name = unique("delete")
    job = cluster.create(name, fixture_sites.seeds[0], maxHops=1)
    cluster.wait(name, {9})
    crawl_id = job["id"]
    assert cluster.db.urls.count_documents({"_c": crawl_id}) > 0
    resp = cluster.crawl(name=name, delete=1)
    assert resp.status_code == 200, resp.text
    assert cluster.crawl("GET", name=name).status_code == 404
    assert cluster.db.urls.count_documents({"_c": crawl_id}) == 0
    assert cluster.db.objects.count_documents({"_c": crawl_id}) == 0
    assert cluster.db.crawls.count_documents({"_id": crawl_id}) == 0
    assert list(cluster.redis.scan_iter(match=f"*{{{crawl_id}}}*")) == []
    assert not cluster.redis.sismember(cluster.env["CRAWLFLEET_KEY_PREFIX"] + ":active", crawl_id)


def test_every_seed_filtered_out_is_status_5(cluster: Cluster, fixture_sites: FixtureServers) -> None:
    name = unique("nourls")
    job = cluster.create(name, fixture_sites.seeds[0], urlCrawlPattern="/nothing-matches-this/")
    assert job["jobStatus"] == {"status": 5, "message": "No URLs were added to the crawl"}


def test_no_seed_reachable_is_status_10(cluster: Cluster) -> None:
    from crawlfleet.servers import free_port

    name = unique("dead")
    cluster.create(name, f"http://127.0.0.1:{free_port()}/")
    job = cluster.wait(name, {10}, timeout=60)
    assert job["jobStatus"]["message"] == "Failed to crawl any seed"
    (row,) = cluster.url_report(name)
    assert row["Crawl Status"].startswith("Failed after 3 tries")


def test_diffbot_client_request_shapes(cluster: Cluster, fixture_sites: FixtureServers) -> None:
    """Diffbot's Python client creates with a GET carrying everything in the query string and
    downloads from `{base_url}/v3/crawl/download/{token}-{name}_data.json` with base_url
    ending in '/', i.e. a double slash."""
    name = unique("client")
    resp = cluster.crawl("GET", name=name, seeds=fixture_sites.seeds[0], maxHops=0,
                         apiUrl="http://api.diffbot.com/v3/analyze", crawlDelay=0)
    assert resp.status_code == 200 and resp.json()["response"] == "Successfully added urls for spidering."
    job = cluster.wait(name, {9})
    download = cluster.http.get(f"{cluster.base}//v3/crawl/download/{cluster.token}-{name}_data.json")
    assert download.status_code == 200 and len(download.json()) == 1
    assert job["downloadJson"].endswith(f"/v3/crawl/download/{cluster.token}-{name}_data.json")
    urls = cluster.http.get(job["downloadUrls"])
    assert urls.status_code == 200 and urls.text.startswith("Url,Doc ID,")
    listed = cluster.crawl("GET").json()["jobs"]
    assert name in {j["name"] for j in listed}


def test_job_object_carries_live_values(cluster: Cluster, fixture_sites: FixtureServers) -> None:
    name = unique("job")
    cluster.create(name, fixture_sites.seeds[0], maxHops=1, maxToProcess=1000)
    job = cluster.wait(name, {9})
    assert job["pageCrawlSuccesses"] > 0 and job["pageCrawlSuccesses"] <= job["pageCrawlAttempts"]
    assert job["pageProcessSuccesses"] == job["objectsFound"] > 0
    assert job["urlsHarvested"] >= job["pageCrawlAttempts"]
    assert job["jobCompletionTimeUTC"] >= job["jobCreationTimeUTC"] > 0
    assert job["maxToProcess"] == 1000 and job["maxHops"] == 1
    assert json.dumps(job)  # plain JSON types throughout
