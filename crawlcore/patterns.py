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

A regular expression, when given, overrides the pattern (`UrlRule`). Users' regular
expressions run on RE2 (`compile_regex`): matching takes time linear in the URL, whatever the
pattern, so a pattern like `(a|a)*$` cannot stall the controller or a worker. RE2 has no
backreferences, lookaround or possessive quantifiers; a pattern using them is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import re2  # the one non-standard import of the core: RE2's matcher (pure computation, no I/O)

from .errors import InvalidParameter

__all__ = ["MAX_REGEX_MEMORY", "PatternTerm", "Regex", "UrlPattern", "UrlRule", "compile_regex", "page_matches"]

MAX_REGEX_MEMORY = 8 * 1024 * 1024  # bytes RE2 may spend on one compiled pattern; a larger one is refused


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


class Regex(Protocol):
    """A compiled user regular expression (an RE2 pattern)."""

    def search(self, text: str) -> object | None: ...


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # RE2 would log every refused pattern to stderr
    options.max_mem = MAX_REGEX_MEMORY
    return options


_OPTIONS = _options()


def compile_regex(text: str, param: str = "regex") -> Regex:
    """Compile a user's regular expression with RE2; InvalidParameter naming `param`, with RE2's
    reason, when RE2 cannot (a syntax error, or a construct RE2 lacks: backreferences, lookaround).

    >>> compile_regex(r"/p/\\d+$").search("http://x.com/p/12") is not None
    True
    >>> compile_regex(r"(a)\\1", "urlCrawlRegEx")
    Traceback (most recent call last):
    ...
    crawlcore.errors.InvalidParameter: Invalid parameter urlCrawlRegEx: regular expression not accepted by RE2: \
invalid escape sequence: \\1
    """
    try:
        return re2.compile(text, _OPTIONS)
    except UnicodeError:  # a lone surrogate: not text RE2 can read
        raise InvalidParameter(param, "regular expression is not valid Unicode text") from None
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "does not compile"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise InvalidParameter(param, f"regular expression not accepted by RE2: {reason}") from None


@dataclass(frozen=True)
class UrlRule:
    """A pattern overridden by a regular expression when one is given (searched, not anchored).

    >>> UrlRule.build("blog", r"/\\d+$").matches("http://x.com/blog")
    False
    """

    pattern: UrlPattern
    regex: Regex | None = None

    @classmethod
    def build(cls, pattern: str, regex: str, param: str = "regex") -> UrlRule:
        """`param`: the parameter the regex came from, named when it does not compile."""
        return cls(UrlPattern.parse(pattern), compile_regex(regex, param) if regex else None)

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
