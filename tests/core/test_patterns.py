"""crawlcore.patterns: Diffbot's `||` patterns, regex override and pageProcessPattern."""

from __future__ import annotations

import pytest

from crawlcore.errors import InvalidParameter
from crawlcore.patterns import PatternTerm, UrlPattern, UrlRule, compile_regex, page_matches

URL = "https://example.com/blog/2024/post.html?ref=home"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("foo", ("foo", False, ""), id="contains"),
        pytest.param("  foo  ", ("foo", False, ""), id="stripped"),
        pytest.param("!foo", ("foo", True, ""), id="negated"),
        pytest.param("^foo", ("foo", False, "^"), id="start"),
        pytest.param("$foo", ("foo", False, "$"), id="leading-dollar-end"),
        pytest.param("foo$", ("foo", False, "$"), id="trailing-dollar-end"),
        pytest.param("$foo$", ("foo", False, "$"), id="both-dollars-end"),
        pytest.param("^foo$", ("foo", False, "^$"), id="start-and-end-equals"),
        pytest.param("!^foo", ("foo", True, "^"), id="negated-start"),
        pytest.param("!$foo", ("foo", True, "$"), id="negated-leading-dollar"),
        pytest.param("!foo$", ("foo", True, "$"), id="negated-trailing-dollar"),
        pytest.param("!^foo$", ("foo", True, "^$"), id="negated-equals"),
        pytest.param("a$", ("a", False, "$"), id="single-char-end"),
        pytest.param("", None, id="empty"),
        pytest.param("   ", None, id="blank"),
        pytest.param("!", None, id="bare-bang"),
        pytest.param("^", None, id="bare-caret"),
        pytest.param("$", None, id="bare-dollar"),
    ],
)
def test_term_parse(raw: str, expected: tuple[str, bool, str] | None) -> None:
    term = PatternTerm.parse(raw)
    if expected is None:
        assert term is None
    else:
        assert term == PatternTerm(*expected)


@pytest.mark.parametrize(
    ("anchor", "text", "url", "expected"),
    [
        pytest.param("", "/blog/", URL, True, id="contains-hit"),
        pytest.param("", "/news/", URL, False, id="contains-miss"),
        pytest.param("^", "https://example.com", URL, True, id="start-hit"),
        pytest.param("^", "example.com", URL, False, id="start-miss-when-only-contained"),
        pytest.param("$", "home", URL, True, id="end-hit"),
        pytest.param("$", ".html", URL, False, id="end-miss-when-only-contained"),
        pytest.param("^$", URL, URL, True, id="equals-hit"),
        pytest.param("^$", URL[:-1], URL, False, id="equals-miss-prefix"),
    ],
)
def test_term_hit(anchor: str, text: str, url: str, expected: bool) -> None:
    assert PatternTerm(text, anchor=anchor).hit(url) is expected


@pytest.mark.parametrize(
    ("pattern", "url", "expected"),
    [
        pytest.param("/blog/||/news/||!/tag/", "http://x.com/blog/1", True, id="alt-first"),
        pytest.param("/blog/||/news/||!/tag/", "http://x.com/news/1", True, id="alt-second"),
        pytest.param("/blog/||/news/||!/tag/", "http://x.com/blog/tag/1", False, id="negative-wins"),
        pytest.param("/blog/||/news/||!/tag/", "http://x.com/", False, id="no-positive-hit"),
        pytest.param(" /blog/ || /news/ ", "http://x.com/news/", True, id="spaces-around-alternatives"),
        pytest.param("/blog/||||", "http://x.com/blog/", True, id="empty-alternatives-ignored"),
        pytest.param("^https://", "https://x.com/", True, id="start-anchor-hit"),
        pytest.param("^https://", "http://x.com/https://", False, id="start-anchor-miss"),
        pytest.param("$.html", "http://x.com/a.html", True, id="leading-dollar-hit"),
        pytest.param("$.html", "http://x.com/a.html?x=1", False, id="leading-dollar-miss"),
        pytest.param(".html$", "http://x.com/a.html", True, id="trailing-dollar-hit"),
        pytest.param(".html$", "http://x.com/a.html#", False, id="trailing-dollar-miss"),
        pytest.param("^https://x.com||$.html", "http://y.com/a.html", True, id="either-anchor"),
        pytest.param("^http://x.com/$", "http://x.com/", True, id="caret-dollar-equals"),
        pytest.param("^http://x.com/$", "http://x.com/a", False, id="caret-dollar-not-prefix"),
        pytest.param("!^http://", "http://x.com/", False, id="negated-start-excludes"),
        pytest.param("!^http://", "https://x.com/", True, id="negated-start-keeps-others"),
        pytest.param("!$.pdf", "http://x.com/a.pdf", False, id="negated-leading-dollar-excludes"),
        pytest.param("!.pdf$", "http://x.com/a.pdf", False, id="negated-trailing-dollar-excludes"),
        pytest.param("!.pdf$", "http://x.com/a.pdf.html", True, id="negated-end-keeps-contained"),
        pytest.param("product", "http://x.com/Product", False, id="case-sensitive"),
    ],
)
def test_pattern_matches(pattern: str, url: str, expected: bool) -> None:
    assert UrlPattern.parse(pattern).matches(url) is expected


@pytest.mark.parametrize("pattern", ["", "   ", "||", " || ", "!", "^||$"], ids=repr)
def test_empty_pattern_matches_all(pattern: str) -> None:
    parsed = UrlPattern.parse(pattern)
    assert parsed.empty
    assert parsed.matches("anything at all")
    assert parsed.matches("")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("http://x.com/", True, id="neither"),
        pytest.param("http://x.com/product/1", False, id="first-negative"),
        pytest.param("http://x.com/a?sort=1", False, id="second-negative"),
        pytest.param("http://x.com/products-list", False, id="substring-of-negative"),
    ],
)
def test_negative_only_pattern_matches_everything_not_excluded(url: str, expected: bool) -> None:
    pattern = UrlPattern.parse("!product||!sort=")
    assert not pattern.positives
    assert pattern.matches(url) is expected


@pytest.mark.parametrize(
    ("pattern", "regex", "url", "expected"),
    [
        pytest.param("blog", r"/\d+$", "http://x.com/blog", False, id="regex-rejects-pattern-hit"),
        pytest.param("blog", r"/\d+$", "http://x.com/news/12", True, id="regex-accepts-pattern-miss"),
        pytest.param("!news", r"news", "http://x.com/news", True, id="regex-ignores-negative"),
        pytest.param("", r"/a/", "http://x.com/a/b", True, id="regex-searched-not-anchored"),
        pytest.param("", r"^http://x\.com/$", "http://x.com/", True, id="regex-own-anchors"),
        pytest.param("", r"^http://x\.com/$", "http://x.com/a", False, id="regex-own-anchors-miss"),
        pytest.param("blog", "", "http://x.com/blog", True, id="no-regex-uses-pattern"),
        pytest.param("blog", "", "http://x.com/news", False, id="no-regex-uses-pattern-miss"),
        pytest.param("", "", "http://x.com/anything", True, id="both-empty-match-all"),
    ],
)
def test_rule_regex_overrides_pattern(pattern: str, regex: str, url: str, expected: bool) -> None:
    assert UrlRule.build(pattern, regex).matches(url) is expected


@pytest.mark.parametrize(
    ("pattern", "regex", "selects", "empty"),
    [
        pytest.param("", "", False, True, id="nothing"),
        pytest.param("/blog/", "", True, False, id="positive-string"),
        pytest.param("!/tag/", "", False, False, id="negative-only"),
        pytest.param("/blog/||!/tag/", "", True, False, id="positive-and-negative"),
        pytest.param("", "blog", True, False, id="regex"),
        pytest.param("!/tag/", "blog", True, False, id="regex-with-negative-pattern"),
    ],
)
def test_rule_selects_and_empty(pattern: str, regex: str, selects: bool, empty: bool) -> None:
    rule = UrlRule.build(pattern, regex)
    assert rule.selects is selects
    assert rule.empty is empty


@pytest.mark.parametrize(
    ("regex", "text", "found"),
    [
        pytest.param(r"/p/\d+$", "http://x.com/p/12", True, id="perl-class-and-anchor"),
        pytest.param(r"(?i)BLOG", "http://x.com/blog", True, id="inline-flag"),
        pytest.param(r"a(?i)B", "http://x.com/ab", True, id="late-flag-accepted-by-re2"),
        pytest.param(r"(?P<year>\d{4})/", "http://x.com/2024/", True, id="named-group"),
        pytest.param(r"\bnews\b", "http://x.com/newsroom", False, id="word-boundary"),
        pytest.param(r"[[:alpha:]]+\.html$", "http://x.com/a.html", True, id="posix-class"),
        pytest.param(r"[[a]", "http://x.com/[", True, id="bracket-in-set-no-warning"),
        pytest.param(r"caf\x{e9}", "http://x.com/café", True, id="unicode"),
        pytest.param(r"(a|a)*$", "http://x.com/" + "a" * 30 + "!", True, id="redos-pattern-is-linear"),
        pytest.param(r"(a+)+b", "a" * 5000, False, id="nested-quantifier-is-linear"),
    ],
)
def test_compile_regex_accepts_re2_syntax(regex: str, text: str, found: bool) -> None:
    assert (compile_regex(regex).search(text) is not None) is found


@pytest.mark.parametrize(
    ("regex", "reason"),
    [
        pytest.param("[", "missing ]", id="unterminated-set"),
        pytest.param("(", "missing )", id="unbalanced"),
        pytest.param("*a", "no argument for repetition operator", id="nothing-to-repeat"),
        pytest.param("a{2,1}", "invalid repetition size: {2,1}", id="bad-range"),
        pytest.param("\\", "trailing \\", id="trailing-backslash"),
        pytest.param(r"(a)\1", "invalid escape sequence: \\1", id="backreference"),
        pytest.param("(?=a)", "invalid perl operator: (?=", id="lookahead"),
        pytest.param("(?!a)", "invalid perl operator: (?!", id="negative-lookahead"),
        pytest.param("(?<=a)b", "invalid perl operator: (?<", id="lookbehind"),
        pytest.param("a++", "bad repetition operator: ++", id="possessive"),
        pytest.param("(?>a)", "invalid perl operator: (?>", id="atomic-group"),
        pytest.param("a{1001}", "invalid repetition size", id="repetition-too-large"),
        pytest.param("((((a{100}){100}){100}){100})", "invalid repetition size", id="nested-repetition-too-large"),
        pytest.param("\ud800", "not valid Unicode", id="lone-surrogate"),
    ],
)
def test_compile_regex_refuses_with_re2_reason(regex: str, reason: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        compile_regex(regex, "urlCrawlRegEx")
    assert caught.value.param == "urlCrawlRegEx"
    assert reason in caught.value.problem


def test_compile_regex_refuses_a_pattern_larger_than_its_memory_bound() -> None:
    with pytest.raises(InvalidParameter, match="RE2: pattern too large"):
        compile_regex(r"\pL{1000}" * 5, "urlProcessRegEx")  # more than MAX_REGEX_MEMORY


@pytest.mark.parametrize(
    ("pattern", "html", "expected"),
    [
        pytest.param("price||<article", "<html><article>...", True, id="second-alternative"),
        pytest.param("price", "<html>", False, id="miss"),
        pytest.param("", "<html>", True, id="empty-matches-all"),
        pytest.param(" || ", "<html>", True, id="blank-alternatives-match-all"),
        pytest.param(" price ", "the price is", True, id="alternatives-stripped"),
        pytest.param("Price", "the price is", False, id="case-sensitive"),
        pytest.param("price", "", False, id="empty-page"),
    ],
)
def test_page_matches(pattern: str, html: str, expected: bool) -> None:
    assert page_matches(pattern, html) is expected
