"""A crawl as callers see it: its MongoDB record joined with its live state in Redis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crawlcore.definition import CrawlDefinition
from crawlcore.job import JobState
from crawlcore.status import Status

__all__ = ["Crawl", "crawl_of"]


@dataclass(frozen=True)
class Crawl:
    id: str
    token_id: str
    definition: CrawlDefinition
    state: JobState
    live: bool = True  # False: Redis has no state for it; `state` is the last record in MongoDB
    #: The key of its notifyWebhook signatures: the SHA-256 hex digest of the credential it was
    #: created with (stored at create); crawls stored before there was one: `token_id`.
    signing_key: str = ""


def crawl_of(record: dict[str, Any], live: JobState | None) -> Crawl:
    """The crawl of a `crawls` record; `live`: its state in Redis (None: Redis has none)."""
    definition = CrawlDefinition.from_dict(record["definition"])
    key = record.get("signing_key") or record["token"]
    if live is not None:
        return Crawl(record["_id"], record["token"], definition, live, signing_key=key)
    state = JobState(**{**record.get("state", {}), "status": Status(record.get("status", 0))})
    return Crawl(record["_id"], record["token"], definition, state, live=False, signing_key=key)
