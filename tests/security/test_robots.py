"""robots.txt per RFC 9309, with a real worker: an unreachable robots.txt (5xx, 429, a timeout, a
reset connection) disallows every page of the host, which is retried and, if robots.txt stays
unreachable, reported as blocked saying why (or as failed when the host never answered); a
4xx allows everything; redirects are followed up to five; a robots.txt is parsed up to 500 KiB.

Before, Scrapy's middleware allowed everything when robots.txt could not be fetched, so a busy
machine (the robots.txt download timing out) crawled pages robots.txt disallows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Cluster, unique
from tests.security.conftest import guarded_base
from tests.security.support_robots import RobotsSite, robots_site

DOWNLOAD_TIMEOUT = 4.0  # the worker's; the slow robots.txt answers well after it
MAX_TRIES = 3


@pytest.fixture(scope="module")
def robots_cluster(redis_url: str, mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    env = {**guarded_base(redis_url, mongo_url, "secrobots"), "CRAWLFLEET_DOWNLOAD_TIMEOUT": str(DOWNLOAD_TIMEOUT),
           "CRAWLFLEET_MAX_TRIES": str(MAX_TRIES)}
    c = Cluster(env, tmp_path_factory.mktemp("robots"))
    c.add_worker()
    try:
        yield c
    finally:
        c.stop()


def crawl(cluster: Cluster, site: RobotsSite) -> dict[str, str]:
    """Crawl the site to the end; {path: Crawl Status} of its URL report."""
    name = unique("robots")
    cluster.create(name, site.url("/"))
    cluster.wait(name, {9, 10}, timeout=180)  # 10: no seed could be crawled (robots.txt unreachable)
    return {row["Url"].replace(site.base_url, ""): row["Crawl Status"] for row in cluster.url_report(name)}


def test_rules_apply(robots_cluster: Cluster) -> None:
    with robots_site(["ok"]) as site:
        report = crawl(robots_cluster, site)
    assert report["/private/secret.html"] == "Blocked by robots.txt"
    assert report["/public.html"] == report["/late/page.html"] == "Success"
    assert "/private/secret.html" not in site.fetches


def test_a_404_allows_everything(robots_cluster: Cluster) -> None:
    with robots_site([404]) as site:
        report = crawl(robots_cluster, site)
    assert report["/private/secret.html"] == "Success"
    assert set(site.page_fetches()) == {"/", "/public.html", "/private/secret.html", "/late/page.html"}


@pytest.mark.parametrize(("answer", "reason"), [
    (503, "Blocked: robots.txt unreachable (HTTP 503)"),  # the server answered: robots.txt blocks
    (500, "Blocked: robots.txt unreachable (HTTP 500)"),
    (429, "Blocked: robots.txt unreachable (HTTP 429)"),
    # no answer at all (the host is down): the page failed; the error's name depends on Scrapy's
    # version (DownloadFailedError, DownloadTimeoutError in 2.19)
    ("reset", f"Failed after {MAX_TRIES} tries: robots.txt unreachable ("),
    ("slow", f"Failed after {MAX_TRIES} tries: robots.txt unreachable ("),
])
def test_an_unreachable_robots_txt_disallows_everything(robots_cluster: Cluster, answer: Any, reason: str) -> None:
    with robots_site([answer]) as site:
        report = crawl(robots_cluster, site)
        fetched = site.page_fetches()
        robots = site.robots_fetches()
    assert fetched == [], f"pages fetched although robots.txt is unreachable: {fetched}"
    assert report["/"].startswith(reason), report
    assert answer != "slow" or "TimeoutError)" in report["/"], report
    assert report == {"/": report["/"]}  # nothing was read, so nothing else was found
    assert robots == MAX_TRIES, "robots.txt is fetched again on every try of the page"


def test_robots_txt_unreachable_once_is_fetched_again(robots_cluster: Cluster) -> None:
    """The flaky case (a busy machine): the first robots.txt fetch fails, the retry reads it."""
    for first in (503, "slow", "reset"):
        with robots_site([first, "ok"]) as site:
            report = crawl(robots_cluster, site)
        assert report["/"] == report["/public.html"] == "Success", (first, report)
        assert report["/private/secret.html"] == "Blocked by robots.txt", (first, report)
        assert "/private/secret.html" not in site.fetches, first


def test_redirects_are_followed_up_to_five(robots_cluster: Cluster) -> None:
    with robots_site(["redirect:5"]) as site:
        report = crawl(robots_cluster, site)
    assert report["/private/secret.html"] == "Blocked by robots.txt"
    assert "/rules.txt" in site.fetches
    with robots_site(["redirect:6"]) as site:  # more than five: unavailable, so no rules
        report = crawl(robots_cluster, site)
    assert report["/private/secret.html"] == "Success"
    assert "/rules.txt" not in site.fetches


@pytest.mark.parametrize("location", ["http://[x/", "http://127.0.0.1:99999/robots.txt", "file:///etc/passwd",
                                      "data:text/plain,Disallow:"])
def test_a_redirect_to_no_web_url_leaves_the_host_crawlable(robots_cluster: Cluster, location: str) -> None:
    """A Location that is no URL, no valid port or not on the web must not hang the host's pages
    (they waited forever on the robots.txt fetch) nor be followed off the web."""
    with robots_site([f"location={location}"] * 20) as site:
        report = crawl(robots_cluster, site)
    assert report["/"] == report["/public.html"] == report["/private/secret.html"] == "Success", report


def test_a_big_robots_txt_is_parsed_up_to_500_kib(robots_cluster: Cluster) -> None:
    with robots_site(["big"]) as site:
        report = crawl(robots_cluster, site)
    assert report["/private/secret.html"] == "Blocked by robots.txt"
    assert report["/late/page.html"] == "Success"  # its rule comes after the first 500 KiB
