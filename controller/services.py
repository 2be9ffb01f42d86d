"""What request handlers use: configuration, the crawl store, token checks and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from pymongo.database import Database
from redis.cluster import RedisCluster

from crawlcore.netguard import NetGuard
from crawlfleet.config import Config
from crawlstore.crawls import CrawlStore

from .auth import TokenCache

__all__ = ["Services"]


@dataclass
class Services:
    config: Config
    redis: redis.Redis | RedisCluster
    db: Database
    crawls: CrawlStore
    tokens: TokenCache
    clock: Callable[[], float]
    guard: NetGuard = field(default_factory=NetGuard)  # which addresses seeds may resolve to
