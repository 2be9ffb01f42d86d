"""What the /api/v1 housekeepers of every controller share through Redis to watch crawl statuses:

- who watches: one replica at a time, holding a lock that expires unless its holder renews it
  (`{prefix}:v1:watcher`, the holder's id, LOCK_MS milliseconds);
- the status each crawl was last seen in (`{prefix}:v1:seen`, a hash crawl id -> status name),
  so that a change is turned into events once, whichever replica sees it.
"""

from __future__ import annotations

from .connection import Client, text
from .keys import V1Keys

__all__ = ["LOCK_MS", "StatusWatch"]

LOCK_MS = 5000  # how long the watcher's lock outlives its last renewal


class StatusWatch:
    def __init__(self, client: Client, prefix: str, lock_ms: int = LOCK_MS) -> None:
        self._redis = client
        self._keys = V1Keys(prefix)
        self.lock_ms = lock_ms

    def lead(self, me: str) -> bool:
        """Take the watcher's lock for `me`, or renew it if `me` holds it; False: another holds it."""
        if self._redis.set(self._keys.watcher, me, nx=True, px=self.lock_ms):
            return True
        if text(self._redis.get(self._keys.watcher)) == me:
            self._redis.pexpire(self._keys.watcher, self.lock_ms)
            return True
        return False

    def last_seen(self, crawl_id: str) -> str | None:
        """The status name the crawl was last seen in; None: never seen."""
        raw = self._redis.hget(self._keys.seen, crawl_id)
        return None if raw is None else text(raw)

    def see(self, crawl_id: str, name: str) -> None:
        self._redis.hset(self._keys.seen, crawl_id, name)
