"""A crawl's live state and its Diffbot job JSON.

`JobState` mirrors the fields of the crawl's Redis hash (the Lua scripts use the same
names); `job_json` renders definition + state the way Diffbot's /v3/crawl does, with
every field of Diffbot's sample response and the right types.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from .definition import CrawlDefinition
from .status import Status, message

__all__ = ["JobState", "download_urls", "job_json", "rounds_completed"]


# Job-hash fields whose name differs from the attribute (the Lua scripts use the short one).
_HASH_NAMES = {"q": "queued"}


@dataclasses.dataclass(frozen=True)
class JobState:
    """Counters and times of one crawl. Counters named `*_round` restart with each round."""

    status: Status = Status.INITIALIZING
    created: float = 0.0
    completed: float = 0.0
    round: int = 0  # rounds completed before the current one
    round_start: float = 0.0
    next_round: float = 0.0  # when status 4 ends
    notified: int = 0  # sentJobDoneNotification
    attempts: int = 0  # pageCrawlAttempts, all rounds
    crawled: int = 0  # pages crawled this round: what maxToCrawl limits
    crawl_ok: int = 0  # pageCrawlSuccesses (status < 400), all rounds
    crawl_ok_round: int = 0
    proc_attempts: int = 0  # pageProcessAttempts, all rounds
    processed: int = 0  # pages processed this round: what maxToProcess limits
    proc_ok: int = 0
    proc_ok_round: int = 0
    objects: int = 0  # objectsFound
    harvested: int = 0  # urlsHarvested: distinct URLs discovered
    seeds_ok: int = 0  # seeds fetched this round with a status below 400
    queued: int = 0
    leased: int = 0  # in flight (from the lease set, not the hash)

    @classmethod
    def from_hash(cls, raw: Mapping[Any, Any], leased: int = 0) -> JobState:
        """Build from a Redis hash (bytes or str keys and values); unknown fields are ignored."""
        values: dict[str, Any] = {"leased": leased}
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        for key, value in raw.items():
            name = key.decode() if isinstance(key, bytes) else key
            name = _HASH_NAMES.get(name, name)
            if name not in types or name == "leased":
                continue
            text = value.decode() if isinstance(value, bytes) else str(value)
            if name == "status":
                values[name] = Status(int(text))
            elif types[name] == "float":
                values[name] = float(text)
            else:
                values[name] = int(float(text))
        return cls(**values)


def rounds_completed(state: JobState) -> int:
    """Diffbot's roundsCompleted: rounds finished so far (a crawl that does not repeat: 0)."""
    finished = state.status in (Status.NEXT_ROUND, Status.MAX_ROUNDS) or (
        state.next_round > 0 and state.status in (Status.MAX_TO_CRAWL, Status.MAX_TO_PROCESS)
    )
    return state.round + (1 if finished else 0)


def download_urls(base_url: str, token: str, name: str) -> tuple[str, str]:
    """Diffbot-style download links for a crawl's JSON data and URL report.

    >>> download_urls("http://h:8000", "t0k", "my crawl")[1]
    'http://h:8000/v3/crawl/download/t0k-my%20crawl_urls.csv'
    """
    stem = f"{base_url.rstrip('/')}/v3/crawl/download/{quote(token, safe='')}-{quote(name, safe='')}"
    return f"{stem}_data.json", f"{stem}_urls.csv"


def job_json(
    crawl_id: str,
    definition: CrawlDefinition,
    state: JobState,
    *,
    now: float,
    downloads: tuple[str, str],
) -> dict[str, Any]:
    """The job object of Diffbot's /v3/crawl response."""
    d, s = definition, state
    seconds_left = round(s.next_round - now) if s.status is Status.NEXT_ROUND else 0
    return {
        "name": d.name,
        "type": "crawl",
        "jobCreationTimeUTC": int(s.created),
        "jobCompletionTimeUTC": int(s.completed),
        "jobStatus": {"status": int(s.status), "message": message(s.status, seconds_left)},
        "sentJobDoneNotification": int(s.notified),
        "objectsFound": s.objects,
        "urlsHarvested": s.harvested,
        "pageCrawlAttempts": s.attempts,
        "pageCrawlSuccesses": s.crawl_ok,
        "pageCrawlSuccessesThisRound": s.crawl_ok_round,
        "pageProcessAttempts": s.proc_attempts,
        "pageProcessSuccesses": s.proc_ok,
        "pageProcessSuccessesThisRound": s.proc_ok_round,
        "maxRounds": d.max_rounds,
        "repeat": float(d.repeat),
        "crawlDelay": float(d.crawl_delay),
        "obeyRobots": int(d.obey_robots),
        "maxToCrawl": d.max_to_crawl,
        "maxToProcess": d.max_to_process,
        "onlyProcessIfNew": int(d.only_process_if_new),
        "seeds": " ".join(d.seeds),
        "roundsCompleted": rounds_completed(s),
        "roundStartTime": int(s.round_start),
        "currentTime": int(now),
        "currentTimeUTC": int(now),
        "apiUrl": d.api_url,
        "urlCrawlPattern": d.url_crawl_pattern,
        "urlProcessPattern": d.url_process_pattern,
        "pageProcessPattern": d.page_process_pattern,
        "urlCrawlRegEx": d.url_crawl_regex,
        "urlProcessRegEx": d.url_process_regex,
        "maxHops": d.max_hops,
        "downloadJson": downloads[0],
        "downloadUrls": downloads[1],
        "notifyEmail": d.notify_email,
        "notifyWebhook": d.notify_webhook,
        # Beyond Diffbot's sample: the other settings a crawl was created with.
        "id": crawl_id,
        "restrictDomain": int(d.restrict_domain),
        "useCanonical": int(d.use_canonical),
        "useProxies": int(d.use_proxies),
        "maxToCrawlPerSubdomain": d.max_to_crawl_per_subdomain,
        "maxToProcessPerSubdomain": d.max_to_process_per_subdomain,
        "seedRecrawlFrequency": float(d.seed_recrawl_frequency),
        "customHeaders": [f"{k}:{v}" for k, v in d.custom_headers],
    }
