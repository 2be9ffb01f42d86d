"""The administrator's pause of every crawl for maintenance (status 8), and its resume.

While the pause lasts (`GlobalKeys.admin_paused` is set), crawls created or restarted start
paused too: the registry asks `paused()`. The lifecycle keeps the status a pause took a crawl
out of (`prev` in the job hash); `resume` gives it back. A crawl that was waiting for its next
round gets that status back directly, since no event leads to it.
"""

from __future__ import annotations

from crawlcore.status import Event, Status

from ..connection import text
from ..frontier import Frontier
from .lifecycle import Lifecycle

__all__ = ["AdminPause"]


class AdminPause:
    def __init__(self, frontier: Frontier, lifecycle: Lifecycle) -> None:
        self.frontier = frontier
        self.lifecycle = lifecycle
        self._key = frontier.globals.admin_paused

    def paused(self) -> bool:
        return bool(self.frontier.redis.exists(self._key))

    def pause(self) -> int:
        """Pause every crawl for maintenance (status 8); new crawls start paused too."""
        self.frontier.redis.set(self._key, 1)
        paused = 0
        for crawl_id in self._all_ids():
            if self.lifecycle.apply(crawl_id, Event.ADMIN_PAUSE) is Status.ADMIN_PAUSED:
                paused += 1
        return paused

    def resume(self) -> int:
        """Give every crawl the administrator paused back the status it had."""
        self.frontier.redis.delete(self._key)
        resumed = 0
        for crawl_id in self._all_ids():
            live = self.frontier.state(crawl_id)
            if live is None or live[0].status is not Status.ADMIN_PAUSED:
                continue
            previous = Status(int(live[1].get("prev", int(Status.IN_PROGRESS))))
            if previous is Status.NEXT_ROUND:  # waiting for its next round: give that back
                if self.frontier.set_status(crawl_id, [Status.ADMIN_PAUSED], Status.NEXT_ROUND) is not None:
                    self.lifecycle.sync_record(crawl_id)
            else:
                self.lifecycle.apply(crawl_id, Event.ADMIN_RESUME)
                self.lifecycle.observe(crawl_id, self.lifecycle.snapshot(crawl_id))
            resumed += 1
        return resumed

    def _all_ids(self) -> list[str]:
        return [text(raw) for raw in self.frontier.redis.smembers(self.frontier.globals.crawls)]
