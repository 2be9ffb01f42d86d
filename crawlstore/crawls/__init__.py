"""Crawls as a whole, across Redis and MongoDB, in pieces that each own one concern:

- `registry`  (registry.py)  which crawls exist: create, get/find/list, change settings, delete;
- `lifecycle` (lifecycle.py) status changes by event, what follows them, the active set's repair;
- `admin`     (admin.py)     the administrator's pause of every crawl, and its resume;
- `rounds`    (rounds.py)    round starts, restarts, and running the rounds and purges that are due.

Below them: `agenda.py` (when rounds and purges are due, in Redis), `jobs.py` (what a
definition becomes in the job hash), `crawl.py` (the `Crawl` callers receive). Decisions come
from `crawlcore` (statuses, rounds, scope) and the Lua scripts (counters, limits, hops).

`CrawlStore` builds the pieces on one Frontier, one database and one clock (see
crawlstore.clock: injected, so that repeating crawls can be tested in seconds) and is the
object callers receive; it has no behaviour of its own. Constructing it does no I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pymongo.database import Database

from ..frontier import Frontier
from ..notify import Outbox
from ..output import OutputStore
from .admin import AdminPause
from .agenda import Agenda
from .crawl import Crawl
from .jobs import DedupeShape
from .lifecycle import Lifecycle
from .registry import CrawlExists, Registry, TooManyCrawls
from .rounds import Rounds

__all__ = ["Crawl", "CrawlExists", "CrawlStore", "TooManyCrawls"]


class CrawlStore:
    """The crawl pieces, wired to shared plumbing: `frontier`, `records` (MongoDB's `crawls`),
    `output` (pages and objects), `outbox` (notifications) and `clock`."""

    def __init__(
        self,
        frontier: Frontier,
        db: Database,
        *,
        dedupe: str = "exact",
        bloom_error_rate: float = 0.001,
        max_crawls_per_token: int = 1000,
        lease_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.frontier = frontier
        self.records = db.crawls
        self.output = OutputStore(db)
        self.outbox = Outbox(frontier.redis, frontier.prefix)
        self.clock = clock
        self.agenda = agenda = Agenda(frontier)
        self.lifecycle = Lifecycle(frontier, self.records, self.outbox, agenda, clock)
        self.admin = AdminPause(frontier, self.lifecycle)
        self.registry = Registry(frontier, self.records, self.output, lifecycle=self.lifecycle, admin=self.admin,
                                 agenda=agenda, dedupe=DedupeShape(dedupe, bloom_error_rate),
                                 max_crawls_per_token=max_crawls_per_token, clock=clock)
        self.rounds = Rounds(frontier, self.output, registry=self.registry, lifecycle=self.lifecycle,
                             agenda=agenda, lease_seconds=lease_seconds, clock=clock)
