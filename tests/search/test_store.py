"""Searches run on MongoDB (the session's SecantusDB server): every kind of term against the
extracted corpus, sorting, paging, scoping to crawls, and the indexes."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.database import Database

from crawlcore.search import parse_query
from crawlstore.output import INTERNAL_FIELDS
from crawlstore.search import SEARCH_INDEXES, ObjectSearch, ensure_search_indexes

from .conftest import stem_of

pytestmark = pytest.mark.servers

PRODUCTS = {"p01", "p02", "p03", "p04", "p05", "p06", "p07", "p08", "q01", "q02", "q03", "q04", "q05", "h02", "h05"}
CASES = [
    ("type:product", PRODUCTS),
    ("type:article humanLanguage:de", {"a04", "a05", "b06"}),
    ("title:sourdough", {"a03", "d01", "l05"}),
    ('author:"Maria Delgado"', {"a01"}),
    ('author:"maria"', {"a01"}),
    ("author:Mar", set()),  # whole words
    ("min:offerPrice:100 max:offerPrice:200", {"p01", "p07", "q01"}),
    ("max:date:2023-12-31 type:article", {"a02", "a03", "a05", "b02"}),
    ("min:date:2025-01-01", {"a06", "a07", "a08", "b04", "h06"}),
    ("max:date:2024-03-05 min:date:2024-03-05", set()),  # a01's date is 2024-03-06T04:10:00Z (UTC)
    ("min:date:2024-03-06 max:date:2024-03-06", {"a01"}),
    ("availability:false", {"p08", "q05"}),
    ("currency:EUR", {"p05", "q03", "h02"}),
    ("Leipzig", {"a04", "l06"}),
    ('"state baking competition"', {"b03"}),
    ("type:list -humanLanguage:de", {"l01", "l02", "l03", "l04", "l05", "l07", "h03"}),  # h08 and l06 are German
    ("type:discussion OR type:video", {"d01", "d02", "d03", "d04", "d05", "h04", "v01", "v02"}),
    ("has:estimatedDate", {"b08"}),
    ("tags:budget", {"a01"}),
    ("images.caption:hit", {"a02"}),
    ("sku:AUR-Q40-BLU", {"p01"}),
    ("title:Wärmepumpe", {"d04"}),
    ("offerPrice:149.99", {"p01"}),
    ("type:article (title:bread OR title:bakery) -author:smith", {"b03"}),
    ("NOT (type:article OR type:product OR type:list)",
     {"d01", "d02", "d03", "d04", "d05", "h04", "i01", "i02", "v01", "v02", "o01", "o02", "o03"}),
    ("posts.text:keyset", {"d02"}),
    ("items.title:Postgres", {"l01", "l07"}),
]


@pytest.fixture
def search(db: Database, corpus_docs: dict[str, list[dict[str, Any]]]) -> ObjectSearch:
    ensure_search_indexes(db)
    db.objects.insert_many([dict(d) for docs in corpus_docs.values() for d in docs])
    return ObjectSearch(db)


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[c[0] for c in CASES])
def test_terms(search: ObjectSearch, query: str, expected: set[str]) -> None:
    parsed = parse_query(query)
    found = [stem_of(o["pageUrl"]) for o in search.find(["c1"], parsed)]
    assert set(found) == expected and len(found) == len(expected)
    assert search.count(["c1"], parsed) == len(expected)


def test_results_are_the_objects_crawl_data_returns(search: ObjectSearch) -> None:
    [obj] = search.find(["c1"], parse_query('author:"Maria Delgado"'))
    assert not set(INTERNAL_FIELDS) & set(obj)
    assert obj["crawlName"] == "corpus" and obj["type"] == "article" and obj["diffbotUri"].startswith("article|3|")


def test_default_order_is_most_recently_crawled_first(search: ObjectSearch) -> None:
    stems = [stem_of(o["pageUrl"]) for o in search.find(["c1"], parse_query("type:list"))]
    assert stems == ["l07", "l06", "l05", "l04", "l03", "l02", "l01", "h08", "h03"]  # pages stored in name order


def test_sorting_and_paging(search: ObjectSearch) -> None:
    cheapest = [stem_of(o["pageUrl"]) for o in search.find(["c1"], parse_query("type:product revsortby:offerPrice"))]
    assert cheapest[:4] == ["q04", "h02", "q03", "p06"] and cheapest[-1] == "p05"
    page = search.find(["c1"], parse_query("type:product revsortby:offerPrice"), start=2, num=3)
    assert [stem_of(o["pageUrl"]) for o in page] == ["q03", "p06", "p02"]
    newest = [stem_of(o["pageUrl"]) for o in search.find(["c1"], parse_query("type:article sortby:date"), num=2)]
    assert newest == ["a07", "h06"]  # 2025-06-28, 2025-03-11
    assert list(search.find(["c1"], parse_query("type:article"), num=0)) == []


def test_searches_stay_in_the_crawls_asked_for(search: ObjectSearch) -> None:
    query = parse_query('author:"Maria Delgado"')
    assert [o["crawlName"] for o in search.find(["c2"], query)] == ["small"]
    assert search.count(["c1", "c2"], query) == 2 and search.count([], query) == 0
    assert search.count(["c2"], parse_query("type:product")) == 0


def test_the_indexes_exist(search: ObjectSearch, db: Database) -> None:
    names = set(db.objects.index_information())
    assert {name for name, _ in SEARCH_INDEXES} <= names
    ensure_search_indexes(db)  # idempotent
