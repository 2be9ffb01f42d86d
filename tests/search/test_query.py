"""The search language (crawlcore.search): the tree of every form, from a table of cases, and the
400s naming the parameter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crawlcore.errors import InvalidParameter
from crawlcore.search import And, Compare, Exists, Match, Node, Not, Or, parse_query, parse_search

CASES = json.loads(Path(__file__).with_name("cases").joinpath("queries.json").read_text(encoding="utf-8"))


def plain(node: Node | None) -> Any:
    """The tree in the cases' notation."""
    if node is None:
        return None
    if isinstance(node, Match):
        return ["phrase" if node.phrase else "match", node.field, node.value]
    if isinstance(node, Compare):
        return [node.op, node.field, node.value]
    if isinstance(node, Exists):
        return ["exists", node.field]
    if isinstance(node, And):
        return ["and", *(plain(n) for n in node.items)]
    if isinstance(node, Or):
        return ["or", *(plain(n) for n in node.items)]
    if isinstance(node, Not):
        return ["not", plain(node.item)]
    raise TypeError(node)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_queries(case: dict[str, Any]) -> None:
    query = parse_query(case["query"])
    assert plain(query.where) == case["where"]
    assert [[k.field, k.descending] for k in query.sort] == case.get("sort", [])


@pytest.mark.parametrize("query", [
    "", "   ", "(a", "a)", "()", "title:", '"open', "title:\"open", "NOT", "a OR", "OR a",
    "min:date:soon", "min:x", "max:date:", "a OR sortby:date", "(sortby:date)", "-sortby:date",
    "_c:abc", "_id:x", "1field:x", "has:", "sortby:a..b", "x" * 5000, " ".join(["w"] * 65),
    "(" * 20 + "a" + ")" * 20,
])
def test_malformed_queries_name_the_parameter(query: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        parse_query(query)
    assert err.value.param == "query"


def test_request_parameters() -> None:
    req = parse_search({"col": ["news, blog,news"], "query": ["type:article"], "format": ["CSV"]})
    assert (req.collections, req.num, req.start, req.format) == (("news", "blog"), 20, 0, "csv")
    assert parse_search({"col": ["all"], "query": ["x"], "num": ["all"], "start": ["40"]}).collections == ()


@pytest.mark.parametrize(("params", "param"), [
    ({"query": ["x"]}, "col"),
    ({"col": [" , "], "query": ["x"]}, "col"),
    ({"col": ["a"]}, "query"),
    ({"col": ["a"], "query": [""]}, "query"),
    ({"col": ["a"], "query": ["x"], "num": ["0"]}, "num"),
    ({"col": ["a"], "query": ["x"], "num": ["-1"]}, "num"),
    ({"col": ["a"], "query": ["x"], "num": ["ten"]}, "num"),
    ({"col": ["a"], "query": ["x"], "start": ["-5"]}, "start"),
    ({"col": ["a"], "query": ["x"], "format": ["xml"]}, "format"),
])
def test_bad_requests_name_the_parameter(params: dict[str, list[str]], param: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        parse_search(params)
    assert err.value.param == param
