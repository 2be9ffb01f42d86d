"""External processing services, against a small service on loopback: how it is called, what is
stored, how failures are reported (never raised), retries, timeouts and the concurrency cap."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from crawlcore.netguard import NetGuard
from crawlfleet.servers import free_port
from spiders.processing import PageProcessor, Processed, ProcessingClient, ProcessResult


class Service:
    """A processing service whose answer depends on the path; it records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, list[str]]]] = []
        self.active = 0
        self.max_active = 0
        self.failures_left = 0
        self.lock = threading.Lock()
        self.gate = threading.Event()  # /gated answers once it is set

    def answer(self, path: str) -> tuple[int, bytes, float]:
        """(status, body, seconds to wait before answering)."""
        objects = {"objects": [{"type": "article", "title": "From the service", "tags": [{"label": "x"}]}]}
        if path == "/objects":
            return 200, json.dumps(objects).encode(), 0.0
        if path == "/list":
            return 200, b'[{"type": "product", "title": "P1"}, {"type": "product", "title": "P2"}]', 0.0
        if path == "/error":
            return 200, b'{"error": "Could not download page", "errorCode": 500}', 0.0
        if path == "/missing":
            return 404, b"not here", 0.0
        if path == "/flaky":
            with self.lock:
                self.failures_left -= 1
                failing = self.failures_left >= 0
            return (503, b"busy", 0.0) if failing else (200, json.dumps(objects).encode(), 0.0)
        if path == "/slow":
            return 200, json.dumps(objects).encode(), 1.0
        if path == "/gated":
            self.gate.wait(10)
            return 200, json.dumps(objects).encode(), 0.0
        if path == "/html":
            return 200, b"<html>oops</html>", 0.0
        if path == "/huge":
            return 200, b"[" + b"0," * 40_000 + b"0]", 0.0
        return 500, b"", 0.0


@pytest.fixture
def service() -> Iterator[tuple[Service, str]]:
    state = Service()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            with state.lock:
                state.calls.append((parts.path, parse_qs(parts.query)))
                state.active += 1
                state.max_active = max(state.max_active, state.active)
            try:
                status, body, delay = state.answer(parts.path)
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                with state.lock:
                    state.active -= 1

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def client() -> Iterator[ProcessingClient]:
    c = ProcessingClient(concurrency=3, timeout=2.0, tries=3, backoff=0.01)
    yield c
    c.close()


def test_the_service_is_called_like_diffbot_and_its_objects_returned(service: tuple[Service, str],
                                                                     client: ProcessingClient) -> None:
    state, base = service
    result = client.submit(f"{base}/objects?token=k&fields=tags", "https://a.example/p?q=1&r=2").result(5)
    assert result == ProcessResult([{"type": "article", "title": "From the service", "tags": [{"label": "x"}]}],
                                   "", 200, 1)
    assert result.ok and result.response == "Success"
    assert state.calls == [("/objects", {"token": ["k"], "fields": ["tags"], "url": ["https://a.example/p?q=1&r=2"]})]


CASES = [
    ("/list", 2, "", 1),
    ("/error", 0, "processing service error 500: Could not download page", 1),
    ("/missing", 0, "HTTP 404 from processing service", 1),
    ("/html", 0, "invalid response from processing service: not JSON", 1),
    ("/teapot", 0, "HTTP 500 from processing service after 3 tries", 3),
]


@pytest.mark.parametrize(("path", "objects", "error", "tries"), CASES, ids=[c[0] for c in CASES])
def test_answers_and_failures(service: tuple[Service, str], client: ProcessingClient, path: str, objects: int,
                              error: str, tries: int) -> None:
    result = client.call(service[1] + path, "https://a.example/")
    assert (len(result.objects), result.error, result.tries) == (objects, error, tries)


def test_retries_recover_from_a_busy_service(service: tuple[Service, str], client: ProcessingClient) -> None:
    state, base = service
    state.failures_left = 2
    result = client.call(f"{base}/flaky", "https://a.example/")
    assert result.ok and result.tries == 3 and len(state.calls) == 3
    assert client.stats["retries"] == 2 and client.stats["succeeded"] == 1


def test_a_slow_service_times_out_and_is_reported(service: tuple[Service, str]) -> None:
    client = ProcessingClient(concurrency=1, timeout=0.3, tries=2, backoff=0.01)
    try:
        result = client.call(f"{service[1]}/slow", "https://a.example/")
        assert result.error == "processing service timed out after 2 tries" and result.objects == []
        assert client.stats["failed"] == 1 and client.stats["retries"] == 1
    finally:
        client.close()


def test_an_unreachable_service_is_reported(client: ProcessingClient) -> None:
    result = client.call(f"http://127.0.0.1:{free_port()}/x", "https://a.example/")
    assert result.error.startswith("processing service unreachable") and result.error.endswith("after 3 tries")


def test_responses_over_the_size_limit_are_refused(service: tuple[Service, str]) -> None:
    client = ProcessingClient(max_bytes=10_000)
    try:
        result = client.call(f"{service[1]}/huge", "https://a.example/")
        assert result.error == "invalid response from processing service: larger than 10000 bytes"
    finally:
        client.close()


def test_concurrency_is_capped_and_nothing_blocks_the_caller(service: tuple[Service, str],
                                                            client: ProcessingClient) -> None:
    state, base = service
    futures = [client.submit(f"{base}/gated", f"https://a.example/{i}") for i in range(9)]
    # submit returned for all nine while the service holds every call: the caller never waits
    for _ in range(200):
        if state.active == 3:
            break
        time.sleep(0.01)
    assert state.active == 3 and client.in_flight == 9 and not any(f.done() for f in futures)
    state.gate.set()
    results = [f.result(10) for f in futures]
    assert all(r.ok for r in results) and state.max_active == 3 and len(state.calls) == 9
    assert client.in_flight == 0 and client.stats["calls"] == 9


def test_the_network_guard_applies_to_services(service: tuple[Service, str]) -> None:
    state, base = service
    guarded = ProcessingClient(guard=NetGuard())
    allowed = ProcessingClient(guard=NetGuard.parse("127.0.0.0/8"))
    try:
        refused = guarded.call(f"{base}/objects", "https://a.example/")
        assert refused.error == "processing service blocked: private network address 127.0.0.1"
        assert state.calls == [] and guarded.stats["failed"] == 1
        assert allowed.call(f"{base}/objects", "https://a.example/").ok
    finally:
        guarded.close()
        allowed.close()


# ---------------------------------------------------------------- PageProcessor: what a worker does with a page

PAGE = ('<html lang="en"><head><title>T</title><meta property="og:type" content="product">'
        '<meta property="product:price:amount" content="9.50"><meta property="product:price:currency" content="EUR">'
        '</head><body><h1>Blue mug</h1><p class="price">9.50 EUR</p></body></html>')


def _process(processor: PageProcessor, api_url: str, selectors: str = "") -> Processed:
    import lxml.html

    return processor.process(api_url=api_url, selectors=selectors, root=lxml.html.document_fromstring(PAGE),
                             url="https://shop.example/mug", resolved_url="https://shop.example/mug", fp=bytes(8),
                             crawl_id="c1", crawl_name="shop", crawl_round=2, crawled=1_700_000_000.0)


@pytest.mark.parametrize("api_url", ["", "product", "https://api.diffbot.com/v3/product?token=T&fields=meta",
                                     "http://api.diffbot.com/v2/analyze?mode=auto"])
def test_diffbot_api_urls_run_built_in_extractors_and_call_no_service(api_url: str) -> None:
    client = ProcessingClient()
    processor = PageProcessor(client)
    try:
        done = _process(processor, api_url, '{"h": "h1::text"}')
    finally:
        processor.close()  # its selector process
    assert done.pending is None and not done.deferred and client.stats["calls"] == 0 and client._pool is None
    [obj] = done.objects
    assert done.response == "Success" and obj["type"] == "product" and obj["title"] == "Blue mug"
    assert obj["custom"] == {"h": "Blue mug"} and obj["crawlRound"] == 2 and obj["_id"] == "c1:2:0000000000000000:0"
    assert ("meta" in obj) == (api_url == "" or "fields=meta" in api_url)


def test_an_external_api_url_is_a_service_call(service: tuple[Service, str]) -> None:
    state, base = service
    processor = PageProcessor(ProcessingClient(tries=1))
    try:
        pending = _process(processor, f"{base}/objects", '{"h": "h1::text"}')
        assert pending.deferred and pending.pending is not None and pending.objects == [{"custom": {"h": "Blue mug"}}]
        result = pending.pending.result(5)
        done = processor.complete(pending, result, url="https://shop.example/mug", resolved_url="https://shop.example/mug",
                                  fp=bytes(8), crawl_id="c1", crawl_name="shop", crawl_round=0, crawled=1.0)
        [obj] = done.objects
        assert obj["title"] == "From the service" and obj["custom"] == {"h": "Blue mug"} and done.response == "Success"
        assert state.calls[0][1]["url"] == ["https://shop.example/mug"]
        failed = processor.complete(pending, ProcessResult([], "HTTP 404 from processing service", 404, 1),
                                    url="u", resolved_url="u", fp=bytes(8), crawl_id="c1", crawl_name="shop",
                                    crawl_round=0, crawled=1.0)
        assert failed.objects == [] and failed.response == "HTTP 404 from processing service"
    finally:
        processor.close()


def test_a_crawl_role_processor_defers_built_in_extraction_to_process_workers() -> None:
    processor = PageProcessor(ProcessingClient(), handoff=True)
    deferred = _process(processor, "article")
    assert deferred.handoff and deferred.deferred and deferred.objects == [] and deferred.pending is None


def test_settings_stored_before_they_were_checked_are_a_process_response() -> None:
    done = _process(PageProcessor(), "ftp://nowhere/")
    assert done.objects == [] and done.response.startswith("Invalid processing settings: Invalid parameter apiUrl")
