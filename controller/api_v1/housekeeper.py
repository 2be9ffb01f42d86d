"""Background work of /api/v1, one thread per controller, started and halted by the app's lifespan:

- finishes stops in progress (see crawlstore.cancel), on any replica;
- turns crawl status changes into webhook events (one replica at a time: a Redis lock);
- delivers due webhook deliveries (claimed atomically, so replicas share the work), through
  the controller's guarded client (controller.services.webhook_client): the address is checked
  at every try, redirects are not followed, and the delivery log says only "HTTP <status>",
  "connection failed", "timed out" or "refused: <reason>" (it must not map a network's ports).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Any

from crawlbase.outbound import OutboundError, Refused
from crawlcore.lifecycle import events_for, status_name
from crawlcore.status import Status
from crawlcore.webhook import SIGNATURE_HEADER, retry_delay, sign
from crawlstore.watch import StatusWatch

from .context import V1
from .crawlspec import iso
from .stops import finish_stop

__all__ = ["Housekeeper", "deliver"]

log = logging.getLogger(__name__)
TICK = 1.0
MAX_DELIVERIES_PER_TICK = 20


class Housekeeper(threading.Thread):
    def __init__(self, ctx: V1) -> None:
        super().__init__(name="api-v1-housekeeper", daemon=True)
        self.ctx = ctx
        self.halt = threading.Event()
        self.me = uuid.uuid4().hex
        self.watch_state = StatusWatch(ctx.svc.redis, ctx.config.key_prefix)

    def run(self) -> None:
        while not self.halt.wait(TICK):
            try:
                self.tick()
            except Exception:  # a store outage must not end housekeeping for good
                log.warning("/api/v1 housekeeping failed", exc_info=True)

    def tick(self) -> None:
        ctx = self.ctx
        for record in ctx.reports.stopping():
            finish_stop(ctx, record["_id"], bool((record.get("v1") or {}).get("stop", {}).get("seal")))
        if self.watch_state.lead(self.me):
            self.watch()
        for _ in range(MAX_DELIVERIES_PER_TICK):
            delivery = ctx.deliveries.claim()
            if delivery is None:
                break
            deliver(ctx, delivery)

    def watch(self) -> None:
        """Compare each watched crawl's status with the last one seen; queue the events it means."""
        ctx = self.ctx
        hooks = ctx.hooks.active()
        if not hooks:
            return
        by_owner: dict[str, list[dict[str, Any]]] = {}
        for hook in hooks:
            by_owner.setdefault(hook["owner"], []).append(hook)
        fields = {"status": 1, "v1": 1, "created": 1, "token": 1, "name": 1, "state": 1}
        for record in ctx.reports.owners_crawls(list(by_owner), fields):
            v1 = record.get("v1") or {}
            name = status_name(Status(int(record.get("status", 0))), sealed=bool(v1.get("sealed")),
                               stopping="stop" in v1, stopped=bool(v1.get("stopped")))
            previous = self.watch_state.last_seen(record["_id"])
            if previous == name:
                continue
            self.watch_state.see(record["_id"], name)
            payload = {"crawl": {"id": record["_id"], "name": record.get("name", ""), "status": name,
                                 "job_status": int(record.get("status", 0)),
                                 "created_at": iso(record.get("created")),
                                 "items": int((record.get("state") or {}).get("objects", 0))}}
            for event in events_for(previous, name):
                for hook in by_owner[record["token"]]:
                    if event not in hook["events"]:
                        continue
                    if previous is None and float(record.get("created", 0)) < hook["created"]:
                        continue  # a crawl older than the webhook: not news
                    ctx.deliveries.enqueue(hook, event, record["_id"], payload)


def deliver(ctx: V1, delivery: dict[str, Any]) -> bool:
    """One attempt of a delivery; records the outcome and schedules the retry. True: delivered."""
    hook = ctx.hooks.get(delivery["webhook"])
    now = ctx.clock()
    if hook is None:
        ctx.deliveries.record(delivery, {"at": now, "status_code": 0, "error": "webhook deleted", "ms": 0},
                              "failed", 0)
        return False
    body = delivery["body"].encode()
    started = time.monotonic()
    code, error, refused = 0, "", False
    try:
        reply = ctx.svc.webhooks.request("POST", hook["url"], content=body, read_body=False, headers={
            "Content-Type": "application/json",
            "X-Crawlfleet-Event": delivery["event"],
            "X-Crawlfleet-Delivery": delivery["_id"],
            SIGNATURE_HEADER: sign(hook["secret"], int(now), body),
        })
        code = reply.status
        error = "" if 200 <= code < 300 else f"HTTP {code}"
    except OutboundError as exc:  # refused by the guard, connection failed, timed out: coarse on purpose
        error, refused = str(exc), isinstance(exc, Refused)
    entry = {"at": now, "status_code": code, "error": error, "ms": round((time.monotonic() - started) * 1000)}
    if 200 <= code < 300:
        ctx.deliveries.record(delivery, entry, "delivered", 0)
        return True
    attempts = int(delivery.get("attempts", 0)) + 1
    if refused or attempts >= ctx.config.webhook_attempts:  # a refused address is not tried again
        ctx.deliveries.record(delivery, entry, "failed", 0)
    else:
        ctx.deliveries.record(delivery, entry, "pending", now + retry_delay(attempts, ctx.config.webhook_backoff))
    return False


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
