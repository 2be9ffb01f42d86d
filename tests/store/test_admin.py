"""The administrator's pause of every crawl, and its resume."""

from __future__ import annotations

import pytest

from crawlcore.status import Event, Status
from crawlstore.crawls import CrawlStore

from .conftest import definition

pytestmark = pytest.mark.servers


def test_an_administrator_pause_gives_every_crawl_back_its_status(store: CrawlStore) -> None:
    running = store.registry.create("tok", definition("running"))
    waiting = store.registry.create("tok", definition("waiting", repeat="1"))
    store.frontier.set_status(waiting.id, [Status.IN_PROGRESS], Status.NEXT_ROUND)  # waiting for its next round
    mine = store.registry.create("tok", definition("mine"))
    store.lifecycle.apply(mine.id, Event.PAUSE)
    assert store.admin.pause() == 2 and store.admin.paused()
    assert {c.definition.name: c.state.status for c in store.registry.list("tok")} == {
        "running": Status.ADMIN_PAUSED, "waiting": Status.ADMIN_PAUSED, "mine": Status.PAUSED}
    late = store.registry.create("tok", definition("late"))
    assert late.state.status is Status.ADMIN_PAUSED  # created during the pause
    assert store.admin.resume() == 3 and not store.admin.paused()
    assert {c.definition.name: c.state.status for c in store.registry.list("tok")} == {
        "running": Status.IN_PROGRESS, "waiting": Status.NEXT_ROUND, "mine": Status.PAUSED,
        "late": Status.IN_PROGRESS}
    assert store.frontier.active() == {running.id, late.id}
    record = store.records.find_one({"_id": waiting.id})
    assert record is not None and record["status"] == Status.NEXT_ROUND  # given back without an event
