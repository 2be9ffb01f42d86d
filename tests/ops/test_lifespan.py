"""The app's lifespan builds and tears down everything both APIs use: the stores and their indexes,
the /api/v1 context and the background threads (crawl maintenance, the Notifier, the /api/v1
Housekeeper). Once a stopped app's lifespan has returned, none of its threads is running and none
of its store connections is open."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from pymongo.errors import InvalidOperation, ServerSelectionTimeoutError
from starlette.testclient import TestClient

from controller.app import create_app
from crawlbase.config import Config
from crawlfleet.servers import free_port
from crawlstore.mongo import connect
from crawlstore.tokens import TokenStore

LIBRARY_GRACE = 5.0  # seconds pymongo's own monitor threads may take to notice their client closed


def wait_for_threads_to_end(threads: set[threading.Thread]) -> list[str]:
    """The names of those still running after LIBRARY_GRACE."""
    deadline = time.monotonic() + LIBRARY_GRACE
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        time.sleep(0.05)
    return sorted(t.name for t in threads if t.is_alive())


def redis_client_ids(url: str) -> set[str]:
    probe = redis.Redis.from_url(url)
    try:
        me = str(probe.client_id())
        return {str(c["id"]) for c in probe.client_list()} - {me}
    finally:
        probe.close()


def test_a_stopped_app_leaves_no_thread_running_and_no_store_open(config: Config) -> None:
    db = connect(config.mongo_url, config.mongo_db)
    token = TokenStore(db).create("lifespan")
    db.client.close()
    threads_before = set(threading.enumerate())
    redis_before = redis_client_ids(config.redis_url)

    app = create_app(config)
    with TestClient(app) as client:
        assert client.get("/v3/crawl", params={"token": token}).status_code == 200
        assert client.get("/api/v1/crawls", headers={"X-API-Key": token}).status_code == 200
        services, v1 = app.state.services, app.state.api_v1
        assert redis_client_ids(config.redis_url) - redis_before  # the app did open connections
        started = {t.name for t in set(threading.enumerate()) - threads_before}
        assert {"maintenance", "notifier", "api-v1-housekeeper"} <= started

    left = set(threading.enumerate()) - threads_before
    assert sorted(t.name for t in left if not t.name.startswith("pymongo_")) == []
    assert wait_for_threads_to_end(left) == []

    assert redis_client_ids(config.redis_url) - redis_before == set()  # sync and async clients closed
    with pytest.raises(InvalidOperation):
        services.db.command("ping")  # MongoDB client closed
    assert v1.svc is services
    assert not hasattr(app.state, "services") and not hasattr(app.state, "api_v1")


def test_an_app_started_again_after_a_stop_has_stores_that_answer(config: Config) -> None:
    app = create_app(config)
    for _ in range(2):
        with TestClient(app) as client:
            resp = client.get("/api/v1/monitoring/health")
            assert resp.status_code == 200, resp.text
            assert resp.json()["checks"]["mongodb"] == resp.json()["checks"]["redis"] == "healthy"


def test_a_start_up_that_fails_leaves_nothing_running(config: Config) -> None:
    """MongoDB does not answer: creating its indexes fails the start-up (after pymongo's 5 s server
    selection), and what was opened by then is closed again."""
    threads_before = set(threading.enumerate())
    app = create_app(config.replace(mongo_url=f"mongodb://127.0.0.1:{free_port()}/?directConnection=true"))
    with pytest.raises(ServerSelectionTimeoutError), TestClient(app):
        pass
    assert wait_for_threads_to_end(set(threading.enumerate()) - threads_before) == []
    assert not hasattr(app.state, "services")
