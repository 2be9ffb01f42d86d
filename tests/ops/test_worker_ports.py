"""Several workers on one machine each serve /metrics and /healthz on a port of their own.

`crawlfleet up --workers 2` gives its workers distinct telemetry ports from
CRAWLFLEET_METRICS_PORT up (skipping busy ones) and prints them; a real cluster runs, so the
check is that both printed ports answer, from two different worker processes.
"""

from __future__ import annotations

import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from crawlfleet.servers import free_port
from tests.test_up import Up, require_controller_and_worker, start_up  # noqa: F401  (start_up: a fixture)

pytestmark = pytest.mark.servers

METRICS_LINE = re.compile(r"http://127\.0\.0\.1:(\d+)/metrics\s+\((worker-\d+)")


def scrape(url: str, deadline: float) -> tuple[int, str]:
    """GET url until it answers (the worker binds once its spider opens) or the deadline passes."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while True:
        try:
            with opener.open(url, timeout=5) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def worker_ports(up: Up, count: int) -> dict[str, int]:
    up.wait_for(r"API token:")
    found = {name: int(port) for port, name in METRICS_LINE.findall(up.output())}
    assert len(found) == count, up.output()
    return found


def assert_each_worker_serves(up: Up, ports: dict[str, int]) -> None:
    deadline = time.monotonic() + 60
    for name, port in ports.items():
        status, body = scrape(f"http://127.0.0.1:{port}/metrics", deadline)
        assert status == 200, (name, body)
        assert "crawlfleet_worker_heartbeat_age_seconds" in body, name
        status, body = scrape(f"http://127.0.0.1:{port}/healthz", deadline)
        assert status == 200 and '"status": "ok"' in body, (name, body)
    logs = up.data_dir / "logs"
    for name in ports:
        text = (logs / f"{name}.log").read_text(errors="replace")
        assert "Address already in use" not in text and "cannot serve" not in text, text[-2000:]
        assert re.search(r"metrics on http://127\.0\.0\.1:\d+/metrics", text), text[-2000:]


def test_up_gives_every_worker_its_own_metrics_port(
    start_up: Callable[..., Up], redis_url: str, mongo_url: str, unique_prefix: str  # noqa: F811
) -> None:
    require_controller_and_worker()
    up = start_up("--workers", "2", REDIS_URL=redis_url, MONGO_URL=mongo_url,
                  CRAWLFLEET_MONGO_DB=unique_prefix, CRAWLFLEET_KEY_PREFIX=unique_prefix)
    ports = worker_ports(up, 2)
    assert len(set(ports.values())) == 2, ports
    assert 9410 in ports.values() or all(p > 9410 for p in ports.values()), ports  # from the default up
    assert_each_worker_serves(up, ports)
    assert up.stop() == 0, up.report()
    up.assert_nothing_left()


def test_up_skips_a_busy_metrics_port(
    start_up: Callable[..., Up], redis_url: str, mongo_url: str, unique_prefix: str, tmp_path: Path  # noqa: F811
) -> None:
    require_controller_and_worker()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", free_port()))
        busy.listen()
        taken = busy.getsockname()[1]
        up = start_up("--workers", "2", REDIS_URL=redis_url, MONGO_URL=mongo_url,
                      CRAWLFLEET_MONGO_DB=unique_prefix, CRAWLFLEET_KEY_PREFIX=unique_prefix,
                      CRAWLFLEET_METRICS_PORT=str(taken))
        ports = worker_ports(up, 2)
        assert taken not in ports.values() and len(set(ports.values())) == 2, ports
        assert all(port > taken for port in ports.values()), ports
        assert_each_worker_serves(up, ports)
    assert up.stop() == 0, up.report()
    up.assert_nothing_left()


def test_up_prints_no_worker_ports_when_telemetry_is_off(
    start_up: Callable[..., Up], redis_url: str, mongo_url: str, unique_prefix: str  # noqa: F811
) -> None:
    require_controller_and_worker()
    up = start_up("--workers", "1", REDIS_URL=redis_url, MONGO_URL=mongo_url,
                  CRAWLFLEET_MONGO_DB=unique_prefix, CRAWLFLEET_KEY_PREFIX=unique_prefix,
                  CRAWLFLEET_METRICS_PORT="0")
    up.wait_for(r"API token:")
    assert "CRAWLFLEET_METRICS_PORT=0" in up.output() and not METRICS_LINE.search(up.output())
    assert up.stop() == 0, up.report()
    up.assert_nothing_left()


def test_metrics_ports_skip_busy_ports_and_the_controllers() -> None:
    from crawlfleet.up import _metrics_ports

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", free_port()))
        busy.listen()
        taken = busy.getsockname()[1]
        ports = _metrics_ports("127.0.0.1", taken, 3, avoid={taken + 1})
    assert len(set(ports)) == 3 and min(ports) > taken + 1, ports
    assert _metrics_ports("127.0.0.1", 0, 2) == [0, 0]
