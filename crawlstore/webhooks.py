"""Webhooks registered through /api/v1, their deliveries and the delivery log.

- `webhooks`: {_id, owner, url, events: [str], secret, created, active}
- `webhook_deliveries`: {_id, webhook, owner, event, crawl, body (the JSON sent), state:
  pending|sending|delivered|failed, attempts, next_at, created, log: [{at, status_code,
  error, ms}]}

A delivery is claimed with one atomic find-and-update (state pending and due -> sending,
with a lease), so any number of controller replicas deliver each one once; a claim whose
controller died is due again when its lease runs out.
"""

from __future__ import annotations

import builtins
import json
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.database import Database

__all__ = ["DeliveryStore", "WebhookStore"]

SENDING_LEASE = 60.0  # seconds a claimed delivery stays claimed
LOG_LENGTH = 20  # attempts kept in a delivery's log


class WebhookStore:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.hooks = db.webhooks
        self.clock = clock

    def ensure_indexes(self) -> None:
        self.hooks.create_index([("owner", ASCENDING), ("created", ASCENDING)], name="owner_created")

    def create(self, owner: str, url: str, events: Sequence[str], secret: str = "") -> dict[str, Any]:
        doc = {"_id": uuid.uuid4().hex, "owner": owner, "url": url, "events": list(events),
               "secret": secret or secrets.token_urlsafe(32), "created": self.clock(), "active": True}
        self.hooks.insert_one(doc)
        return doc

    def get(self, hook_id: str) -> dict[str, Any] | None:
        return self.hooks.find_one({"_id": hook_id})

    def list(self, owner: str | None, offset: int, limit: int) -> tuple[int, builtins.list[dict[str, Any]]]:
        query = {} if owner is None else {"owner": owner}
        total = self.hooks.count_documents(query)
        docs = self.hooks.find(query).sort("created", ASCENDING).skip(offset).limit(limit)
        return total, list(docs)

    def update(self, hook_id: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        if changes:
            self.hooks.update_one({"_id": hook_id}, {"$set": changes})
        return self.get(hook_id)

    def delete(self, hook_id: str) -> bool:
        return bool(self.hooks.delete_one({"_id": hook_id}).deleted_count)

    def active(self) -> builtins.list[dict[str, Any]]:
        return list(self.hooks.find({"active": True}))


class DeliveryStore:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.deliveries = db.webhook_deliveries
        self.clock = clock

    def ensure_indexes(self) -> None:
        self.deliveries.create_index([("state", ASCENDING), ("next_at", ASCENDING)], name="due")
        self.deliveries.create_index([("webhook", ASCENDING), ("created", DESCENDING)], name="webhook_created")

    def enqueue(self, hook: dict[str, Any], event: str, crawl_id: str, payload: dict[str, Any]) -> str:
        delivery_id = uuid.uuid4().hex
        now = self.clock()
        body = json.dumps({"id": delivery_id, "event": event, "created_at": now, **payload},
                          separators=(",", ":"), default=str)
        self.deliveries.insert_one({
            "_id": delivery_id, "webhook": hook["_id"], "owner": hook["owner"], "event": event, "crawl": crawl_id,
            "body": body, "state": "pending", "attempts": 0, "next_at": now, "created": now, "log": [],
        })
        return delivery_id

    def claim(self) -> dict[str, Any] | None:
        """The next due delivery, now claimed by the caller (None: nothing due)."""
        now = self.clock()
        return self.deliveries.find_one_and_update(
            {"$or": [{"state": "pending", "next_at": {"$lte": now}},
                     {"state": "sending", "next_at": {"$lte": now}}]},
            {"$set": {"state": "sending", "next_at": now + SENDING_LEASE}},
            sort=[("next_at", ASCENDING)], return_document=ReturnDocument.AFTER,
        )

    def record(self, delivery: dict[str, Any], entry: dict[str, Any], state: str, next_at: float) -> None:
        log = (delivery.get("log") or []) + [entry]
        self.deliveries.update_one(
            {"_id": delivery["_id"]},
            {"$set": {"state": state, "next_at": next_at, "attempts": int(delivery.get("attempts", 0)) + 1,
                      "log": log[-LOG_LENGTH:]}},
        )

    def list(self, hook_id: str, offset: int, limit: int) -> tuple[int, builtins.list[dict[str, Any]]]:
        total = self.deliveries.count_documents({"webhook": hook_id})
        docs = self.deliveries.find({"webhook": hook_id}).sort("created", DESCENDING).skip(offset).limit(limit)
        return total, list(docs)

    def delete_for(self, hook_id: str) -> None:
        self.deliveries.delete_many({"webhook": hook_id})
