"""Which URLs a crawl fetches and which pages it processes.

Rules (Diffbot's, made precise):

- restrictDomain=1 keeps the crawl on the seeds' domains. A seed's domain is its host
  without a leading `www.`, and includes its subdomains; so a non-www subdomain seed
  (`blog.example.com`) restricts the crawl to that subdomain. Ports are ignored.
- restrictDomain=0 also crawls pages on other domains that a page on the seed domains
  links to, one hop off-domain: their own off-domain links are not followed.
- A crawl pattern or regex that *selects* URLs (a regex, or a pattern with a positive
  string) lets the crawl leave the seed domains: it follows every matching URL. A pattern
  of exclusions only (`!/tag/`) keeps the domain restriction and drops what it excludes.
- maxHops: a URL is crawled when its shortest distance from a seed is at most maxHops
  (-1: any). Processing follows crawling: only crawled pages are processed.
- Processing: the process regex, else the process pattern, decides (empty: every page).
- URL filters (expression/action pairs) come first: the first filter a URL matches decides
  (doNotCrawl: not crawled, even as a seed; doNotProcess: crawled, not processed; an API URL:
  processed with that API).

    >>> scope = Scope.of(CrawlDefinition("c", ("https://www.example.com/",)))
    >>> page = "https://www.example.com/"
    >>> scope.follows(page, "http://docs.example.com/a"), scope.follows(page, "http://example.org/")
    (True, False)
    >>> Scope.of(CrawlDefinition("c", ("http://blog.example.com/",))).follows(page, "http://example.com/")
    False
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .definition import CrawlDefinition
from .filters import DO_NOT_CRAWL, DO_NOT_PROCESS, UrlFilter, first_match, parse_filters
from .patterns import UrlRule
from .urls import host_of

__all__ = ["Scope", "domain_root", "within_hops"]


def domain_root(seed_url: str) -> str:
    """The domain a seed restricts its crawl to.

    >>> domain_root("https://www.example.com/x"), domain_root("http://blog.example.com:8080/")
    ('example.com', 'blog.example.com')
    """
    host = host_of(seed_url)
    return host[4:] if host.startswith("www.") and host.count(".") >= 2 else host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def within_hops(hop: int, max_hops: int) -> bool:
    """True when a URL at distance `hop` from the seeds may be crawled."""
    return max_hops < 0 or hop <= max_hops


@dataclass(frozen=True)
class Scope:
    """The compiled crawl and process rules of one definition."""

    roots: frozenset[str]
    restrict_domain: bool
    crawl_rule: UrlRule
    process_rule: UrlRule
    max_hops: int
    filters: tuple[UrlFilter, ...] = ()

    @classmethod
    def of(cls, definition: CrawlDefinition) -> Scope:
        return cls(
            roots=frozenset(domain_root(s) for s in definition.seeds),
            restrict_domain=definition.restrict_domain,
            crawl_rule=UrlRule.build(definition.url_crawl_pattern, definition.url_crawl_regex, "urlCrawlRegEx"),
            process_rule=UrlRule.build(definition.url_process_pattern, definition.url_process_regex,
                                       "urlProcessRegEx"),
            max_hops=definition.max_hops,
            filters=parse_filters([e for e, _ in definition.filters], [a for _, a in definition.filters]),
        )

    def on_seed_domains(self, url: str) -> bool:
        host = host_of(url)
        return any(host == root or (not _is_ip(root) and host.endswith("." + root)) for root in self.roots)

    def _filter(self, url: str) -> UrlFilter | None:
        return first_match(self.filters, url) if self.filters else None

    def admits_seed(self, url: str) -> bool:
        """True when a seed passes the crawl pattern or regex and no doNotCrawl filter catches it."""
        url_filter = self._filter(url)
        if url_filter is not None and url_filter.action == DO_NOT_CRAWL:
            return False
        return self.crawl_rule.matches(url)

    def follows(self, parent: str, url: str) -> bool:
        """True when a link (or redirect) from `parent` to `url` is in the crawl's scope (hops aside).

        With restrictDomain=0, a page off the seed domains is crawled when a page on them
        links to it, but its own off-domain links are not followed.
        """
        url_filter = self._filter(url)
        if url_filter is not None and url_filter.action == DO_NOT_CRAWL:
            return False
        if self.crawl_rule.selects:
            return self.crawl_rule.matches(url)
        if not self.on_seed_domains(url) and (self.restrict_domain or not self.on_seed_domains(parent)):
            return False
        return self.crawl_rule.matches(url)

    def processes(self, url: str) -> bool:
        """True when a crawled page at this URL is to be processed (content checks aside).
        A filter decides first: doNotProcess says no, an API action says yes."""
        url_filter = self._filter(url)
        if url_filter is not None:
            return url_filter.action not in (DO_NOT_CRAWL, DO_NOT_PROCESS)
        return self.process_rule.matches(url)

    def api_for(self, url: str, default: str) -> str:
        """The API a page is processed with: its filter's, else the crawl's apiUrl."""
        url_filter = self._filter(url)
        return url_filter.api_url if url_filter is not None and url_filter.api_url else default
