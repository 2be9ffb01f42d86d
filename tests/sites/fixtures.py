"""The hand-built end-to-end site, its small neighbour, and a generator for big sites.

    >>> site = fixture_site("http://127.0.0.2:9999/")
    >>> len(site.pages), site.pages["/old-home.html"].status
    (38, 301)
    >>> big = generate_site(100, seed=3)
    >>> len(big.pages), big.pages["/"].links[0].href
    (100, '/')

Hop map of `fixture_site` seeded at "/" (see tests/test_sites.py for the counts):
hop 0 "/"; hop 1 the nine pages "/" links; hop 2 everything behind them, including
redirect targets /moved/home.html (301) and /landing.html?from=temp (302);
hop 3 /long/3, /raced/child, /chain/3, /search.html?q=crawler&page=2; hop 4 /chain/4;
hop 5 /chain/5. The traps: /shared.html is linked last from "/" (hop 1) and also at the
end of /long/1 -> 2 -> 3 (hop 4); /raced.html is behind the slow page /slow.html
(hop 2) and also behind the fast /long chain (hop 4), so a crawler that keeps the
first hop it sees gets it wrong.
"""

from __future__ import annotations

import random
from typing import Any

from tests.sites.model import BASE, Link, Page, Site
from tests.sites.render import render_html

__all__ = ["FIXTURE_ROBOTS", "PDF_BYTES", "PNG_BYTES", "fixture_site", "generate_site", "other_site"]

FIXTURE_ROBOTS = "User-agent: *\nDisallow: /private/\nAllow: /private/open.html\n"
PDF_BYTES = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
             b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f80f000001010000187dd7a30000000049454e44ae426082")


def _page(path: str, *links: str | Link, title: str, **kw: Any) -> Page:
    """An HTML page with readable text, a description and a canonical self-link."""
    kw.setdefault("text", f"This is the {title.lower()} page of the crawlfleet test site. "
                          "It has a short paragraph of readable text for extraction tests.")
    kw.setdefault("description", f"{title}: a page of the crawlfleet end-to-end test site.")
    kw.setdefault("canonical", BASE + path)
    return Page(path, links=list(links), title=title, **kw)


def fixture_site(other_host_base: str, slow_delay: float = 1.0) -> Site:
    """The 38-page e2e site; `other_host_base` (e.g. "http://127.0.0.2:PORT/") is linked from /errors.html."""
    other = other_host_base.rstrip("/") + "/"
    pages = [
        _page("/", "/long/1.html", "a.html", "/slow.html", "/chain/1.html", BASE + "/docs/index.html",
              "/media.html", "/errors.html", "/frames.html", "mailto:team@example.com",
              "javascript:void(0)", "tel:+15550100", "/shared.html#section", title="Home"),
        # a <-> b cycle, links back to the root in three forms
        _page("/a.html", "b.html", "/", title="Alpha"),
        _page("/b.html", "a.html", "./", BASE + "/#top", title="Beta"),
        # the long path to /shared.html (hop 1) and /raced.html (hop 2)
        _page("/long/1.html", "2.html", title="Long one"),
        _page("/long/2.html", "./3.html", title="Long two"),
        _page("/long/3.html", "../shared.html", "/raced.html", title="Long three"),
        _page("/shared.html", "shared/child.html", title="Shared"),
        _page("/shared/child.html", "../shared.html", "/", title="Shared child"),
        _page("/slow.html", "raced.html", title="Slow", delay=slow_delay),
        _page("/raced.html", "/raced/child.html", title="Raced"),
        _page("/raced/child.html", title="Raced child"),
        # a chain of depth 5
        *(_page(f"/chain/{i}.html", f"{i + 1}.html", title=f"Chain {i}") for i in range(1, 5)),
        _page("/chain/5.html", "1.html", "/", title="Chain 5"),
        # <base href>, query strings, dot segments in an absolute URL
        _page("/docs/index.html", "intro.html", "../api/ref.html?v=2&lang=en", "/search.html?q=crawler",
              title="Docs", base=BASE + "/docs/guide/"),
        _page("/docs/guide/intro.html", "../index.html", BASE + "/docs/guide/../index.html", title="Intro"),
        _page("/docs/api/ref.html", "../guide/intro.html", title="Reference"),
        _page("/search.html", "?q=crawler&page=2", title="Search", canonical=None),
        # non-HTML resources, <area> and <iframe>
        _page("/media.html", "files/report.pdf", "/images/logo.png", Link("/area/one.html", "area"),
              Link("/frame/embedded.html", "iframe"), title="Media"),
        Page("/files/report.pdf", content_type="application/pdf", body=PDF_BYTES),
        Page("/images/logo.png", content_type="image/png", body=PNG_BYTES),
        _page("/area/one.html", "/", title="Area one"),
        _page("/frame/embedded.html", "/", title="Embedded"),
        # frameset
        _page("/frames.html", Link("/frame/left.html", "frame"), Link("frame/right.html", "frame"),
              title="Frames"),
        _page("/frame/left.html", "/", title="Left frame"),
        _page("/frame/right.html", "/", title="Right frame"),
        # statuses, robots, other host
        _page("/errors.html", "/old-home.html", "/temp.html", "/missing.html", "/gone.html", "/error.html",
              "/private/secret.html", "/private/open.html", other + "index.html", other, title="Errors"),
        Page("/old-home.html", status=301, redirect_to="/moved/home.html", title="Moved"),
        _page("/moved/home.html", "/", title="New home"),
        Page("/temp.html", status=302, redirect_to=BASE + "/landing.html?from=temp", title="Found"),
        _page("/landing.html", "/", title="Landing"),
        _page("/gone.html", "/never-1.html", title="Gone", status=404),
        _page("/error.html", "/never-2.html", title="Server error", status=500),
        _page("/private/secret.html", "/private/hidden.html", title="Secret"),
        _page("/private/hidden.html", "/", title="Hidden"),
        _page("/private/open.html", "../a.html", title="Open"),
    ]
    return Site("fixture", {page.path: page for page in pages}, robots_txt=FIXTURE_ROBOTS)


def other_site() -> Site:
    """The 4-page site served on the other host (127.0.0.2)."""
    pages = [
        _page("/", "index.html", "about.html", title="Other home"),
        _page("/index.html", "about.html", "deep/page.html", title="Other index"),
        _page("/about.html", "/", title="Other about"),
        _page("/deep/page.html", "../about.html", title="Other deep"),
    ]
    return Site("other", {page.path: page for page in pages})


_WORDS = ["alpha", "bravo", "river", "stone", "cloud", "maple", "orbit", "signal", "harbor", "lantern",
          "meadow", "copper", "violet", "summit", "garden", "engine", "ledger", "quartz", "willow", "canyon",
          "prairie", "falcon", "cedar", "ember", "glacier"]


def generate_site(n_pages: int, links_per_page: int = 10, seed: int = 1, page_bytes: int = 6000) -> Site:
    """A deterministic site of `n_pages` pages, all reachable from "/".

    Page i > 0 is at /s{i % 50}/page-{i}.html. Links: "/" and the parent (nav), the
    children in a tree of branching max(2, links_per_page // 2) (the spine), then
    seeded random pages until there are `links_per_page` links. Rendered pages are
    about `page_bytes` long (text paragraphs fill the rest).
    """
    if n_pages < 1:
        raise ValueError("n_pages must be >= 1")
    rng = random.Random(seed)
    paths = ["/"] + [f"/s{i % 50:02d}/page-{i}.html" for i in range(1, n_pages)]
    branching = max(2, links_per_page // 2)
    pages: dict[str, Page] = {}
    for i, path in enumerate(paths):
        links = ["/"] if i == 0 else ["/", paths[(i - 1) // branching]]
        links += paths[i * branching + 1: i * branching + 1 + branching]
        while len(links) < links_per_page:
            links.append(paths[rng.randrange(n_pages)])
        words = rng.choices(_WORDS, k=36)
        pages[path] = Page(path, links=links, title=" ".join(words[:4]).title() + f" {i}",
                           description=" ".join(words[4:16]).capitalize() + ".",
                           text=" ".join(words[16:]).capitalize() + ".", canonical=BASE + path)
    overhead = len(render_html(pages[paths[-1]], "http://127.0.0.1:65535")) + 250
    for page in pages.values():
        page.filler_bytes = max(0, page_bytes - overhead)
    return Site(f"generated-{n_pages}-{seed}", pages)
