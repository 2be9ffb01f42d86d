"""Fixtures for every test directory: one redis-server and one SecantusDB per test session.

Tests share the two servers and isolate themselves by name instead:

    def test_something(config):          # Redis keys under config.key_prefix,
        ...                              # MongoDB database config.mongo_db, both unique per test

Tests that use `redis_url` or `mongo_url` (directly or through `config`) get the `servers`
marker automatically, so `pytest -m "not servers"` runs only the tests that need no server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from crawlbase.config import Config
from crawlfleet.servers import free_port, start_mongo, start_redis

_SERVER_FIXTURES = {"redis_url", "mongo_url"}


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a redis-server (no persistence) that lives for the whole test session."""
    logs = tmp_path_factory.mktemp("redis-server")
    with start_redis(free_port(), data_dir=None, log_path=logs / "redis.log") as proc:
        yield proc.url


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a SecantusDB MongoDB-wire server (in memory) that lives for the whole test session."""
    logs = tmp_path_factory.mktemp("mongo-server")
    with start_mongo(free_port(), storage_path=None, log_path=logs / "mongo.log") as proc:
        yield proc.url


@pytest.fixture
def unique_prefix() -> str:
    """A name no other test uses: a Redis key prefix and a MongoDB database name, e.g. 't3f9a01bc'."""
    return "t" + uuid.uuid4().hex[:8]


@pytest.fixture
def config(redis_url: str, mongo_url: str, unique_prefix: str) -> Config:
    """A Config on the session's servers, with this test's own key prefix and database."""
    return Config.from_env(
        {
            "REDIS_URL": redis_url,
            "MONGO_URL": mongo_url,
            "CRAWLFLEET_KEY_PREFIX": unique_prefix,
            "CRAWLFLEET_MONGO_DB": unique_prefix,
        }
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.servers)
