"""Pages, items, exports, link graph and site audit of a crawl, over documents written the way
the workers write them."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tests.api_v1.conftest import Api

SITE = "https://site.test"


def row(path: str, status: int = 200, hop: int = 1, links: tuple[str, ...] = (), title: str = "",
        **extra: Any) -> dict[str, Any]:
    return {"url": SITE + path, "http_status": status, "hop": hop, "links": [SITE + p for p in links],
            "title": title, "content_type": "text/html", "outcome": "fetched", "round": 0, "tries": 1,
            "fp": "0" * 16, "discovered": 1.7e9, "crawled": 1.7e9 + hop, "process_attempted": status == 200,
            **extra}


ROWS = [
    row("/", hop=0, links=("/a", "/b", "/gone", "/r1"), title="Home"),
    row("/a", links=("/gone", "/b"), title="Same"),
    row("/b", title="Same"),
    row("/c", title=""),
    row("/gone", status=404, hop=2),
    row("/boom", status=503, hop=2),
    row("/r1", status=301, redirected_to=SITE + "/r2"),
    row("/r2", status=302, hop=2, redirected_to=SITE + "/r3"),
    row("/r3", hop=3, title="End"),
    row("/l1", status=301, redirected_to=SITE + "/l2"),
    row("/l2", status=301, redirected_to=SITE + "/l1"),
    row("/private", status=0, outcome="blocked"),
    row("/tag/x", status=404),
]
OBJECTS = [
    {"type": "article", "pageUrl": SITE + "/", "title": "Home", "meta": {"description": "Welcome"}, "n": 1},
    {"type": "article", "pageUrl": SITE + "/a", "title": "Same", "meta": {"description": "Dup"}, "n": 2},
    {"type": "article", "pageUrl": SITE + "/b", "title": "Same", "meta": {"description": "Dup"}, "n": 3},
    {"type": "product", "pageUrl": SITE + "/c", "title": "", "meta": {"description": ""}, "n": 4},
]


@pytest.fixture
def crawl(api: Api, admin: dict[str, str]) -> str:
    crawl_id = api.crawl(admin, "data")["id"]
    db = api.client.app.state.services.db  # type: ignore[attr-defined]
    db.urls.insert_many([{"_id": f"{crawl_id}:0:{i}", "_c": crawl_id, **r} for i, r in enumerate(ROWS)])
    db.objects.insert_many([{"_id": f"{crawl_id}:0:{i}:0", "_c": crawl_id, "_r": 0, "_t": 100 + i, **o}
                            for i, o in enumerate(OBJECTS)])
    return crawl_id


def test_pages_filters(api: Api, admin: dict[str, str], crawl: str) -> None:
    def urls(**params: Any) -> list[str]:
        body = api.get(f"/api/v1/crawls/{crawl}/pages", params=params, headers=admin).json()
        return sorted(p["url"].removeprefix(SITE) for p in body["items"])

    page = api.get(f"/api/v1/crawls/{crawl}/pages", params={"limit": 5}, headers=admin).json()
    assert page["total_items"] == len(ROWS) and page["num_items"] == 5 and "links" not in page["items"][0]
    assert urls(http_status="404") == ["/gone", "/tag/x"]
    assert urls(http_status="5xx") == ["/boom"]
    assert urls(hop=0) == ["/"]
    assert urls(min_hop=3) == ["/r3"]
    assert urls(outcome="blocked") == ["/private"]
    assert urls(search="tag") == ["/tag/x"]
    assert len(urls(processed="false")) == 8
    assert urls(round=1) == []
    db = api.client.app.state.services.db  # type: ignore[attr-defined]
    db.urls.update_one({"_c": crawl, "url": SITE + "/c"}, {"$set": {"content_type": "application/pdf"}})
    assert urls(content_type="application/pdf") == ["/c"]
    assert len(urls(content_type="text/html")) == len(ROWS) - 1
    assert api.get(f"/api/v1/crawls/{crawl}/pages", params={"http_status": "99"}, headers=admin).status_code == 400
    with_links = api.get(f"/api/v1/crawls/{crawl}/pages", params={"links": "true", "hop": 0}, headers=admin).json()
    assert len(with_links["items"][0]["links"]) == 4


def test_items_paging_and_field_filters(api: Api, admin: dict[str, str], crawl: str) -> None:
    def titles(**params: Any) -> list[str]:
        body = api.get(f"/api/v1/crawls/{crawl}/items", params=params, headers=admin).json()
        return [i["pageUrl"].removeprefix(SITE) for i in body["items"]]

    assert titles() == ["/c", "/b", "/a", "/"]  # most recent first
    assert titles(skip=1, limit=2) == ["/b", "/a"]
    assert titles(type="product") == ["/c"]
    assert titles(filter="meta.description:Dup") == ["/b", "/a"]
    assert titles(filter="n:2") == ["/a"]
    resp = api.get(f"/api/v1/crawls/{crawl}/items", params={"limit": 1001}, headers=admin)
    assert resp.status_code == 400
    for bad in ("nocolon", "$where:1", "_c:x"):
        assert api.get(f"/api/v1/crawls/{crawl}/items", params={"filter": bad}, headers=admin).status_code == 400
    first = api.get(f"/api/v1/crawls/{crawl}/items", headers=admin).json()["items"][0]
    assert not {"_id", "_c", "_r", "_t"} & set(first)


def export(api: Api, headers: dict[str, str], crawl: str, **params: Any) -> Any:
    resp = api.get(f"/api/v1/crawls/{crawl}/export", params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    assert "attachment" in resp.headers["content-disposition"]
    return resp


def test_exports_in_every_format(api: Api, admin: dict[str, str], crawl: str) -> None:
    as_json = export(api, admin, crawl).json()
    assert [o["n"] for o in as_json] == [4, 3, 2, 1]
    lines = export(api, admin, crawl, format="jsonl", fields="n,meta.description").text.splitlines()
    assert json.loads(lines[0]) == {"n": 4, "meta": {"description": ""}} and len(lines) == 4
    rows = list(csv.reader(io.StringIO(export(api, admin, crawl, format="csv", fields="pageUrl,meta.description")
                                       .text)))
    assert rows[0] == ["pageUrl", "meta.description"] and rows[2] == [SITE + "/b", "Dup"]
    auto = list(csv.DictReader(io.StringIO(export(api, admin, crawl, format="csv").text)))
    assert auto[0]["type"] == "product" and "meta" not in auto[0]
    xml = ET.fromstring(export(api, admin, crawl, format="xml").content)
    assert [i.findtext("n") for i in xml.iter("item")] == ["4", "3", "2", "1"]
    rss = ET.fromstring(export(api, admin, crawl, format="rss").content)
    assert rss.tag == "rss" and rss.findtext("channel/title") == "data"
    assert rss.findall("channel/item")[3].findtext("link") == SITE + "/"
    assert export(api, admin, crawl, format="rss").headers["content-type"].startswith("application/rss+xml")
    products = export(api, admin, crawl, format="jsonl", data="items", type="product").text.splitlines()
    assert [json.loads(x)["pageUrl"] for x in products] == [SITE + "/c"]  # type filters items, as on /items
    filtered = export(api, admin, crawl, format="json", filter="meta.description:Dup", fields="n").json()
    assert filtered == [{"n": 3}, {"n": 2}]
    pages = list(csv.DictReader(io.StringIO(export(api, admin, crawl, format="csv", data="pages",
                                                   http_status="4xx").text)))
    assert sorted(p["url"] for p in pages) == [SITE + "/gone", SITE + "/tag/x"]
    assert api.get(f"/api/v1/crawls/{crawl}/export", params={"format": "pdf"}, headers=admin).status_code == 400
    assert api.get(f"/api/v1/crawls/{crawl}/export", params={"fields": "$x"}, headers=admin).status_code == 400
    assert api.get(f"/api/v1/crawls/{crawl}/export", params={"data": "urls"}, headers=admin).status_code == 400


def test_link_graph_capped_near_the_seeds(api: Api, admin: dict[str, str], crawl: str) -> None:
    full = api.get(f"/api/v1/crawls/{crawl}/graph", headers=admin).json()
    assert full["total_nodes"] == len(ROWS) and not full["sampled"]
    by_url = {n["url"].removeprefix(SITE): n["id"] for n in full["nodes"]}
    edges = {(e["source"], e["target"], e["kind"]) for e in full["edges"]}
    assert (by_url["/"], by_url["/gone"], "link") in edges
    assert (by_url["/r1"], by_url["/r2"], "redirect") in edges
    assert {n["group"] for n in full["nodes"]} >= {"ok", "client_error", "server_error", "redirect", "blocked"}
    capped = api.get(f"/api/v1/crawls/{crawl}/graph", params={"max_nodes": 3}, headers=admin).json()
    assert capped["sampled"] and len(capped["nodes"]) == 3 and capped["nodes"][0]["hop"] == 0
    assert all(n["hop"] <= 1 for n in capped["nodes"])


def test_site_audit(api: Api, admin: dict[str, str], crawl: str) -> None:
    body = api.get(f"/api/v1/crawls/{crawl}/audit", params={"limit": 1000}, headers=admin).json()
    found = {(i["type"], i["url"].removeprefix(SITE)) for i in body["items"]}
    assert {("client_error", "/gone"), ("server_error", "/boom"), ("broken_link", "/gone"),
            ("redirect_chain", "/r1"), ("redirect_loop", "/l1"), ("missing_title", "/c"),
            ("duplicate_title", "/a"), ("duplicate_title", "/b"), ("duplicate_description", "/a"),
            ("missing_description", "/c"), ("blocked_by_robots", "/private")} <= found
    broken = next(i for i in body["items"] if i["type"] == "broken_link")
    assert broken["linked_from"] == {"urls": [SITE + "/", SITE + "/a"], "count": 2}
    chain = next(i for i in body["items"] if i["type"] == "redirect_chain")
    assert chain["chain"] == [SITE + "/r1", SITE + "/r2", SITE + "/r3"]
    assert body["summary"]["client_error"] == 2 and body["pages_audited"] == len(ROWS)
    filtered = api.get(f"/api/v1/crawls/{crawl}/audit", params=[("exclude", "/tag/"), ("exclude", "*/l?"),
                                                                 ("types", "client_error,redirect_loop")],
                       headers=admin).json()
    assert {i["url"].removeprefix(SITE) for i in filtered["items"]} == {"/gone"}
    assert filtered["summary"]["redirect_loop"] == 0
    assert api.get(f"/api/v1/crawls/{crawl}/audit", params={"types": "nope"}, headers=admin).status_code == 400
