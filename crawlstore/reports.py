"""Queries of /api/v1 over the collections the crawl store writes: `crawls`, `urls`, `objects`.

Read-only except for the `v1` sub-document of a crawl record, which holds what only /api/v1
knows about a crawl (tags, stop/seal state); nothing else of the record is changed here.

    v1: {tags: [str], sealed: bool, stopped: bool, stop: {at, seal} (a stop in progress),
         modified: epoch seconds}
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from crawlcore.job import JobState
from crawlcore.lifecycle import STATUS_NAMES, status_name
from crawlcore.pagination import Window
from crawlcore.status import Status

from .connection import text
from .frontier import Frontier

__all__ = ["SORTS", "Reports", "live_state", "record_state", "search_regex", "status_query"]

#: `sort` values of the crawl list -> MongoDB sort.
SORTS: dict[str, list[tuple[str, int]]] = {
    "created": [("created", ASCENDING), ("_id", ASCENDING)],
    "-created": [("created", DESCENDING), ("_id", DESCENDING)],
    "name": [("name", ASCENDING), ("_id", ASCENDING)],
    "-name": [("name", DESCENDING), ("_id", DESCENDING)],
    "status": [("status", ASCENDING), ("created", DESCENDING)],
    "-status": [("status", DESCENDING), ("created", DESCENDING)],
}
_STATE_FIELDS = {f.name for f in dataclasses.fields(JobState)}
_PAGE_HIDDEN = {"_id": 0, "_c": 0, "links": 0}
_ITEM_HIDDEN = {"_id": 0, "_c": 0, "_r": 0, "_t": 0}


def status_query(name: str) -> dict[str, Any]:
    """The MongoDB condition for crawls whose /api/v1 status is `name`."""
    if name == "sealed":
        return {"v1.sealed": True, "v1.stop": {"$exists": False}}
    if name == "stopping":
        return {"v1.stop": {"$exists": True}}
    codes = [int(code) for code, n in STATUS_NAMES.items() if n == name]
    plain: dict[str, Any] = {"status": {"$in": codes}, "v1.stop": {"$exists": False}, "v1.sealed": {"$ne": True}}
    if name == "stopped":
        return {"v1.stopped": True, "v1.stop": {"$exists": False}, "v1.sealed": {"$ne": True}}
    if name in ("completed", "limit_reached", "failed"):
        plain["v1.stopped"] = {"$ne": True}
    return plain


def live_state(raw: Mapping[Any, Any], leased: int) -> JobState | None:
    """A crawl's JobState from its Redis job hash (`q` is the scripts' name of the queue length)."""
    if not raw:
        return None
    fields = {text(k): text(v) for k, v in raw.items()}
    state = JobState.from_hash(fields, leased=leased)
    if "q" in fields and "queued" not in fields:
        state = dataclasses.replace(state, queued=int(float(fields["q"] or 0)))
    return state


def record_state(record: Mapping[str, Any]) -> JobState:
    """The last state MongoDB has of a crawl (Redis lost it, or it was never read)."""
    saved = {k: v for k, v in (record.get("state") or {}).items() if k in _STATE_FIELDS and k != "status"}
    return JobState(**{**saved, "status": Status(int(record.get("status", 0)))})


class Reports:
    def __init__(self, db: Database, frontier: Frontier) -> None:
        self.crawls = db.crawls
        self.urls = db.urls
        self.objects = db.objects
        self.frontier = frontier

    def ensure_indexes(self) -> None:
        self.crawls.create_index([("token", ASCENDING), ("created", DESCENDING)], name="token_created")
        self.crawls.create_index([("created", DESCENDING)], name="created")
        self.crawls.create_index([("v1.stop", ASCENDING)], name="v1_stop", sparse=True)
        self.urls.create_index([("_c", ASCENDING), ("hop", ASCENDING)], name="crawl_hop")

    # ------------------------------------------------------------------ crawls

    def record(self, crawl_id: str) -> dict[str, Any] | None:
        return self.crawls.find_one({"_id": crawl_id})

    def list_crawls(self, query: dict[str, Any], sort: str, window: Window) -> tuple[int, list[dict[str, Any]]]:
        total = self.crawls.count_documents(query)
        if total <= window.offset:
            return total, []
        cursor = self.crawls.find(query).sort(SORTS[sort]).skip(window.offset).limit(window.limit)
        return total, list(cursor)

    def by_prefix(self, query: dict[str, Any], prefix: str, limit: int = 10) -> list[dict[str, Any]]:
        """Crawls whose id starts with `prefix` (an index range, not a regex)."""
        bounds = {"$gte": prefix, "$lt": prefix + "\uffff"}
        return list(self.crawls.find({**query, "_id": bounds}).sort("_id", ASCENDING).limit(limit))

    def live(self, crawl_ids: Sequence[str]) -> dict[str, JobState]:
        """Live states from Redis, in one pipelined round trip (crawls Redis lost are left out)."""
        if not crawl_ids:
            return {}
        with self.frontier.redis.pipeline(transaction=False) as pipe:
            for cid in crawl_ids:
                keys = self.frontier.keys(cid)
                pipe.hgetall(keys.job)
                pipe.zcard(keys.leases)
            replies = pipe.execute()
        out = {}
        for i, cid in enumerate(crawl_ids):
            state = live_state(replies[2 * i], int(replies[2 * i + 1]))
            if state is not None:
                out[cid] = state
        return out

    def set_meta(self, crawl_id: str, now: float, set_: Mapping[str, Any] | None = None,
                 unset: Sequence[str] = ()) -> None:
        update: dict[str, Any] = {"$set": {"v1.modified": now, **{f"v1.{k}": v for k, v in (set_ or {}).items()}}}
        if unset:
            update["$unset"] = {f"v1.{k}": "" for k in unset}
        self.crawls.update_one({"_id": crawl_id}, update)

    def stopping(self) -> list[dict[str, Any]]:
        return list(self.crawls.find({"v1.stop": {"$exists": True}}, {"_id": 1, "v1": 1}).limit(100))

    def owners_crawls(self, owners: Sequence[str], fields: Mapping[str, int]) -> Iterator[dict[str, Any]]:
        return iter(self.crawls.find({"token": {"$in": list(owners)}}, dict(fields)).batch_size(1000))

    # ------------------------------------------------------------------ pages and items

    def pages(self, crawl_id: str, query: dict[str, Any], window: Window, links: bool = False,
              ) -> tuple[int, list[dict[str, Any]]]:
        full = {"_c": crawl_id, **query}
        total = self.urls.count_documents(full)
        hidden = {"_id": 0, "_c": 0} if links else _PAGE_HIDDEN
        if total <= window.offset:
            return total, []
        cursor = self.urls.find(full, hidden).sort([("crawled", DESCENDING), ("_id", ASCENDING)])
        return total, list(cursor.skip(window.offset).limit(window.limit))

    def items(self, crawl_id: str, query: dict[str, Any], window: Window) -> tuple[int, list[dict[str, Any]]]:
        full = {"_c": crawl_id, **query}
        total = self.objects.count_documents(full)
        if total <= window.offset:
            return total, []
        cursor = self.objects.find(full, _ITEM_HIDDEN).sort([("_t", DESCENDING), ("_id", ASCENDING)])
        return total, list(cursor.skip(window.offset).limit(window.limit))

    def iter_pages(self, crawl_id: str, query: dict[str, Any], fields: Sequence[str] = (),
                   by_hop: bool = False, limit: int = 0) -> Iterator[dict[str, Any]]:
        projection: dict[str, int] = {f: 1 for f in fields} | {"_id": 0} if fields else {"_id": 0, "_c": 0}
        order = [("hop", ASCENDING), ("_id", ASCENDING)] if by_hop else [("crawled", DESCENDING)]
        cursor = self.urls.find({"_c": crawl_id, **query}, projection).sort(order)
        if limit:
            cursor = cursor.limit(limit)
        return iter(cursor.batch_size(500))

    def iter_items(self, crawl_id: str, query: dict[str, Any], fields: Sequence[str] = (),
                   ) -> Iterator[dict[str, Any]]:
        projection: dict[str, int] = {f: 1 for f in fields} | {"_id": 0} if fields else dict(_ITEM_HIDDEN)
        cursor = self.objects.find({"_c": crawl_id, **query}, projection).sort("_t", DESCENDING)
        return iter(cursor.batch_size(500))

    def count_pages(self, crawl_id: str) -> int:
        return self.urls.count_documents({"_c": crawl_id})

    def descriptions(self, crawl_id: str, limit: int) -> dict[str, str]:
        """pageUrl -> meta description of a crawl's processed pages."""
        out: dict[str, str] = {}
        cursor = self.objects.find({"_c": crawl_id}, {"_id": 0, "pageUrl": 1, "meta": 1}).limit(limit)
        for doc in cursor.batch_size(1000):
            meta = doc.get("meta")
            desc = meta.get("description", "") if isinstance(meta, dict) else ""
            if doc.get("pageUrl"):
                out[doc["pageUrl"]] = desc if isinstance(desc, str) else ""
        return out

    # ------------------------------------------------------------------ monitoring

    def status_totals(self, query: dict[str, Any], since: float) -> tuple[dict[str, int], int, int]:
        """(count per /api/v1 status name, objects found, crawls created since `since`).

        Running crawls' object counts come from Redis (a record's counters are copied at status
        changes only)."""
        names: dict[str, int] = {}
        objects = 0
        recent = 0
        running: list[str] = []
        fields = {"status": 1, "state.objects": 1, "created": 1, "v1": 1}
        for rec in self.crawls.find(query, fields).batch_size(1000):
            if int(rec.get("status", 0)) == int(Status.IN_PROGRESS):
                running.append(rec["_id"])
            v1 = rec.get("v1") or {}
            code = Status(int(rec.get("status", 0)))
            name = status_name(code, sealed=bool(v1.get("sealed")), stopping="stop" in v1,
                               stopped=bool(v1.get("stopped")))
            names[name] = names.get(name, 0) + 1
            if int(rec.get("status", 0)) != int(Status.IN_PROGRESS):
                objects += int((rec.get("state") or {}).get("objects", 0))
            if float(rec.get("created", 0)) >= since:
                recent += 1
        for start in range(0, len(running), 500):
            objects += sum(s.objects for s in self.live(running[start : start + 500]).values())
        return names, objects, recent


def search_regex(text: str) -> dict[str, Any]:
    """A case-insensitive substring match."""
    return {"$regex": re.escape(text), "$options": "i"}
