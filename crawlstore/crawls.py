"""Crawls as a whole: creation, lookup, status changes, rounds, restarts and deletion, across
Redis and MongoDB.

MongoDB's `crawls` collection is the registry (a crawl's name is unique per token there,
and the record outlives a loss of Redis); Redis holds the live state the workers use.
Status changes go through `crawlcore.status.transition` and a compare-and-set, so the
controller and any number of workers can report events concurrently. Time comes from an
injected clock (see crawlstore.clock), so that repeating crawls can be tested in seconds.
"""

from __future__ import annotations

import builtins
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from crawlcore.dedupe import bloom_shape, exact_bucket_bits, expected_urls
from crawlcore.definition import CrawlDefinition
from crawlcore.job import JobState
from crawlcore.rounds import is_last_round, next_round
from crawlcore.scope import Scope
from crawlcore.status import Event, Snapshot, Status, observe, transition
from crawlcore.urls import fingerprint, host_of

from .connection import text
from .frontier import Discovery, Frontier
from .notify import NOTIFY_STATUSES, Outbox
from .output import OutputStore

__all__ = ["Crawl", "CrawlExists", "CrawlStore", "TooManyCrawls", "seed_discoveries"]

#: Statuses a crawl does not leave by itself; reaching one stamps jobCompletionTimeUTC.
_FINISHED = frozenset({Status.MAX_ROUNDS, Status.MAX_TO_CRAWL, Status.MAX_TO_PROCESS, Status.NO_URLS,
                       Status.COMPLETED, Status.SEEDS_FAILED})
#: Statuses an administrator pause takes a crawl out of (and gives back on resume).
_ADMIN_PAUSABLE = frozenset({Status.INITIALIZING, Status.IN_PROGRESS, Status.NEXT_ROUND})
#: After a restart, documents older than the restart may still arrive from pages that were in
#: flight; they are removed once more this long after the leases they held have expired.
PURGE_GRACE_SECONDS = 30.0


class CrawlExists(Exception):
    """A crawl with this name already exists for this token."""


class TooManyCrawls(Exception):
    """The token has as many crawls as it may have."""


@dataclass(frozen=True)
class Crawl:
    id: str
    token_id: str
    definition: CrawlDefinition
    state: JobState
    live: bool = True  # False: Redis has no state for it; `state` is the last record in MongoDB
    #: The key of its notifyWebhook signatures: the SHA-256 hex digest of the credential it was
    #: created with (stored at create); crawls stored before there was one: `token_id`.
    signing_key: str = ""


def seed_discoveries(definition: CrawlDefinition, seeds: Iterable[str]) -> list[Discovery]:
    """The seeds that pass the crawl's patterns and filters, ready for the frontier."""
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
        "max_crawl_sub": definition.max_to_crawl_per_subdomain,
        "max_proc_sub": definition.max_to_process_per_subdomain,
        "max_hops": definition.max_hops,
        "delay_ms": round(definition.crawl_delay * 1000),
        "robots": int(definition.obey_robots),
        "only_new": int(definition.only_process_if_new),
    }


def _definition_json(definition: CrawlDefinition) -> str:
    return json.dumps(definition.to_dict(), separators=(",", ":"))


class CrawlStore:
    """Lifecycle of crawls. Constructing it does no I/O."""

    def __init__(
        self,
        frontier: Frontier,
        db: Database,
        *,
        dedupe: str = "exact",
        bloom_error_rate: float = 0.001,
        max_crawls_per_token: int = 1000,
        lease_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.frontier = frontier
        self.records = db.crawls
        self.output = OutputStore(db)
        self.outbox = Outbox(frontier.redis, frontier.prefix)
        self.dedupe = dedupe
        self.bloom_error_rate = bloom_error_rate
        self.max_crawls_per_token = max_crawls_per_token
        self.lease_seconds = lease_seconds
        self.clock = clock
        self._rounds_key = frontier.globals.rounds
        self._purges_key = frontier.globals.purges
        self._admin_key = frontier.globals.admin_paused

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
        key = record.get("signing_key") or record["token"]
        live = self.frontier.state(record["_id"])
        if live is not None:
            return Crawl(record["_id"], record["token"], definition, live[0], signing_key=key)
        state = JobState(**{**record.get("state", {}), "status": Status(record.get("status", 0))})
        return Crawl(record["_id"], record["token"], definition, state, live=False, signing_key=key)

    def _live_definition(self, raw: dict[str, str]) -> CrawlDefinition:
        return CrawlDefinition.from_dict(json.loads(raw["def"]))

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
            self._seed_new(crawl_id, token_id, definition, created=now)
            self.frontier.redis.sadd(self.frontier.globals.crawls, crawl_id)
        except BaseException:
            self._purge(crawl_id)
            raise
        crawl = self.get(crawl_id)
        assert crawl is not None
        return crawl

    def _seed_new(self, crawl_id: str, token_id: str, definition: CrawlDefinition, *, created: float,
                  version: int = 1) -> None:
        """Write a fresh job hash with its seeds queued, then move it out of status 0."""
        now = self.clock()
        seeds = seed_discoveries(definition, definition.seeds)
        job = {
            "def": _definition_json(definition), "v": version, "name": definition.name, "tok": token_id,
            "status": int(Status.INITIALIZING), "created": created, "round": 0, "sr": 0, "round_start": now,
            "full_start": now, **_limits(definition), **self._dedupe_shape(definition),
        }
        self.frontier.create(crawl_id, job, seeds)
        self.apply(crawl_id, Event.SEEDED if seeds else Event.NO_URLS)
        if self.admin_paused():
            self.apply(crawl_id, Event.ADMIN_PAUSE)

    def _dedupe_shape(self, definition: CrawlDefinition) -> dict[str, Any]:
        expected = expected_urls(definition.max_to_crawl)
        shape: dict[str, Any] = {"db": exact_bucket_bits(expected)}  # also buckets the processed-page store
        if self.dedupe == "bloom":
            m, k = bloom_shape(expected, self.bloom_error_rate)
            return {**shape, "dm": "b", "bm": m, "bk": k}
        return {**shape, "dm": "e"}

    # ------------------------------------------------------------------ changing

    def update(self, crawl: Crawl, definition: CrawlDefinition, added_seeds: Iterable[str]) -> Crawl:
        """Store new settings (workers pick them up within a second) and queue added seeds.

        Patterns, filters and scope apply to URLs found from now on; limits, crawlDelay,
        obeyRobots, customHeaders, useProxies and apiUrl to the next pages fetched; repeat,
        maxRounds and seedRecrawlFrequency to the next round that gets scheduled."""
        version = int(self.frontier.redis.hincrby(self.frontier.keys(crawl.id).job, "v", 1))
        self.frontier.update_job(crawl.id, {"def": _definition_json(definition), **_limits(definition)})
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
        if crawl.state.status is Status.NEXT_ROUND:
            self._schedule_next_round(crawl.id)  # repeat may have changed
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
            fields = self._fields_for(current, target)
            found = self.frontier.set_status(crawl_id, [current], target, fields)
            if found is None:
                return None
            if found == current:
                self._after_transition(crawl_id, live[1], current, target)
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

    def _after_transition(self, crawl_id: str, raw: dict[str, str], current: Status, target: Status) -> None:
        self.frontier.sync_active(crawl_id, target)
        definition = self._live_definition(raw)
        if target is Status.NEXT_ROUND or (
            target in (Status.MAX_TO_CRAWL, Status.MAX_TO_PROCESS) and definition.repeat > 0
        ):
            self._schedule_next_round(crawl_id)
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
            definition = self._live_definition(live[1])
            if definition.repeat > 0:
                snapshot = replace(snapshot, repeats=True, last_round=is_last_round(definition, live[0].round))
                event = observe(snapshot)
        if event is not None and transition(snapshot.status, event) != snapshot.status:
            self.apply(crawl_id, event)

    # ------------------------------------------------------------------ rounds

    def _schedule_next_round(self, crawl_id: str) -> None:
        live = self.frontier.state(crawl_id)
        if live is None:
            return
        state, raw = live
        plan = next_round(self._live_definition(raw), round_start=state.round_start,
                          full_start=float(raw.get("full_start", state.round_start)))
        if plan is None:
            self.frontier.redis.zrem(self._rounds_key, crawl_id)
            return
        self.frontier.update_job(crawl_id, {"next_round": plan[0]})
        self.frontier.redis.zadd(self._rounds_key, {crawl_id: plan[0]})

    def start_round(self, crawl_id: str, *, full: bool | None = None) -> Status | None:
        """Start the crawl's next round now (roundStart=1, or the scheduler when one is due).
        `full` None: what the schedule says (full rounds every `repeat`, seeds-only between)."""
        live = self.frontier.state(crawl_id)
        if live is None:
            return None
        state, raw = live
        definition = self._live_definition(raw)
        if full is None:
            plan = next_round(definition, round_start=state.round_start,
                              full_start=float(raw.get("full_start", state.round_start)))
            full = plan is None or plan[1]
        now = self.clock()
        snap, left_behind = self.frontier.start_round(
            crawl_id, full=full, started=now, seeds=seed_discoveries(definition, definition.seeds))
        if snap is None:
            return None
        if full:
            self.frontier.update_job(crawl_id, {"full_start": now, "next_round": 0})
        if left_behind >= 0:
            self.frontier.drop_seen_round(crawl_id, left_behind)
        self.frontier.redis.zrem(self._rounds_key, crawl_id)
        status = self.apply(crawl_id, Event.ROUND_START)
        self.observe(crawl_id, self.snapshot(crawl_id))  # a round without seeds ends at once
        return status

    def run_due(self) -> int:
        """Start the rounds that are due and run the purges that are due; returns how many.
        Several controllers may call this: each item is claimed by removing it first."""
        now = self.clock()
        done = 0
        for raw in self.frontier.redis.zrangebyscore(self._rounds_key, "-inf", now, start=0, num=100):
            crawl_id = text(raw)
            if self.frontier.redis.zrem(self._rounds_key, crawl_id):
                live = self.frontier.state(crawl_id)
                if live is not None and live[0].status is not Status.ADMIN_PAUSED:
                    self.start_round(crawl_id)
                    done += 1
                elif live is not None:  # administrator pause: try again later
                    self.frontier.redis.zadd(self._rounds_key, {crawl_id: now + 60})
        for raw in self.frontier.redis.zrangebyscore(self._purges_key, "-inf", now, start=0, num=100):
            member = text(raw)
            if self.frontier.redis.zrem(self._purges_key, member):
                crawl_id, _, before = member.partition("@")
                self.output.delete_older(crawl_id, float(before))
                done += 1
        return done

    # ------------------------------------------------------------------ restart, pause all

    def restart(self, crawl_id: str) -> Status | None:
        """Remove everything the crawl crawled, keep its settings, and start it again."""
        crawl = self.get(crawl_id)
        if crawl is None or not crawl.live:
            return None
        live = self.frontier.state(crawl_id)
        version = int(live[1].get("v", 1)) if live else 1
        restarted = self.clock()
        self.frontier.delete(crawl_id)
        self.frontier.redis.zrem(self._rounds_key, crawl_id)
        self.output.delete_crawl(crawl_id)
        # pages in flight during the restart may still write their (old) documents: remove those
        # again once their leases have surely expired
        purge_at = restarted + self.lease_seconds + PURGE_GRACE_SECONDS
        self.frontier.redis.zadd(self._purges_key, {f"{crawl_id}@{restarted}": purge_at})
        self._seed_new(crawl_id, crawl.token_id, crawl.definition, created=crawl.state.created, version=version)
        self.frontier.redis.sadd(self.frontier.globals.crawls, crawl_id)
        state = self.frontier.state(crawl_id)
        return state[0].status if state else None

    def admin_paused(self) -> bool:
        return bool(self.frontier.redis.exists(self._admin_key))

    def admin_pause(self) -> int:
        """Pause every crawl for maintenance (status 8); new crawls start paused too."""
        self.frontier.redis.set(self._admin_key, 1)
        paused = 0
        for crawl_id in self._all_ids():
            if self.apply(crawl_id, Event.ADMIN_PAUSE) is Status.ADMIN_PAUSED:
                paused += 1
        return paused

    def admin_resume(self) -> int:
        """Give every crawl the administrator paused back the status it had."""
        self.frontier.redis.delete(self._admin_key)
        resumed = 0
        for crawl_id in self._all_ids():
            live = self.frontier.state(crawl_id)
            if live is None or live[0].status is not Status.ADMIN_PAUSED:
                continue
            previous = Status(int(live[1].get("prev", int(Status.IN_PROGRESS))))
            if previous is Status.NEXT_ROUND:  # waiting for its next round: give that back
                if self.frontier.set_status(crawl_id, [Status.ADMIN_PAUSED], Status.NEXT_ROUND) is not None:
                    self.sync_record(crawl_id)
            else:
                self.apply(crawl_id, Event.ADMIN_RESUME)
                self.observe(crawl_id, self.snapshot(crawl_id))
            resumed += 1
        return resumed

    def _all_ids(self) -> builtins.list[str]:
        return [text(raw) for raw in self.frontier.redis.smembers(self.frontier.globals.crawls)]

    # ------------------------------------------------------------------ deleting

    def delete(self, crawl_id: str) -> None:
        """Remove a crawl and all its data. Redis first, so workers stop serving it at once;
        a worker committing a page of a deleted crawl removes what it wrote."""
        self._purge(crawl_id)

    def _purge(self, crawl_id: str) -> None:
        self.frontier.delete(crawl_id)
        self.frontier.redis.srem(self.frontier.globals.crawls, crawl_id)
        self.frontier.redis.zrem(self._rounds_key, crawl_id)
        self.output.delete_crawl(crawl_id)
        self.records.delete_one({"_id": crawl_id})
