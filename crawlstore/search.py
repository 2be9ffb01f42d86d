"""Search over crawl objects in MongoDB: the core's query tree (crawlcore.search) as a filter and
sort on `objects`, always scoped to the crawls searched (`_c`).

How terms become MongoDB operators (only operators SecantusDB supports too; it has no text
indexes, so `$text` is not used):

- `field:word`: `{field: {$regex: '\\bword\\b', $options: 'i'}}` (the word escaped); a number or
  true/false also matches the typed value (`offerPrice:10` matches the number 10): `$or` of both
- `field:"a phrase"`: the same with the phrase, its spaces matching any whitespace
- a word without a field: `$or` of the above over TEXT_FIELDS
- EXACT_FIELDS (`type:article`): `{field: {$in: [value, typed values...]}}`
- `min:` / `max:`: `$gte` / `$lte` (`$lt` the day after for a date-only max)
- `has:field`: `{field: {$exists: true}}`
- AND / OR / NOT: `$and` / `$or` / `$nor`

Word boundaries apply where the word begins and ends with an ASCII letter or digit (MongoDB's and
SecantusDB's `\\b` are ASCII); elsewhere the match is a case-insensitive substring.

Indexes (ensure_search_indexes): `_c, _t` (the default order, also created by crawlstore.mongo),
`_c, type, _t` (type filters, the commonest), `_c, date` and `_c, offerPriceDetails.amount`
(ranges and sorts on dates and prices), `_c, humanLanguage`. Word matches are regular
expressions: they scan the crawl's objects (the `_c` prefix keeps the scan to the crawls searched).

    >>> from crawlcore.search import parse_query
    >>> mongo_filter(["c1"], parse_query("type:article -title:draft").where)  # doctest: +NORMALIZE_WHITESPACE
    {'$and': [{'_c': 'c1'}, {'$and': [{'type': {'$in': ['article']}},
              {'$nor': [{'title': {'$regex': '\\\\bdraft\\\\b', '$options': 'i'}}]}]}]}
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from crawlcore.search import (
    EXACT_FIELDS,
    TEXT_FIELDS,
    And,
    Compare,
    Exists,
    Match,
    Node,
    Not,
    Or,
    SearchQuery,
    literals,
)

from .output import INTERNAL_FIELDS

__all__ = ["SEARCH_INDEXES", "ObjectSearch", "ensure_search_indexes", "mongo_filter", "mongo_sort"]

SEARCH_INDEXES: tuple[tuple[str, list[tuple[str, int]]], ...] = (
    ("crawl_time", [("_c", ASCENDING), ("_t", DESCENDING)]),
    ("search_type", [("_c", ASCENDING), ("type", ASCENDING), ("_t", DESCENDING)]),
    ("search_date", [("_c", ASCENDING), ("date", DESCENDING)]),
    ("search_price", [("_c", ASCENDING), ("offerPriceDetails.amount", ASCENDING)]),
    ("search_language", [("_c", ASCENDING), ("humanLanguage", ASCENDING)]),
)
_OPS = {"gte": "$gte", "lte": "$lte", "lt": "$lt"}
_ASCII_WORD = re.compile(r"[A-Za-z0-9]")


def _pattern(value: str) -> str:
    words = value.split()
    body = r"\s+".join(re.escape(w) for w in words) if words else re.escape(value)
    start = r"\b" if words and _ASCII_WORD.match(words[0][0]) else ""
    end = r"\b" if words and _ASCII_WORD.match(words[-1][-1]) else ""
    return f"{start}{body}{end}"


def _match(field: str, term: Match) -> dict[str, Any]:
    if field in EXACT_FIELDS:
        return {field: {"$in": [term.value, *literals(term.value)]}}
    regex = {field: {"$regex": _pattern(term.value), "$options": "i"}}
    typed = literals(term.value)
    return {"$or": [regex, {field: {"$in": list(typed)}}]} if typed else regex


def _node(node: Node) -> dict[str, Any]:
    if isinstance(node, Match):
        if node.field is not None:
            return _match(node.field, node)
        return {"$or": [_match(f, node) for f in TEXT_FIELDS]}
    if isinstance(node, Compare):
        return {node.field: {_OPS[node.op]: node.value}}
    if isinstance(node, Exists):
        return {node.field: {"$exists": True}}
    if isinstance(node, And):
        return {"$and": [_node(n) for n in node.items]}
    if isinstance(node, Or):
        return {"$or": [_node(n) for n in node.items]}
    if isinstance(node, Not):
        return {"$nor": [_node(node.item)]}
    raise TypeError(f"not a query node: {node!r}")


def mongo_filter(crawl_ids: Sequence[str], where: Node | None) -> dict[str, Any]:
    """The filter for a query over these crawls."""
    scope: dict[str, Any] = {"_c": crawl_ids[0]} if len(crawl_ids) == 1 else {"_c": {"$in": list(crawl_ids)}}
    return scope if where is None else {"$and": [scope, _node(where)]}


def mongo_sort(query: SearchQuery) -> list[tuple[str, int]]:
    """The sort: the query's keys, then most recently crawled first, then `_id` (stable paging)."""
    keys = [(k.field, DESCENDING if k.descending else ASCENDING) for k in query.sort]
    seen = {f for f, _ in keys}
    keys += [(f, d) for f, d in (("_t", DESCENDING), ("_id", ASCENDING)) if f not in seen]
    return keys


def ensure_search_indexes(db: Database) -> None:
    """Create the indexes searches rely on (idempotent)."""
    for name, keys in SEARCH_INDEXES:
        db.objects.create_index(keys, name=name)


class ObjectSearch:
    """Runs searches on the `objects` collection. Constructing it does no I/O."""

    def __init__(self, db: Database) -> None:
        self.objects = db.objects

    def count(self, crawl_ids: Sequence[str], query: SearchQuery) -> int:
        if not crawl_ids:
            return 0
        return int(self.objects.count_documents(mongo_filter(crawl_ids, query.where)))

    def find(self, crawl_ids: Sequence[str], query: SearchQuery, *, start: int = 0,
             num: int | None = None) -> Iterator[dict[str, Any]]:
        """Matching objects in order, without internal fields, streamed from a cursor."""
        if not crawl_ids or num == 0:
            return iter(())
        projection = {name: 0 for name in INTERNAL_FIELDS}
        cursor = self.objects.find(mongo_filter(crawl_ids, query.where), projection).sort(mongo_sort(query))
        if start:
            cursor = cursor.skip(start)
        if num is not None:
            cursor = cursor.limit(num)
        return iter(cursor.batch_size(500))
