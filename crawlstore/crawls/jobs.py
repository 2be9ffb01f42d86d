"""What a crawl definition becomes in Redis: the job hash fields the Lua scripts read, the shape
of its dedupe stores, and the seeds that pass its scope.

Plain translation, no I/O: the registry writes these fields when a crawl is created, restarted
or changed, and rounds queue `seed_discoveries` again when a round starts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from crawlcore.dedupe import bloom_shape, exact_bucket_bits, expected_urls
from crawlcore.definition import CrawlDefinition
from crawlcore.scope import Scope
from crawlcore.urls import fingerprint, host_of

from ..frontier import Discovery

__all__ = ["DedupeShape", "definition_json", "limits", "live_definition", "seed_discoveries"]


def seed_discoveries(definition: CrawlDefinition, seeds: Iterable[str]) -> list[Discovery]:
    """The seeds that pass the crawl's patterns and filters, ready for the frontier."""
    scope = Scope.of(definition)
    return [
        Discovery(url, fingerprint(url), host_of(url), scope.processes(url), 0)
        for url in seeds
        if scope.admits_seed(url)
    ]


def limits(definition: CrawlDefinition) -> dict[str, Any]:
    """Definition values the Lua scripts read from the job hash."""
    return {
        "max_crawl": definition.max_to_crawl,
        "max_proc": definition.max_to_process,
        "max_crawl_sub": definition.max_to_crawl_per_subdomain,
        "max_proc_sub": definition.max_to_process_per_subdomain,
        "max_hops": definition.max_hops,
        "delay_ms": round(definition.crawl_delay * 1000),
        "robots": int(definition.obey_robots),
        "only_new": int(definition.only_process_if_new),
    }


def definition_json(definition: CrawlDefinition) -> str:
    """The job hash's `def` field."""
    return json.dumps(definition.to_dict(), separators=(",", ":"))


def live_definition(raw: dict[str, str]) -> CrawlDefinition:
    """The definition stored in a job hash (as `Frontier.state` returns it)."""
    return CrawlDefinition.from_dict(json.loads(raw["def"]))


@dataclass(frozen=True)
class DedupeShape:
    """How a new job's seen store is laid out: exact buckets, or a Bloom filter of this error rate."""

    mode: str = "exact"  # or "bloom"
    bloom_error_rate: float = 0.001

    def fields(self, definition: CrawlDefinition) -> dict[str, Any]:
        expected = expected_urls(definition.max_to_crawl)
        shape: dict[str, Any] = {"db": exact_bucket_bits(expected)}  # also buckets the processed-page store
        if self.mode == "bloom":
            m, k = bloom_shape(expected, self.bloom_error_rate)
            return {**shape, "dm": "b", "bm": m, "bk": k}
        return {**shape, "dm": "e"}
