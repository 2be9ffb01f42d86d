"""The registry: which crawls exist, across MongoDB (the record) and Redis (the live state)."""

from __future__ import annotations

import pytest

from crawlcore.job import job_json
from crawlcore.status import Event, Status
from crawlstore.crawls import CrawlExists, CrawlStore

from .conftest import definition

pytestmark = pytest.mark.servers


def test_names_are_unique_per_token(store: CrawlStore) -> None:
    store.registry.create("tok1", definition())
    with pytest.raises(CrawlExists):
        store.registry.create("tok1", definition())
    store.registry.create("tok2", definition())
    assert [c.definition.name for c in store.registry.list("tok1")] == ["c"]
    assert store.registry.find("tok2", "c") is not None and store.registry.find("tok3", "c") is None


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


def test_a_crawl_whose_seeds_are_all_filtered_out_is_status_5(store: CrawlStore) -> None:
    crawl = store.registry.create("tok", definition(urlCrawlPattern="nomatch"))
    assert crawl.state.status is Status.NO_URLS and crawl.state.completed > 0
    assert store.frontier.active() == set()
