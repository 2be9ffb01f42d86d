"""The definitions of the crawls a worker serves, cached and kept fresh.

A definition changes when a crawl is updated (its `v` goes up) and its round changes when
a new round starts; a worker notices within `refresh` seconds, with one HMGET per crawl.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from crawlcore.definition import CrawlDefinition
from crawlcore.errors import InvalidParameter
from crawlcore.scope import Scope
from crawlstore.connection import Client, text
from crawlstore.keys import CrawlKeys

__all__ = ["Catalog", "CrawlInfo"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrawlInfo:
    id: str
    name: str
    round: int
    version: int
    definition: CrawlDefinition
    scope: Scope


class Catalog:
    def __init__(
        self,
        client: Client,
        keys: Callable[[str], CrawlKeys],
        *,
        refresh: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = client
        self._keys = keys
        self._refresh = refresh
        self._clock = clock
        self._entries: dict[str, tuple[float, CrawlInfo]] = {}
        self._unusable: set[tuple[str, int]] = set()  # (crawl, version) whose definition cannot run
        self._lock = threading.Lock()

    def get(self, crawl_id: str) -> CrawlInfo | None:
        """The crawl's current definition, or None when it no longer exists."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(crawl_id)
        if entry is not None and now - entry[0] < self._refresh:
            return entry[1]
        job = self._keys(crawl_id).job
        version, round_ = self._redis.hmget(job, "v", "round")
        if version is None:
            self.forget(crawl_id)
            return None
        if entry is not None and entry[1].version == int(version) and entry[1].round == int(round_ or 0):
            info = entry[1]
        else:
            raw_def, name = self._redis.hmget(job, "def", "name")
            if raw_def is None:
                self.forget(crawl_id)
                return None
            definition = CrawlDefinition.from_dict(json.loads(raw_def))
            try:
                scope = Scope.of(definition)
            except InvalidParameter as exc:
                # stored before today's rules (e.g. a regex RE2 refuses): this crawl is not served
                # until it is updated, and no other crawl suffers for it
                if (crawl_id, int(version)) not in self._unusable:
                    self._unusable.add((crawl_id, int(version)))
                    log.error("crawl %s (%s) is not served: %s; update its settings", crawl_id, text(name), exc)
                return None
            info = CrawlInfo(crawl_id, text(name), int(round_ or 0), int(version), definition, scope)
        with self._lock:
            self._entries[crawl_id] = (now, info)
        return info

    def cached(self, crawl_id: str) -> CrawlInfo | None:
        """The cached definition without any I/O (the reactor thread uses this)."""
        entry = self._entries.get(crawl_id)
        return entry[1] if entry else None

    def forget(self, crawl_id: str) -> None:
        with self._lock:
            self._entries.pop(crawl_id, None)
