"""A worker's telemetry on a real Twisted reactor that gets stuck (run by test_liveness.py).

    python -m tests.ops.stuck_reactor TIMEOUT STUCK_AFTER REDIS_URL

Prints the port, serves /metrics and /healthz through `spiders.extensions.Telemetry` (with the
worker's metrics, a real frontier on REDIS_URL and a lease book) with the reactor beating, then
blocks the reactor for good after STUCK_AFTER seconds, as a page whose parsing never ends would.
The telemetry thread keeps answering.
"""

from __future__ import annotations

import sys
import time
from types import SimpleNamespace

from twisted.internet import asyncioreactor

asyncioreactor.install()  # the worker's reactor (spiders/settings.py)

from scrapy.utils.test import get_crawler  # noqa: E402
from twisted.internet import reactor  # noqa: E402

from crawlbase.config import Config  # noqa: E402
from crawlstore.connection import connect_redis  # noqa: E402
from crawlstore.frontier import Frontier  # noqa: E402
from spiders.extensions import Telemetry  # noqa: E402
from spiders.leases import LeaseBook  # noqa: E402
from spiders.metrics import WorkerMetrics  # noqa: E402


def main() -> None:
    timeout, stuck_after, redis_url = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    config = Config.from_env({"REDIS_URL": "redis://127.0.0.1:1/0", "MONGO_URL": "mongodb://127.0.0.1:1/"})
    ext = Telemetry(get_crawler(settings_dict={"CRAWLFLEET_CONFIG": config}), "127.0.0.1", 0, timeout)
    frontier = Frontier(connect_redis(redis_url), "stuck", config.host_concurrency)
    fleet = SimpleNamespace(metrics=WorkerMetrics(), frontier=frontier, book=LeaseBook(), in_engine=0)
    ext.spider_opened(SimpleNamespace(fleet=fleet))  # type: ignore[arg-type]
    assert ext.server is not None
    print(ext.server.port, flush=True)
    reactor.callLater(stuck_after, time.sleep, 3600)  # type: ignore[attr-defined]
    reactor.run()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
