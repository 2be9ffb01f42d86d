"""The lifecycle: events change statuses by the table, and what follows a change."""

from __future__ import annotations

import pytest

from crawlcore.status import Event, Status
from crawlstore.crawls import CrawlStore

from .conftest import definition

pytestmark = pytest.mark.servers


def test_statuses_change_by_the_table_and_the_active_set_follows(store: CrawlStore) -> None:
    crawl = store.registry.create("tok", definition())
    assert crawl.state.status is Status.IN_PROGRESS and store.frontier.active() == {crawl.id}
    assert store.lifecycle.apply(crawl.id, Event.PAUSE) is Status.PAUSED and store.frontier.active() == set()
    assert store.lifecycle.apply(crawl.id, Event.DRAINED) is Status.PAUSED  # not in the table: no change
    assert store.lifecycle.apply(crawl.id, Event.RESUME) is Status.IN_PROGRESS
    assert store.frontier.active() == {crawl.id}
    record = store.records.find_one({"_id": crawl.id})
    assert record is not None and record["status"] == Status.IN_PROGRESS
    assert store.lifecycle.apply("nosuchcrawl", Event.PAUSE) is None
