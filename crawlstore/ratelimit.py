"""Request rate limits and the guest crawl quota, shared by every controller through Redis.

- `RateLimiter`: fixed windows, one counter per (bucket, window) that expires by itself; a
  check is one pipelined round trip (INCR + EXPIRE).
- `GuestQuota`: at most N crawls per client address in any 24 hours (a sliding window: a
  sorted set of creation times, trimmed and tested in one Lua call).

Keys: `{prefix}:rl:{bucket}:{window number}` and `{prefix}:guest:{address}`.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from .connection import Client

__all__ = ["GuestQuota", "RateLimiter", "Verdict"]

DAY = 86400.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window ends
    retry_after: int  # seconds until a request is allowed again (0 when allowed)

    def headers(self) -> dict[str, str]:
        out = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
               "X-RateLimit-Reset": str(self.reset)}
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after)
        return out


class RateLimiter:
    def __init__(self, client: Client, prefix: str, window: float) -> None:
        self.redis = client
        self.prefix = prefix
        self.window = window

    def hit(self, bucket: str, limit: int, now: float) -> Verdict:
        """Count one request against `bucket`."""
        key = self.key(bucket, now)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, math.ceil(self.window) + 1)
            count = int(pipe.execute()[0])
        return self.verdict(count, limit, now)

    def key(self, bucket: str, now: float) -> str:
        return f"{self.prefix}:rl:{bucket}:{int(now // self.window)}"

    def verdict(self, count: int, limit: int, now: float) -> Verdict:
        """What `count` requests in the current window mean (for callers that pipeline the INCR)."""
        reset = (int(now // self.window) + 1) * self.window
        allowed = count <= limit
        return Verdict(allowed, limit, max(0, limit - count), math.ceil(reset),
                       0 if allowed else max(1, math.ceil(reset - now)))


_QUOTA = """
local key, now, limit, day = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - day)
local used = redis.call('ZCARD', key)
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local first = now
if oldest[2] then first = tonumber(oldest[2]) end
if used >= limit then return {0, used, tostring(first)} end
redis.call('ZADD', key, now, ARGV[4])
redis.call('EXPIRE', key, math.ceil(day))
return {1, used + 1, tostring(first)}
"""


class GuestQuota:
    """At most `limit` crawls per address in any `DAY` seconds."""

    def __init__(self, client: Client, prefix: str, limit: int) -> None:
        self.redis = client
        self.prefix = prefix
        self.limit = limit
        self._script = client.register_script(_QUOTA)

    def take(self, address: str, now: float) -> Verdict:
        """Use one crawl of the address's quota, if any is left."""
        key = f"{self.prefix}:guest:{address}"
        ok, used, first = self._script(keys=[key], args=[now, self.limit, DAY, f"{now}:{uuid.uuid4().hex[:8]}"])
        reset = float(first) + DAY
        allowed = bool(int(ok))
        return Verdict(allowed, self.limit, max(0, self.limit - int(used)), math.ceil(reset),
                       0 if allowed else max(1, math.ceil(reset - now)))

    def used(self, address: str, now: float) -> int:
        key = f"{self.prefix}:guest:{address}"
        return int(self.redis.zcount(key, now - DAY, "+inf"))
