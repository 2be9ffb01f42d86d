"""The leases one worker holds, from `pop` until their results are committed.

Their number bounds how much work a worker takes (backpressure when MongoDB is slow), and
the committer renews them so a slow download never loses its lease; a dead worker's
leases simply expire.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from crawlcore.wire import FrontierRequest

__all__ = ["Lease", "LeaseBook"]


@dataclass(frozen=True)
class Lease:
    crawl_id: str
    member: bytes  # "host payload", exactly as the frontier returned it
    host: str
    request: FrontierRequest
    round: int = 0  # the crawl round it was leased in

    @classmethod
    def parse(cls, crawl_id: str, member: bytes, round_: int = 0) -> Lease:
        host, _, payload = member.partition(b" ")
        return cls(crawl_id, member, host.decode(), FrontierRequest.decode(payload), round_)


class LeaseBook:
    """Thread-safe record of held leases, by crawl."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, set[bytes]] = {}
        self._count = 0

    def add(self, crawl_id: str, members: list[bytes]) -> None:
        with self._lock:
            held = self._held.setdefault(crawl_id, set())
            before = len(held)
            held.update(members)
            self._count += len(held) - before

    def remove(self, crawl_id: str, members: list[bytes]) -> None:
        with self._lock:
            held = self._held.get(crawl_id)
            if not held:
                return
            before = len(held)
            held.difference_update(members)
            self._count -= before - len(held)
            if not held:
                del self._held[crawl_id]

    def snapshot(self) -> dict[str, list[bytes]]:
        with self._lock:
            return {crawl_id: list(members) for crawl_id, members in self._held.items()}

    def __len__(self) -> int:
        return self._count
