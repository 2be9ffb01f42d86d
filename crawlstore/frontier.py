"""The Redis frontier: per-host queues, a politeness schedule, leases and dedupe.

Each method is one Lua call on one crawl's keys (see `lua/` and `keys.py`). This class
translates between Python values and the scripts' arguments; it decides nothing: limits,
scope and statuses come from `crawlcore`.

A worker's cycle:  `pop` (lease a batch) -> fetch -> store output in MongoDB ->
`commit` (ack, count, queue the links found). Leases not renewed with `renew` expire and
their requests go back to the queue with one more try counted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import redis
from redis.cluster import RedisCluster

from crawlcore.job import JobState
from crawlcore.status import Snapshot, Status

from .connection import Client, text
from .keys import CrawlKeys, GlobalKeys

__all__ = ["CommitResult", "Discovery", "Frontier", "Outcome", "PageResult", "PopResult"]

_SCRIPTS = ("pop", "commit", "seed", "renew", "status", "round")


def _script_source(name: str) -> str:
    lua = resources.files("crawlstore") / "lua"
    return (lua / "prelude.lua").read_text() + "\n" + (lua / f"{name}.lua").read_text()


@dataclass(frozen=True)
class Discovery:
    """A URL to add to a crawl: its fingerprint, host and whether it may be processed."""

    url: str
    fp: bytes
    host: str
    processable: bool
    hop_delta: int = 1  # 0 for a redirect target: a redirect is not a hop


class Outcome:
    FETCHED = "f"  # a response, or a final failure: counts toward maxToCrawl
    BLOCKED = "b"  # robots.txt disallowed it
    RETRY = "r"  # download error: queue again with one more try
    EXPANDED = "x"  # re-expansion task done
    UNSTARTED = "u"  # handed back unstarted (worker shutting down): no try counted


@dataclass(frozen=True)
class PageResult:
    """What a worker reports for one lease."""

    member: bytes  # the lease, exactly as `pop` returned it
    fp: bytes
    outcome: str
    ok: bool = False  # status below 400
    processed: bool = False  # processing was attempted
    process_ok: bool = False
    objects: int = 0
    delay_ms: int = -1  # the host's robots.txt Crawl-delay in ms as found (-1: robots.txt not consulted)
    links: Sequence[Discovery] = ()
    content_fp: bytes = b""  # fingerprint of a processed page's content, for duplicate detection


@dataclass(frozen=True)
class PopResult:
    snapshot: Snapshot | None  # None: the crawl no longer exists
    members: list[bytes]
    next_due_ms: int  # milliseconds until the earliest scheduled host is due (-1: none scheduled)
    round: int = 0  # the round the leased requests belong to


@dataclass(frozen=True)
class CommitResult:
    snapshot: Snapshot | None  # None: the crawl no longer exists
    lost: int  # results whose lease had expired
    corrections: dict[int, int] = field(default_factory=dict)  # result index -> true hop
    duplicates: dict[int, bytes] = field(default_factory=dict)  # result index -> fingerprint of the original
    seen_hits: int = 0  # links the seen store knew already (dedupe hits)


def _snapshot(raw: Sequence[Any]) -> Snapshot | None:
    if not raw or int(raw[0]) < 0:
        return None
    status, crawled, processed, queued, leased, seeds_ok, max_crawl, max_proc = (int(x) for x in raw)
    return Snapshot(Status(status), crawled, processed, queued, leased, seeds_ok, max_crawl, max_proc)


class Frontier:
    """Frontier operations for every crawl in one Redis (or Redis Cluster)."""

    def __init__(self, client: Client, prefix: str, host_concurrency: int) -> None:
        self.redis = client
        self.prefix = prefix
        self.globals = GlobalKeys(prefix)
        self.host_concurrency = host_concurrency
        self.cluster = isinstance(client, RedisCluster)
        self._scripts = {name: client.register_script(_script_source(name)) for name in _SCRIPTS}

    def keys(self, crawl_id: str) -> CrawlKeys:
        return CrawlKeys(self.prefix, crawl_id)

    def _call(self, name: str, crawl_id: str, args: Sequence[Any], client: Any = None) -> Any:
        k = self.keys(crawl_id)
        base: list[Any] = [k.base, self.globals.wake, self.host_concurrency]
        return self._scripts[name](keys=[k.job], args=[*base, *args], client=client or self.redis)

    # ------------------------------------------------------------------ create / seed

    def create(self, crawl_id: str, job: dict[str, Any], seeds: Iterable[Discovery]) -> Snapshot:
        """Write a new crawl's job hash and queue its seeds, in one atomic step."""
        pairs = [x for item in job.items() for x in item]
        raw = self._call("seed", crawl_id, [len(job), *pairs, *_seed_args(seeds)])
        snap = _snapshot(raw[0])
        assert snap is not None
        return snap

    def add_seeds(self, crawl_id: str, seeds: Iterable[Discovery]) -> Snapshot | None:
        try:
            raw = self._call("seed", crawl_id, [0, *_seed_args(seeds)])
        except redis.ResponseError as exc:
            if "gone" in str(exc):
                return None
            raise
        return _snapshot(raw[0])

    def start_round(self, crawl_id: str, *, full: bool, started: float,
                    seeds: Iterable[Discovery]) -> tuple[Snapshot | None, int]:
        """Begin the next round (see lua/round.lua); returns its snapshot and the seen round a
        full round leaves behind (-1: none), whose store the caller frees with `drop_seen_round`."""
        try:
            raw = self._call("round", crawl_id, ["full" if full else "seeds", started, *_seed_args(seeds)])
        except redis.ResponseError as exc:
            if "gone" in str(exc):
                return None, -1
            raise
        return _snapshot(raw[0]), int(raw[1])

    def drop_seen_round(self, crawl_id: str, round_: int) -> None:
        k = self.keys(crawl_id)
        bits = int(self.redis.hget(k.job, "db") or 0)
        names = k.seen_round(round_, bits)
        for start in range(0, len(names), 1000):
            self.redis.unlink(*names[start : start + 1000])

    # ------------------------------------------------------------------ worker cycle

    def pop(self, crawl_id: str, count: int, lease_ms: int) -> PopResult:
        raw = self._call("pop", crawl_id, [count, lease_ms])
        return PopResult(_snapshot(raw[0]), list(raw[1]), int(raw[2]), int(raw[3]))

    def commit(self, crawl_id: str, results: Sequence[PageResult]) -> CommitResult:
        return self.commit_many({crawl_id: results})[crawl_id]

    def commit_many(self, batches: Mapping[str, Sequence[PageResult]]) -> dict[str, CommitResult]:
        """Commit the results of several crawls in one round trip (one script call each)."""
        replies = self._each("commit", {cid: _commit_args(results) for cid, results in batches.items()})
        return {cid: self._parse_commit(raw) for cid, raw in replies.items()}

    @staticmethod
    def _parse_commit(raw: Sequence[Any]) -> CommitResult:
        corrections = {int(i) - 1: int(h) for i, h in raw[2]}
        duplicates = {int(i) - 1: bytes(owner) for i, owner in raw[3]}
        seen_hits = int(raw[4]) if len(raw) > 4 else 0
        return CommitResult(_snapshot(raw[0]), int(raw[1]), corrections, duplicates, seen_hits)

    def renew(self, crawl_id: str, members: Sequence[bytes], lease_ms: int) -> list[bytes]:
        return self.renew_many({crawl_id: members}, lease_ms)[crawl_id]

    def renew_many(self, held: Mapping[str, Sequence[bytes]], lease_ms: int) -> dict[str, list[bytes]]:
        """Extend leases; returns, per crawl, the members no longer held."""
        replies = self._each("renew", {cid: [lease_ms, *members] for cid, members in held.items()})
        return {cid: list(raw) for cid, raw in replies.items()}

    def _each(self, script: str, calls: dict[str, list[Any]]) -> dict[str, Any]:
        """Run one script per crawl: pipelined on a single Redis; on a Redis Cluster, where
        redis-py cannot pipeline scripts, one call after another."""
        if self.cluster or len(calls) == 1:
            return {cid: self._call(script, cid, args) for cid, args in calls.items()}
        with self.redis.pipeline(transaction=False) as pipe:
            for cid, args in calls.items():
                self._call(script, cid, args, pipe)
            replies = pipe.execute()
        return dict(zip(calls, replies, strict=True))

    # ------------------------------------------------------------------ status and state

    def set_status(
        self, crawl_id: str, expected: Iterable[Status], new: Status, fields: dict[str, Any] | None = None
    ) -> Status | None:
        """Compare-and-set; returns the status found (None when the crawl does not exist).
        The change happened when the returned status is in `expected`."""
        pairs = [x for item in (fields or {}).items() for x in item]
        found = self._call("status", crawl_id, [",".join(str(int(s)) for s in expected), int(new), *pairs])
        return None if int(found) < 0 else Status(int(found))

    def state(self, crawl_id: str) -> tuple[JobState, dict[str, str]] | None:
        """The crawl's counters and its raw job hash (definition JSON etc.), or None."""
        k = self.keys(crawl_id)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(k.job)
            pipe.zcard(k.leases)
            raw, leased = pipe.execute()
        if not raw:
            return None
        text = {key.decode(): value.decode() for key, value in raw.items()}
        return JobState.from_hash(text, leased=int(leased)), text

    def update_job(self, crawl_id: str, fields: dict[str, Any]) -> None:
        self.redis.hset(self.keys(crawl_id).job, mapping=fields)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ active set

    def active(self) -> set[str]:
        return {text(m) for m in self.redis.smembers(self.globals.active)}

    def sync_active(self, crawl_id: str, status: Status | None) -> None:
        """Make the active set agree with a crawl's status (None: the crawl is gone)."""
        if status is Status.IN_PROGRESS:
            self.redis.sadd(self.globals.active, crawl_id)
            self.redis.publish(self.globals.wake, crawl_id)
        else:
            self.redis.srem(self.globals.active, crawl_id)

    # ------------------------------------------------------------------ delete

    def delete(self, crawl_id: str) -> None:
        """Remove every key of a crawl (hosts' queues and every round's seen store)."""
        k = self.keys(crawl_id)
        job = self.redis.hmget(k.job, "round", "sr", "db")
        rounds = int(job[0] or 0) + 1
        seen_round = int(job[1] or 0)
        bits = int(job[2] or 0)
        hosts = [text(h) for h in self.redis.smembers(k.hosts)]
        names = k.fixed() + [k.queue(h) for h in hosts] + [k.processed(b) for b in range(1 << bits)]
        names += [k.content(r) for r in range(rounds)] + k.seen_round(seen_round, bits)
        self.redis.srem(self.globals.active, crawl_id)
        for start in range(0, len(names), 1000):  # one command per chunk: all keys share the crawl's slot
            self.redis.unlink(*names[start : start + 1000])


def _commit_args(results: Sequence[PageResult]) -> list[Any]:
    args: list[Any] = [len(results)]
    for res in results:
        args += [
            res.member, res.outcome, int(res.ok), int(res.processed), int(res.process_ok),
            res.objects, res.delay_ms, res.fp, res.content_fp, len(res.links),
        ]
        for link in res.links:
            args += [link.fp, json.dumps(link.url), link.host, "P" if link.processable else "C", link.hop_delta]
    return args


def _seed_args(seeds: Iterable[Discovery]) -> list[Any]:
    args: list[Any] = []
    for s in seeds:
        args += [s.fp, json.dumps(s.url), s.host, "P" if s.processable else "C"]
    return args
