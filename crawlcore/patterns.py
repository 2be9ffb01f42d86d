"""Diffbot URL patterns and regular expressions.

A pattern is `||`-separated strings. A URL matches when it contains any positive
string (or there is none) and no string marked with `!`. `^` anchors a string to the
start of the URL; `$` (leading, as in Diffbot's filter expressions, or trailing)
anchors it to the end:

    >>> p = UrlPattern.parse("/blog/||/news/||!/tag/")
    >>> p.matches("http://x.com/blog/1"), p.matches("http://x.com/blog/tag/1"), p.matches("http://x.com/")
    (True, False, False)
    >>> UrlPattern.parse("^https://x.com||$.html").matches("http://y.com/a.html")
    True
    >>> UrlPattern.parse("").matches("anything")
    True

A regular expression, when given, overrides the pattern (`UrlRule`).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

__all__ = ["PatternTerm", "UrlPattern", "UrlRule", "compile_regex", "page_matches"]


@dataclass(frozen=True)
class PatternTerm:
    """One `||` alternative: a literal with optional negation and anchor."""

    text: str
    negated: bool = False
    anchor: str = ""  # "" (contains), "^" (starts with), "$" (ends with), "^$" (equals)

    def hit(self, url: str) -> bool:
        if self.anchor == "^":
            return url.startswith(self.text)
        if self.anchor == "$":
            return url.endswith(self.text)
        if self.anchor == "^$":
            return url == self.text
        return self.text in url

    @classmethod
    def parse(cls, raw: str) -> PatternTerm | None:
        text = raw.strip()
        negated = text.startswith("!")
        if negated:
            text = text[1:]
        start = end = False
        if text.startswith("^"):
            start, text = True, text[1:]
        elif text.startswith("$"):
            end, text = True, text[1:]
        if text.endswith("$") and len(text) > 1:
            end, text = True, text[:-1]
        if not text:
            return None
        anchor = ("^" if start else "") + ("$" if end else "")
        return cls(text, negated, anchor)


@dataclass(frozen=True)
class UrlPattern:
    """A parsed Diffbot pattern (`urlCrawlPattern`, `urlProcessPattern`)."""

    positives: tuple[PatternTerm, ...] = ()
    negatives: tuple[PatternTerm, ...] = ()

    @classmethod
    def parse(cls, text: str) -> UrlPattern:
        terms = [t for t in (PatternTerm.parse(part) for part in text.split("||")) if t is not None]
        return cls(tuple(t for t in terms if not t.negated), tuple(t for t in terms if t.negated))

    @property
    def empty(self) -> bool:
        return not self.positives and not self.negatives

    def matches(self, url: str) -> bool:
        if any(term.hit(url) for term in self.negatives):
            return False
        return not self.positives or any(term.hit(url) for term in self.positives)


def compile_regex(text: str) -> re.Pattern[str]:
    """Compile a user's regular expression (raises re.error when it does not compile).

    Python's warnings about constructs whose meaning may change (`[[a]`) are not errors.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile(text)


@dataclass(frozen=True)
class UrlRule:
    """A pattern overridden by a regular expression when one is given (searched, not anchored).

    >>> UrlRule.build("blog", r"/\\d+$").matches("http://x.com/blog")
    False
    """

    pattern: UrlPattern
    regex: re.Pattern[str] | None = None

    @classmethod
    def build(cls, pattern: str, regex: str) -> UrlRule:
        return cls(UrlPattern.parse(pattern), compile_regex(regex) if regex else None)

    @property
    def empty(self) -> bool:
        return self.regex is None and self.pattern.empty

    @property
    def selects(self) -> bool:
        """True when the rule names what to take (a regex or a positive string), not only exclusions."""
        return self.regex is not None or bool(self.pattern.positives)

    def matches(self, url: str) -> bool:
        if self.regex is not None:
            return self.regex.search(url) is not None
        return self.pattern.matches(url)


def page_matches(pattern: str, html: str) -> bool:
    """pageProcessPattern: the page's HTML contains one of the `||`-separated strings (empty: any).

    >>> page_matches("price||<article", "<html><article>..."), page_matches("price", "<html>")
    (True, False)
    """
    strings = [s for s in (part.strip() for part in pattern.split("||")) if s]
    return not strings or any(s in html for s in strings)
