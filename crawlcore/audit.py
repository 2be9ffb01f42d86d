"""Site audit: the problems a crawl found, from its URL report and page metadata.

    >>> rows = [{"url": "https://x/", "http_status": 200, "title": "Home", "links": ["https://x/gone"],
    ...          "content_type": "text/html"},
    ...         {"url": "https://x/gone", "http_status": 404, "title": "", "links": []}]
    >>> [(i["type"], i["url"]) for i in audit(rows, {})]
    [('client_error', 'https://x/gone'), ('broken_link', 'https://x/gone')]

Exclusion patterns (LibreCrawl's issue filters) drop URLs from the audit: a pattern with
`*` or `?` is a glob matched against the whole URL, anything else a substring.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ISSUE_TYPES", "SEVERITY", "Exclusions", "audit", "summarize"]

SEVERITY = {
    "client_error": "error",
    "server_error": "error",
    "failed": "error",
    "broken_link": "error",
    "redirect_loop": "error",
    "redirect_chain": "warning",
    "missing_title": "warning",
    "duplicate_title": "warning",
    "missing_description": "warning",
    "duplicate_description": "notice",
    "blocked_by_robots": "notice",
}
ISSUE_TYPES = tuple(SEVERITY)
MAX_LISTED = 20  # URLs listed in one issue (linking pages, duplicates); the count is exact


class Exclusions:
    """URL exclusion patterns.

    >>> Exclusions(["/tag/", "*.pdf"]).excluded("https://x/a.pdf")
    True
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(p for p in (s.strip() for s in patterns) if p)
        globs = [fnmatch.translate(p) for p in self.patterns if any(c in p for c in "*?[")]
        self._glob = re.compile("|".join(globs)) if globs else None
        self._subs = tuple(p for p in self.patterns if not any(c in p for c in "*?["))

    def excluded(self, url: str) -> bool:
        if any(s in url for s in self._subs):
            return True
        return bool(self._glob and self._glob.match(url))


@dataclass
class _Page:
    status: int
    outcome: str
    redirect: str
    title: str
    html: bool
    links: list[str] = field(default_factory=list)


def _issue(kind: str, url: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "severity": SEVERITY[kind], "url": url, "detail": detail, **extra}


def _listed(urls: list[str]) -> dict[str, Any]:
    return {"urls": urls[:MAX_LISTED], "count": len(urls)}


def _duplicates(kind: str, what: str, groups: dict[str, list[str]]) -> list[dict[str, Any]]:
    out = []
    for text, urls in groups.items():
        if len(urls) > 1:
            for url in urls:
                others = [u for u in urls if u != url]
                out.append(_issue(kind, url, f"{len(others)} other page(s) have the same {what}",
                                  **{what.replace(" ", "_"): text, "duplicates": _listed(others)}))
    return out


def audit(rows: Iterable[Mapping[str, Any]], descriptions: Mapping[str, str],
          exclude: Exclusions | None = None) -> list[dict[str, Any]]:
    """Every issue, in a stable order: by page, then by type.

    `rows` are URL-report rows (url, http_status, outcome, redirected_to, title, content_type,
    links); `descriptions` maps the URL of each processed page to its meta description.
    """
    skip = exclude or Exclusions(())
    pages: dict[str, _Page] = {}
    for row in rows:
        url = row.get("url") or ""
        if not url or url in pages or skip.excluded(url):
            continue  # rows come newest first: a URL's latest round decides
        ctype = str(row.get("content_type") or "")
        pages[url] = _Page(int(row.get("http_status") or 0), str(row.get("outcome") or "fetched"),
                           str(row.get("redirected_to") or ""), str(row.get("title") or "").strip(),
                           "html" in ctype or not ctype, list(row.get("links") or ()))
    issues: list[dict[str, Any]] = []
    inbound: dict[str, list[str]] = {}
    titles: dict[str, list[str]] = {}
    descs: dict[str, list[str]] = {}
    for url, page in pages.items():
        if page.outcome == "blocked":
            issues.append(_issue("blocked_by_robots", url, "robots.txt disallows this URL"))
        elif page.outcome == "failed":
            issues.append(_issue("failed", url, "no response after the last try"))
        elif 400 <= page.status < 500:
            issues.append(_issue("client_error", url, f"HTTP {page.status}", http_status=page.status))
        elif page.status >= 500:
            issues.append(_issue("server_error", url, f"HTTP {page.status}", http_status=page.status))
        for link in page.links:
            inbound.setdefault(link, []).append(url)
        if page.outcome != "fetched" or not 200 <= page.status < 300 or not page.html:
            continue
        if page.title:
            titles.setdefault(page.title, []).append(url)
        else:
            issues.append(_issue("missing_title", url, "the page has no <title>"))
        if url in descriptions:
            text = (descriptions[url] or "").strip()
            if text:
                descs.setdefault(text, []).append(url)
            else:
                issues.append(_issue("missing_description", url, "the page has no meta description"))
    issues += _broken_links(pages, inbound)
    issues += _redirects(pages)
    issues += _duplicates("duplicate_title", "title", titles)
    issues += _duplicates("duplicate_description", "description", descs)
    order = {kind: i for i, kind in enumerate(ISSUE_TYPES)}
    issues.sort(key=lambda i: (i["url"], order[i["type"]]))
    return issues


def _broken_links(pages: Mapping[str, _Page], inbound: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    out = []
    for target, sources in inbound.items():
        page = pages.get(target)
        if page is None:
            continue
        if page.outcome == "failed" or page.status >= 400:
            detail = "failed" if page.outcome == "failed" else f"HTTP {page.status}"
            out.append(_issue("broken_link", target, f"linked from {len(sources)} page(s), answers {detail}",
                              http_status=page.status, linked_from=_listed(sorted(set(sources)))))
    return out


def _redirects(pages: Mapping[str, _Page]) -> list[dict[str, Any]]:
    out = []
    for url, page in pages.items():
        if not page.redirect:
            continue
        chain = [url]
        current: _Page | None = page
        loop = False
        while current is not None and current.redirect:
            if current.redirect in chain:
                loop = True
                chain.append(current.redirect)
                break
            chain.append(current.redirect)
            current = pages.get(current.redirect)
        if loop:
            out.append(_issue("redirect_loop", url, "redirects back to a URL already in the chain", chain=chain))
        elif len(chain) > 2:
            out.append(_issue("redirect_chain", url, f"{len(chain) - 1} redirects before the final URL",
                              chain=chain))
    return out


def summarize(issues: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Issue counts by type (every type present, zero included)."""
    counts = dict.fromkeys(ISSUE_TYPES, 0)
    for issue in issues:
        counts[issue["type"]] += 1
    return counts
