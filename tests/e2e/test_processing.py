"""Processing end to end through real workers: built-in extractors chosen by apiUrl (none, the
short form, a Diffbot URL), custom selectors, an external processing service on loopback (its
objects stored, its failures reported and counted, the crawl unharmed), and /v3/search over
what the crawl stored."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from crawlcore.urls import doc_id, fingerprint
from crawlfleet.servers import free_port
from tests.sites.model import Page, Site
from tests.sites.process import SiteProcess

from .conftest import Cluster, unique

pytestmark = [pytest.mark.servers, pytest.mark.e2e]

CORPUS = Path(__file__).resolve().parents[1] / "extraction" / "corpus"
PAGES = {"/article": "a01-gazette-budget", "/product": "p01-jsonld-offer-headphones", "/thread": "h04-xenforo-thread"}


def corpus_site() -> Site:
    """Three corpus pages served as they are (maxHops=0 keeps the crawl to them)."""
    pages = {path: Page(path, body=(CORPUS / f"{stem}.html").read_bytes()) for path, stem in PAGES.items()}
    return Site("corpus", pages)


def expected(path: str) -> dict[str, Any]:
    return json.loads((CORPUS / f"{PAGES[path]}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def seeds(server: SiteProcess) -> str:
    return " ".join(server.url(p) for p in PAGES)


def by_path(objects: list[dict[str, Any]], server: SiteProcess) -> dict[str, dict[str, Any]]:
    return {str(o["pageUrl"]).replace(server.base_url, ""): o for o in objects}


def report(cluster: Cluster, name: str, server: SiteProcess) -> dict[str, dict[str, str]]:
    return {row["Url"].replace(server.base_url, ""): row for row in cluster.url_report(name)}


class Service:
    """A processing service on loopback: /objects answers {"objects": [...]}, /list a bare list,
    /missing 404, anything else 500; it records the page URLs it was asked for."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, list[str]]]] = []
        lock = threading.Lock()
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                with lock:
                    state.asked.append((parts.path, query))
                page = query.get("url", [""])[0]
                status, data = 500, b"{}"
                if parts.path == "/objects":
                    status, data = 200, json.dumps({"objects": [
                        {"type": "article", "title": f"Service says: {page}", "pageUrl": "https://elsewhere/",
                         "_c": "not-mine", "nested.key": {"$bad": 1}}]}).encode()
                elif parts.path == "/list":
                    status, data = 200, json.dumps([{"type": "product", "title": "one"},
                                                    {"type": "product", "title": "two"}]).encode()
                elif parts.path == "/missing":
                    status, data = 404, b"no"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service() -> Iterator[Service]:
    s = Service()
    yield s
    s.close()


def test_no_api_url_is_analyze_with_every_object_field_and_custom_selectors(cluster: Cluster) -> None:
    selectors = json.dumps({"heading": "h1::text", "firstLink": "a::attr(href)", "names": ["//h4//a/text()"]})
    with SiteProcess(corpus_site()) as server:
        name = unique("analyze")
        cluster.create(name, seeds(server), maxHops=0, useCanonical=0, selectors=selectors)
        job = cluster.wait(name, {9})
        objects = by_path(cluster.objects(name), server)
        rows = report(cluster, name, server)
    assert set(objects) == set(PAGES) and job["pageProcessSuccesses"] == 3 and job["objectsFound"] == 3
    for path, obj in objects.items():
        want = expected(path)
        assert (obj["type"], obj["title"]) == (want["type"], want["title"]), path
        url = server.url(path)
        docid = doc_id(fingerprint(url))
        assert obj["pageUrl"] == obj["resolvedPageUrl"] == url
        assert obj["diffbotUri"] == f"{want['type']}|3|{docid}" and obj["docId"] == docid
        assert obj["crawlName"] == name and obj["crawlRound"] == 0 and obj["timestamp"] > 1_600_000_000_000
        assert "links" in obj and "meta" in obj  # analyze's default optional fields
        assert rows[path]["Process Response"] == "Success" and rows[path]["Diffbot URI"] == obj["diffbotUri"]
        assert set(obj["custom"]) == {"heading", "firstLink", "names"}
    assert objects["/product"]["offerPriceDetails"]["amount"] == expected("/product")["price"]
    assert objects["/article"]["date"] == expected("/article")["date"]
    assert objects["/thread"]["numPosts"] == 3
    assert objects["/thread"]["custom"]["names"] == ["nightowl_88", "f8andbethere", "milkyway_mara"]
    assert objects["/article"]["custom"]["heading"] == expected("/article")["title"]


@pytest.mark.parametrize("api_url", ["product", "https://api.diffbot.com/v3/product?fields=meta&token=x"])
def test_a_diffbot_api_url_selects_the_built_in_extractor(cluster: Cluster, api_url: str) -> None:
    with SiteProcess(corpus_site()) as server:
        name = unique("builtin")
        cluster.create(name, seeds(server), maxHops=0, useCanonical=0, apiUrl=api_url)
        cluster.wait(name, {9})
        objects = by_path(cluster.objects(name), server)
        rows = report(cluster, name, server)
    # every page is extracted as a product (as Diffbot's Product API would), at once, by the worker
    assert {o["type"] for o in objects.values()} == {"product"} and set(objects) == set(PAGES)
    assert objects["/product"]["offerPriceDetails"]["amount"] == expected("/product")["price"]
    assert all(r["Process Response"] == "Success" for r in rows.values())
    assert ("meta" in objects["/product"]) == ("fields=meta" in api_url) and "links" not in objects["/product"]


def test_an_external_service_is_called_and_its_objects_stored(cluster: Cluster, service: Service) -> None:
    with SiteProcess(corpus_site()) as server:
        name = unique("external")
        cluster.create(name, seeds(server), maxHops=0, useCanonical=0, apiUrl=f"{service.base}/objects?token=k",
                       selectors=json.dumps({"heading": "h1::text"}))
        job = cluster.wait(name, {9})
        objects = by_path(cluster.objects(name), server)
        rows = report(cluster, name, server)
    asked = sorted(q["url"][0].replace(server.base_url, "") for p, q in service.asked)
    assert asked == sorted(PAGES) and all(q["token"] == ["k"] for _, q in service.asked)
    assert set(objects) == set(PAGES) and job["pageProcessSuccesses"] == 3
    article = objects["/article"]
    assert article["title"] == f"Service says: {server.url('/article')}" and article["type"] == "article"
    assert article["pageUrl"] == server.url("/article")  # the crawl's fields win over the service's
    assert article["nested_key"] == {"\uff04bad": 1}  # stored with field names MongoDB accepts
    assert article["custom"] == {"heading": expected("/article")["title"]}
    assert article["crawlName"] == name and article["diffbotUri"].startswith("article|3|")
    assert all(r["Process Response"] == "Success" for r in rows.values())


def test_a_list_answer_gives_several_objects_per_page(cluster: Cluster, service: Service) -> None:
    with SiteProcess(corpus_site()) as server:
        name = unique("extlist")
        cluster.create(name, server.url("/article"), maxHops=0, useCanonical=0, apiUrl=f"{service.base}/list")
        job = cluster.wait(name, {9})
        objects = cluster.objects(name)
    assert service.asked == [("/list", {"url": [server.url("/article")]})]  # ?url= when the apiUrl has no query
    assert sorted(o["title"] for o in objects) == ["one", "two"] and job["objectsFound"] == 2
    assert len({o["diffbotUri"] for o in objects}) == 2


@pytest.mark.parametrize(("path", "response"), [
    ("/missing", "HTTP 404 from processing service"),
    ("/broken", "HTTP 500 from processing service after 3 tries"),
])
def test_service_failures_are_reported_and_counted_and_the_crawl_goes_on(cluster: Cluster, service: Service,
                                                                       path: str, response: str) -> None:
    with SiteProcess(corpus_site()) as server:
        name = unique("extfail")
        cluster.create(name, seeds(server), maxHops=0, useCanonical=0, apiUrl=service.base + path)
        job = cluster.wait(name, {9})
        rows = report(cluster, name, server)
        assert cluster.objects(name) == []
    assert job["pageProcessAttempts"] == 3 and job["pageProcessSuccesses"] == 0 and job["pageCrawlSuccesses"] == 3
    assert {r["Process Response"] for r in rows.values()} == {response}
    assert {r["Crawl Status"] for r in rows.values()} == {"Success"}


def test_an_unreachable_service_does_not_stop_the_crawl(cluster: Cluster) -> None:
    with SiteProcess(corpus_site()) as server:
        name = unique("extdown")
        cluster.create(name, server.url("/article"), maxHops=0, useCanonical=0,
                       apiUrl=f"http://127.0.0.1:{free_port()}/nothing-here")
        job = cluster.wait(name, {9})
        [row] = cluster.url_report(name)
    assert row["Process Response"].startswith("processing service unreachable")
    assert job["pageProcessAttempts"] == 1 and job["pageProcessSuccesses"] == 0


def test_search_returns_the_objects_crawl_data_returns(cluster: Cluster) -> None:
    with SiteProcess(corpus_site()) as server:
        name = unique("search")
        cluster.create(name, seeds(server), maxHops=0, useCanonical=0)
        cluster.wait(name, {9})
        data = cluster.objects(name)
    resp = cluster.http.get("/v3/search", params={"token": cluster.token, "col": name, "query": "has:type",
                                                   "num": "all"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["hits"] == 3 and resp.json()["objects"] == data
    one = cluster.http.get("/v3/search", params={"token": cluster.token, "col": name,
                                                  "query": 'type:discussion title:"budget tripod"'}).json()
    assert [o["pageUrl"] for o in one["objects"]] == [server.url("/thread")]


@pytest.mark.parametrize(("params", "names"), [
    ({"apiUrl": "ftp://example.com/x"}, "apiUrl"),
    ({"apiUrl": "https://api.diffbot.com/v3/nosuchapi"}, "apiUrl"),
    ({"apiUrl": "analyze?mode=nonsense"}, "apiUrl"),
    ({"selectors": "not json"}, "selectors"),
    ({"selectors": '{"x": "//p["}'}, "selectors"),
    ({"selectors": '{"x": "p:nosuchpseudo"}'}, "selectors"),
])
def test_bad_processing_settings_are_refused_naming_the_parameter(cluster: Cluster, params: dict[str, str],
                                                                  names: str) -> None:
    resp = cluster.crawl(name=unique("bad"), seeds="https://example.com/", **params)
    assert resp.status_code == 400 and names in resp.json()["error"], resp.text


# ---------------------------------------------------------------- separate crawl and process workers


@pytest.fixture(scope="module")
def split_cluster(cluster_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A cluster of its own (own key prefix and database): one crawl worker, one process worker."""
    prefix = "split" + uuid.uuid4().hex[:6]
    env = {**cluster_env, "CRAWLFLEET_KEY_PREFIX": prefix, "CRAWLFLEET_MONGO_DB": prefix,
           "CRAWLFLEET_PORT": str(free_port())}
    c = Cluster(env, tmp_path_factory.mktemp("split"))
    c.add_worker(CRAWLFLEET_ROLE="crawl")
    c.add_worker(CRAWLFLEET_ROLE="process")
    try:
        yield c
    finally:
        c.stop()


def test_crawl_workers_hand_pages_to_process_workers_through_redis(split_cluster: Cluster, service: Service) -> None:
    cluster = split_cluster
    with SiteProcess(corpus_site()) as server:
        name = unique("split")
        cluster.create(name, seeds(server), maxHops=0, useCanonical=0, selectors=json.dumps({"h": "h1::text"}))
        job = cluster.wait(name, {9})
        objects = by_path(cluster.objects(name), server)
        rows = report(cluster, name, server)
        # an external service is still called (by the crawl worker)
        external = unique("splitext")
        cluster.create(external, server.url("/article"), maxHops=0, useCanonical=0, apiUrl=f"{service.base}/list")
        cluster.wait(external, {9})
        listed = cluster.objects(external)
    assert job["pageProcessSuccesses"] == 3 and job["objectsFound"] == 3 and job["pageCrawlSuccesses"] == 3
    for path, obj in objects.items():
        assert (obj["type"], obj["title"]) == (expected(path)["type"], expected(path)["title"])
        assert obj["custom"] == {"h": expected(path)["title"]} and obj["crawlName"] == name
        assert rows[path]["Process Response"] == "Success" and rows[path]["Diffbot URI"] == obj["diffbotUri"]
    assert sorted(o["title"] for o in listed) == ["one", "two"]
    # the process worker took the pages: the list is empty, and its heartbeat is there
    prefix = cluster.env["CRAWLFLEET_KEY_PREFIX"]
    assert cluster.redis.llen(f"{prefix}:process") == 0
    assert any(json.loads(v).get("role") == "process" for v in cluster.redis.hvals(f"{prefix}:workers"))
    # and it serves /metrics (what it processed, under role="process") and /healthz like a crawl worker
    worker = next(w for w in cluster.workers if w.env.get("CRAWLFLEET_ROLE") == "process")
    base = f"http://127.0.0.1:{worker.env['CRAWLFLEET_METRICS_PORT']}"
    processed = [float(line.rsplit(" ", 1)[1]) for line in httpx.get(base + "/metrics").text.splitlines()
                 if line.startswith("crawlfleet_pages_processed_total{") and 'role="process"' in line]
    assert sum(processed) >= 3
    assert httpx.get(base + "/healthz").status_code == 200


def test_a_page_waits_for_a_process_worker_and_is_not_lost(split_cluster: Cluster) -> None:
    """With the process worker stopped, handed-over pages wait in Redis (or go back to the frontier
    when their lease expires); a process worker started later processes every one."""
    cluster = split_cluster
    processor = cluster.workers.pop()  # the process worker (added last)
    processor.stop()
    replaced = False
    try:
        with SiteProcess(corpus_site()) as server:
            name = unique("waits")
            cluster.create(name, seeds(server), maxHops=0, useCanonical=0)
            key = f"{cluster.env['CRAWLFLEET_KEY_PREFIX']}:process"
            deadline = time.monotonic() + 30
            while cluster.redis.llen(key) < 3 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert cluster.redis.llen(key) >= 3 and cluster.objects(name) == []
            assert cluster.job(name)["jobStatus"]["status"] == 7  # in progress: the pages are not done
            cluster.add_worker(CRAWLFLEET_ROLE="process")
            replaced = True
            job = cluster.wait(name, {9})
            objects = cluster.objects(name)
    finally:
        if not replaced:
            cluster.add_worker(CRAWLFLEET_ROLE="process")
    assert job["pageProcessSuccesses"] == 3 and len(objects) == 3
    assert {o["type"] for o in objects} == {"article", "product", "discussion"}
