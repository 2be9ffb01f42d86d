"""Token authentication with a short cache, so a hot path costs no database query.

A revoked token stops working within `ttl` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from crawlstore.tokens import TokenInfo, TokenStore

from .errors import Unauthorized

__all__ = ["TokenCache"]


class TokenCache:
    def __init__(self, store: TokenStore, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, TokenInfo | None]] = {}
        self._lock = threading.Lock()

    def require(self, token: str | None) -> TokenInfo:
        """The token's identity; Unauthorized when missing, unknown or revoked."""
        if not token:
            raise Unauthorized("Not authorized API token: the token parameter is required.")
        now = self._clock()
        with self._lock:
            hit = self._cache.get(token)
        if hit is None or hit[0] < now:
            info = self._store.lookup(token)
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[token] = (now + self._ttl, info)
        else:
            info = hit[1]
        if info is None:
            raise Unauthorized("Not authorized API token.")
        return info
