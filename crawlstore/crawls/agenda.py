"""What is due when: the next round of each repeating crawl, and the purges that follow a restart.

Two sorted sets scored by the time an item is due (`GlobalKeys.rounds` and `.purges`, see
keys.py). An item is claimed by removing it, so several controllers may work through the
agenda at once: only the one whose removal succeeded acts on it. When a round is due is
`crawlcore.rounds.next_round`'s decision; this module only records it.
"""

from __future__ import annotations

from collections.abc import Iterator

from crawlcore.job import JobState
from crawlcore.rounds import next_round

from ..connection import text
from ..frontier import Frontier
from .jobs import live_definition

__all__ = ["Agenda", "planned_round"]

_BATCH = 100  # items claimed per pass


def planned_round(state: JobState, raw: dict[str, str]) -> tuple[float, bool] | None:
    """(start time, full?) of the round after the current one of a live job (None: no repeat)."""
    return next_round(live_definition(raw), round_start=state.round_start,
                      full_start=float(raw.get("full_start", state.round_start)))


class Agenda:
    def __init__(self, frontier: Frontier) -> None:
        self.frontier = frontier
        self._rounds = frontier.globals.rounds
        self._purges = frontier.globals.purges

    def plan(self, crawl_id: str) -> None:
        """Schedule the crawl's next round as its definition says (none for a crawl that does not repeat)."""
        live = self.frontier.state(crawl_id)
        if live is None:
            return
        plan = planned_round(*live)
        if plan is None:
            self.frontier.redis.zrem(self._rounds, crawl_id)
            return
        self.frontier.update_job(crawl_id, {"next_round": plan[0]})
        self.frontier.redis.zadd(self._rounds, {crawl_id: plan[0]})

    def unschedule(self, crawl_id: str) -> None:
        self.frontier.redis.zrem(self._rounds, crawl_id)

    def postpone(self, crawl_id: str, until: float) -> None:
        self.frontier.redis.zadd(self._rounds, {crawl_id: until})

    def claim_due_rounds(self, now: float) -> Iterator[str]:
        """The crawls whose round is due, each removed from the agenda as it is yielded."""
        for raw in self.frontier.redis.zrangebyscore(self._rounds, "-inf", now, start=0, num=_BATCH):
            crawl_id = text(raw)
            if self.frontier.redis.zrem(self._rounds, crawl_id):
                yield crawl_id

    def schedule_purge(self, crawl_id: str, before: float, at: float) -> None:
        """At `at`, remove the crawl's documents crawled before `before`."""
        self.frontier.redis.zadd(self._purges, {f"{crawl_id}@{before}": at})

    def claim_due_purges(self, now: float) -> Iterator[tuple[str, float]]:
        """(crawl id, before) of the purges that are due, each removed as it is yielded."""
        for raw in self.frontier.redis.zrangebyscore(self._purges, "-inf", now, start=0, num=_BATCH):
            member = text(raw)
            if self.frontier.redis.zrem(self._purges, member):
                crawl_id, _, before = member.partition("@")
                yield crawl_id, float(before)
