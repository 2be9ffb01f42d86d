"""What request handlers use: configuration, the stores, token checks and the clock, opened by the
app's lifespan (`open_services`) and closed at its end (`Services.close`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from pymongo.database import Database
from redis.cluster import RedisCluster

from crawlbase.config import Config
from crawlbase.outbound import Outbound
from crawlcore.netguard import NetGuard
from crawlstore.clock import make_clock
from crawlstore.connection import connect_redis
from crawlstore.crawls import CrawlStore
from crawlstore.frontier import Frontier
from crawlstore.mongo import connect, ensure_indexes
from crawlstore.search import ensure_search_indexes
from crawlstore.tokens import TokenStore

from .auth import TokenCache

__all__ = ["WEBHOOK_TIMEOUT", "Services", "open_services", "webhook_client"]

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

    def close(self) -> None:
        """Close the webhook client and both stores' connections (the app's lifespan ends)."""
        self.webhooks.close()
        self.redis.close()
        self.db.client.close()


def open_services(config: Config, clock: Callable[[], float] | None = None) -> Services:
    """Connect to Redis (lazily: no I/O) and MongoDB, and create MongoDB's indexes; a MongoDB that
    does not answer fails the start-up, and leaves nothing open."""
    client = connect_redis(config.redis_url, cluster=config.redis_cluster, socket_timeout=10)
    db = connect(config.mongo_url, config.mongo_db)
    try:
        ensure_indexes(db)
        ensure_search_indexes(db)
    except BaseException:
        client.close()
        db.client.close()
        raise
    frontier = Frontier(client, config.key_prefix, config.host_concurrency)
    now = clock or make_clock(config.clock, client, config.key_prefix)
    crawls = CrawlStore(frontier, db, dedupe=config.dedupe, bloom_error_rate=config.bloom_error_rate,
                        max_crawls_per_token=config.max_crawls_per_token,
                        lease_seconds=config.lease_seconds, clock=now)
    guard = NetGuard.parse(config.allow_networks)
    return Services(config, client, db, crawls, TokenCache(TokenStore(db, now)), now, guard, webhook_client(guard))
