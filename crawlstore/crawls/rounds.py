"""Starting a crawl over: the next round of a repeating crawl (when due, or roundStart=1), a
restart from nothing (restart=1), and working through what the agenda says is due.

A round start is one Lua call (lua/round.lua: the previous round's frontier is dropped, the
per-round counters restart, the seeds are queued again); a full round also frees the seen store
it leaves behind. A restart deletes the crawl's data and seeds it again with its settings; pages
in flight meanwhile may still write old documents, so a purge of those is put on the agenda.
"""

from __future__ import annotations

from collections.abc import Callable

from crawlcore.status import Event, Status

from ..frontier import Frontier
from ..output import OutputStore
from .agenda import Agenda, planned_round
from .jobs import live_definition, seed_discoveries
from .lifecycle import Lifecycle
from .registry import Registry

__all__ = ["PURGE_GRACE_SECONDS", "Rounds"]

#: After a restart, documents older than the restart may still arrive from pages that were in
#: flight; they are removed once more this long after the leases they held have expired.
PURGE_GRACE_SECONDS = 30.0
#: How long a round that came due during an administrator's pause waits before it is tried again.
_ADMIN_PAUSE_RETRY = 60.0


class Rounds:
    def __init__(self, frontier: Frontier, output: OutputStore, *, registry: Registry, lifecycle: Lifecycle,
                 agenda: Agenda, lease_seconds: float, clock: Callable[[], float]) -> None:
        self.frontier = frontier
        self.output = output
        self.registry = registry
        self.lifecycle = lifecycle
        self.agenda = agenda
        self.lease_seconds = lease_seconds
        self.clock = clock

    def start_round(self, crawl_id: str, *, full: bool | None = None) -> Status | None:
        """Start the crawl's next round now (roundStart=1, or the agenda when one is due).
        `full` None: what the schedule says (full rounds every `repeat`, seeds-only between)."""
        live = self.frontier.state(crawl_id)
        if live is None:
            return None
        state, raw = live
        definition = live_definition(raw)
        if full is None:
            plan = planned_round(state, raw)
            full = plan is None or plan[1]
        now = self.clock()
        snap, left_behind = self.frontier.start_round(
            crawl_id, full=full, started=now, seeds=seed_discoveries(definition, definition.seeds))
        if snap is None:
            return None
        if full:
            self.frontier.update_job(crawl_id, {"full_start": now, "next_round": 0})
        if left_behind >= 0:
            self.frontier.drop_seen_round(crawl_id, left_behind)
        self.agenda.unschedule(crawl_id)
        status = self.lifecycle.apply(crawl_id, Event.ROUND_START)
        self.lifecycle.observe(crawl_id, self.lifecycle.snapshot(crawl_id))  # a round without seeds ends at once
        return status

    def restart(self, crawl_id: str) -> Status | None:
        """Remove everything the crawl crawled, keep its settings, and start it again."""
        crawl = self.registry.get(crawl_id)
        if crawl is None or not crawl.live:
            return None
        live = self.frontier.state(crawl_id)
        version = int(live[1].get("v", 1)) if live else 1
        restarted = self.clock()
        self.frontier.delete(crawl_id)
        self.agenda.unschedule(crawl_id)
        self.output.delete_crawl(crawl_id)
        # pages in flight during the restart may still write their (old) documents: remove those
        # again once their leases have surely expired
        self.agenda.schedule_purge(crawl_id, restarted, restarted + self.lease_seconds + PURGE_GRACE_SECONDS)
        self.registry.seed(crawl_id, crawl.token_id, crawl.definition, created=crawl.state.created, version=version)
        state = self.frontier.state(crawl_id)
        return state[0].status if state else None

    def run_due(self) -> int:
        """Start the rounds that are due and run the purges that are due; returns how many.
        Several controllers may call this: each item is claimed by removing it first."""
        now = self.clock()
        done = 0
        for crawl_id in self.agenda.claim_due_rounds(now):
            live = self.frontier.state(crawl_id)
            if live is not None and live[0].status is not Status.ADMIN_PAUSED:
                self.start_round(crawl_id)
                done += 1
            elif live is not None:  # administrator pause: try again later
                self.agenda.postpone(crawl_id, now + _ADMIN_PAUSE_RETRY)
        for crawl_id, before in self.agenda.claim_due_purges(now):
            self.output.delete_older(crawl_id, before)
            done += 1
        return done
