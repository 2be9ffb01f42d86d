"""Tests of the test-site infrastructure: model, ground truth, fixtures, servers."""

from __future__ import annotations

import concurrent.futures
import http.client
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.sites.fixtures import PDF_BYTES, fixture_site, generate_site, other_site
from tests.sites.model import Link, Page, Site, substitute
from tests.sites.nginx import find_nginx, nginx_conf, start_nginx, write_static
from tests.sites.process import FixtureServers, SiteProcess, serve_fixture
from tests.sites.render import render_html
from tests.sites.truth import (
    expected_entries,
    expected_fetches,
    expected_report,
    normalize_url,
    resolve,
    robots_allowed,
)

H = "http://example.test"


def report(graph: dict[str, list[str]], max_hops: int = -1, robots: str | None = None,
           pages: tuple[Page, ...] = (), obey_robots: bool = True) -> dict[str, int]:
    """expected_report of one site at H, built from {path: [hrefs]} plus fully specified `pages`,
    seeded at "/" and keyed by path for URLs on H."""
    site = Site("t", {path: Page(path, links=list(links)) for path, links in graph.items()}, robots)
    site.pages.update({page.path: page for page in pages})
    got = expected_report({H: site}, [H + "/"], max_hops, obey_robots)
    return {url[len(H):] if url.startswith(H + "/") else url: hop for url, hop in got.items()}


# ---------------------------------------------------------------- ground truth, tiny graphs

CHAIN = {"/": ["/1"], "/1": ["/2"], "/2": ["/3"], "/3": []}

TRUTH_CASES = [
    pytest.param({"/": ["/l1", "/s"], "/l1": ["/l2"], "/l2": ["/l3"], "/l3": ["/s"], "/s": ["/c"]}, {},
                 {"/": 0, "/l1": 1, "/s": 1, "/l2": 2, "/c": 2, "/l3": 3}, id="shortest-hop"),
    pytest.param({"/": ["/r"]},
                 {"pages": (Page("/r", status=301, redirect_to="/t"), Page("/t", links=["/u"]))},
                 {"/": 0, "/r": 1, "/t": 1, "/u": 2}, id="redirect-keeps-hop"),
    pytest.param({"/": ["/r"]}, {"pages": (Page("/r", status=307, redirect_to="/t"),), "max_hops": 1},
                 {"/": 0, "/r": 1, "/t": 1}, id="redirect-at-max-hops"),
    pytest.param({"/": ["/r", "/t"], "/t": ["/x"]},
                 {"pages": (Page("/r", status=302, redirect_to="http://elsewhere.test/"),)},
                 {"/": 0, "/r": 1, "/t": 1, "/x": 2}, id="redirect-out-of-scope"),
    pytest.param(CHAIN, {"max_hops": 0}, {"/": 0}, id="max-hops-0"),
    pytest.param(CHAIN, {"max_hops": 1}, {"/": 0, "/1": 1}, id="max-hops-1"),
    pytest.param(CHAIN, {}, {"/": 0, "/1": 1, "/2": 2, "/3": 3}, id="unlimited"),
    pytest.param({"/": ["/p/x", "/q"], "/p/x": ["/hidden"], "/q": []},
                 {"robots": "User-agent: *\nDisallow: /p/"},
                 {"/": 0, "/p/x": 1, "/q": 1}, id="robots-blocked-not-expanded"),
    pytest.param({"/": ["/p/x"], "/p/x": ["/hidden"]},
                 {"robots": "User-agent: *\nDisallow: /p/", "obey_robots": False},
                 {"/": 0, "/p/x": 1, "/hidden": 2}, id="robots-ignored"),
    pytest.param({"/": ["/p/x"], "/p/x": ["/hidden"]}, {"robots": "User-agent: other\nDisallow: /"},
                 {"/": 0, "/p/x": 1, "/hidden": 2}, id="robots-other-agent"),
    pytest.param({"/": ["/gone", "/missing", "/boom", "/doc.pdf"]},
                 {"pages": (Page("/gone", status=404, links=["/a"]), Page("/boom", status=500, links=["/b"]),
                            Page("/doc.pdf", content_type="application/pdf", links=["/c"]))},
                 {"/": 0, "/gone": 1, "/missing": 1, "/boom": 1, "/doc.pdf": 1}, id="errors-not-expanded"),
    pytest.param({"/": ["http://other.test/", "http://example.test:8080/p", "mailto:x@example.test",
                        "javascript:go()", "tel:123", "data:text/html,hi", "ftp://example.test/f"]}, {},
                 {"/": 0, "http://example.test:8080/p": 1}, id="scope-port-ignored-schemes"),
    pytest.param({"/d/e/page": ["../x", "./y?q=1#frag", "#top", "", "/z/../w", "HTTP://EXAMPLE.TEST:80/u"],
                  "/": ["/d/e/page"]}, {},
                 {"/": 0, "/d/e/page": 1, "/d/x": 2, "/d/e/y?q=1": 2, "/w": 2, "/u": 2}, id="resolution"),
    pytest.param({"/": ["/d/page"]},
                 {"pages": (Page("/d/page", base="/base/dir/", links=["a", "../b", "/c"]),)},
                 {"/": 0, "/d/page": 1, "/base/dir/a": 2, "/base/b": 2, "/c": 2}, id="base-href"),
    pytest.param({"/": ["/d/page"]},
                 {"pages": (Page("/d/page", base="https://Sub.example.test/b/", links=["a", "/c"]),)},
                 {"/": 0, "/d/page": 1, "https://sub.example.test/b/a": 2, "https://sub.example.test/c": 2},
                 id="base-href-other-host"),
]


@pytest.mark.parametrize(("graph", "kw", "expected"), TRUTH_CASES)
def test_truth_tiny_graphs(graph: dict[str, list[str]], kw: dict[str, Any], expected: dict[str, int]) -> None:
    assert report(graph, **kw) == expected


def test_truth_scope_www_and_subdomains() -> None:
    root = Site("r", {"/": Page("/", links=["http://example.test/a", "http://sub.example.test/",
                                            "http://badexample.test/", "http://other.test/"])})
    sites = {"http://www.example.test": root, "http://sub.example.test": Site("s", {"/": Page("/")}),
             "http://other.test": Site("o", {"/": Page("/", links=["http://www.example.test/o"])})}
    got = expected_report(sites, ["http://WWW.Example.test/"])
    assert got == {"http://www.example.test/": 0, "http://example.test/a": 1, "http://sub.example.test/": 1}
    unrestricted = expected_report(sites, ["http://www.example.test/"], restrict_to_seed_hosts=False)
    assert unrestricted["http://other.test/"] == 1 and unrestricted["http://www.example.test/o"] == 2
    entries = expected_entries(sites, ["http://www.example.test/"])
    assert entries["http://example.test/a"].status is None  # no site serves example.test
    assert entries["http://sub.example.test/"].status == 200


def test_truth_redirect_chain_and_fetches() -> None:
    pages = {"/": Page("/", links=["/r1"]), "/r1": Page("/r1", status=301, redirect_to="{base}/r2"),
             "/r2": Page("/r2", status=308, redirect_to="/p/t"), "/p/t": Page("/p/t", links=["/x"])}
    sites = {H: Site("t", pages, "User-agent: *\nDisallow: /p/")}
    assert expected_report(sites, [H + "/"]) == {H + "/": 0, H + "/r1": 1, H + "/r2": 1, H + "/p/t": 1}
    assert expected_fetches(sites, [H + "/"]) == {H + "/", H + "/r1", H + "/r2"}


@pytest.mark.parametrize(("url", "expected"), [
    ("HTTP://Example.TEST:80/a/./b/../c?x=1&y=2#f", "http://example.test/a/c?x=1&y=2"),
    ("https://example.test:443", "https://example.test/"),
    ("https://example.test:8443/a/..", "https://example.test:8443/"),
    ("http://example.test/a//b/", "http://example.test/a//b/"),
    ("mailto:a@b.test", None),
    ("javascript:void(0)", None),
])
def test_normalize_url(url: str, expected: str | None) -> None:
    assert normalize_url(url) == expected


def test_resolve_and_robots() -> None:
    assert resolve("?q=2", "http://h.test/s.html?q=1") == "http://h.test/s.html?q=2"
    assert resolve("//other.test/x", "https://h.test/") == "https://other.test/x"
    robots = ("User-agent: bot\nDisallow: /\n\n"
              "User-agent: *\nDisallow: /private/\nAllow: /private/open\nDisallow: /*.cgi$")
    paths = ("/", "/private/x", "/private/open.html", "/a.cgi", "/a.cgi?x")
    assert [robots_allowed(robots, p) for p in paths] == [True, False, True, False, True]
    assert robots_allowed(None, "/private/") and robots_allowed("User-agent: *\nDisallow:", "/x")


# ---------------------------------------------------------------- model and rendering

def test_model_json_roundtrip() -> None:
    fixture = fixture_site("http://127.0.0.2:1/")
    again = Site.from_json(fixture.to_json())
    assert again == fixture
    assert again.pages["/files/report.pdf"].body == PDF_BYTES
    assert again.pages["/media.html"].links[2] == Link("/area/one.html", "area")
    with pytest.raises(ValueError, match="unknown link tag"):
        Page("/x", links=[("/y", "img")])


class _Extract(HTMLParser):
    """Collect links by tag plus head metadata from rendered HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[Link] = []
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("a", "area") and "href" in a:
            self.links.append(Link(a["href"], tag))
        elif tag in ("frame", "iframe"):
            self.links.append(Link(a["src"], tag))
        elif tag == "base":
            self.meta["base"] = a["href"]
        elif tag == "link" and a.get("rel") == "canonical":
            self.meta["canonical"] = a["href"]
        elif tag == "meta" and a.get("name") == "description":
            self.meta["description"] = a["content"]
        elif tag == "html":
            self.meta["lang"] = a["lang"]


def test_rendered_fixture_html_carries_exactly_the_model_links() -> None:
    base = "http://127.0.0.1:4567"
    fixture = fixture_site("http://127.0.0.2:1/")
    for page in fixture.pages.values():
        if not page.is_html:
            continue
        parser = _Extract()
        parser.feed(render_html(page, base))
        assert sorted(parser.links) == sorted(Link(substitute(ln.href, base), ln.tag) for ln in page.links)
        assert parser.meta["lang"] == "en"
        if page.status == 200 and page.path != "/search.html":
            assert parser.meta["canonical"] == base + page.path
            assert parser.meta["description"].startswith(page.title)
    home = fixture.pages["/"]
    assert f"<title>{home.title}</title>" in render_html(home, base)
    docs = _Extract()
    docs.feed(render_html(fixture.pages["/docs/index.html"], base))
    assert docs.meta["base"] == base + "/docs/guide/"


# ---------------------------------------------------------------- the fixture's ground truth

FIXTURE_BASE, OTHER_BASE = "http://127.0.0.1:8001", "http://127.0.0.2:8002"


def fixture_report(max_hops: int = -1, **kw: bool) -> dict[str, int]:
    sites = {FIXTURE_BASE: fixture_site(OTHER_BASE + "/"), OTHER_BASE: other_site()}
    got = expected_report(sites, [FIXTURE_BASE + "/"], max_hops, **kw)
    return {url.replace(FIXTURE_BASE, ""): hop for url, hop in got.items()}


@pytest.mark.parametrize(("max_hops", "size"),
                         [(-1, 39), (0, 1), (1, 10), (2, 33), (3, 37), (4, 38), (5, 39)])
def test_fixture_report_sizes(max_hops: int, size: int) -> None:
    assert len(fixture_report(max_hops, use_canonical=False)) == size


def test_canonical_links_to_other_urls_are_crawled_at_the_same_hop() -> None:
    # /landing.html?from=temp and /docs/api/ref.html?v=2 name their query-less URL as canonical
    extra = set(fixture_report(-1)) - set(fixture_report(-1, use_canonical=False))
    assert {url: fixture_report(-1)[url] for url in extra} == {"/landing.html": 2, "/docs/api/ref.html": 2}
    assert len(fixture_report(2)) == 35


def test_fixture_report_details() -> None:
    got = fixture_report()
    assert {p: got[p] for p in ("/shared.html", "/shared/child.html", "/raced.html", "/raced/child.html",
                                "/long/3.html", "/chain/5.html")} == {
        "/shared.html": 1, "/shared/child.html": 2, "/raced.html": 2, "/raced/child.html": 3,
        "/long/3.html": 3, "/chain/5.html": 5}
    assert got["/old-home.html"] == got["/moved/home.html"] == 2
    assert got["/temp.html"] == got["/landing.html?from=temp"] == 2
    assert got["/docs/api/ref.html?v=2&lang=en"] == 2 and got["/search.html?q=crawler&page=2"] == 3
    assert got["/private/secret.html"] == 2 and "/private/hidden.html" not in got
    assert got["/private/open.html"] == 2
    assert {"/files/report.pdf", "/images/logo.png", "/missing.html", "/gone.html", "/error.html",
            "/area/one.html", "/frame/left.html", "/frame/right.html", "/frame/embedded.html"} <= set(got)
    assert not any(p.startswith(("/never", "http")) or "#" in p for p in got)
    assert len(fixture_site(OTHER_BASE).pages) == 38


def test_fixture_report_options() -> None:
    assert len(fixture_report(obey_robots=False, use_canonical=False)) == 40
    assert fixture_report(obey_robots=False)["/private/hidden.html"] == 3
    unrestricted = fixture_report(restrict_to_seed_hosts=False, use_canonical=False)
    assert len(unrestricted) == 43
    assert {u: h for u, h in unrestricted.items() if u.startswith(OTHER_BASE)} == {
        OTHER_BASE + "/": 2, OTHER_BASE + "/index.html": 2, OTHER_BASE + "/about.html": 3,
        OTHER_BASE + "/deep/page.html": 3}
    assert len(fixture_report(obey_robots=False, restrict_to_seed_hosts=False, use_canonical=False)) == 44
    sites = {FIXTURE_BASE: fixture_site(OTHER_BASE + "/"), OTHER_BASE: other_site()}
    fetched = expected_fetches(sites, [FIXTURE_BASE + "/"], use_canonical=False)
    assert len(fetched) == 38 and FIXTURE_BASE + "/private/secret.html" not in fetched


# ---------------------------------------------------------------- the server

def get(url: str, headers: dict[str, str] | None = None,
        method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One request without following redirects: (status, headers, body)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request(method, parts.path + ("?" + parts.query if parts.query else ""), headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def servers() -> Iterator[FixtureServers]:
    with serve_fixture(slow_delay=0.3) as fx:
        yield fx


def test_server_serves_fixture(servers: FixtureServers) -> None:
    base = servers.main.base_url
    status, headers, body = get(base + "/", {"User-Agent": "test-ua/1", "X-Custom": "yes"})
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert f'href="{base}/docs/index.html"'.encode() in body and b'<html lang="en">' in body
    status, headers, _ = get(base + "/old-home.html")
    assert (status, headers["Location"]) == (301, "/moved/home.html")
    assert get(base + "/temp.html")[1]["Location"] == base + "/landing.html?from=temp"
    assert get(base + "/missing.html")[0] == 404 and get(base + "/gone.html")[0] == 404
    assert get(base + "/error.html")[0] == 500
    status, headers, body = get(base + "/robots.txt")
    assert status == 200 and b"Disallow: /private/" in body
    status, headers, body = get(base + "/files/report.pdf")
    assert (status, headers["Content-Type"], body) == (200, "application/pdf", PDF_BYTES)
    assert get(base + "/images/logo.png")[1]["Content-Type"] == "image/png"
    assert get(base + "/search.html?q=crawler&page=2")[0] == 200
    assert get(servers.other.base_url + "/robots.txt")[0] == 404
    assert get(servers.other.base_url + "/about.html")[0] == 200
    assert get(base + "/", method="HEAD")[2] == b""
    home = [f for f in servers.main.fetches() if f["ua"] == "test-ua/1"]
    assert len(home) == 1
    assert home[0]["path"] == "/" and home[0]["status"] == 200 and home[0]["host"] == base[len("http://"):]
    assert home[0]["headers"]["X-Custom"] == "yes" and abs(home[0]["t"] - time.time()) < 60
    fetches = servers.main.fetches()
    assert any(f["path"] == "/search.html?q=crawler&page=2" and f["method"] == "GET" for f in fetches)


def test_server_delay_and_concurrency(servers: FixtureServers) -> None:
    base = servers.main.base_url
    start = time.monotonic()
    assert get(base + "/slow.html")[0] == 200
    assert time.monotonic() - start >= 0.3
    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        start = time.monotonic()
        statuses = list(pool.map(lambda _: get(base + "/slow.html")[0], range(64)))
    assert statuses == [200] * 64 and time.monotonic() - start < 5


def test_server_reloads_after_update() -> None:
    with SiteProcess(Site("grow", {"/": Page("/", links=["/a"])}), "127.0.0.2") as proc:
        assert proc.base_url.startswith("http://127.0.0.2:")
        assert get(proc.url("/new"))[0] == 404
        grown = Site("grow", {"/": Page("/", links=["/a", "/new"]), "/new": Page("/new", title="New")})
        proc.update(grown)
        status, _, body = get(proc.url("/new"))
        assert status == 200 and b"<title>New</title>" in body
        assert b'href="/new"' in get(proc.url("/"))[2]
        assert [f["path"] for f in proc.fetches()] == ["/new", "/new", "/"]


# ---------------------------------------------------------------- generated sites

def test_generate_site_20000_is_fast_and_connected() -> None:
    start = time.perf_counter()
    big = generate_site(20000)
    assert time.perf_counter() - start < 3.0
    assert len(big.pages) == 20000
    assert all(len(page.links) >= 10 for page in big.pages.values())
    got = expected_report({"http://127.0.0.1:1": big}, ["http://127.0.0.1:1/"])
    assert len(got) == 20000
    sample = list(big.pages.values())[::500]
    sizes = [len(render_html(page, "http://127.0.0.1:12345").encode()) for page in sample]
    assert 5000 < sum(sizes) / len(sizes) < 7000
    assert generate_site(50, seed=2).to_json() == generate_site(50, seed=2).to_json()
    assert generate_site(50, seed=2).to_json() != generate_site(50, seed=3).to_json()


def test_generated_site_served() -> None:
    small = generate_site(30, links_per_page=4, page_bytes=2000)
    with SiteProcess(small) as proc:
        status, _, body = get(proc.url("/s07/page-7.html"))
        assert status == 200 and 1500 < len(body) < 2600


# ---------------------------------------------------------------- nginx

def test_nginx_config_without_nginx(tmp_path: Path) -> None:
    redirects = write_static(fixture_site(OTHER_BASE), tmp_path, "http://127.0.0.1:9")
    assert redirects == {"/old-home.html": (301, "/moved/home.html"),
                         "/temp.html": (302, "http://127.0.0.1:9/landing.html?from=temp")}
    assert (tmp_path / "index.html").exists() and (tmp_path / "files/report.pdf").read_bytes() == PDF_BYTES
    assert not (tmp_path / "gone.html").exists()
    conf = nginx_conf(tmp_path, "127.0.0.1", 9, redirects)
    assert "listen 127.0.0.1:9;" in conf and "daemon off;" in conf and "access_log off;" in conf


def test_nginx_serves_static_site(tmp_path: Path) -> None:
    if find_nginx() is None:
        pytest.skip("nginx is not installed")
    server = start_nginx(fixture_site(OTHER_BASE), tmp_path)
    assert server is not None
    with server:
        base = server.base_url
        status, headers, body = get(base + "/")
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
        assert f'href="{base}/docs/index.html"'.encode() in body
        assert get(base + "/old-home.html")[1]["Location"].endswith("/moved/home.html")
        assert get(base + "/files/report.pdf")[1]["Content-Type"] == "application/pdf"
        assert get(base + "/robots.txt")[0] == 200 and get(base + "/missing.html")[0] == 404
    assert server.proc.poll() is not None
