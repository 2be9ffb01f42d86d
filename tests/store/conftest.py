"""A CrawlStore on the test Redis and MongoDB, with a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crawlbase.config import Config
from crawlcore.definition import CrawlDefinition, parse_create
from crawlstore.connection import connect_redis
from crawlstore.crawls import CrawlStore
from crawlstore.frontier import Frontier
from crawlstore.mongo import connect, ensure_indexes

START = 1_700_000_000.0  # where the test clock starts (epoch seconds)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(config: Config, clock: Clock) -> Iterator[CrawlStore]:
    client = connect_redis(config.redis_url)
    db = connect(config.mongo_url, config.mongo_db)
    ensure_indexes(db)
    yield CrawlStore(Frontier(client, config.key_prefix, 4), db, lease_seconds=60.0, clock=clock)
    client.close()
    db.client.drop_database(config.mongo_db)
    db.client.close()


def definition(name: str = "c", **params: str) -> CrawlDefinition:
    params = {"crawlDelay": "0", **params}
    return parse_create({"name": [name], "seeds": ["http://a.test/"], **{k: [v] for k, v in params.items()}})
