"""A CrawlStore on the test Redis and MongoDB, with a clock the test moves, and a worker's cycle."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from crawlbase.config import Config
from crawlcore.definition import CrawlDefinition, parse_create
from crawlcore.urls import fingerprint
from crawlcore.wire import FrontierRequest
from crawlstore.connection import connect_redis
from crawlstore.crawls import CrawlStore
from crawlstore.frontier import Frontier, Outcome, PageResult
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


def fetch_all(store: CrawlStore, crawl_id: str) -> int:
    """What a worker does until the queue is empty: lease, fetch (every page answers 200 without
    links), commit, and report the snapshot. Returns how many pages it fetched."""
    fetched = 0
    while True:
        popped = store.frontier.pop(crawl_id, 10, 60_000)
        if not popped.members and popped.next_due_ms >= 0:  # a host not due yet (politeness)
            time.sleep(popped.next_due_ms / 1000)
            continue
        if not popped.members:
            return fetched
        results = [PageResult(m, fingerprint(FrontierRequest.decode(m.partition(b" ")[2]).url), Outcome.FETCHED,
                              ok=True) for m in popped.members]
        store.lifecycle.observe(crawl_id, store.frontier.commit(crawl_id, results).snapshot)
        fetched += len(results)
