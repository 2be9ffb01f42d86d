"""Redis connections: one pool per process, a single server or a Redis Cluster.

A single server is reached through scrapy-redis's connection helper (the same `REDIS_URL`
handling scrapy-redis users know); a cluster through redis-py's cluster client. Every
multi-key operation of crawlfleet stays within one crawl's hash tag, so both work.
"""

from __future__ import annotations

from typing import Any

import redis
from redis.cluster import RedisCluster
from scrapy_redis.connection import get_redis

__all__ = ["Client", "connect_redis", "text"]

Client = redis.Redis | RedisCluster


def text(value: Any) -> str:
    """A Redis reply as text (clients here return bytes)."""
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


def connect_redis(url: str, *, cluster: bool = False, **options: Any) -> Client:
    """A client with its own connection pool; connects lazily (no I/O here)."""
    options.setdefault("health_check_interval", 30)
    options.setdefault("socket_timeout", 30)
    if cluster:
        return RedisCluster.from_url(url, **options)
    return get_redis(url=url, **options)
