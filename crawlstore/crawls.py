"""Crawls as a whole: creation, lookup, status changes and deletion, across Redis and MongoDB.

MongoDB's `crawls` collection is the registry (a crawl's name is unique per token there,
and the record outlives a loss of Redis); Redis holds the live state the workers use.
Status changes go through `crawlcore.status.transition` and a compare-and-set, so the
controller and any number of workers can report events concurrently.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from crawlcore.dedupe import bloom_shape, exact_bucket_bits, expected_urls
from crawlcore.definition import CrawlDefinition
from crawlcore.job import JobState
from crawlcore.scope import Scope
from crawlcore.status import Event, Snapshot, Status, observe, transition
from crawlcore.urls import fingerprint, host_of

from .connection import text
from .frontier import Discovery, Frontier
from .output import OutputStore

__all__ = ["Crawl", "CrawlExists", "CrawlStore", "seed_discoveries"]

#: Statuses a crawl does not leave by itself; reaching one stamps jobCompletionTimeUTC.
_FINISHED = frozenset({Status.MAX_ROUNDS, Status.MAX_TO_CRAWL, Status.MAX_TO_PROCESS, Status.NO_URLS,
                       Status.COMPLETED, Status.SEEDS_FAILED})


class CrawlExists(Exception):
    """A crawl with this name already exists for this token."""


@dataclass(frozen=True)
class Crawl:
    id: str
    token_id: str
    definition: CrawlDefinition
    state: JobState
    live: bool = True  # False: Redis has no state for it; `state` is the last record in MongoDB


def seed_discoveries(definition: CrawlDefinition, seeds: Iterable[str]) -> list[Discovery]:
    """The seeds that pass the crawl's patterns, ready for the frontier."""
    scope = Scope.of(definition)
    return [
        Discovery(url, fingerprint(url), host_of(url), scope.processes(url), 0)
        for url in seeds
        if scope.admits_seed(url)
    ]


def _limits(definition: CrawlDefinition) -> dict[str, Any]:
    """Definition values the Lua scripts read from the job hash."""
    return {
        "max_crawl": definition.max_to_crawl,
        "max_proc": definition.max_to_process,
        "max_hops": definition.max_hops,
        "delay_ms": round(definition.crawl_delay * 1000),
        "robots": int(definition.obey_robots),
    }


class CrawlStore:
    """Lifecycle of crawls. Constructing it does no I/O."""

    def __init__(
        self,
        frontier: Frontier,
        db: Database,
        *,
        dedupe: str = "exact",
        bloom_error_rate: float = 0.001,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.frontier = frontier
        self.records = db.crawls
        self.output = OutputStore(db)
        self.dedupe = dedupe
        self.bloom_error_rate = bloom_error_rate
        self.clock = clock

    # ------------------------------------------------------------------ reading

    def get(self, crawl_id: str) -> Crawl | None:
        record = self.records.find_one({"_id": crawl_id})
        return None if record is None else self._crawl(record)

    def find(self, token_id: str, name: str) -> Crawl | None:
        record = self.records.find_one({"token": token_id, "name": name})
        return None if record is None else self._crawl(record)

    def list(self, token_id: str) -> list[Crawl]:
        records = self.records.find({"token": token_id}).sort("created", 1)
        return [self._crawl(r) for r in records]

    def _crawl(self, record: dict[str, Any]) -> Crawl:
        definition = CrawlDefinition.from_dict(record["definition"])
        live = self.frontier.state(record["_id"])
        if live is not None:
            return Crawl(record["_id"], record["token"], definition, live[0])
        state = JobState(**{**record.get("state", {}), "status": Status(record.get("status", 0))})
        return Crawl(record["_id"], record["token"], definition, state, live=False)

    # ------------------------------------------------------------------ creating

    def create(self, token_id: str, definition: CrawlDefinition) -> Crawl:
        """Register, write and seed a new crawl; on any failure, nothing of it remains."""
        crawl_id = uuid.uuid4().hex
        now = self.clock()
        try:
            self.records.insert_one({
                "_id": crawl_id, "token": token_id, "name": definition.name,
                "definition": definition.to_dict(), "status": int(Status.INITIALIZING), "created": now,
            })
        except DuplicateKeyError:
            raise CrawlExists(definition.name) from None
        try:
            seeds = seed_discoveries(definition, definition.seeds)
            job = {
                "def": self._definition_json(definition), "v": 1, "name": definition.name, "tok": token_id,
                "status": int(Status.INITIALIZING), "created": now, "round": 0, "round_start": now,
                **_limits(definition), **self._dedupe_shape(definition),
            }
            self.frontier.create(crawl_id, job, seeds)
            self.frontier.redis.sadd(self.frontier.globals.crawls, crawl_id)
            self.apply(crawl_id, Event.SEEDED if seeds else Event.NO_URLS)
        except BaseException:
            self._purge(crawl_id)
            raise
        crawl = self.get(crawl_id)
        assert crawl is not None
        return crawl

    def _dedupe_shape(self, definition: CrawlDefinition) -> dict[str, Any]:
        expected = expected_urls(definition.max_to_crawl)
        if self.dedupe == "bloom":
            m, k = bloom_shape(expected, self.bloom_error_rate)
            return {"dm": "b", "bm": m, "bk": k}
        return {"dm": "e", "db": exact_bucket_bits(expected)}

    @staticmethod
    def _definition_json(definition: CrawlDefinition) -> str:
        return json.dumps(definition.to_dict(), separators=(",", ":"))

    # ------------------------------------------------------------------ changing

    def update(self, crawl: Crawl, definition: CrawlDefinition, added_seeds: Iterable[str]) -> Crawl:
        """Store new settings (workers pick them up within a second) and queue added seeds."""
        version = int(self.frontier.redis.hincrby(self.frontier.keys(crawl.id).job, "v", 1))
        self.frontier.update_job(crawl.id, {"def": self._definition_json(definition), **_limits(definition)})
        self.records.update_one({"_id": crawl.id}, {"$set": {"definition": definition.to_dict(), "v": version}})
        seeds = seed_discoveries(definition, added_seeds)
        if seeds:
            self.frontier.add_seeds(crawl.id, seeds)
            self.apply(crawl.id, Event.SEEDED)
        raised = (crawl.state.status is Status.MAX_TO_CRAWL and definition.max_to_crawl > crawl.state.crawled) or (
            crawl.state.status is Status.MAX_TO_PROCESS and definition.max_to_process > crawl.state.processed
        )
        if raised:
            self.apply(crawl.id, Event.LIMITS_RAISED)
        updated = self.get(crawl.id)
        assert updated is not None
        return updated

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
            fields: dict[str, Any] = {}
            if target in _FINISHED:
                fields["completed"] = self.clock()
            elif current in _FINISHED:
                fields["completed"] = 0
            found = self.frontier.set_status(crawl_id, [current], target, fields)
            if found is None:
                return None
            if found == current:
                self.frontier.sync_active(crawl_id, target)
                self.sync_record(crawl_id)
                return target
        raise RuntimeError(f"crawl {crawl_id}: status kept changing while applying {event}")

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

    # ------------------------------------------------------------------ deleting

    def delete(self, crawl_id: str) -> None:
        """Remove a crawl and all its data. Redis first, so workers stop serving it at once;
        a worker committing a page of a deleted crawl removes what it wrote."""
        self._purge(crawl_id)

    def _purge(self, crawl_id: str) -> None:
        self.frontier.delete(crawl_id)
        self.frontier.redis.srem(self.frontier.globals.crawls, crawl_id)
        self.output.delete_crawl(crawl_id)
        self.records.delete_one({"_id": crawl_id})

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
        """Apply the event a fresh snapshot implies (limit reached, drained), if any."""
        if snapshot is None:
            return
        event = observe(snapshot)
        if event is not None and transition(snapshot.status, event) != snapshot.status:
            self.apply(crawl_id, event)
