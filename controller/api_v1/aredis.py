"""An asyncio Redis client for the hot paths of /api/v1 (rate limit, live crawl counters), so a
cached request never leaves the event loop for a worker thread.

One client per event loop. The app's lifespan closes the client of its loop (`aclose`); a client
made on another loop is closed when that loop shuts down (an async generator that the loop
finalizes with `shutdown_asyncgens`).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio
import redis.asyncio.cluster

__all__ = ["AsyncRedis"]


async def _close_with_the_loop(client: Any) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await client.aclose()


class AsyncRedis:
    def __init__(self, url: str, cluster: bool) -> None:
        self.url = url
        self.cluster = cluster
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()
        self._keepers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()

    async def client(self) -> Any:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            options: dict[str, Any] = {"socket_timeout": 10, "health_check_interval": 30}
            if self.cluster:
                client = redis.asyncio.cluster.RedisCluster.from_url(self.url, **options)
            else:
                client = redis.asyncio.Redis.from_url(self.url, **options)
            keeper = _close_with_the_loop(client)
            await keeper.__anext__()
            self._clients[loop] = client
            self._keepers[loop] = keeper
        return client

    async def aclose(self) -> None:
        """Close the running loop's client, if it made one."""
        loop = asyncio.get_running_loop()
        self._clients.pop(loop, None)
        keeper = self._keepers.pop(loop, None)
        if keeper is not None:
            await keeper.aclose()  # its `finally` closes the client
