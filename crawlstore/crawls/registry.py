"""Which crawls exist: creating one (record, job hash, seeds), finding and listing them,
changing a crawl's settings, and deleting one with all its data.

MongoDB's `crawls` collection is the register: a crawl's name is unique per token there, and
the record outlives a loss of Redis (a `Crawl` read from it then has `live` False). Redis holds
the live state the workers use; status changes go through the lifecycle.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from crawlcore.definition import CrawlDefinition
from crawlcore.status import Event, Status

from ..frontier import Frontier
from ..output import OutputStore
from .admin import AdminPause
from .agenda import Agenda
from .crawl import Crawl, crawl_of
from .jobs import DedupeShape, definition_json, limits, seed_discoveries
from .lifecycle import Lifecycle

__all__ = ["CrawlExists", "Registry", "TooManyCrawls"]


class CrawlExists(Exception):
    """A crawl with this name already exists for this token."""


class TooManyCrawls(Exception):
    """The token has as many crawls as it may have."""


class Registry:
    def __init__(self, frontier: Frontier, records: Collection, output: OutputStore, *, lifecycle: Lifecycle,
                 admin: AdminPause, agenda: Agenda, dedupe: DedupeShape, max_crawls_per_token: int,
                 clock: Callable[[], float]) -> None:
        self.frontier = frontier
        self.records = records
        self.output = output
        self.lifecycle = lifecycle
        self.admin = admin
        self.agenda = agenda
        self.dedupe = dedupe
        self.max_crawls_per_token = max_crawls_per_token
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
        live = self.frontier.state(record["_id"])
        return crawl_of(record, live[0] if live is not None else None)

    # ------------------------------------------------------------------ creating

    def create(self, token_id: str, definition: CrawlDefinition, *, signing_key: str = "") -> Crawl:
        """Register, write and seed a new crawl; on any failure, nothing of it remains.
        `signing_key`: what its notifications are signed with (Crawl.signing_key)."""
        if self.records.count_documents({"token": token_id}) >= self.max_crawls_per_token:
            raise TooManyCrawls(self.max_crawls_per_token)
        crawl_id = uuid.uuid4().hex
        now = self.clock()
        try:
            self.records.insert_one({
                "_id": crawl_id, "token": token_id, "name": definition.name,
                "definition": definition.to_dict(), "status": int(Status.INITIALIZING), "created": now,
                **({"signing_key": signing_key} if signing_key else {}),
            })
        except DuplicateKeyError:
            raise CrawlExists(definition.name) from None
        try:
            self.seed(crawl_id, token_id, definition, created=now)
        except BaseException:
            self.delete(crawl_id)
            raise
        crawl = self.get(crawl_id)
        assert crawl is not None
        return crawl

    def seed(self, crawl_id: str, token_id: str, definition: CrawlDefinition, *, created: float,
             version: int = 1) -> None:
        """Write a fresh job hash with its seeds queued, move it out of status 0 (paused, during an
        administrator's pause), and list it among every crawl. Also a restart's second half."""
        now = self.clock()
        seeds = seed_discoveries(definition, definition.seeds)
        job = {
            "def": definition_json(definition), "v": version, "name": definition.name, "tok": token_id,
            "status": int(Status.INITIALIZING), "created": created, "round": 0, "sr": 0, "round_start": now,
            "full_start": now, **limits(definition), **self.dedupe.fields(definition),
        }
        self.frontier.create(crawl_id, job, seeds)
        self.lifecycle.apply(crawl_id, Event.SEEDED if seeds else Event.NO_URLS)
        if self.admin.paused():
            self.lifecycle.apply(crawl_id, Event.ADMIN_PAUSE)
        self.frontier.redis.sadd(self.frontier.globals.crawls, crawl_id)

    # ------------------------------------------------------------------ changing

    def update(self, crawl: Crawl, definition: CrawlDefinition, added_seeds: Iterable[str]) -> Crawl:
        """Store new settings (workers pick them up within a second) and queue added seeds.

        Patterns, filters and scope apply to URLs found from now on; limits, crawlDelay,
        obeyRobots, customHeaders, useProxies and apiUrl to the next pages fetched; repeat,
        maxRounds and seedRecrawlFrequency to the next round that gets scheduled."""
        version = int(self.frontier.redis.hincrby(self.frontier.keys(crawl.id).job, "v", 1))
        self.frontier.update_job(crawl.id, {"def": definition_json(definition), **limits(definition)})
        self.records.update_one({"_id": crawl.id}, {"$set": {"definition": definition.to_dict(), "v": version}})
        seeds = seed_discoveries(definition, added_seeds)
        if seeds:
            self.frontier.add_seeds(crawl.id, seeds)
            self.lifecycle.apply(crawl.id, Event.SEEDED)
        raised = (crawl.state.status is Status.MAX_TO_CRAWL and definition.max_to_crawl > crawl.state.crawled) or (
            crawl.state.status is Status.MAX_TO_PROCESS and definition.max_to_process > crawl.state.processed
        )
        if raised:
            self.lifecycle.apply(crawl.id, Event.LIMITS_RAISED)
        if crawl.state.status is Status.NEXT_ROUND:
            self.agenda.plan(crawl.id)  # repeat may have changed
        updated = self.get(crawl.id)
        assert updated is not None
        return updated

    # ------------------------------------------------------------------ deleting

    def delete(self, crawl_id: str) -> None:
        """Remove a crawl and all its data. Redis first, so workers stop serving it at once;
        a worker committing a page of a deleted crawl removes what it wrote."""
        self.frontier.delete(crawl_id)
        self.frontier.redis.srem(self.frontier.globals.crawls, crawl_id)
        self.agenda.unschedule(crawl_id)
        self.output.delete_crawl(crawl_id)
        self.records.delete_one({"_id": crawl_id})
