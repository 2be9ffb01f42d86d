"""What a robots.txt fetch means for a host's pages (RFC 9309, section 2.3.1).

- 2xx: its rules apply, parsed from at most the first 500 KiB (MAX_ROBOTS_BYTES);
- 3xx: the redirect is followed, up to MAX_REDIRECTS consecutive ones; beyond, the file
  counts as unavailable;
- 4xx (unavailable): every page may be fetched, except 429 (Too Many Requests), which like a
  5xx asks the crawler to come back later;
- 5xx, and a fetch that gets no answer (connection refused or reset, timeout): unreachable,
  every page is disallowed. An unreachable result is not kept: the host's next page (a retry,
  on any worker) fetches robots.txt again.

The worker's robots.txt middleware (spiders.middlewares) fetches and follows what this says.

    >>> [verdict(s).name for s in (200, 302, 404, 429, 503, None)], verdict(302, redirects=MAX_REDIRECTS).name
    (['RULES', 'FOLLOW', 'ALLOW_ALL', 'UNREACHABLE', 'UNREACHABLE', 'UNREACHABLE'], 'ALLOW_ALL')
    >>> unreachable_reason(503), unreachable_reason(None, "TimeoutError")
    ('robots.txt unreachable (HTTP 503)', 'robots.txt unreachable (TimeoutError)')
"""

from __future__ import annotations

import enum

__all__ = ["MAX_REDIRECTS", "MAX_ROBOTS_BYTES", "Verdict", "unreachable_reason", "verdict"]

MAX_ROBOTS_BYTES = 500 * 1024  # a longer robots.txt is parsed up to this size
MAX_REDIRECTS = 5  # consecutive redirects followed to reach a robots.txt


class Verdict(enum.Enum):
    RULES = "rules"  # parse the body: its rules apply
    FOLLOW = "follow"  # a redirect to follow
    ALLOW_ALL = "allow all"  # unavailable: no rules
    UNREACHABLE = "unreachable"  # disallow everything, and fetch robots.txt again later


def verdict(status: int | None, redirects: int = 0) -> Verdict:
    """The meaning of a robots.txt answer with HTTP `status` (None: no answer at all), reached
    after `redirects` redirects."""
    if status is None:
        return Verdict.UNREACHABLE
    if 200 <= status < 300:
        return Verdict.RULES
    if 300 <= status < 400:
        return Verdict.FOLLOW if redirects < MAX_REDIRECTS else Verdict.ALLOW_ALL
    if 400 <= status < 500 and status != 429:
        return Verdict.ALLOW_ALL
    return Verdict.UNREACHABLE


def unreachable_reason(status: int | None, error: str = "") -> str:
    """The text a page blocked by an unreachable robots.txt shows (its URL report status)."""
    return f"robots.txt unreachable ({f'HTTP {status}' if status is not None else error or 'no answer'})"
