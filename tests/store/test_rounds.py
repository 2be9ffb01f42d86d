"""Rounds: repeating crawls start their next round when the clock gets there, roundStart starts
one now, and a restart starts from nothing, purging what pages in flight write late."""

from __future__ import annotations

import pytest

from crawlcore.rounds import DAY
from crawlcore.status import Event, Status
from crawlstore.crawls import CrawlStore

from .conftest import START, Clock, definition, fetch_all

pytestmark = pytest.mark.servers


def status(store: CrawlStore, crawl_id: str) -> Status:
    crawl = store.registry.get(crawl_id)
    assert crawl is not None
    return crawl.state.status


def test_a_repeating_crawl_starts_its_rounds_when_due_until_max_rounds(store: CrawlStore, clock: Clock) -> None:
    crawl = store.registry.create("tok", definition(repeat="1", maxRounds="2"))
    assert fetch_all(store, crawl.id) == 1 and status(store, crawl.id) is Status.NEXT_ROUND
    clock.now = START + DAY - 1
    assert store.rounds.run_due() == 0 and status(store, crawl.id) is Status.NEXT_ROUND
    clock.now = START + DAY
    assert store.rounds.run_due() == 1
    started = store.registry.get(crawl.id)
    assert started is not None and started.state.status is Status.IN_PROGRESS
    assert started.state.round == 1 and started.state.round_start == START + DAY
    assert store.frontier.redis.zscore(store.frontier.globals.rounds, crawl.id) is None
    assert fetch_all(store, crawl.id) == 1  # the seed, fetched again
    assert status(store, crawl.id) is Status.MAX_ROUNDS
    clock.now = START + 3 * DAY
    assert store.rounds.run_due() == 0


def test_a_round_due_during_an_administrator_pause_waits_for_the_resume(store: CrawlStore, clock: Clock) -> None:
    crawl = store.registry.create("tok", definition(repeat="1"))
    fetch_all(store, crawl.id)
    store.admin.pause()
    clock.now = START + DAY
    assert store.rounds.run_due() == 0 and status(store, crawl.id) is Status.ADMIN_PAUSED
    assert store.frontier.redis.zscore(store.frontier.globals.rounds, crawl.id) == START + DAY + 60
    store.admin.resume()
    assert status(store, crawl.id) is Status.NEXT_ROUND
    clock.now = START + DAY + 60
    assert store.rounds.run_due() == 1 and status(store, crawl.id) is Status.IN_PROGRESS


def test_round_start_begins_a_full_round_now(store: CrawlStore) -> None:
    crawl = store.registry.create("tok", definition())
    assert fetch_all(store, crawl.id) == 1 and status(store, crawl.id) is Status.COMPLETED
    assert store.rounds.start_round(crawl.id, full=True) is Status.IN_PROGRESS
    assert fetch_all(store, crawl.id) == 1  # a fresh seen store: the seed is crawled again
    again = store.registry.get(crawl.id)
    assert again is not None and again.state.status is Status.COMPLETED and again.state.round == 1
    assert store.rounds.start_round("nosuchcrawl") is None


def test_restart_starts_from_nothing_and_purges_what_pages_in_flight_write_late(store: CrawlStore,
                                                                               clock: Clock) -> None:
    crawl = store.registry.create("tok", definition(maxHops="2"))
    fetch_all(store, crawl.id)
    store.lifecycle.apply(crawl.id, Event.PAUSE)
    old = START - 10
    store.output.write([{"_id": "u-old", "_c": crawl.id, "crawled": old}],
                       [{"_id": "o-old", "_c": crawl.id, "_t": old}])
    assert store.rounds.restart(crawl.id) is Status.IN_PROGRESS
    assert store.output.urls.count_documents({}) == 0 and store.output.objects.count_documents({}) == 0
    restarted = store.registry.get(crawl.id)
    assert restarted is not None and restarted.definition.max_hops == 2 and restarted.state.crawled == 0
    assert restarted.state.created == crawl.state.created
    late = START - 1  # a page leased before the restart, stored after it
    store.output.write([{"_id": "u-late", "_c": crawl.id, "crawled": late},
                        {"_id": "u-new", "_c": crawl.id, "crawled": START + 1}],
                       [{"_id": "o-late", "_c": crawl.id, "_t": late}])
    clock.now = START + 60 + 30 - 1  # the lease (60 s) and the grace (30 s) have not both passed
    assert store.rounds.run_due() == 0
    clock.now = START + 60 + 30
    assert store.rounds.run_due() == 1
    assert [d["_id"] for d in store.output.urls.find()] == ["u-new"]
    assert store.output.objects.count_documents({}) == 0
    assert store.rounds.run_due() == 0  # claimed once
    store.frontier.redis.flushdb()
    assert store.rounds.restart(crawl.id) is None  # not live: nothing to restart
