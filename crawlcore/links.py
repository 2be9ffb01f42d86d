"""From the hrefs of a page to the URLs a crawl follows.

    >>> from crawlcore.definition import CrawlDefinition
    >>> scope = Scope.of(CrawlDefinition("c", ("http://h.com/",)))
    >>> hrefs = ["b", "/c#x", "b", "http://other.org/", "mailto:x@h.com", "a"]
    >>> follow(scope, "http://h.com/a", "http://h.com/a", hrefs)
    ['http://h.com/b', 'http://h.com/c']
"""

from __future__ import annotations

from collections.abc import Iterable

from .scope import Scope
from .urls import normalize

__all__ = ["follow"]


def follow(scope: Scope, page_url: str, base: str, hrefs: Iterable[str],
           rejected: list[str] | None = None) -> list[str]:
    """Normalised, distinct, in-scope URLs of `hrefs` (resolved against `base`), in page order,
    without the page itself. The distinct URLs the scope left out go to `rejected`, if given
    (a worker counts them: crawlfleet_urls_filtered_total)."""
    seen = {page_url}
    out: list[str] = []
    for href in hrefs:
        url = normalize(href, base)
        if url is None or url in seen:
            continue
        seen.add(url)
        if scope.follows(page_url, url):
            out.append(url)
        elif rejected is not None:
            rejected.append(url)
    return out
