"""The registry: which crawls exist, across MongoDB (the record) and Redis (the live state)."""

from __future__ import annotations

import pytest

from crawlcore.definition import CrawlDefinition
from crawlcore.job import job_json
from crawlcore.status import Event, Status
from crawlstore.connection import text
from crawlstore.crawls import CrawlExists, CrawlStore, TooManyCrawls

from .conftest import definition

pytestmark = pytest.mark.servers


def test_names_are_unique_per_token(store: CrawlStore) -> None:
    store.registry.create("tok1", definition())
    with pytest.raises(CrawlExists):
        store.registry.create("tok1", definition())
    store.registry.create("tok2", definition())
    assert [c.definition.name for c in store.registry.list("tok1")] == ["c"]
    assert store.registry.find("tok2", "c") is not None and store.registry.find("tok3", "c") is None


def test_a_token_has_at_most_max_crawls_per_token(store: CrawlStore) -> None:
    store.registry.max_crawls_per_token = 2
    store.registry.create("tok", definition("a"))
    store.registry.create("tok", definition("b"))
    with pytest.raises(TooManyCrawls):
        store.registry.create("tok", definition("c"))
    store.registry.create("other", definition("c"))


def test_a_crawl_record_survives_the_loss_of_redis(store: CrawlStore) -> None:
    crawl = store.registry.create("tok", definition(maxHops="1"))
    store.lifecycle.apply(crawl.id, Event.PAUSE)
    store.frontier.redis.flushdb()  # Redis is gone, with everything in it
    survived = store.registry.find("tok", "c")
    assert survived is not None and not survived.live
    assert survived.state.status is Status.PAUSED and survived.definition.max_hops == 1
    assert [c.id for c in store.registry.list("tok")] == [crawl.id]
    store.registry.delete(crawl.id)
    assert store.registry.find("tok", "c") is None


def test_a_crawl_is_status_0_until_its_seeds_are_queued(store: CrawlStore,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Status, str]] = []
    write_seeds = store.frontier.create

    def observe_then_write(crawl_id: str, *args: object, **kwargs: object) -> None:
        crawl = store.registry.find("tok", "c")  # what a concurrent GET /v3/crawl reads while seeds are written
        assert crawl is not None
        job = job_json(crawl.id, crawl.definition, crawl.state, now=0.0, downloads=("d", "u"))
        seen.append((crawl.state.status, job["jobStatus"]["message"]))
        write_seeds(crawl_id, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store.frontier, "create", observe_then_write)
    crawl = store.registry.create("tok", definition())
    assert seen == [(Status.INITIALIZING, "Job is initializing")]
    assert crawl.state.status is Status.IN_PROGRESS


def test_a_crawl_that_cannot_be_seeded_leaves_nothing(store: CrawlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise ConnectionError("Redis went away")

    monkeypatch.setattr(store.lifecycle, "apply", fail)  # the job hash is written, its first status change fails
    with pytest.raises(ConnectionError):
        store.registry.create("tok", definition())
    assert store.registry.find("tok", "c") is None and store.records.count_documents({}) == 0
    assert store.frontier.redis.keys(f"{store.frontier.prefix}:*") == []


def test_a_crawl_whose_seeds_are_all_filtered_out_is_status_5(store: CrawlStore) -> None:
    crawl = store.registry.create("tok", definition(urlCrawlPattern="nomatch"))
    assert crawl.state.status is Status.NO_URLS and crawl.state.completed > 0
    assert store.frontier.active() == set()


def test_an_update_stores_the_settings_queues_added_seeds_and_lifts_a_reached_limit(store: CrawlStore) -> None:
    crawl = store.registry.create("tok", definition(maxToCrawl="1"))
    store.lifecycle.apply(crawl.id, Event.CRAWL_LIMIT)
    reached = store.registry.get(crawl.id)
    assert reached is not None and reached.state.status is Status.MAX_TO_CRAWL
    raised = definition(maxToCrawl="5")
    updated = store.registry.update(reached, raised, ["http://b.test/"])
    assert updated.state.status is Status.IN_PROGRESS and updated.definition.max_to_crawl == 5
    record = store.records.find_one({"_id": crawl.id})
    assert record is not None and record["v"] == 2
    assert CrawlDefinition.from_dict(record["definition"]).max_to_crawl == 5
    hosts = {text(m) for m in store.frontier.redis.smembers(store.frontier.keys(crawl.id).hosts)}
    assert hosts == {"a.test", "b.test"}


def test_delete_removes_the_record_the_live_state_and_the_output(store: CrawlStore) -> None:
    crawl = store.registry.create("tok", definition(repeat="1"))
    store.output.write([{"_id": "u1", "_c": crawl.id, "crawled": 1.0}], [{"_id": "o1", "_c": crawl.id, "_t": 1.0}])
    store.frontier.redis.zadd(store.frontier.globals.rounds, {crawl.id: 1.0})
    store.registry.delete(crawl.id)
    assert store.registry.get(crawl.id) is None
    assert store.frontier.state(crawl.id) is None and store.frontier.active() == set()
    assert store.frontier.redis.zscore(store.frontier.globals.rounds, crawl.id) is None
    assert not store.frontier.redis.sismember(store.frontier.globals.crawls, crawl.id)
    assert store.output.urls.count_documents({}) == 0 and store.output.objects.count_documents({}) == 0
