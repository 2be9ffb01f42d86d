"""GET /v3/search in the real controller app (in-process, on the session's servers): token
checks, collections, the JSON envelope and CSV, paging, and the errors of /v3/crawl."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from controller.app import create_app
from crawlbase.config import Config
from crawlcore.definition import parse_create
from crawlstore.search import SEARCH_INDEXES
from crawlstore.tokens import TokenStore

from .conftest import corpus_objects, stem_of

pytestmark = pytest.mark.servers


@dataclass
class Api:
    client: TestClient
    token: str
    other_token: str

    def search(self, **params: Any) -> Any:
        return self.client.get("/v3/search", params={"token": self.token, **params})


def _app(config: Config) -> Starlette:
    app = create_app(config)
    assert any(getattr(r, "path", "") == "/v3/search" for r in app.routes), "the app mounts /v3/search"
    return app


@pytest.fixture
def api(config: Config) -> Iterator[Api]:
    with TestClient(_app(config)) as client:
        svc = client.app.state.services  # type: ignore[attr-defined]
        tokens = TokenStore(svc.db)
        token, other = tokens.create("searcher"), tokens.create("someone-else")
        owner = svc.tokens.require(token).id
        news = svc.crawls.registry.create(owner, parse_create({"name": ["news"], "seeds": ["https://a.example/"]}))
        shop = svc.crawls.registry.create(owner, parse_create({"name": ["shop"], "seeds": ["https://b.example/"]}))
        svc.crawls.registry.create(svc.tokens.require(other).id,
                          parse_create({"name": ["news"], "seeds": ["https://c.example/"]}))
        assert {n for n, _ in SEARCH_INDEXES} <= set(svc.db.objects.index_information())  # made at start-up
        articles = [p for p in ("a01-gazette-budget", "a02-techblog-graph", "a04-de-nachrichten-bahn")]
        svc.db.objects.insert_many(corpus_objects(news.id, "news", articles))
        svc.db.objects.insert_many(corpus_objects(shop.id, "shop", ["p01-jsonld-offer-headphones",
                                                                    "q03-de-plain-shop", "l04-product-category-grid"]))
        yield Api(client, token, other)
        svc.db.client.drop_database(config.mongo_db)


def test_json_results_in_an_envelope(api: Api) -> None:
    resp = api.search(col="news", query="type:article humanLanguage:en sortby:date")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert body["hits"] == 2 and body["request"]["col"] == "news" and body["request"]["num"] == 20
    assert [stem_of(o["pageUrl"]) for o in body["objects"]] == ["a01", "a02"]
    assert all(not k.startswith("_") for o in body["objects"] for k in o)


def test_several_collections_and_all(api: Api) -> None:
    assert api.search(col="news,shop", query="Leipzig OR brand:Auralis").json()["hits"] == 2
    body = api.search(col="all", query="type:product", num="all").json()
    assert body["hits"] == 2 and body["request"]["num"] == "all"
    assert {o["crawlName"] for o in body["objects"]} == {"shop"}


def test_paging(api: Api) -> None:
    first = api.search(col="news,shop", query="has:title revsortby:title", num=2).json()
    second = api.search(col="news,shop", query="has:title revsortby:title", num=2, start=2).json()
    titles = [o["title"] for o in first["objects"] + second["objects"]]
    assert first["hits"] == second["hits"] == 6 and len(titles) == 4 and titles == sorted(titles)


def test_csv(api: Api) -> None:
    resp = api.search(col="shop", query="type:product revsortby:offerPrice", format="csv")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert [r["title"] for r in rows] == ["Gartenschere Profi-Schnitt 200",
                                          "Auralis Q40 Wireless Noise-Cancelling Headphones \u2013 Midnight Blue"]
    assert list(rows[0])[:2] == ["type", "pageUrl"] and "offerPriceDetails" not in rows[0]


def test_post_form_works_too(api: Api) -> None:
    resp = api.client.post("/v3/search", data={"token": api.token, "col": "news", "query": "tags:budget"})
    assert resp.status_code == 200 and resp.json()["hits"] == 1


@pytest.mark.parametrize(("params", "status", "names"), [
    ({"token": ""}, 401, ""),
    ({"token": "not-a-token"}, 401, ""),
    ({"col": "missing"}, 404, ""),
    ({"col": ""}, 400, "col"),
    ({"query": "(unbalanced"}, 400, "query"),
    ({"query": ""}, 400, "query"),
    ({"num": "x"}, 400, "num"),
    ({"start": "-1"}, 400, "start"),
    ({"format": "xml"}, 400, "format"),
])
def test_errors(api: Api, params: dict[str, str], status: int, names: str) -> None:
    resp = api.client.get("/v3/search", params={"token": api.token, "col": "news", "query": "x", **params})
    body = resp.json()
    assert resp.status_code == status and body["errorCode"] == status and body["error"]
    assert names in body["error"]


def test_another_tokens_crawl_is_not_found(api: Api) -> None:
    resp = api.client.get("/v3/search", params={"token": api.other_token, "col": "shop", "query": "x"})
    assert resp.status_code == 404
    mine = api.client.get("/v3/search", params={"token": api.other_token, "col": "news", "query": "type:article"})
    assert mine.status_code == 200 and mine.json()["hits"] == 0
