"""Attacks through the requests crawlfleet makes on a user's behalf that are not crawl fetches:
processing services (apiUrl), /v3 notifyWebhook, /api/v1 webhooks. Every one goes through the
guarded outbound client (crawlbase.outbound), so none reaches the internal service on 127.0.0.2."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from crawlstore.tokens import TokenStore, token_id
from tests.e2e.conftest import Cluster, unique
from tests.security.conftest import Internal
from tests.security.support_outbound import redirect_to, scripted
from tests.sites.fixtures import generate_site
from tests.sites.process import SiteProcess
from tests.sites.receiver import WebhookReceiver

pytestmark = [pytest.mark.servers, pytest.mark.e2e]


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def v1_headers(guarded: Cluster) -> dict[str, str]:
    return {"X-API-Key": guarded.token}  # a standalone token is a user-role /api/v1 key


def first_attempt(guarded: Cluster, hook_id: str) -> dict[str, Any]:
    """The log entry of the latest delivery's first attempt, once there is one."""
    log = f"/api/v1/webhooks/{hook_id}/deliveries"

    def entries() -> list[dict[str, Any]]:
        items = guarded.http.get(log, headers=v1_headers(guarded)).json()["items"]
        return list(items[0]["log"]) if items else []

    wait_for(lambda: bool(entries()), what="a delivery attempt")
    return entries()[0]


# ---------------------------------------------------------------- processing services


def test_a_processing_service_redirect_to_a_private_address_is_not_followed(
        guarded: Cluster, internal: Internal) -> None:
    before = len(internal.hits)
    with scripted(redirect_to(internal.url + "/extract")) as service, \
            SiteProcess(generate_site(1, seed=5, page_bytes=300)) as site:
        name = unique("procredir")
        guarded.create(name, site.url("/"), maxHops=0, useCanonical=0, apiUrl=f"{service.url}/extract?k=1")
        guarded.wait(name, {9}, timeout=90)
        assert service.hits, "the processing service was never called"
        rows = guarded.url_report(name)
        responses = {row["Process Response"] for row in rows if row["Process Response"]}
        assert responses == {"processing service blocked: private network address 127.0.0.2"}, rows
        objects = guarded.objects(name)
        assert "internal data" not in json.dumps(objects)
    assert internal.hits[before:] == []


# ---------------------------------------------------------------- /v3 notifyWebhook


def test_v3_notify_webhook_to_a_private_address_is_refused(guarded: Cluster, internal: Internal) -> None:
    before = len(internal.hits)
    with SiteProcess(generate_site(1, seed=6, page_bytes=300)) as site:
        name = unique("hookpriv")
        resp = guarded.crawl(name=name, seeds=site.url("/"), maxHops=0, notifyWebhook=internal.url + "/hook")
        assert resp.status_code == 400, resp.text
        assert "notifyWebhook" in resp.json()["error"] and "private network address 127.0.0.2" in resp.json()["error"]
        guarded.create(name, site.url("/"), maxHops=0)
        resp = guarded.crawl(name=name, notifyWebhook=internal.url + "/hook")  # an update
        assert resp.status_code == 400 and "notifyWebhook" in resp.json()["error"], resp.text
        guarded.wait(name, {9})
    time.sleep(2.0)  # the notifier polls twice a second: give a wrong delivery the time to happen
    assert [h for h in internal.hits[before:] if h.method == "POST"] == []


def _verify_v3_signature(headers: dict[str, str], body: bytes, key: str) -> None:
    timestamp = headers["X-Crawlfleet-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 600
    expected = "sha256=" + hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Crawlfleet-Signature"] == expected


@pytest.mark.parametrize("kind", ["standalone token", "user API key"])
def test_v3_notify_webhook_is_signed_with_the_token_digest_and_a_timestamp(guarded: Cluster, kind: str) -> None:
    token = guarded.token if kind == "standalone token" else TokenStore(guarded.db).create("k", owner=unique("u"))
    with WebhookReceiver() as receiver, SiteProcess(generate_site(1, seed=7, page_bytes=300)) as site:
        name = unique("hooksig")
        resp = guarded.crawl(name=name, seeds=site.url("/"), maxHops=0, crawlDelay=0, notifyWebhook=receiver.url,
                             token=token)
        assert resp.status_code == 200, resp.text
        wait_for(lambda: bool(receiver.deliveries), what="the webhook")
        delivered = receiver.deliveries[0]
        assert delivered.headers["X-Crawl-Name"] == name and delivered.headers["X-Crawl-Status"] == "9"
        _verify_v3_signature(delivered.headers, delivered.body, token_id(token))


# ---------------------------------------------------------------- /api/v1 webhooks


def test_v1_webhook_to_a_private_address_is_refused_at_registration_and_delivery(
        guarded: Cluster, internal: Internal) -> None:
    before = len(internal.hits)
    headers = v1_headers(guarded)
    resp = guarded.http.post("/api/v1/webhooks", json={"url": internal.url + "/hook"}, headers=headers)
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "url", resp.text
    with WebhookReceiver() as receiver:
        hook = guarded.http.post("/api/v1/webhooks", json={"url": receiver.url}, headers=headers).json()
    # the hook's address is private now (a name that resolves elsewhere later, a changed deployment)
    guarded.db.webhooks.update_one({"_id": hook["id"]}, {"$set": {"url": internal.url + "/hook"}})
    assert guarded.http.post(f"/api/v1/webhooks/{hook['id']}/test", headers=headers).status_code == 202
    entry = first_attempt(guarded, hook["id"])
    assert entry["error"] == "refused: private network address 127.0.0.2" and entry["status_code"] is None
    assert internal.hits[before:] == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Resetter:
    """Accepts connections on 127.0.0.1 and closes them at once, with a reset."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            conn.close()


def test_v1_test_deliveries_say_little_about_the_target_and_are_rate_limited(guarded: Cluster) -> None:
    headers = v1_headers(guarded)
    resetter = _Resetter()
    errors = {}
    try:
        for what, url in (("closed", f"http://127.0.0.1:{_closed_port()}/"),
                          ("reset", f"http://127.0.0.1:{resetter.port}/")):
            hook = guarded.http.post("/api/v1/webhooks", json={"url": url}, headers=headers).json()
            assert guarded.http.post(f"/api/v1/webhooks/{hook['id']}/test", headers=headers).status_code == 202
            errors[what] = first_attempt(guarded, hook["id"])["error"]
    finally:
        resetter.sock.close()
    assert errors == {"closed": "connection failed", "reset": "connection failed"}
    # test deliveries are bounded per user
    with WebhookReceiver() as receiver:
        hook = guarded.http.post("/api/v1/webhooks", json={"url": receiver.url}, headers=headers).json()
        answers = [guarded.http.post(f"/api/v1/webhooks/{hook['id']}/test", headers=headers) for _ in range(12)]
    codes = [a.status_code for a in answers]
    assert 429 in codes and codes[0] == 202, codes
    limited = next(a for a in answers if a.status_code == 429)
    assert int(limited.headers["Retry-After"]) >= 1
