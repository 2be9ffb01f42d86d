"""crawlcore.links.follow: from a page's hrefs to the URLs a crawl follows."""

from __future__ import annotations

from typing import Any

import pytest

from crawlcore.definition import CrawlDefinition
from crawlcore.links import follow
from crawlcore.scope import Scope

PAGE = "http://h.com/a/page"


def scope(**settings: Any) -> Scope:
    return Scope.of(CrawlDefinition("c", ("http://h.com/",), **settings))


@pytest.mark.parametrize(
    ("hrefs", "expected"),
    [
        pytest.param([], [], id="no-links"),
        pytest.param(["/x", "/y", "/z"], ["http://h.com/x", "http://h.com/y", "http://h.com/z"],
                     id="order-kept"),
        pytest.param(["/z", "/x", "/y"], ["http://h.com/z", "http://h.com/x", "http://h.com/y"],
                     id="page-order-not-sorted"),
        pytest.param(["/x", "/x", "http://h.com/x"], ["http://h.com/x"], id="duplicates-removed"),
        pytest.param(["/x#a", "/x#b", "HTTP://H.COM:80/x"], ["http://h.com/x"],
                     id="duplicates-after-normalising"),
        pytest.param(["/y", "/x", "/y"], ["http://h.com/y", "http://h.com/x"], id="first-occurrence-wins"),
        pytest.param(["page", "#top", "", PAGE, "/a/page#x"], [], id="self-links-removed"),
        pytest.param(["sib"], ["http://h.com/a/sib"], id="relative-to-base"),
        pytest.param(["http://other.org/", "//other.org/x", "/ok"], ["http://h.com/ok"],
                     id="off-domain-dropped"),
        pytest.param(["http://sub.h.com/"], ["http://sub.h.com/"], id="subdomain-of-seed-kept"),
        pytest.param(["mailto:me@h.com", "javascript:void(0)", "tel:1", "ftp://h.com/", "/ok"], ["http://h.com/ok"],
                     id="non-http-dropped"),
        pytest.param(["http://h.com:99999/", "http://[::1/", "/ok"], ["http://h.com/ok"],
                     id="unparsable-dropped"),
        pytest.param(["  /x  ", "\n/y\t"], ["http://h.com/x", "http://h.com/y"], id="whitespace-stripped"),
    ],
)
def test_follow(hrefs: list[str], expected: list[str]) -> None:
    assert follow(scope(), PAGE, PAGE, hrefs) == expected


@pytest.mark.parametrize(
    ("base", "hrefs", "expected"),
    [
        pytest.param("http://h.com/other/", ["x"], ["http://h.com/other/x"], id="relative-uses-base"),
        pytest.param("http://h.com/other/", ["../page"], ["http://h.com/page"], id="parent-uses-base"),
        pytest.param("http://h.com/other/", ["?q=1"], ["http://h.com/other/?q=1"], id="query-uses-base"),
        pytest.param("http://other.org/", ["x"], [], id="base-off-domain-makes-link-off-domain"),
        pytest.param("http://h.com/other/", ["/a/page"], [], id="page-itself-still-removed"),
    ],
)
def test_follow_respects_base_href(base: str, hrefs: list[str], expected: list[str]) -> None:
    assert follow(scope(), PAGE, base, hrefs) == expected


@pytest.mark.parametrize(
    ("settings", "hrefs", "expected"),
    [
        pytest.param({"url_crawl_pattern": "!/tag/"}, ["/tag/a", "/b"], ["http://h.com/b"],
                     id="excluded-dropped"),
        pytest.param({"url_crawl_pattern": "/blog/"}, ["/about", "http://x.org/blog/1"], ["http://x.org/blog/1"],
                     id="selecting-pattern"),
        pytest.param({"restrict_domain": False}, ["http://x.org/"], ["http://x.org/"],
                     id="unrestricted-one-hop"),
    ],
)
def test_follow_applies_scope(settings: dict[str, Any], hrefs: list[str], expected: list[str]) -> None:
    assert follow(scope(**settings), PAGE, PAGE, hrefs) == expected


def test_follow_unrestricted_stops_one_hop_off_domain() -> None:
    off = "http://x.org/p"
    assert follow(scope(restrict_domain=False), off, off, ["http://y.net/", "/q", "http://h.com/back"]) == [
        "http://h.com/back"
    ]


def test_follow_accepts_any_iterable() -> None:
    assert follow(scope(), PAGE, PAGE, (h for h in ["/x", "/y"])) == ["http://h.com/x", "http://h.com/y"]
