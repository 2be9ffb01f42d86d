"""Fixtures for the attack tests: a cluster whose guard allows only 127.0.0.1, and an "internal"
service on 127.0.0.2 that records every request it gets (it must get none it should not).

The cluster is the real thing (a controller and a worker process on the session's stores);
tests/e2e/conftest.py's Cluster class drives it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import Cluster, base_env
from tests.security.support_outbound import Answer, Scripted, scripted

GUARD = "127.0.0.1/32"  # the only network the guarded cluster may reach
INTERNAL_HOST = "127.0.0.2"  # stands for a private service the crawler must never reach
INTERNAL_BODY = {"objects": [{"type": "secret", "title": "internal data"}], "secret": "internal data"}


#: The type of the `internal` fixture: a scripted server (tests.security.support_outbound).
Internal = Scripted


@pytest.fixture(scope="session")
def internal() -> Iterator[Internal]:
    """An HTTP service on 127.0.0.2 answering JSON to everything; `hits` lists what it was sent."""
    body = json.dumps(INTERNAL_BODY).encode()
    with scripted(lambda hit: Answer(200, body), host=INTERNAL_HOST) as server:
        yield server


def guarded_base(redis_url: str, mongo_url: str, stem: str) -> dict[str, str]:
    """The environment of a cluster of its own (key prefix, database and port) whose guard allows
    127.0.0.1 only (127.0.0.2 is "private"). Clusters must not share a prefix: a worker of one would
    serve the crawls of the other with its own settings."""
    return {**base_env(redis_url, mongo_url, stem), "CRAWLFLEET_ALLOW_NETWORKS": GUARD}


@pytest.fixture(scope="session")
def guarded_env(redis_url: str, mongo_url: str) -> dict[str, str]:
    """The environment of the `guarded` cluster (for other clusters: guarded_base)."""
    return guarded_base(redis_url, mongo_url, "sec")


@pytest.fixture(scope="session")
def guarded(guarded_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A controller and one worker under the 127.0.0.1-only guard."""
    c = Cluster(guarded_env, tmp_path_factory.mktemp("guarded"))
    c.add_worker()
    try:
        yield c
    finally:
        c.stop()


def wait_healthy(url: str, timeout: float = 60.0) -> None:
    """Until a worker's /healthz first answers 200 (it starts with the session)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=5.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} never answered"
        time.sleep(0.2)


def complete_while_healthy(cluster: Cluster, name: str, health_url: str, timeout: float) -> None:
    """Until crawl `name` completes (status 9), checking all along that the worker's /healthz
    answers 200 within 10 s (a worker held by hostile input would not)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=10.0) as client:
        while cluster.job(name)["jobStatus"]["status"] != 9:
            assert time.monotonic() < deadline, f"crawl not done in {timeout:.0f} s\n{cluster.logs()}"
            try:
                health = client.get(health_url)
            except httpx.TimeoutException:
                pytest.fail("the worker's /healthz did not answer within 10 s")
            assert health.status_code == 200, health.text
            time.sleep(0.2)
