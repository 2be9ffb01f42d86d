"""Status changes of crawls: an event applied with compare-and-set, what follows a change, and
the event that fresh counters imply.

`apply` asks `crawlcore.status.transition` for the target status and sets it with the status
script (lua/status.lua), again if another process changed the status meanwhile, so the
controller and any number of workers can report events concurrently. After a change the
active set follows the status, the next round is planned (agenda.py), a notification is queued
(notify.py) and the crawl's MongoDB record gets the live status and counters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

from pymongo.collection import Collection

from crawlcore.rounds import is_last_round
from crawlcore.status import Event, Snapshot, Status, observe, transition

from ..connection import text
from ..frontier import Frontier
from ..notify import NOTIFY_STATUSES, Outbox
from .agenda import Agenda
from .jobs import live_definition

__all__ = ["Lifecycle"]

#: Statuses a crawl does not leave by itself; reaching one stamps jobCompletionTimeUTC.
_FINISHED = frozenset({Status.MAX_ROUNDS, Status.MAX_TO_CRAWL, Status.MAX_TO_PROCESS, Status.NO_URLS,
                      Status.COMPLETED, Status.SEEDS_FAILED})


class Lifecycle:
    def __init__(self, frontier: Frontier, records: Collection, outbox: Outbox, agenda: Agenda,
                 clock: Callable[[], float]) -> None:
        self.frontier = frontier
        self.records = records
        self.outbox = outbox
        self.agenda = agenda
        self.clock = clock

    def apply(self, crawl_id: str, event: Event) -> Status | None:
        """Apply an event with compare-and-set; returns the resulting status (None: gone)."""
        for _ in range(10):
            live = self.frontier.state(crawl_id)
            if live is None:
                return None
            current = live[0].status
            target = transition(current, event)
            if target == current:
                return current
            fields = self._fields_for(current, target)
            found = self.frontier.set_status(crawl_id, [current], target, fields)
            if found is None:
                return None
            if found == current:
                self._after_transition(crawl_id, live[1], target)
                return target
        raise RuntimeError(f"crawl {crawl_id}: status kept changing while applying {event}")

    def _fields_for(self, current: Status, target: Status) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if target in _FINISHED:
            fields["completed"] = self.clock()
        elif current in _FINISHED:
            fields["completed"] = 0
        if target is Status.ADMIN_PAUSED:
            fields["prev"] = int(current)  # what an administrator's resume gives back
        return fields

    def _after_transition(self, crawl_id: str, raw: dict[str, str], target: Status) -> None:
        self.frontier.sync_active(crawl_id, target)
        definition = live_definition(raw)
        if target is Status.NEXT_ROUND or (
            target in (Status.MAX_TO_CRAWL, Status.MAX_TO_PROCESS) and definition.repeat > 0
        ):
            self.agenda.plan(crawl_id)
        if target in NOTIFY_STATUSES and (definition.notify_webhook or definition.notify_email):
            self.outbox.add(crawl_id, target, self.clock())
        self.sync_record(crawl_id)

    def sync_record(self, crawl_id: str) -> None:
        """Copy the live status and counters into the crawl's MongoDB record."""
        live = self.frontier.state(crawl_id)
        if live is None:
            return
        state = asdict(live[0])
        status = int(state.pop("status"))
        self.records.update_one(
            {"_id": crawl_id}, {"$set": {"status": status, "state": state, "updated": self.clock()}}
        )

    def reconcile_active(self) -> None:
        """Repair the active set from the crawls' statuses (heals races between status changes)."""
        for raw in self.frontier.redis.smembers(self.frontier.globals.crawls):
            crawl_id = text(raw)
            live = self.frontier.state(crawl_id)
            if live is None:
                self.frontier.redis.srem(self.frontier.globals.crawls, crawl_id)
            self.frontier.sync_active(crawl_id, live[0].status if live else None)

    # ------------------------------------------------------------------ observing

    def snapshot(self, crawl_id: str) -> Snapshot | None:
        """The crawl's counters as the frontier scripts report them."""
        live = self.frontier.state(crawl_id)
        if live is None:
            return None
        s, raw = live
        return Snapshot(s.status, s.crawled, s.processed, s.queued, s.leased, s.seeds_ok,
                        int(raw.get("max_crawl", 0)), int(raw.get("max_proc", 0)))

    def observe(self, crawl_id: str, snapshot: Snapshot | None) -> None:
        """Apply the event a fresh snapshot implies (limit reached, drained, round over), if any."""
        if snapshot is None:
            return
        event = observe(snapshot)
        if event is Event.DRAINED:  # the snapshot does not know about rounds: ask the definition
            live = self.frontier.state(crawl_id)
            if live is None:
                return
            definition = live_definition(live[1])
            if definition.repeat > 0:
                snapshot = replace(snapshot, repeats=True, last_round=is_last_round(definition, live[0].round))
                event = observe(snapshot)
        if event is not None and transition(snapshot.status, event) != snapshot.status:
            self.apply(crawl_id, event)
