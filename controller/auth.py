"""The controller's one cache of API tokens, shared by /v3 (`token=`) and /api/v1 (`X-API-Key`),
so that a hot path costs no database query, and the small expiring cache it is made of.

A revoked token stops working within CACHE_TTL seconds on every replica (at once on the one
that revoked it through /api/v1, which clears its cache).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from crawlstore.tokens import TokenInfo, TokenStore

from .errors import Unauthorized

__all__ = ["CACHE_TTL", "TTLCache", "TokenCache"]

CACHE_TTL = 2.0  # seconds a token, user or crawl record is reused without asking MongoDB
K = TypeVar("K")
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """A small thread-safe cache whose entries expire; cleared whole when it grows too big.

    When an entry expires, the first caller to see it gets a miss (and reloads it with `put`);
    callers meanwhile get the old value for up to another `ttl`, so many concurrent requests for one
    key never all go to MongoDB at once:

        >>> now = [0.0]
        >>> cache = TTLCache(2.0, clock=lambda: now[0])
        >>> cache.put("k", 1); now[0] = 3.0
        1
        >>> cache.get("k"), cache.get("k")   # the first caller reloads, the second gets the old value
        ((False, None), (True, 1))
        >>> cache.put("k", 2); cache.get("k")
        2
        (True, 2)
    """

    def __init__(self, ttl: float, size: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._data: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> tuple[bool, V | None]:
        hit = self._data.get(key)
        if hit is None:
            return False, None
        now = self.clock()
        if hit[0] >= now:
            return True, hit[1]
        with self._lock:
            current = self._data.get(key)
            if current is None:
                return False, None
            if current[0] < now:  # expired, and nobody reloads it yet: this caller does
                self._data[key] = (now + self.ttl, current[1])
                return False, None
            return True, current[1]

    def put(self, key: K, value: V) -> V:
        with self._lock:
            if len(self._data) >= self.size:
                self._data.clear()
            self._data[key] = (self.clock() + self.ttl, value)
        return value

    def drop(self, key: K) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class TokenCache:
    """`TokenStore.lookup` behind a TTLCache: None (unknown, revoked or expired) is cached too."""

    def __init__(self, store: TokenStore, ttl: float = CACHE_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.cache: TTLCache[str, TokenInfo | None] = TTLCache(ttl, clock=clock)

    def lookup(self, token: str) -> TokenInfo | None:
        """The live token, from the cache or MongoDB (blocking)."""
        hit, info = self.cache.get(token)
        if not hit:
            info = self.cache.put(token, self.store.lookup(token))
        return info

    def cached(self, token: str) -> tuple[bool, TokenInfo | None]:
        """(True, what `lookup` would answer) when the cache knows; (False, None) otherwise. No I/O."""
        return self.cache.get(token)

    def require(self, token: str | None) -> TokenInfo:
        """The token's identity (/v3); Unauthorized when missing, unknown or revoked."""
        if not token:
            raise Unauthorized("Not authorized API token: the token parameter is required.")
        info = self.lookup(token)
        if info is None:
            raise Unauthorized("Not authorized API token.")
        return info
