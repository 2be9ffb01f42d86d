"""The clock crawl schedules run on, injected so that tests of repeating crawls take seconds.

`system` is the time of day. `redis` adds an offset stored in Redis under
`{prefix}:clock:offset`, shared by every process of a deployment, so that a test can move
the whole cluster's time forward by days (`advance`). Politeness and leases always use Redis's
own time and are not affected.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from crawlstore.connection import Client

__all__ = ["Clock", "advance", "make_clock"]

Clock = Callable[[], float]
_CACHE_SECONDS = 0.2  # how long a read offset is reused (keeps a Redis call off hot paths)


def _offset_key(prefix: str) -> str:
    return f"{prefix}:clock:offset"


def make_clock(kind: str, client: Client, prefix: str) -> Clock:
    if kind == "system":
        return time.time
    lock = threading.Lock()
    cached = [0.0, -1.0]  # offset, monotonic time it was read

    def now() -> float:
        with lock:
            if time.monotonic() - cached[1] > _CACHE_SECONDS:
                cached[0] = float(client.get(_offset_key(prefix)) or 0.0)
                cached[1] = time.monotonic()
            return time.time() + cached[0]

    return now


def advance(client: Client, prefix: str, seconds: float) -> float:
    """Move a `redis` clock forward; returns the new offset."""
    return float(client.incrbyfloat(_offset_key(prefix), seconds))
