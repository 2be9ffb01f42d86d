"""crawlcore.scope: seed domains, restrictDomain, crawl and process rules, maxHops."""

from __future__ import annotations

from typing import Any

import pytest

from crawlcore.definition import CrawlDefinition
from crawlcore.scope import Scope, domain_root, within_hops


def scope(*seeds: str, **settings: Any) -> Scope:
    return Scope.of(CrawlDefinition("c", seeds, **settings))


@pytest.mark.parametrize(
    ("seed", "expected"),
    [
        pytest.param("https://www.example.com/x", "example.com", id="www-stripped"),
        pytest.param("http://WWW.Example.com/", "example.com", id="www-uppercase"),
        pytest.param("http://example.com/", "example.com", id="bare-domain"),
        pytest.param("http://blog.example.com/", "blog.example.com", id="subdomain-kept"),
        pytest.param("http://www.blog.example.com/", "blog.example.com", id="www-of-subdomain"),
        pytest.param("http://www2.example.com/", "www2.example.com", id="www2-is-a-subdomain"),
        pytest.param("http://wwwexample.com/", "wwwexample.com", id="www-without-dot"),
        pytest.param("http://www.com/", "www.com", id="www-is-the-domain"),
        pytest.param("http://blog.example.com:8080/", "blog.example.com", id="port-ignored"),
        pytest.param("https://www.example.com:8443/", "example.com", id="www-and-port"),
        pytest.param("http://192.168.1.1:8080/", "192.168.1.1", id="ipv4"),
        pytest.param("http://[::1]:8080/", "::1", id="ipv6"),
    ],
)
def test_domain_root(seed: str, expected: str) -> None:
    assert domain_root(seed) == expected


@pytest.mark.parametrize(
    ("hop", "max_hops", "expected"),
    [
        pytest.param(0, -1, True, id="unlimited-seed"),
        pytest.param(1000, -1, True, id="unlimited-deep"),
        pytest.param(0, 0, True, id="seeds-only-seed"),
        pytest.param(1, 0, False, id="seeds-only-link"),
        pytest.param(2, 2, True, id="at-limit"),
        pytest.param(3, 2, False, id="beyond-limit"),
    ],
)
def test_within_hops(hop: int, max_hops: int, expected: bool) -> None:
    assert within_hops(hop, max_hops) is expected


def test_scope_of_collects_roots_and_settings() -> None:
    s = scope("https://www.example.com/", "http://blog.other.org/", max_hops=3, restrict_domain=False)
    assert s.roots == frozenset({"example.com", "blog.other.org"})
    assert s.max_hops == 3
    assert s.restrict_domain is False


WWW_SEED = "https://www.example.com/"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://www.example.com/a", True, id="same-host"),
        pytest.param("http://example.com/a", True, id="bare-domain-other-scheme"),
        pytest.param("http://docs.example.com/a", True, id="subdomain"),
        pytest.param("http://a.b.example.com/", True, id="deep-subdomain"),
        pytest.param("http://example.com:8080/", True, id="other-port"),
        pytest.param("http://example.org/", False, id="other-domain"),
        pytest.param("http://notexample.com/", False, id="suffix-without-dot"),
        pytest.param("http://example.com.evil.org/", False, id="domain-as-prefix"),
    ],
)
def test_follows_restrict_domain_www_seed(url: str, expected: bool) -> None:
    assert scope(WWW_SEED).follows(WWW_SEED, url) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("http://blog.example.com/post", True, id="seed-subdomain"),
        pytest.param("http://x.blog.example.com/", True, id="below-seed-subdomain"),
        pytest.param("http://example.com/", False, id="parent-domain"),
        pytest.param("http://www.example.com/", False, id="sibling-www"),
        pytest.param("http://docs.example.com/", False, id="sibling-subdomain"),
    ],
)
def test_follows_restrict_domain_subdomain_seed(url: str, expected: bool) -> None:
    seed = "http://blog.example.com/"
    assert scope(seed).follows(seed, url) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("http://192.168.1.1:81/x", True, id="same-ip-other-port"),
        pytest.param("http://192.168.1.2/", False, id="other-ip"),
    ],
)
def test_follows_ip_seed(url: str, expected: bool) -> None:
    seed = "http://192.168.1.1/"
    assert scope(seed).follows(seed, url) is expected


def test_follows_any_of_several_seed_domains() -> None:
    s = scope("http://a.com/", "http://b.org/")
    assert s.follows("http://a.com/", "http://b.org/x")
    assert not s.follows("http://a.com/", "http://c.net/")


@pytest.mark.parametrize(
    ("parent", "url", "expected"),
    [
        pytest.param("http://example.com/", "http://example.com/a", True, id="on-to-on"),
        pytest.param("http://example.com/", "http://other.org/a", True, id="on-to-off-one-hop"),
        pytest.param("http://other.org/a", "http://third.net/", False, id="off-to-off-not-followed"),
        pytest.param("http://other.org/a", "http://other.org/b", False, id="off-to-same-off-not-followed"),
        pytest.param("http://other.org/a", "http://example.com/b", True, id="off-back-to-on"),
    ],
)
def test_follows_unrestricted_domain_one_hop_off(parent: str, url: str, expected: bool) -> None:
    assert scope("http://example.com/", restrict_domain=False).follows(parent, url) is expected


@pytest.mark.parametrize(
    ("parent", "url", "expected"),
    [
        pytest.param("http://example.com/", "http://example.com/a", True, id="on-to-on"),
        pytest.param("http://example.com/", "http://other.org/a", False, id="on-to-off"),
        pytest.param("http://other.org/a", "http://example.com/b", True, id="off-back-to-on"),
    ],
)
def test_follows_restricted_domain_ignores_parent(parent: str, url: str, expected: bool) -> None:
    assert scope("http://example.com/").follows(parent, url) is expected


@pytest.mark.parametrize(
    ("settings", "url", "expected"),
    [
        pytest.param({"url_crawl_pattern": "/blog/"}, "http://other.org/blog/1", True,
                     id="positive-pattern-leaves-domain"),
        pytest.param({"url_crawl_pattern": "/blog/"}, "http://example.com/news/1", False,
                     id="positive-pattern-drops-non-matching-on-domain"),
        pytest.param({"url_crawl_pattern": "/blog/||!/tag/"}, "http://other.org/blog/tag/x", False,
                     id="positive-pattern-negative-excludes"),
        pytest.param({"url_crawl_regex": r"/\d+$"}, "http://third.net/42", True, id="regex-leaves-domain"),
        pytest.param({"url_crawl_regex": r"/\d+$"}, "http://example.com/about", False,
                     id="regex-drops-non-matching-on-domain"),
        pytest.param({"url_crawl_pattern": "!/tag/"}, "http://example.com/a", True,
                     id="exclusion-only-keeps-on-domain"),
        pytest.param({"url_crawl_pattern": "!/tag/"}, "http://example.com/tag/a", False,
                     id="exclusion-only-drops-excluded"),
        pytest.param({"url_crawl_pattern": "!/tag/"}, "http://other.org/a", False,
                     id="exclusion-only-keeps-domain-restriction"),
        pytest.param({"url_crawl_pattern": "!/tag/", "restrict_domain": False}, "http://other.org/a", True,
                     id="exclusion-only-unrestricted-one-hop-off"),
        pytest.param({"url_crawl_pattern": "!/tag/", "restrict_domain": False}, "http://other.org/tag/",
                     False, id="exclusion-only-unrestricted-excluded"),
    ],
)
def test_follows_with_crawl_rules(settings: dict[str, Any], url: str, expected: bool) -> None:
    assert scope("http://example.com/", **settings).follows("http://example.com/", url) is expected


def test_selecting_pattern_follows_from_off_domain_parent() -> None:
    s = scope("http://example.com/", url_crawl_pattern="/blog/")
    assert s.follows("http://other.org/blog/1", "http://third.net/blog/2")


@pytest.mark.parametrize(
    ("settings", "seed", "expected"),
    [
        pytest.param({}, "http://example.com/", True, id="no-rules"),
        pytest.param({"url_crawl_pattern": "/blog/"}, "http://example.com/", False,
                     id="pattern-filters-seed"),
        pytest.param({"url_crawl_pattern": "/blog/"}, "http://example.com/blog/", True, id="pattern-admits"),
        pytest.param({"url_crawl_pattern": "!/tag/"}, "http://example.com/tag/", False,
                     id="negative-filters"),
        pytest.param({"url_crawl_regex": "^https://"}, "http://example.com/", False, id="regex-filters"),
        pytest.param({"url_crawl_pattern": "/blog/", "url_crawl_regex": "example"},
                     "http://example.com/", True,
                     id="regex-overrides-pattern"),
    ],
)
def test_admits_seed(settings: dict[str, Any], seed: str, expected: bool) -> None:
    assert scope(seed, **settings).admits_seed(seed) is expected


@pytest.mark.parametrize(
    ("settings", "url", "expected"),
    [
        pytest.param({}, "http://example.com/anything", True, id="empty-processes-all"),
        pytest.param({"url_process_pattern": "/product/"}, "http://example.com/product/1", True,
                     id="pattern-hit"),
        pytest.param({"url_process_pattern": "/product/"}, "http://example.com/about", False,
                     id="pattern-miss"),
        pytest.param({"url_process_pattern": "!/category"}, "http://example.com/category/x", False,
                     id="negative-pattern"),
        pytest.param({"url_process_pattern": "/product/", "url_process_regex": r"/p/\d+"},
                     "http://example.com/p/7", True, id="regex-overrides-pattern-hit"),
        pytest.param({"url_process_pattern": "/product/", "url_process_regex": r"/p/\d+"},
                     "http://example.com/product/1", False, id="regex-overrides-pattern-miss"),
        pytest.param({"url_crawl_pattern": "/blog/"}, "http://example.com/about", True,
                     id="crawl-pattern-does-not-limit-processing"),
    ],
)
def test_processes(settings: dict[str, Any], url: str, expected: bool) -> None:
    assert scope("http://example.com/", **settings).processes(url) is expected


@pytest.mark.parametrize(
    ("seed", "url", "followed"),
    [
        ("http://192.168.1.1/", "http://192.168.1.1:8080/x", True),
        ("http://192.168.1.1/", "http://1.192.168.1.1/x", False),  # an IP has no subdomains
        ("http://[::1]:8080/", "http://[::1]/y", True),
    ],
    ids=["same-ip-other-port", "ip-is-not-a-domain", "ipv6"],
)
def test_ip_seeds_scope_exactly_that_address(seed: str, url: str, followed: bool) -> None:
    scope = Scope.of(CrawlDefinition("c", (seed,)))
    assert scope.follows(seed, url) is followed
