"""The guarded resolver is the one installed, on every Scrapy version setup.py allows: a worker
whose settings would install Scrapy's plain resolver (under either setting name: Scrapy
2.13-2.14 read DNS_RESOLVER, later versions TWISTED_DNS_RESOLVER) refuses to start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, Cluster
from tests.security.conftest import guarded_base

PLAIN = "scrapy.resolver.CachingThreadedResolver"
WORKER = ("import sys; from crawlbase.config import Config; from spiders.runner import run; "
          "sys.exit(run(Config.from_env(), {%r: %r}))")


@pytest.mark.parametrize("allowlist", ["", "127.0.0.0/8"])  # probes: localhost, or a private address
@pytest.mark.parametrize("setting", ["TWISTED_DNS_RESOLVER", "DNS_RESOLVER"])
def test_a_worker_with_the_plain_resolver_refuses_to_start(redis_url: str, mongo_url: str, tmp_path: Path,
                                                           setting: str, allowlist: str) -> None:
    env = {**guarded_base(redis_url, mongo_url, "secresolver"), "CRAWLFLEET_ALLOW_NETWORKS": allowlist,
           "CRAWLFLEET_METRICS_PORT": "0"}
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.run([sys.executable, "-c", WORKER % (setting, PLAIN)], env=env, cwd=REPO, stdout=out,
                              stderr=subprocess.STDOUT, timeout=120)
    text = log.read_text(errors="replace")
    assert proc.returncode == 3, text
    assert "the private-network guard is not installed" in text
    probe = "localhost" if not allowlist else "169.254.169.254"
    assert f"resolved {probe} to" in text
    assert "serving the frontier" not in text


def test_the_normal_worker_starts(redis_url: str, mongo_url: str, tmp_path: Path) -> None:
    cluster = Cluster({**guarded_base(redis_url, mongo_url, "secresolver"), "CRAWLFLEET_ALLOW_NETWORKS": ""}, tmp_path)
    try:
        worker = cluster.add_worker()
        worker.wait_for("serving the frontier")
        assert "guard is not installed" not in worker.log.read_text(errors="replace")
    finally:
        cluster.stop()
