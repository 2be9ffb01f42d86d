"""Redis cost per crawled page: the figure the README's scaling guidance (workers per Redis) uses.

    .venv/bin/python -m bench.redis_cost [--pages 5000] [--links 10 40]

For each links-per-page count: a generated site (nginx when installed, else Python), one worker
on a fresh redis-server, a crawl of every page, and Redis CPU time (`INFO cpu`, sys + user) and
commands (`INFO commandstats`, those run inside Lua scripts included) over the crawl, per page.
The controller's own Redis traffic during the crawl (status polls) is included, as in production.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.frontier import Bench, log
from tests.sites.fixtures import generate_site
from tests.sites.nginx import start_nginx
from tests.sites.process import SiteProcess


def _cpu(info: dict[str, Any]) -> float:
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def _commands(info: dict[str, Any]) -> int:
    return sum(int(stats["calls"]) for stats in info.values())


def measure(bench: Bench, pages: int, links: int) -> dict[str, float]:
    site = generate_site(pages, links_per_page=links, seed=1, page_bytes=6000)
    server = start_nginx(site, tempfile.mkdtemp(prefix="redis-cost-site-"))
    python_server = SiteProcess(site).start() if server is None else None
    base = server.base_url if server is not None else python_server.base_url  # type: ignore[union-attr]
    procs = bench.workers(1)
    try:
        cpu0, cmd0 = _cpu(bench.client.info("cpu")), _commands(bench.client.info("commandstats"))
        started = time.monotonic()
        name, _ = bench.create(base + "/", maxToCrawl=pages)
        job = bench.wait(name)
        seconds = time.monotonic() - started
        cpu1, cmd1 = _cpu(bench.client.info("cpu")), _commands(bench.client.info("commandstats"))
    finally:
        bench.stop_workers(procs)
        if server is not None:
            server.stop()
        if python_server is not None:
            python_server.stop()
    crawled = float(job["pageCrawlAttempts"])
    return {"links": links, "pages": crawled, "redis_cpu_ms_per_page": (cpu1 - cpu0) * 1000 / crawled,
            "redis_commands_per_page": (cmd1 - cmd0) / crawled, "pages_per_second": crawled / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--links", type=int, nargs="+", default=[10, 40])
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="redis-cost-"))
    bench = Bench(args, workdir)
    bench.env["CRAWLFLEET_METRICS_PORT"] = "0"  # no telemetry port needed here
    try:
        for links in args.links:
            r = measure(bench, args.pages, links)
            log(f"{links} links/page: {r['pages']:.0f} pages, {r['redis_cpu_ms_per_page']:.3f} ms Redis CPU/page, "
                f"{r['redis_commands_per_page']:.1f} Redis commands/page, {r['pages_per_second']:.0f} pages/s")
            print(f"  {links:3d} links/page   {r['redis_cpu_ms_per_page']:.2f} ms Redis CPU per page   "
                  f"{r['redis_commands_per_page']:.0f} Redis commands per page", file=sys.stdout, flush=True)
    finally:
        bench.close()


if __name__ == "__main__":
    main()
