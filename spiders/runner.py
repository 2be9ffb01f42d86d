"""`crawlfleet worker`: run one Scrapy process with the fleet spider until SIGTERM/SIGINT."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawlfleet.config import Config
from crawlstore.settings_store import apply_cluster

__all__ = ["run", "worker_settings"]


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


def run(config: Config) -> None:
    if config.role == "process":  # no Scrapy: pages come from crawl workers (spiders.handoff)
        from .handoff import run_process_worker

        run_process_worker(config)
        return
    config = apply_cluster(config)  # what an admin set through /api/v1/admin/settings
    settings = Settings()
    settings.setmodule("spiders.settings", priority="project")
    settings.update(worker_settings(config), priority="cmdline")
    process = CrawlerProcess(settings)
    process.crawl("fleet")
    process.start()
