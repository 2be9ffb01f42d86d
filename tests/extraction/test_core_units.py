"""Pure parts of processing: selectors validation, page-type decisions, date normalisation,
and every docstring example of the modules this issue added."""

from __future__ import annotations

import doctest
import importlib

import pytest

from crawlcore.dates import epoch_to_iso, iso_datetime, next_day
from crawlcore.errors import InvalidParameter
from crawlcore.pagetype import PageSignals, classify
from crawlcore.selectors import FieldSelector, parse_selectors

MODULES = [
    "crawlcore.api_url", "crawlcore.selectors", "crawlcore.pagetype", "crawlcore.dates", "crawlcore.search",
    "crawlstore.search", "spiders.processing", "spiders.extractors", "spiders.extractors.custom",
    "spiders.extractors.document", "spiders.extractors.structured", "spiders.extractors.shape",
    "spiders.extractors.prices", "spiders.extractors.common",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


SELECTORS = [
    ('{"price": ".price::text"}', {"price": FieldSelector("price", "css", ".price::text")}),
    ('{"tags": ["a.tag::attr(href)"]}', {"tags": FieldSelector("tags", "css", "a.tag::attr(href)", many=True)}),
    ('{"sku": "//span[@id=\'sku\']/text()"}', {"sku": FieldSelector("sku", "xpath", "//span[@id='sku']/text()")}),
    ('{"n": "(//p)[1]"}', {"n": FieldSelector("n", "xpath", "(//p)[1]")}),
    ('{"x": "xpath: count(//p)", "y": "css: h1"}', {"x": FieldSelector("x", "xpath", "count(//p)"),
                                                   "y": FieldSelector("y", "css", "h1")}),
    ("", {}),
    ("{}", {}),
]


@pytest.mark.parametrize(("text", "expected"), SELECTORS)
def test_selectors(text: str, expected: dict[str, FieldSelector]) -> None:
    assert parse_selectors(text) == expected


@pytest.mark.parametrize("text", [
    "not json", "[]", '"x"', '{"a": 1}', '{"a": ["x", "y"]}', '{"a": ""}', '{"a": "  "}', '{"1a": "p"}',
    '{"a.b": "p"}', '{"$where": "p"}', "{" + ",".join(f'"f{i}": "p"' for i in range(101)) + "}",
])
def test_bad_selectors_name_the_parameter(text: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        parse_selectors(text)
    assert err.value.param == "selectors"


PAGE_TYPES = [
    (PageSignals(schema_types=("Product",), text_chars=3000), "product"),
    (PageSignals(schema_types=("WebPage", "QAPage", "Question")), "discussion"),
    (PageSignals(schema_types=("NewsArticle",), text_chars=1200), "article"),
    (PageSignals(schema_types=("NewsArticle",), text_chars=0), "article"),  # says so, even with little prose
    (PageSignals(schema_types=("CollectionPage",), og_type="article", list_items=5, list_chars=700), "list"),
    (PageSignals(schema_types=("VideoObject",), text_chars=80, videos=1), "video"),
    (PageSignals(schema_types=("NewsArticle", "VideoObject"), text_chars=1500, videos=1), "article"),
    (PageSignals(schema_types=("ImageObject",), big_images=1), "image"),
    (PageSignals(og_type="product"), "product"),
    (PageSignals(og_type="video.other", text_chars=50), "video"),
    (PageSignals(og_type="article", text_chars=900), "article"),
    (PageSignals(og_type="article", text_chars=100, list_items=6, list_chars=800), "list"),
    (PageSignals(has_price=True, has_cart=True, text_chars=200), "product"),
    (PageSignals(has_price=True, has_cart=False, list_items=6, list_chars=300), "list"),
    (PageSignals(posts=4, text_chars=600), "discussion"),
    (PageSignals(posts=2, text_chars=900), "article"),
    (PageSignals(list_items=8, list_chars=900, text_chars=200), "list"),
    (PageSignals(list_items=8, list_chars=300, text_chars=2500), "article"),  # a long article with a list beside
    (PageSignals(text_chars=800), "article"),
    (PageSignals(videos=1, text_chars=100), "video"),
    (PageSignals(big_images=1, text_chars=40), "image"),
    (PageSignals(text_chars=120), "other"),
    (PageSignals(), "other"),
]


@pytest.mark.parametrize(("signals", "expected"), PAGE_TYPES)
def test_page_types(signals: PageSignals, expected: str) -> None:
    assert classify(signals) == expected


DATES = [
    ("2024-03-05T23:10:00-05:00", "2024-03-06T04:10:00Z"),
    ("2024-03-05T09:30:00+0100", "2024-03-05T08:30:00Z"),
    ("2025-01-09T17:42:11.380Z", "2025-01-09T17:42:11Z"),
    ("2023-03-14 10:20:00Z", "2023-03-14T10:20:00Z"),
    ("2024-09-03T09:15", "2024-09-03T09:15:00"),
    ("2024-03-05", "2024-03-05"),
    ("20240305", "2024-03-05"),
    ("Tue, 05 Mar 2024 10:00:00 GMT", "2024-03-05T10:00:00Z"),
    ("2024-02-30", None),
    ("0001-01-01", None),
    ("yesterday", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("raw", "expected"), DATES)
def test_iso_datetime(raw: str | None, expected: str | None) -> None:
    assert iso_datetime(raw) == expected


def test_date_helpers() -> None:
    assert next_day("2023-12-31") == "2024-01-01"
    assert epoch_to_iso(0) == "1970-01-01T00:00:00Z"
    assert epoch_to_iso(1709632800) == epoch_to_iso(1709632800000) == "2024-03-05T10:00:00Z"
