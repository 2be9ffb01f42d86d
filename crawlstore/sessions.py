"""Logged-out /api/v1 login sessions, shared by every controller through Redis.

A login token (a JWT) carries an id, its `jti`. Logging out marks that id revoked until the
token would have expired anyway: the string `{prefix}:v1:jwt-revoked:{jti}` (crawlstore.keys.V1Keys)
with that time to live, so the marks clean themselves up.
"""

from __future__ import annotations

from .connection import Client
from .keys import V1Keys

__all__ = ["Sessions"]


class Sessions:
    def __init__(self, client: Client, prefix: str) -> None:
        self._redis = client
        self._keys = V1Keys(prefix)

    def revoke(self, jti: str, ttl: int) -> None:
        """Refuse the token `jti` for the next `ttl` seconds (at least one)."""
        self._redis.set(self.key(jti), "1", ex=max(1, ttl))

    def revoked(self, jti: str) -> bool:
        return bool(self._redis.exists(self.key(jti)))

    def key(self, jti: str) -> str:
        """The mark's key, for a caller that checks it in a pipeline of its own (crawlstore.gate)."""
        return self._keys.jwt_revoked(jti)
