"""crawlcore.filters and the scope's use of them: Crawlbot URL filter expressions."""

from __future__ import annotations

import pytest

from crawlcore.definition import CrawlDefinition, parse_create, parse_update
from crawlcore.errors import InvalidParameter
from crawlcore.filters import first_match, parse_filters
from crawlcore.scope import Scope

URL = "https://shop.example.com/products/item-1.html"


@pytest.mark.parametrize(
    ("expression", "matches"),
    [
        ("*", True),
        ("products", True),
        ("^https://shop", True),
        ("^http://shop", False),
        ("$.html", True),
        ("$.pdf", False),
        ("!products", False),
        ("!^https", False),
        ("!$.pdf", True),
        ("products&&^https&&!$.pdf", True),
        ("products&&$.pdf", False),
        ("*&&products", True),
    ],
)
def test_expression_syntax(expression: str, matches: bool) -> None:
    (url_filter,) = parse_filters([expression], ["doNotCrawl"])
    assert url_filter.matches(URL) is matches


def test_first_matching_filter_wins_in_the_order_sent() -> None:
    filters = parse_filters(["products", "*"], ["doNotProcess", "doNotCrawl"])
    assert first_match(filters, URL).action == "doNotProcess"  # type: ignore[union-attr]
    assert first_match(filters, "https://shop.example.com/about").action == "doNotCrawl"  # type: ignore[union-attr]
    assert first_match(parse_filters(["nothing"], ["doNotCrawl"]), URL) is None


@pytest.mark.parametrize(
    ("expressions", "actions", "param"),
    [(["a", "b"], ["doNotCrawl"], "action"), (["a"], ["x", "y"], "expression"), ([""], ["doNotCrawl"], "expression"),
     (["a"], [" "], "action"), (["a&&"], ["doNotCrawl"], "expression")],
)
def test_malformed_filters_name_the_parameter(expressions: list[str], actions: list[str], param: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        parse_filters(expressions, actions)
    assert err.value.param == param


def _scope(*pairs: tuple[str, str]) -> Scope:
    params = {"name": ["c"], "seeds": ["https://shop.example.com/"],
              "expression": [e for e, _ in pairs], "action": [a for _, a in pairs]}
    return Scope.of(parse_create(params))


def test_filters_drive_crawling_and_processing() -> None:
    scope = _scope(("/private/", "doNotCrawl"), ("/blog/", "doNotProcess"), ("/products/", "product"))
    seed = "https://shop.example.com/"
    assert not scope.follows(seed, "https://shop.example.com/private/x")
    assert scope.follows(seed, "https://shop.example.com/blog/x")
    assert not scope.processes("https://shop.example.com/blog/x")
    assert scope.processes(URL) and scope.api_for(URL, "analyze") == "product"
    assert scope.api_for("https://shop.example.com/other", "analyze") == "analyze"
    assert not scope.admits_seed("https://shop.example.com/private/")


def test_an_api_filter_processes_pages_the_process_pattern_would_skip() -> None:
    definition = parse_create({"name": ["c"], "seeds": ["https://shop.example.com/"], "urlProcessPattern": ["/news/"],
                               "expression": ["/products/"], "action": ["product"]})
    scope = Scope.of(definition)
    assert scope.processes(URL) and not scope.processes("https://shop.example.com/about")


def test_filters_round_trip_and_update_replaces_them() -> None:
    definition = parse_create({"name": ["c"], "seeds": ["a.com"], "expression": ["x", "*"],
                               "action": ["doNotCrawl", "doNotProcess"]})
    assert definition.filters == (("x", "doNotCrawl"), ("*", "doNotProcess"))
    assert CrawlDefinition.from_dict(definition.to_dict()) == definition
    updated, _ = parse_update(definition, {"expression": ["y"], "action": ["doNotCrawl"]})
    assert updated.filters == (("y", "doNotCrawl"),)
