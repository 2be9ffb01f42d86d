"""`crawlfleet worker`: run one Scrapy process with the fleet spider until SIGTERM/SIGINT.

Before the spider starts, the worker checks that the resolver installed in its reactor is the
private-network guard's (`spiders.netguard.check_resolver`); if it is not, the worker logs why
and exits with status 3 without fetching anything.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.log import failure_to_exc_info
from scrapy.utils.reactor import install_reactor
from twisted.python.failure import Failure

from crawlbase.config import Config
from crawlstore.settings_store import apply_cluster

from .netguard import check_resolver, guard_of

__all__ = ["UNGUARDED_EXIT", "run", "worker_settings"]

log = logging.getLogger(__name__)

UNGUARDED_EXIT = 3  # the exit status of a worker whose resolver does not guard

# spiders.settings sets DNS_RESOLVER (read by Scrapy 2.13-2.14) next to TWISTED_DNS_RESOLVER;
# newer versions warn about the old name.
warnings.filterwarnings("ignore", message="The DNS_RESOLVER setting is deprecated", category=ScrapyDeprecationWarning)


def worker_settings(config: Config) -> dict[str, Any]:
    """Scrapy settings derived from the deployment configuration."""
    return {
        "CRAWLFLEET_CONFIG": config,
        "REDIS_URL": config.redis_url,
        "CONCURRENT_REQUESTS": config.concurrency,
        # per-host limits are the frontier's, cluster-wide; Scrapy's own slot must not add one
        "CONCURRENT_REQUESTS_PER_DOMAIN": config.concurrency,
        "DOWNLOAD_TIMEOUT": config.download_timeout,
        "DOWNLOAD_MAXSIZE": config.download_maxsize,
        "DOWNLOAD_WARNSIZE": 0,
        "USER_AGENT": config.user_agent,
        "CRAWLFLEET_ROBOTS_DELAY_CAP": config.robots_delay_cap,
        "CRAWLFLEET_ALLOW_NETWORKS": config.allow_networks,
        "CRAWLFLEET_PROXIES": config.proxies,
        "CRAWLFLEET_PROXY_BENCH_SECONDS": config.proxy_bench_seconds,
        "LOG_LEVEL": config.log_level,
    }


def run(config: Config, overrides: dict[str, Any] | None = None) -> int:
    """Run the worker until it is stopped; its exit status. `overrides`: Scrapy settings (tests)."""
    if config.role == "process":  # no Scrapy: pages come from crawl workers (spiders.handoff)
        from .handoff import run_process_worker

        run_process_worker(config)
        return 0
    config = apply_cluster(config)  # what an admin set through /api/v1/admin/settings
    settings = Settings()
    settings.setmodule("spiders.settings", priority="project")
    settings.update(worker_settings(config), priority="cmdline")
    settings.update(overrides or {}, priority="cmdline")
    # the reactor Scrapy would install with the crawl, installed now: the check runs before the crawl
    install_reactor(settings["TWISTED_REACTOR"], settings["ASYNCIO_EVENT_LOOP"])
    process = CrawlerProcess(settings)
    from twisted.internet import reactor as installed

    reactor: Any = installed

    refused: list[str] = []
    failed: list[Failure] = []

    def stop(result: Any = None) -> None:
        if isinstance(result, Failure):
            log.error("the worker's crawl failed", exc_info=failure_to_exc_info(result))
            failed.append(result)
        with contextlib.suppress(RuntimeError):  # already stopping (a signal)
            reactor.stop()

    async def start() -> None:
        reason = await check_resolver(reactor, guard_of(settings))
        if reason is not None:
            log.error("the private-network guard is not installed (%s): the worker does not start", reason)
            refused.append(reason)
            stop()
            return
        process.crawl("fleet").addBoth(stop)

    reactor.callWhenRunning(lambda: deferred_from_coro(start()))
    process.start(stop_after_crawl=False)
    return UNGUARDED_EXIT if refused else 1 if failed else 0
