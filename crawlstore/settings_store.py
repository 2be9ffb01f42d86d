"""Stored settings of /api/v1: per-user defaults for new crawls, cluster settings, the JWT key.

- `user_settings`: {_id: owner id, settings: {Diffbot parameter name: value}, updated}
- `meta` {_id: "cluster"}: cluster settings an admin set; mirrored as JSON into the Redis
  string `{prefix}:cluster` so workers can read them without MongoDB. A worker applies
  `concurrency`, `host_concurrency` and `proxies` when it starts (`apply_cluster`), and checks
  `memory_limit_mb` at every heartbeat: above it, it leases nothing new until it is below.
- `meta` {_id: "jwt_secret"}: the signing key of JWTs when none is configured, created once
  (insert-if-absent) so that every controller replica signs and checks with the same key.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError
from redis.exceptions import RedisError

from .connection import Client, connect_redis, text

log = logging.getLogger(__name__)

__all__ = ["CLUSTER_DEFAULTS", "SettingsStore", "apply_cluster", "read_cluster"]

#: What an admin can set for the cluster, with the values in force when nothing is stored.
CLUSTER_DEFAULTS: dict[str, Any] = {
    "concurrency": None,  # requests per worker (None: CRAWLFLEET_CONCURRENCY)
    "host_concurrency": None,  # requests per host cluster-wide (None: CRAWLFLEET_HOST_CONCURRENCY)
    "memory_limit_mb": None,  # a worker above this RSS stops taking new work (None: no limit)
    "proxies": [],  # proxy URLs crawls with useProxies=1 go through
}


class SettingsStore:
    def __init__(self, db: Database, client: Client, prefix: str, clock: Callable[[], float] = time.time) -> None:
        self._user = db.user_settings
        self._meta = db.meta
        self._redis = client
        self._cluster_key = f"{prefix}:cluster"
        self._clock = clock

    # ------------------------------------------------------------------ per user

    def user_defaults(self, owner: str) -> dict[str, Any]:
        doc = self._user.find_one({"_id": owner})
        return dict(doc["settings"]) if doc else {}

    def save_user_defaults(self, owner: str, settings: dict[str, Any]) -> None:
        self._user.replace_one({"_id": owner}, {"_id": owner, "settings": settings, "updated": self._clock()},
                               upsert=True)

    def reset_user_defaults(self, owner: str) -> None:
        self._user.delete_one({"_id": owner})

    # ------------------------------------------------------------------ cluster

    def cluster(self) -> dict[str, Any]:
        doc = self._meta.find_one({"_id": "cluster"}) or {}
        return {k: doc.get(k, v) for k, v in CLUSTER_DEFAULTS.items()}

    def save_cluster(self, settings: dict[str, Any]) -> dict[str, Any]:
        merged = {**self.cluster(), **settings}
        self._meta.replace_one({"_id": "cluster"}, {"_id": "cluster", **merged, "updated": self._clock()},
                               upsert=True)
        self._redis.set(self._cluster_key, json.dumps(merged, separators=(",", ":")))
        return merged

    # ------------------------------------------------------------------ JWT key

    def jwt_secret(self) -> str:
        """The shared signing key, created on first use."""
        doc = self._meta.find_one({"_id": "jwt_secret"})
        if doc is None:
            with contextlib.suppress(DuplicateKeyError):  # another replica created it first: use theirs
                self._meta.insert_one({"_id": "jwt_secret", "value": secrets.token_urlsafe(48)})
            doc = self._meta.find_one({"_id": "jwt_secret"})
            assert doc is not None
        return str(doc["value"])


def read_cluster(client: Client, prefix: str) -> dict[str, Any]:
    """The cluster settings an admin stored (only those set), from Redis."""
    raw = client.get(f"{prefix}:cluster")
    try:
        stored = json.loads(text(raw)) if raw else {}
    except ValueError:
        return {}
    if not isinstance(stored, dict):
        return {}
    return {k: v for k, v in stored.items() if k in CLUSTER_DEFAULTS and v not in (None, [])}


def apply_cluster(config: Any) -> Any:
    """A worker's `crawlbase.config.Config` with the admin's cluster settings in force
    (its own settings when none are stored or Redis cannot be read)."""
    try:
        client = connect_redis(config.redis_url, cluster=config.redis_cluster, socket_timeout=5)
        try:
            stored = read_cluster(client, config.key_prefix)
        finally:
            client.close()
    except RedisError as exc:
        log.warning("cluster settings not read (%s): using the deployment's", exc)
        return config
    changes: dict[str, Any] = {k: stored[k] for k in ("concurrency", "host_concurrency") if k in stored}
    if "proxies" in stored:
        changes["proxies"] = ",".join(stored["proxies"])
    if changes:
        log.info("cluster settings in force: %s", changes)
    return config.replace(**changes) if changes else config
