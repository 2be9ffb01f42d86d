"""The lifecycle: events change statuses by the table, and what follows a change."""

from __future__ import annotations

import pytest

from crawlcore.status import Event, Status
from crawlstore.connection import text
from crawlstore.crawls import CrawlStore

from .conftest import START, definition, fetch_all

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


def test_a_finished_crawl_is_stamped_and_the_stamp_goes_when_it_goes_on(store: CrawlStore) -> None:
    crawl = store.registry.create("tok", definition())
    assert store.lifecycle.apply(crawl.id, Event.CRAWL_LIMIT) is Status.MAX_TO_CRAWL
    stamped = store.registry.get(crawl.id)
    assert stamped is not None and stamped.state.completed == START
    assert store.lifecycle.apply(crawl.id, Event.LIMITS_RAISED) is Status.IN_PROGRESS
    going = store.registry.get(crawl.id)
    assert going is not None and going.state.completed == 0


def test_a_drained_crawl_completes_and_a_repeating_one_waits_for_its_next_round(store: CrawlStore) -> None:
    once = store.registry.create("tok", definition("once"))
    repeating = store.registry.create("tok", definition("repeating", repeat="2"))
    assert fetch_all(store, once.id) == 1 and fetch_all(store, repeating.id) == 1
    done, waiting = store.registry.get(once.id), store.registry.get(repeating.id)
    assert done is not None and done.state.status is Status.COMPLETED
    assert waiting is not None and waiting.state.status is Status.NEXT_ROUND
    assert waiting.state.next_round == START + 2 * 86400
    assert store.frontier.redis.zscore(store.frontier.globals.rounds, repeating.id) == START + 2 * 86400
    assert store.frontier.redis.zscore(store.frontier.globals.rounds, once.id) is None


def test_a_status_change_queues_the_notification_a_crawl_asked_for(store: CrawlStore) -> None:
    quiet = store.registry.create("tok", definition("quiet"))
    hooked = store.registry.create("tok", definition("hooked", notifyWebhook="http://hook.test/"))
    store.lifecycle.apply(quiet.id, Event.CRAWL_LIMIT)
    store.lifecycle.apply(hooked.id, Event.CRAWL_LIMIT)
    assert [(n.crawl_id, n.status) for n in store.outbox.due(START)] == [(hooked.id, Status.MAX_TO_CRAWL)]


def test_reconcile_repairs_the_active_set_and_forgets_crawls_redis_lost(store: CrawlStore) -> None:
    running = store.registry.create("tok", definition("running"))
    paused = store.registry.create("tok", definition("paused"))
    store.lifecycle.apply(paused.id, Event.PAUSE)
    active, crawls = store.frontier.globals.active, store.frontier.globals.crawls
    store.frontier.redis.srem(active, running.id)  # a race lost it
    store.frontier.redis.sadd(active, paused.id, "lost")  # and kept these
    store.frontier.redis.sadd(crawls, "lost")
    store.lifecycle.reconcile_active()
    assert store.frontier.active() == {running.id}
    assert {text(m) for m in store.frontier.redis.smembers(crawls)} == {running.id, paused.id}
