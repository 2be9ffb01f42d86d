"""Crawlbot URL filter expressions: repeated `expression` / `action` pairs.

Filters apply in the order sent and a URL matches at most one of them (the first). An
expression is `&&`-joined terms, each `*` (anything), a string (contained), `^string`
(starts with), `$string` (ends with), or one of those negated with `!`. An action is
`doNotCrawl`, `doNotProcess`, or an API URL to process the matching pages with.

    >>> filters = parse_filters(["products&&!$.pdf", "*"], ["product", "doNotProcess"])
    >>> first_match(filters, "http://x.com/products/1").action
    'product'
    >>> first_match(filters, "http://x.com/products/1.pdf").action
    'doNotProcess'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .api_url import parse_api_url
from .errors import InvalidParameter
from .patterns import PatternTerm

__all__ = ["DO_NOT_CRAWL", "DO_NOT_PROCESS", "UrlFilter", "first_match", "parse_filters"]

DO_NOT_CRAWL = "doNotCrawl"
DO_NOT_PROCESS = "doNotProcess"


@dataclass(frozen=True)
class UrlFilter:
    expression: str
    action: str
    terms: tuple[PatternTerm, ...]  # all must hold; none means `*`

    def matches(self, url: str) -> bool:
        return all(term.hit(url) != term.negated for term in self.terms)

    @property
    def api_url(self) -> str:
        """The API to process matching pages with ('' for doNotCrawl / doNotProcess)."""
        return "" if self.action in (DO_NOT_CRAWL, DO_NOT_PROCESS) else self.action


def _terms(expression: str) -> tuple[PatternTerm, ...]:
    terms: list[PatternTerm] = []
    for raw in expression.split("&&"):
        text = raw.strip()
        if text == "*":
            continue
        term = PatternTerm.parse(text)
        if term is None:
            raise InvalidParameter("expression", f"empty term in {expression!r}")
        terms.append(term)
    return tuple(terms)


def parse_filters(expressions: Sequence[str], actions: Sequence[str]) -> tuple[UrlFilter, ...]:
    """Pair the i-th expression with the i-th action; both lists must be as long."""
    if len(expressions) != len(actions):
        name = "action" if len(expressions) > len(actions) else "expression"
        raise InvalidParameter(name, f"{len(expressions)} expressions but {len(actions)} actions: send them in pairs")
    filters = []
    for expression, action in zip(expressions, actions, strict=True):
        action = action.strip()
        if not expression.strip():
            raise InvalidParameter("expression", "must not be empty (use * to match every URL)")
        if not action:
            raise InvalidParameter("action", f"missing for expression {expression!r}")
        if action not in (DO_NOT_CRAWL, DO_NOT_PROCESS):
            try:
                parse_api_url(action)  # a Diffbot API (built in here) or a processing service's URL
            except InvalidParameter as exc:
                raise InvalidParameter("action", f"{action!r} is not doNotCrawl, doNotProcess or an API URL: "
                                       f"{exc.problem}") from None
        filters.append(UrlFilter(expression.strip(), action, _terms(expression)))
    return tuple(filters)


def first_match(filters: Sequence[UrlFilter], url: str) -> UrlFilter | None:
    for url_filter in filters:
        if url_filter.matches(url):
            return url_filter
    return None
