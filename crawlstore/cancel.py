"""Stopping a crawl now: drop its pending work, then let it finish (ArchiveBox's "seal").

Stopping is three steps, each safe to repeat, so a controller that dies half-way leaves a
crawl that the next pass (any replica's housekeeper) finishes:

1. pause it (no new leases are handed out);
2. one Lua call drops every queued request, re-expansion task and expired lease;
3. once no lease is in flight (their pages are stored, the links they found are queued and
   dropped again by step 2), resume it with nothing queued: the usual drained check ends it
   (completed, or a limit or failure status).
"""

from __future__ import annotations

from dataclasses import dataclass

from crawlcore.status import Event, Status

from .crawls import CrawlStore

__all__ = ["Cancelled", "Canceller"]

_CANCEL = """
local JOB = KEYS[1]
local BASE = ARGV[1]
local function key(s) return BASE .. s end
local status = redis.call('HGET', JOB, 'status')
if not status then return {-1, 0, 0} end
if status ~= ARGV[2] then return {-2, 0, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', key('leases'), '-inf', now)
for _, m in ipairs(expired) do
  redis.call('ZREM', key('leases'), m)
  local sp = string.find(m, ' ', 1, true)
  local host, flag = string.sub(m, 1, sp - 1), string.sub(m, sp + 1, sp + 1)
  if flag ~= 'X' then
    redis.call('HINCRBY', key('hinf'), host, -1)
    if flag == 'P' then redis.call('HINCRBY', JOB, 'pres', -1) end
  end
end
local dropped = redis.call('LLEN', key('xq'))
for _, host in ipairs(redis.call('SMEMBERS', key('hosts'))) do
  dropped = dropped + redis.call('LLEN', key('q:' .. host))
  redis.call('DEL', key('q:' .. host))
end
redis.call('DEL', key('xq'), key('sched'))
redis.call('HSET', JOB, 'q', 0)
local leased = redis.call('ZCARD', key('leases'))
if leased == 0 then
  redis.call('DEL', key('hinf'))
  redis.call('HSET', JOB, 'pres', 0)
end
return {leased, dropped, #expired}
"""


@dataclass(frozen=True)
class Cancelled:
    done: bool  # the crawl has ended (or no longer exists)
    dropped: int  # queued requests dropped by this pass
    in_flight: int  # leases still out (the next pass finishes the job)


class Canceller:
    def __init__(self, crawls: CrawlStore) -> None:
        self.crawls = crawls
        self.frontier = crawls.frontier
        self._script = self.frontier.redis.register_script(_CANCEL)

    def _drop(self, crawl_id: str, expected: Status) -> tuple[int, int]:
        keys = self.frontier.keys(crawl_id)
        leased, dropped, _ = self._script(keys=[keys.job], args=[keys.base, int(expected)])
        return int(leased), int(dropped)

    def stop(self, crawl_id: str) -> Cancelled:
        """One pass of stopping `crawl_id` (see the module docstring)."""
        live = self.frontier.state(crawl_id)
        if live is None:
            return Cancelled(True, 0, 0)
        status = live[0].status
        if status in (Status.INITIALIZING, Status.IN_PROGRESS, Status.NEXT_ROUND, Status.ADMIN_PAUSED):
            status = self.crawls.lifecycle.apply(crawl_id, Event.PAUSE) or status
        if status is not Status.PAUSED:
            if status in (Status.IN_PROGRESS, Status.INITIALIZING, Status.NEXT_ROUND, Status.ADMIN_PAUSED):
                return Cancelled(False, 0, live[0].leased)  # could not pause yet: try again later
            leased, dropped = self._drop(crawl_id, status)  # already ended: clear anything left over
            return Cancelled(True, dropped, leased)
        leased, dropped = self._drop(crawl_id, Status.PAUSED)
        if leased < 0:
            return Cancelled(leased == -1, dropped, 0)
        if leased > 0:
            return Cancelled(False, dropped, leased)
        self.crawls.lifecycle.apply(crawl_id, Event.RESUME)
        self.crawls.lifecycle.observe(crawl_id, self.crawls.lifecycle.snapshot(crawl_id))
        return Cancelled(True, dropped, 0)
