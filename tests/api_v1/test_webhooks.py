"""Webhooks: registration, events from status changes, HMAC-signed deliveries, retries with
backoff and the delivery log."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from crawlbase.config import Config
from crawlcore.status import Event, Status
from crawlcore.webhook import verify
from crawlstore.crawls import CrawlStore
from crawlstore.tokens import token_id
from tests.api_v1.conftest import Api, make_api
from tests.sites.receiver import WebhookReceiver

SECRET = "a-secret-of-sixteen-or-more"


class Receiver:
    """A loopback HTTP server that records deliveries; the first `fail` answers are 500 (every
    answer a 302 to `redirect`, when given)."""

    def __init__(self, fail: int = 0, redirect: str = "") -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail = fail
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                code = 302 if redirect else 500 if receiver.fail > 0 else 204
                receiver.fail -= 1
                self.send_response(code)
                if redirect:
                    self.send_header("Location", redirect)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[str]:
        return [json.loads(body)["event"] for _, body in self.received]


@pytest.fixture
def hooked(config: Config) -> Iterator[Api]:
    yield from make_api(config, allow_networks="127.0.0.0/8", webhook_backoff=0.2)


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_register_validate_and_manage(hooked: Api) -> None:
    api = hooked
    admin = api.user("root")
    bob = api.user("bob")
    made = api.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/x", "events": ["crawl.completed"]},
                    headers=bob)
    assert made.status_code == 201 and len(made.json()["secret"]) >= 16
    hook_id = made.json()["id"]
    assert "secret" not in api.get(f"/api/v1/webhooks/{hook_id}", headers=bob).json()
    assert api.get(f"/api/v1/webhooks/{hook_id}", headers=api.user("carol")).status_code == 404
    assert api.get("/api/v1/webhooks", headers=admin).json()["total_items"] == 1
    for bad in ({"url": "ftp://x"}, {"url": "http://127.0.0.1/", "events": ["crawl.exploded"]},
                {"url": "http://127.0.0.1/", "secret": "short"}, {"url": "http://127.0.0.1/", "extra": 1}):
        assert api.post("/api/v1/webhooks", json=bad, headers=bob).status_code == 400, bad
    patched = api.patch(f"/api/v1/webhooks/{hook_id}", json={"active": False}, headers=bob)
    assert patched.json()["active"] is False
    assert api.delete(f"/api/v1/webhooks/{hook_id}", headers=bob).status_code == 204
    assert api.get(f"/api/v1/webhooks/{hook_id}", headers=bob).status_code == 404


def test_private_webhook_targets_are_refused_by_default(api: Api, admin: dict[str, str]) -> None:
    resp = api.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/"}, headers=admin)
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "url"


def test_events_are_delivered_signed_and_retried(hooked: Api) -> None:
    api = hooked
    admin = api.user("root")
    receiver = Receiver(fail=1)
    hook = api.post("/api/v1/webhooks", json={"url": receiver.url, "secret": SECRET,
                                              "events": ["crawl.created", "crawl.paused", "crawl.completed"]},
                    headers=admin).json()
    crawl = api.crawl(admin, "watched")
    wait_for(lambda: "crawl.created" in receiver.events())
    api.patch(f"/api/v1/crawls/{crawl['id']}", json={"status": "paused"}, headers=admin)
    wait_for(lambda: "crawl.paused" in receiver.events())
    api.patch(f"/api/v1/crawls/{crawl['id']}", json={"status": "stopped"}, headers=admin)
    wait_for(lambda: "crawl.completed" in receiver.events())

    assert receiver.events()[:2] == ["crawl.created", "crawl.created"]  # the first answer was a 500: retried
    for headers, body in receiver.received:
        assert verify(SECRET, headers["x-crawlfleet-signature"], body, now=time.time())
        assert headers["content-type"] == "application/json"
    payload = json.loads(receiver.received[-1][1])
    assert payload["crawl"]["id"] == crawl["id"] and payload["crawl"]["status"] == "stopped"

    log = api.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=admin).json()
    created = next(d for d in log["items"] if d["event"] == "crawl.created")
    assert created["state"] == "delivered" and created["attempts"] == 2
    assert [e["status_code"] for e in created["log"]] == [500, 204]

    test = api.post(f"/api/v1/webhooks/{hook['id']}/test", headers=admin)
    assert test.status_code == 202
    wait_for(lambda: "webhook.test" in receiver.events())


def test_deliveries_give_up_after_the_last_attempt(config: Config) -> None:
    for api in make_api(config, allow_networks="127.0.0.0/8", webhook_backoff=0.1, webhook_attempts=2):
        admin = api.user("root")
        receiver = Receiver(fail=100)
        hook = api.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["crawl.created"]},
                        headers=admin).json()
        api.crawl(admin, "doomed")
        log = f"/api/v1/webhooks/{hook['id']}/deliveries"

        def failed(api: Api = api, admin: dict[str, str] = admin, log: str = log) -> bool:
            items = api.get(log, headers=admin).json()["items"]
            return bool(items) and items[0]["state"] == "failed"

        wait_for(failed)
        assert len(receiver.received) == 2


def test_limit_reached_and_failed_events_follow_the_crawl_store(hooked: Api) -> None:
    """The transitions workers make (through the crawl store) become events, for /v3 crawls too."""
    api = hooked
    admin = api.user("root")
    key, _ = api.key(admin)
    receiver = Receiver()
    api.post("/api/v1/webhooks", json={"url": receiver.url, "secret": SECRET,
                                       "events": ["crawl.limit_reached", "crawl.failed"]}, headers=admin)
    limited = api.crawl(admin, "limited")
    made = api.post("/v3/crawl", data={"token": key, "name": "from-v3", "seeds": "https://example.com/"})
    assert made.status_code == 200, made.text
    failed_id = made.json()["jobs"][0]["id"]
    store: CrawlStore = api.client.app.state.services.crawls  # type: ignore[attr-defined]
    assert store.lifecycle.apply(limited["id"], Event.CRAWL_LIMIT) is Status.MAX_TO_CRAWL
    assert store.lifecycle.apply(failed_id, Event.SEEDS_FAILED) is Status.SEEDS_FAILED
    wait_for(lambda: len(receiver.received) >= 2)
    got = {json.loads(body)["event"]: json.loads(body)["crawl"] for _, body in receiver.received}
    assert got["crawl.limit_reached"]["id"] == limited["id"]
    assert got["crawl.limit_reached"]["status"] == "limit_reached"
    assert got["crawl.failed"]["id"] == failed_id and got["crawl.failed"]["status"] == "failed"
    assert all(verify(SECRET, h["x-crawlfleet-signature"], b, now=time.time()) for h, b in receiver.received)


def test_deliveries_follow_no_redirects_and_recheck_the_address(config: Config) -> None:
    target = Receiver()
    redirector = Receiver(redirect=target.url)
    for api in make_api(config, allow_networks="127.0.0.0/8", webhook_attempts=1):
        admin = api.user("root")
        hook = api.post("/api/v1/webhooks", json={"url": redirector.url, "events": ["crawl.created"]},
                        headers=admin).json()
        api.post(f"/api/v1/webhooks/{hook['id']}/test", headers=admin)
        log = f"/api/v1/webhooks/{hook['id']}/deliveries"

        def failed(api: Api = api, admin: dict[str, str] = admin, log: str = log) -> bool:
            return bool(api.get(log, headers=admin).json()["items"][0]["state"] == "failed")

        wait_for(failed)
        entry = api.get(log, headers=admin).json()["items"][0]["log"]
        assert [e["status_code"] for e in entry] == [302] and len(redirector.received) == 1
        assert target.received == []  # the redirect was not followed
    # another controller, whose deployment does not allow loopback: the same webhook is refused
    for api in make_api(config, webhook_attempts=1):
        admin = api.login("root")
        api.post(f"/api/v1/webhooks/{hook['id']}/test", headers=admin)

        def second_failed(api: Api = api, admin: dict[str, str] = admin) -> bool:
            body = api.get(log, headers=admin).json()
            return bool(body["total_items"] == 2 and body["items"][0]["state"] == "failed")

        wait_for(second_failed)
        refused = api.get(log, headers=admin).json()["items"][0]["log"][0]
        assert refused["status_code"] is None and refused["error"].startswith("refused")
        assert len(redirector.received) == 1


def test_notify_webhook_of_v1_crawls_is_signed_with_the_digest_of_the_credential_used(hooked: Api) -> None:
    """/v3 notifyWebhook set on an /api/v1 crawl: keyed with the SHA-256 digest of the API key the
    crawl was created with, or of the login session's Bearer token; never with the user's id."""
    api = hooked
    session = api.user("root")
    key, _ = api.key(session)
    store: CrawlStore = api.client.app.state.services.crawls  # type: ignore[attr-defined]
    with WebhookReceiver() as receiver:
        for name, headers, credential in (("by-jwt", session, session["Authorization"].split(" ", 1)[1]),
                                          ("by-key", {"X-API-Key": key}, key)):
            crawl = api.crawl(headers, name, notifyWebhook=receiver.url)
            assert store.lifecycle.apply(crawl["id"], Event.CRAWL_LIMIT) is Status.MAX_TO_CRAWL

            def arrived(name: str = name) -> bool:
                return any(d.headers["X-Crawl-Name"] == name for d in receiver.deliveries)

            wait_for(arrived)
            delivered = next(d for d in receiver.deliveries if d.headers["X-Crawl-Name"] == name)
            timestamp = delivered.headers["X-Crawlfleet-Timestamp"]
            signed = timestamp.encode() + b"." + delivered.body
            expected = hmac.new(token_id(credential).encode(), signed, hashlib.sha256).hexdigest()
            assert delivered.headers["X-Crawlfleet-Signature"] == f"sha256={expected}", name
            assert abs(int(timestamp) - time.time()) < 600
