"""The notification outbox: crawl events waiting to be sent to notifyWebhook / notifyEmail.

Any process that changes a crawl's status adds an entry; the controllers deliver them (see
controller/notifier.py). Entries live in one Redis sorted set scored by when they are due,
so they survive restarts and retries wait their turn; a controller claims an entry by
removing it, so several controllers never send the same one twice.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass

from crawlcore.status import Status

from .connection import Client, text

__all__ = ["COMPLETION_STATUSES", "NOTIFY_STATUSES", "Notice", "Outbox"]

#: A crawl notifies when it hits maxToCrawl or maxToProcess, finishes a round, or completes.
NOTIFY_STATUSES = frozenset({Status.MAX_TO_CRAWL, Status.MAX_TO_PROCESS, Status.NEXT_ROUND, Status.MAX_ROUNDS,
                             Status.COMPLETED, Status.SEEDS_FAILED})
#: ... and one of these sets the job's sentJobDoneNotification once delivered.
COMPLETION_STATUSES = frozenset({Status.MAX_ROUNDS, Status.COMPLETED, Status.SEEDS_FAILED})


@dataclass(frozen=True)
class Notice:
    id: str
    crawl_id: str
    status: int
    created: float
    channel: str = ""  # "webhook" or "email"; "" until the entry is split per channel
    attempt: int = 0

    def encode(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def decode(cls, raw: str) -> Notice:
        return cls(**json.loads(raw))


class Outbox:
    def __init__(self, client: Client, prefix: str) -> None:
        self.redis = client
        self.key = f"{prefix}:notify"

    def add(self, crawl_id: str, status: Status, now: float) -> None:
        notice = Notice(uuid.uuid4().hex, crawl_id, int(status), now)
        self.redis.zadd(self.key, {notice.encode(): now})

    def schedule(self, notice: Notice, at: float) -> None:
        self.redis.zadd(self.key, {notice.encode(): at})

    def due(self, now: float, limit: int = 50) -> list[Notice]:
        """Claim the entries due by `now` (each is returned to one caller only)."""
        claimed = []
        for raw in self.redis.zrangebyscore(self.key, "-inf", now, start=0, num=limit):
            member = text(raw)
            if self.redis.zrem(self.key, member):
                claimed.append(Notice.decode(member))
        return claimed

    def pending(self) -> int:
        return int(self.redis.zcard(self.key))
