"""The controller's probes: /healthz is the process; /readyz answers 503 within its timeout when
Redis or MongoDB is stopped, or hangs (accepts connections and never answers)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from starlette.testclient import TestClient

from controller.app import create_app
from controller.health import READY_TIMEOUT
from crawlbase.config import Config
from crawlfleet.servers import free_port, start_mongo, start_redis

LIMIT = READY_TIMEOUT + 1.5  # the answer comes within this, whatever the stores do


class BlackHole:
    """A TCP server that accepts connections and never says a word (a hung store)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def ready(client: TestClient) -> tuple[int, dict[str, str], float]:
    start = time.monotonic()
    resp = client.get("/readyz")
    return resp.status_code, resp.json()["checks"], time.monotonic() - start


def test_ready_when_both_stores_answer(config: Config) -> None:
    with TestClient(create_app(config)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        status, checks, _ = ready(client)
        assert (status, checks) == (200, {"redis": "ok", "mongodb": "ok"})


def test_stopped_redis_is_not_ready_and_comes_back(config: Config, tmp_path: Path) -> None:
    port = free_port()
    proc = start_redis(port, data_dir=None, log_path=tmp_path / "redis.log")
    try:
        with TestClient(create_app(config.replace(redis_url=proc.url))) as client:
            assert ready(client)[0] == 200
            proc.stop()
            status, checks, took = ready(client)
            assert status == 503 and checks["mongodb"] == "ok"
            assert checks["redis"].startswith("error: "), checks
            assert took < LIMIT
            assert client.get("/healthz").status_code == 200  # alive: a restart would not help
            proc = start_redis(port, data_dir=None, log_path=tmp_path / "redis-2.log")
            assert ready(client)[0] == 200
    finally:
        proc.stop()


def test_hung_redis_answers_503_within_the_timeout(config: Config) -> None:
    hole = BlackHole()
    try:
        with TestClient(create_app(config.replace(redis_url=f"redis://127.0.0.1:{hole.port}/0"))) as client:
            status, checks, took = ready(client)
            assert status == 503 and checks == {"redis": "error: TimeoutError", "mongodb": "ok"}
            assert READY_TIMEOUT - 0.5 < took < LIMIT
    finally:
        hole.close()


def test_stopped_mongodb_answers_503_within_the_timeout(config: Config, tmp_path: Path) -> None:
    proc = start_mongo(free_port(), storage_path=None, log_path=tmp_path / "mongo.log")
    try:
        with TestClient(create_app(config.replace(mongo_url=proc.url))) as client:
            assert ready(client)[0] == 200
            proc.stop()
            status, checks, took = ready(client)
            assert status == 503 and checks["redis"] == "ok"
            assert checks["mongodb"].startswith("error: "), checks
            assert took < LIMIT
    finally:
        proc.stop()


def test_both_stores_hung_still_answer_in_time(config: Config, tmp_path: Path) -> None:
    """Checks run at the same time: two hung stores cost one timeout, not two."""
    hole = BlackHole()
    proc = start_mongo(free_port(), storage_path=None, log_path=tmp_path / "mongo.log")
    try:
        app = create_app(config.replace(redis_url=f"redis://127.0.0.1:{hole.port}/0", mongo_url=proc.url))
        with TestClient(app) as client:
            proc.stop()
            status, checks, took = ready(client)
            assert status == 503 and set(checks) == {"redis", "mongodb"}
            assert all(v.startswith("error: ") for v in checks.values()), checks
            assert took < LIMIT
    finally:
        hole.close()
        proc.stop()
