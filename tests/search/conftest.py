"""Search fixtures: the extraction corpus, extracted and stored as two crawls' objects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo.database import Database

from crawlcore.api_url import parse_api_url
from crawlcore.urls import fingerprint
from crawlstore.mongo import connect
from spiders.extractors import extract, finish_objects

CORPUS = Path(__file__).resolve().parents[1] / "extraction" / "corpus"
BASE_TIME = 1_700_000_000.0


def corpus_objects(crawl_id: str, crawl_name: str, stems: list[str] | None = None) -> list[dict[str, Any]]:
    """Stored documents of the corpus pages (all, or those named), crawled one second apart in name order."""
    api = parse_api_url("")
    docs: list[dict[str, Any]] = []
    for i, page in enumerate(sorted(CORPUS.glob("*.html"))):
        if stems is not None and page.stem not in stems:
            continue
        url = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))["url"]
        objects = extract(api, html=page.read_bytes(), url=url)
        docs += finish_objects(objects, url=url, resolved_url=url, fp=fingerprint(url), crawl_id=crawl_id,
                               crawl_name=crawl_name, crawl_round=0, crawled=BASE_TIME + i)
    return docs


def stem_of(url: str) -> str:
    for page in CORPUS.glob("*.json"):
        if json.loads(page.read_text(encoding="utf-8"))["url"] == url:
            return page.stem.split("-")[0]
    raise KeyError(url)


#: The pages the search tests store (every corpus page as of the held-out batch h01..h08): pinned,
#: so that pages added to the extraction corpus later do not change what the searches must find.
SEARCH_PAGES = sorted(p.stem for p in CORPUS.glob("*.html") if p.stem[:3] in {
    *(f"a0{i}" for i in range(1, 9)), *(f"b0{i}" for i in range(1, 9)), *(f"d0{i}" for i in range(1, 6)),
    *(f"h0{i}" for i in range(1, 9)), "i01", "i02", *(f"l0{i}" for i in range(1, 8)), "o01", "o02", "o03",
    *(f"p0{i}" for i in range(1, 9)), *(f"q0{i}" for i in range(1, 6)), "v01", "v02"})


@pytest.fixture(scope="module")
def corpus_docs() -> dict[str, list[dict[str, Any]]]:
    assert len(SEARCH_PAGES) == 56, "a pinned search page is missing from the corpus"
    return {"c1": corpus_objects("c1", "corpus", SEARCH_PAGES),
            "c2": corpus_objects("c2", "small", ["a01-gazette-budget"])}


@pytest.fixture
def db(mongo_url: str, unique_prefix: str) -> Iterator[Database]:
    database = connect(mongo_url, unique_prefix)
    yield database
    database.client.drop_database(unique_prefix)
    database.client.close()
