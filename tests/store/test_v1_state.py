"""/api/v1's shared state in Redis, on the session's real Redis: logged-out login tokens
(crawlstore.sessions), the request gate's round trip (crawlstore.gate) and the status watcher's
lock and seen set (crawlstore.watch)."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio

from crawlstore.connection import connect_redis
from crawlstore.gate import admit
from crawlstore.keys import V1Keys
from crawlstore.ratelimit import RateLimiter
from crawlstore.sessions import Sessions
from crawlstore.watch import StatusWatch

pytestmark = pytest.mark.servers


def test_a_revoked_session_is_refused_until_the_token_would_have_expired(redis_url: str,
                                                                         unique_prefix: str) -> None:
    client = connect_redis(redis_url)
    sessions = Sessions(client, unique_prefix)
    assert not sessions.revoked("jti-1")
    sessions.revoke("jti-1", 1)
    sessions.revoke("jti-2", -5)  # already expired: still marked for a second
    assert sessions.revoked("jti-1") and sessions.revoked("jti-2") and not sessions.revoked("jti-3")
    assert client.ttl(V1Keys(unique_prefix).jwt_revoked("jti-1")) == 1
    client.close()


def test_the_gate_counts_requests_and_sees_a_logged_out_token_in_one_round_trip(redis_url: str,
                                                                                 unique_prefix: str) -> None:
    sync = connect_redis(redis_url)
    sessions = Sessions(sync, unique_prefix)
    limiter = RateLimiter(sync, V1Keys(unique_prefix).base, 60.0)
    sessions.revoke("gone", 60)
    now = time.time()

    async def run() -> list[tuple[bool, int, bool]]:
        client = redis.asyncio.Redis.from_url(redis_url)
        try:
            out = []
            for jti in ("", "live", "gone"):
                verdict, logged_out = await admit(client, limiter, sessions, "user:u", 2, now, jti)
                out.append((verdict.allowed, verdict.remaining, logged_out))
            return out
        finally:
            await client.aclose()

    assert asyncio.run(run()) == [(True, 1, False), (True, 0, False), (False, 0, True)]
    assert int(sync.get(limiter.key("user:u", now))) == 3
    assert 0 < sync.ttl(limiter.key("user:u", now)) <= 61
    sync.close()


def test_one_watcher_at_a_time_and_the_lock_passes_on_when_its_holder_stops_renewing(
        redis_url: str, unique_prefix: str) -> None:
    client = connect_redis(redis_url)
    first, second = StatusWatch(client, unique_prefix, lock_ms=300), StatusWatch(client, unique_prefix, lock_ms=300)
    assert first.lead("a") and not second.lead("b")
    time.sleep(0.2)
    assert first.lead("a")  # renewed: still a's after the first lease would have ended
    time.sleep(0.2)
    assert not second.lead("b")
    time.sleep(0.35)  # a stopped renewing
    assert second.lead("b") and not first.lead("a")
    client.close()


def test_the_watcher_remembers_the_status_each_crawl_was_last_seen_in(redis_url: str, unique_prefix: str) -> None:
    client = connect_redis(redis_url)
    watch = StatusWatch(client, unique_prefix)
    assert watch.last_seen("c1") is None
    watch.see("c1", "running")
    watch.see("c1", "paused")
    watch.see("c2", "done")
    assert (watch.last_seen("c1"), StatusWatch(client, unique_prefix).last_seen("c2")) == ("paused", "done")
    client.close()
