"""Crawls across Redis and MongoDB: registry, status changes, and the loss of Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crawlbase.config import Config
from crawlcore.definition import parse_create
from crawlcore.job import job_json
from crawlcore.status import Event, Status
from crawlstore.connection import connect_redis
from crawlstore.crawls import CrawlExists, CrawlStore
from crawlstore.frontier import Frontier
from crawlstore.mongo import connect, ensure_indexes

pytestmark = pytest.mark.servers


@pytest.fixture
def store(config: Config) -> Iterator[CrawlStore]:
    client = connect_redis(config.redis_url)
    db = connect(config.mongo_url, config.mongo_db)
    ensure_indexes(db)
    yield CrawlStore(Frontier(client, config.key_prefix, 4), db)
    client.close()
    db.client.drop_database(config.mongo_db)
    db.client.close()


def definition(name: str = "c", **params: str):  # type: ignore[no-untyped-def]
    return parse_create({"name": [name], "seeds": ["http://a.test/"], **{k: [v] for k, v in params.items()}})


def test_names_are_unique_per_token(store: CrawlStore) -> None:
    store.create("tok1", definition())
    with pytest.raises(CrawlExists):
        store.create("tok1", definition())
    store.create("tok2", definition())
    assert [c.definition.name for c in store.list("tok1")] == ["c"]
    assert store.find("tok2", "c") is not None and store.find("tok3", "c") is None


def test_a_crawl_record_survives_the_loss_of_redis(store: CrawlStore) -> None:
    crawl = store.create("tok", definition(maxHops="1"))
    store.apply(crawl.id, Event.PAUSE)
    store.frontier.redis.flushdb()  # Redis is gone, with everything in it
    survived = store.find("tok", "c")
    assert survived is not None and not survived.live
    assert survived.state.status is Status.PAUSED and survived.definition.max_hops == 1
    assert [c.id for c in store.list("tok")] == [crawl.id]
    store.delete(crawl.id)
    assert store.find("tok", "c") is None


def test_statuses_change_by_the_table_and_the_active_set_follows(store: CrawlStore) -> None:
    crawl = store.create("tok", definition())
    assert crawl.state.status is Status.IN_PROGRESS and store.frontier.active() == {crawl.id}
    assert store.apply(crawl.id, Event.PAUSE) is Status.PAUSED and store.frontier.active() == set()
    assert store.apply(crawl.id, Event.DRAINED) is Status.PAUSED  # not in the table: no change
    assert store.apply(crawl.id, Event.RESUME) is Status.IN_PROGRESS and store.frontier.active() == {crawl.id}
    record = store.records.find_one({"_id": crawl.id})
    assert record is not None and record["status"] == Status.IN_PROGRESS


def test_a_crawl_is_status_0_until_its_seeds_are_queued(store: CrawlStore,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Status, str]] = []
    write_seeds = store.frontier.create

    def observe_then_write(crawl_id: str, *args: object, **kwargs: object) -> None:
        crawl = store.find("tok", "c")  # what a concurrent GET /v3/crawl reads while seeds are written
        assert crawl is not None
        job = job_json(crawl.id, crawl.definition, crawl.state, now=0.0, downloads=("d", "u"))
        seen.append((crawl.state.status, job["jobStatus"]["message"]))
        write_seeds(crawl_id, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store.frontier, "create", observe_then_write)
    crawl = store.create("tok", definition())
    assert seen == [(Status.INITIALIZING, "Job is initializing")]
    assert crawl.state.status is Status.IN_PROGRESS


def test_a_crawl_whose_seeds_are_all_filtered_out_is_status_5(store: CrawlStore) -> None:
    crawl = store.create("tok", definition(urlCrawlPattern="nomatch"))
    assert crawl.state.status is Status.NO_URLS and crawl.state.completed > 0
    assert store.frontier.active() == set()


def test_an_administrator_pause_gives_every_crawl_back_its_status(store: CrawlStore) -> None:
    running = store.create("tok", definition("running"))
    waiting = store.create("tok", definition("waiting", repeat="1"))
    store.apply(waiting.id, Event.DRAINED)  # no: DRAINED on a repeating crawl is ROUND_DONE; force the status
    store.frontier.set_status(waiting.id, [Status.IN_PROGRESS, Status.COMPLETED], Status.NEXT_ROUND)
    mine = store.create("tok", definition("mine"))
    store.apply(mine.id, Event.PAUSE)
    assert store.admin_pause() == 2
    assert {c.definition.name: c.state.status for c in store.list("tok")} == {
        "running": Status.ADMIN_PAUSED, "waiting": Status.ADMIN_PAUSED, "mine": Status.PAUSED}
    late = store.create("tok", definition("late"))
    assert late.state.status is Status.ADMIN_PAUSED  # created during the pause
    assert store.admin_resume() == 3
    assert {c.definition.name: c.state.status for c in store.list("tok")} == {
        "running": Status.IN_PROGRESS, "waiting": Status.NEXT_ROUND, "mine": Status.PAUSED,
        "late": Status.IN_PROGRESS}
    assert store.frontier.active() == {running.id, late.id}
