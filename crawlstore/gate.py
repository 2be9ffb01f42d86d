"""The one asynchronous Redis round trip of every /api/v1 request: count it in its rate-limit
window (crawlstore.ratelimit) and, for a login token, check that it was not logged out
(crawlstore.sessions), in one pipeline, so that the request need not leave the event loop.
"""

from __future__ import annotations

import math
from typing import Any

from .ratelimit import RateLimiter, Verdict
from .sessions import Sessions

__all__ = ["admit"]


async def admit(client: Any, limiter: RateLimiter, sessions: Sessions, bucket: str, limit: int, now: float,
                jti: str = "") -> tuple[Verdict, bool]:
    """Count one request of `bucket` on an asyncio Redis `client`: its verdict, and whether the
    login token `jti` (if given) was logged out. Raises redis.exceptions.RedisError on an outage."""
    key = limiter.key(bucket, now)
    async with client.pipeline(transaction=False) as pipe:
        pipe.incr(key)
        pipe.expire(key, math.ceil(limiter.window) + 1)
        if jti:
            pipe.exists(sessions.key(jti))
        replies = await pipe.execute()
    return limiter.verdict(int(replies[0]), limit, now), bool(jti and replies[2])
