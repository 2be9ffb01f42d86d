"""crawlcore.patterns: Diffbot's `||` patterns, regex override and pageProcessPattern."""

from __future__ import annotations

import re

import pytest

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


@pytest.mark.parametrize("regex", ["[", "(", "*a", "a{2,1}", "\\", "a(?i)"])
def test_compile_regex_raises_re_error(regex: str) -> None:
    with pytest.raises(re.error):
        compile_regex(regex)


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
