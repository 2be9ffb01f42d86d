"""apiUrl parsing (crawlcore.api_url): every accepted form, and the 400 for the rest."""

from __future__ import annotations

import pytest

from crawlcore.api_url import ApiSpec, parse_api_url, service_url
from crawlcore.errors import InvalidParameter

CASES = [
    # (apiUrl, kind, fields, mode, external_url)
    ("", "analyze", ("links", "meta"), "", ""),
    ("   ", "analyze", ("links", "meta"), "", ""),
    ("article", "article", (), "", ""),
    ("Product", "product", (), "", ""),
    ("list", "list", (), "", ""),
    ("discussion?fields=links", "discussion", ("links",), "", ""),
    ("https://api.diffbot.com/v3/article", "article", (), "", ""),
    ("https://api.diffbot.com/v3/article?token=abc&fields=tags,meta", "article", ("tags", "meta"), "", ""),
    ("http://api.diffbot.com/v2/product?fields=querystring,meta,links", "product", ("querystring", "meta", "links"),
     "", ""),
    ("https://api.diffbot.com/v3/analyze?mode=article&fields=links", "analyze", ("links",), "article", ""),
    ("https://api.diffbot.com/v3/analyze", "analyze", (), "", ""),
    ("https://api.diffbot.com/v3/article?fields=title,images(url,caption),links", "article",
     ("title", "images", "links"), "", ""),
    ("https://api.diffbot.com/v3/image?mode=article", "image", (), "", ""),  # mode is analyze's
    ("https://diffbot.com/api/video", "video", (), "", ""),
    ("https://api.diffbot.com/v3/list/", "list", (), "", ""),
    ("http://127.0.0.1:9000/extract", "external", (), "", "http://127.0.0.1:9000/extract"),
    ("https://nlp.example.com/v1/process?key=k&lang=en", "external", (), "",
     "https://nlp.example.com/v1/process?key=k&lang=en"),
]


@pytest.mark.parametrize(("api_url", "kind", "fields", "mode", "external"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_accepted_forms(api_url: str, kind: str, fields: tuple[str, ...], mode: str, external: str) -> None:
    assert parse_api_url(api_url) == ApiSpec(kind, fields, mode, external)


BAD = [
    "ftp://example.com/x",
    "example.com/api",
    "articles",
    "https://api.diffbot.com/v3/event",
    "https://api.diffbot.com/v3/article/extra",
    "https://api.diffbot.com/v3/analyze?mode=recipe",
    "article?fields=ti tle",
    "article?fields=images(url",
    "article?fields=url)",
    "http:///nohost",
    "http://exa mple.com/x",
]


@pytest.mark.parametrize("api_url", BAD)
def test_invalid_api_urls_name_the_parameter(api_url: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        parse_api_url(api_url)
    assert err.value.param == "apiUrl"


def test_spec_helpers() -> None:
    spec = parse_api_url("article?fields=links")
    assert spec.wants("links") and not spec.wants("meta") and not spec.external
    assert parse_api_url("http://127.0.0.1:1/x").external


@pytest.mark.parametrize(("api_url", "page", "expected"), [
    ("http://s.test/x", "https://a.test/p", "http://s.test/x?url=https%3A%2F%2Fa.test%2Fp"),
    ("http://s.test/x?k=1", "https://a.test/p?q=a b", "http://s.test/x?k=1&url=https%3A%2F%2Fa.test%2Fp%3Fq%3Da%20b"),
    ("http://s.test/x?", "https://a.test/", "http://s.test/x?url=https%3A%2F%2Fa.test%2F"),
    ("http://s.test/x?k=1&", "https://a.test/", "http://s.test/x?k=1&url=https%3A%2F%2Fa.test%2F"),
    ("http://s.test/x#frag", "https://a.test/", "http://s.test/x?url=https%3A%2F%2Fa.test%2F#frag"),
])
def test_service_url_appends_the_page_as_diffbot_does(api_url: str, page: str, expected: str) -> None:
    assert service_url(api_url, page) == expected


@pytest.mark.parametrize(("action", "ok"), [
    ("https://api.diffbot.com/v3/product", True), ("article?fields=links", True),
    ("http://127.0.0.1:9000/extract?k=1", True), ("doNotProcess", True),
    ("https://api.diffbot.com/v3/nosuchapi", False), ("ftp://x.example/", False), ("donotcrawl", False),
])
def test_url_filter_actions_are_checked_like_api_urls(action: str, ok: bool) -> None:
    from crawlcore.filters import parse_filters

    if ok:
        [f] = parse_filters(["/products/"], [action])
        assert f.api_url == ("" if action == "doNotProcess" else action)
    else:
        with pytest.raises(InvalidParameter) as err:
            parse_filters(["/products/"], [action])
        assert err.value.param == "action"
