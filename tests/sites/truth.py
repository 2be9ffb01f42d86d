"""Ground truth: which URLs a crawl of some `Site`s must report, and at which hop.

Independent of the crawler's code. The semantics implemented here:

* URLs are normalised: scheme and host lowercased, default port (80/443) removed,
  fragment dropped, ``.``/``..`` segments resolved, empty path -> ``/``, query kept
  verbatim (an empty ``?`` is lost). Only http/https links count: ``mailto:``,
  ``javascript:``, ``tel:``, ``data:`` (and any other scheme) are ignored. Hrefs
  resolve against the page URL, or against its ``<base href>`` (itself resolved
  against the page URL). ``{base}`` in hrefs is the base URL the site is served at.
* Scope (restrict_to_seed_hosts): a URL is in scope when its hostname (port
  ignored) equals a seed hostname with a leading ``www.`` removed, or is a
  subdomain of it. Out-of-scope URLs never appear.
* Hops: seeds are hop 0; a link on a page at hop h is at hop h+1; a redirect target
  (Location resolved against the redirecting URL) keeps the redirecting URL's hop.
  Each URL gets its shortest hop (0-1 BFS). With max_hops >= 0, URLs beyond it are
  neither crawled nor reported.
* Reported: every reachable in-scope URL within max_hops, whatever its status
  (2xx/3xx/4xx/5xx, non-HTML, an unknown path -> 404, a host with no site ->
  status None). With obey_robots, a URL Disallowed by its host's robots.txt (group
  ``User-agent: *``; longest matching Allow/Disallow prefix wins, Allow on ties,
  ``*`` and a final ``$`` supported) is reported but not fetched, so not expanded.
  /robots.txt is reported only if a page links to it.
* Expanded: only pages answered 2xx with an HTML content type yield links; 301,
  302, 303, 307 and 308 with a Location yield their target; nothing else yields
  anything (4xx/5xx bodies, PDFs, images).

    >>> from tests.sites.model import Page, Site
    >>> site = Site("s", {"/": Page("/", links=["a.html", "/b.html#x", "mailto:me@x.org"]),
    ...                   "/a.html": Page("/a.html", links=["/b.html", "c.html"]),
    ...                   "/b.html": Page("/b.html", status=301, redirect_to="/d.html")})
    >>> expected_report({"http://127.0.0.1:8000": site}, ["http://127.0.0.1:8000/"])
    ... # doctest: +NORMALIZE_WHITESPACE
    {'http://127.0.0.1:8000/': 0, 'http://127.0.0.1:8000/a.html': 1, 'http://127.0.0.1:8000/b.html': 1,
     'http://127.0.0.1:8000/d.html': 1, 'http://127.0.0.1:8000/c.html': 2}
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from tests.sites.model import REDIRECTS, Page, Site, substitute

__all__ = ["Entry", "expected_entries", "expected_fetches", "expected_report", "in_scope",
           "normalize_url", "resolve", "robots_allowed", "scope_roots"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclasses.dataclass(frozen=True)
class Entry:
    """What a crawl must record for one URL.

    status is None when the URL is not fetched (robots-blocked) or no site serves its host.
    """

    url: str
    hop: int
    status: int | None
    blocked: bool = False
    content_type: str | None = None


def remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4.

    >>> remove_dot_segments("/a/b/../c/./d/..")
    '/a/c/'
    """
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    return "/".join(out)


def normalize_url(url: str) -> str | None:
    """The normalised form of an absolute URL, or None when it is not http(s).

    >>> normalize_url("HTTP://Example.COM:80/a/./b/../c?x=1#frag")
    'http://example.com/a/c?x=1'
    >>> normalize_url("mailto:me@example.com") is None
    True
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = remove_dot_segments(parts.path) or "/"
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def resolve(href: str, base: str) -> str | None:
    """Resolve `href` against the absolute `base` and normalise; None for ignored links.

    >>> resolve("../x.html#top", "http://h:81/a/b/c.html")
    'http://h:81/a/x.html'
    >>> resolve("javascript:void(0)", "http://h/") is None
    True
    """
    return normalize_url(urljoin(base, href.strip()))


def scope_roots(seeds: list[str]) -> set[str]:
    """Seed hostnames with a leading ``www.`` removed."""
    roots = set()
    for seed in seeds:
        host = (urlsplit(seed).hostname or "").lower()
        roots.add(host[4:] if host.startswith("www.") else host)
    return roots


def in_scope(url: str, roots: set[str]) -> bool:
    """True when the URL's hostname is a root or a subdomain of one.

    >>> roots = {"example.com"}
    >>> in_scope("http://a.b.example.com:9/", roots), in_scope("http://badexample.com/", roots)
    (True, False)
    """
    host = (urlsplit(url).hostname or "").lower()
    return any(host == root or host.endswith("." + root) for root in roots)


def robots_allowed(robots_txt: str | None, path: str) -> bool:
    """Whether `path` (with query) may be fetched by user-agent ``*``.

    >>> rules = "User-agent: *\\nDisallow: /private/\\nAllow: /private/open"
    >>> [robots_allowed(rules, p) for p in ("/", "/private/x", "/private/open.html")]
    [True, False, True]
    """
    best_len, allowed = -1, True
    for verb, pattern in _star_rules(robots_txt or ""):
        if not pattern:
            continue
        regex = re.escape(pattern).replace(r"\*", ".*")
        if regex.endswith(r"\$"):
            regex = regex[:-2] + "$"
        longer = len(pattern) > best_len or (len(pattern) == best_len and verb == "allow")
        if longer and re.match(regex, path):
            best_len, allowed = len(pattern), verb == "allow"
    return allowed


def _star_rules(robots_txt: str) -> list[tuple[str, str]]:
    """(verb, pattern) of the groups whose user-agent is ``*``."""
    rules: list[tuple[str, str]] = []
    agents: list[str] = []
    in_rules = False
    for raw in robots_txt.splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (part.strip() for part in line.split(":", 1))
        key = key.lower()
        if key == "user-agent":
            if in_rules:
                agents, in_rules = [], False
            agents.append(value)
        elif key in ("allow", "disallow"):
            in_rules = True
            if "*" in agents:
                rules.append((key, value))
    return rules


def _origins(sites: dict[str, Site]) -> dict[str, tuple[str, Site]]:
    """{normalised origin: (base URL without trailing slash, site)}."""
    out = {}
    for base, site in sites.items():
        origin = normalize_url(base.rstrip("/") + "/")
        if origin is None:
            raise ValueError(f"not an http(s) base URL: {base!r}")
        out[origin[:-1]] = (base.rstrip("/"), site)
    return out


def _origin(url: str) -> str:
    """``scheme://netloc`` of a normalised URL."""
    return url[:url.index("/", url.index("//") + 2)]


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def _outgoing(page: Page, url: str, base_url: str, use_canonical: bool = True) -> list[tuple[str, int]]:
    """(target, weight) edges of a fetched page: its Location (0), or its links (1) and, with
    useCanonical, its rel=canonical when that names another URL (0: the page is a duplicate of it)."""
    if page.status in REDIRECTS and page.redirect_to is not None:
        target = resolve(substitute(page.redirect_to, base_url), url)
        return [(target, 0)] if target else []
    if not (200 <= page.status < 300 and page.is_html):
        return []
    doc_base = (resolve(substitute(page.base, base_url), url) if page.base is not None else None) or url
    origin = _origin(doc_base) + "/"
    out = []
    for link in page.links:
        href = substitute(link.href, base_url).strip()
        rooted = href.startswith("/") and not href.startswith("//")
        target = _cached_resolve(href, origin if rooted else doc_base)  # same result, more cache hits
        if target:
            out.append((target, 1))
    if use_canonical and page.canonical:
        canonical = resolve(substitute(page.canonical, base_url), doc_base)
        if canonical and canonical != url:
            out.append((canonical, 0))
    return out


@functools.lru_cache(maxsize=1 << 17)
def _cached_resolve(href: str, base: str) -> str | None:
    return resolve(href, base)


def expected_entries(sites: dict[str, Site], seeds: list[str], max_hops: int = -1,
                     obey_robots: bool = True, restrict_to_seed_hosts: bool = True,
                     use_canonical: bool = True) -> dict[str, Entry]:
    """Every URL the crawl must report, with hop, status and whether robots blocked it."""
    roots = scope_roots(seeds)
    origins = _origins(sites)
    scope: dict[str, bool] = {}
    hops: dict[str, int] = {}
    queue: collections.deque[tuple[str, int]] = collections.deque()
    for seed in seeds:
        url = normalize_url(seed)
        if url is not None:
            hops[url] = 0
            queue.append((url, 0))
    done: set[str] = set()
    entries: dict[str, Entry] = {}
    while queue:
        url, hop = queue.popleft()
        if url in done or hops[url] != hop:
            continue
        done.add(url)
        found = origins.get(_origin(url))
        page = found[1].lookup(_path_of(url)) if found else None
        blocked = bool(found and obey_robots and not robots_allowed(found[1].robots_txt, _path_of(url)))
        status = None if found is None or blocked else (page.status if page else 404)
        ctype = page.content_type if page and not blocked else None
        entries[url] = Entry(url, hop, status, blocked, ctype)
        if found is None or page is None or blocked:
            continue
        for target, weight in _outgoing(page, url, found[0], use_canonical):
            new_hop = hop + weight
            if restrict_to_seed_hosts:
                origin = _origin(target)
                if origin not in scope:
                    scope[origin] = in_scope(target, roots)
                if not scope[origin]:
                    continue
            if (max_hops >= 0 and new_hop > max_hops) or hops.get(target, new_hop + 1) <= new_hop:
                continue
            hops[target] = new_hop
            if weight == 0:
                queue.appendleft((target, new_hop))
            else:
                queue.append((target, new_hop))
    return dict(sorted(entries.items(), key=lambda item: (item[1].hop, item[0])))


def expected_report(sites: dict[str, Site], seeds: list[str], max_hops: int = -1,
                    obey_robots: bool = True, restrict_to_seed_hosts: bool = True,
                    use_canonical: bool = True) -> dict[str, int]:
    """{absolute normalised URL: hop} of every URL the crawl's URL report must contain."""
    entries = expected_entries(sites, seeds, max_hops, obey_robots, restrict_to_seed_hosts, use_canonical)
    return {url: entry.hop for url, entry in entries.items()}


def expected_fetches(sites: dict[str, Site], seeds: list[str], max_hops: int = -1,
                     obey_robots: bool = True, restrict_to_seed_hosts: bool = True,
                     use_canonical: bool = True) -> set[str]:
    """The reported URLs that are actually requested (not robots-blocked, served by a site)."""
    entries = expected_entries(sites, seeds, max_hops, obey_robots, restrict_to_seed_hosts, use_canonical)
    return {url for url, entry in entries.items() if entry.status is not None}
