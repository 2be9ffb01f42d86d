"""The app's background threads, each a `threading.Thread` with a `halt` event: the lifespan
starts them once the stores are open, and at its end halts them and waits for them.

    maintenance         starts due rounds and purges, repairs the active set (`Maintenance`)
    notifier            /v3 notifyWebhook and notifyEmail deliveries (controller.notifier)
    api-v1-housekeeper  /api/v1 stops, webhook events and deliveries (controller.api_v1.housekeeper)

A halted thread ends after the round it is in; one blocked on a store that does not answer ends
when the lifespan closes that store's connections.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from crawlstore.crawls import CrawlStore

__all__ = ["RECONCILE_EVERY", "Background", "Maintenance"]

log = logging.getLogger(__name__)

RECONCILE_EVERY = 10.0  # seconds between repairs of the active set


class Halting(Protocol):
    name: str
    halt: threading.Event

    def start(self) -> None: ...
    def join(self, timeout: float | None = None) -> None: ...
    def is_alive(self) -> bool: ...


class Maintenance(threading.Thread):
    """Start due rounds and purges every second; repair the active set every RECONCILE_EVERY."""

    def __init__(self, crawls: CrawlStore) -> None:
        super().__init__(name="maintenance", daemon=True)
        self.crawls = crawls
        self.halt = threading.Event()

    def run(self) -> None:
        last_reconcile = time.monotonic()
        while not self.halt.wait(1.0):
            try:
                self.crawls.rounds.run_due()
                if time.monotonic() - last_reconcile >= RECONCILE_EVERY:
                    last_reconcile = time.monotonic()
                    self.crawls.lifecycle.reconcile_active()
            except Exception:  # a store outage must not kill the loop; /readyz reports it
                log.warning("crawl maintenance failed", exc_info=True)


class Background:
    """The threads one lifespan started."""

    def __init__(self) -> None:
        self.threads: list[Halting] = []

    def start(self, thread: Halting) -> None:
        thread.start()
        self.threads.append(thread)

    def halt(self) -> None:
        for thread in self.threads:
            thread.halt.set()

    def join(self, timeout: float) -> list[str]:
        """Wait up to `timeout` seconds in all for the threads to end; the names of those still running."""
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return [thread.name for thread in self.threads if thread.is_alive()]
