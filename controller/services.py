"""What request handlers use: configuration, the crawl store, token checks and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from pymongo.database import Database
from redis.cluster import RedisCluster

from crawlbase.config import Config
from crawlbase.outbound import Outbound
from crawlcore.netguard import NetGuard
from crawlstore.crawls import CrawlStore

from .auth import TokenCache

__all__ = ["WEBHOOK_TIMEOUT", "Services", "webhook_client"]

WEBHOOK_TIMEOUT = 10.0  # seconds one webhook delivery may take in all (connect, send, answer)


def webhook_client(guard: NetGuard) -> Outbound:
    """The client of notifyWebhook and /api/v1 webhook deliveries: guarded, and a redirect is an
    answer (a failed try), never followed; the answer's body is not read."""
    return Outbound(guard, timeout=WEBHOOK_TIMEOUT, max_bytes=64 * 1024, max_redirects=0,
                    user_agent="crawlfleet-webhooks/1")


@dataclass
class Services:
    config: Config
    redis: redis.Redis | RedisCluster
    db: Database
    crawls: CrawlStore
    tokens: TokenCache
    clock: Callable[[], float]
    guard: NetGuard = field(default_factory=NetGuard)  # which addresses seeds may resolve to
    webhooks: Outbound = field(default_factory=lambda: webhook_client(NetGuard()))  # under `guard`
