"""MongoDB connection and collections: the system of record.

Collections (all documents of one crawl carry its id in `_c`):

- `crawls`: job records (definition, status, counters, timestamps), keyed by crawl id.
- `objects`: processed output; `_id` is `{crawl}:{round}:{url fingerprint}:{index}` so a retried
  page replaces its object instead of duplicating it.
- `urls`: URL-report rows; `_id` is `{crawl}:{round}:{url fingerprint}`, one row per URL per round.
- `tokens`: API tokens, stored as SHA-256 digests.
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo.database import Database

__all__ = ["connect", "ensure_indexes"]


def connect(mongo_url: str, db_name: str, *, timeout_ms: int = 5000) -> Database:
    """A database handle. pymongo connects lazily, so this does no I/O by itself."""
    client: MongoClient = MongoClient(
        mongo_url,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        tz_aware=False,
        appname="crawlfleet",
    )
    return client[db_name]


def ensure_indexes(db: Database) -> None:
    """Create the indexes every query path relies on (idempotent; called at start-up)."""
    db.objects.create_index([("_c", ASCENDING), ("_t", DESCENDING)], name="crawl_time")
    db.urls.create_index([("_c", ASCENDING), ("crawled", DESCENDING)], name="crawl_time")
    db.crawls.create_index([("token", ASCENDING), ("name", ASCENDING)], name="token_name", unique=True)
    db.tokens.create_index([("name", ASCENDING)], name="name")
