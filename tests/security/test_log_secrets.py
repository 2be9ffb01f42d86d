"""Credentials stay out of logs: a controller and a worker whose REDIS_URL, SMTP URL and proxy
URLs carry a password never print it, while still using it (the Redis requires it)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawlbase.config import Config, redact
from crawlfleet.servers import find_redis_server, free_port, wait_for_port
from tests.e2e.conftest import Cluster, base_env, unique

SECRET = "s3cretPa55"


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server that requires a password; its URL carries the password."""
    port = free_port()
    log = tmp_path_factory.mktemp("authredis") / "redis.log"
    proc = subprocess.Popen([find_redis_server(), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                             "--appendonly", "no", "--requirepass", SECRET, "--logfile", str(log)])
    try:
        wait_for_port("127.0.0.1", port, 15.0)
        yield f"redis://:{SECRET}@127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def test_no_log_line_of_the_controller_or_a_worker_shows_a_password(private_redis: str, mongo_url: str,
                                                                    tmp_path: Path) -> None:
    env = {**base_env(private_redis, mongo_url, "sec"), "CRAWLFLEET_LOG_LEVEL": "DEBUG",
           "CRAWLFLEET_SMTP_URL": f"smtp://mailer:{SECRET}@127.0.0.1:{free_port()}",
           "CRAWLFLEET_PROXIES": f"http://pu:{SECRET}@127.0.0.1:{free_port()},http://{SECRET}@127.0.0.1:1"}
    cluster = Cluster(env, tmp_path)
    try:
        worker = cluster.add_worker()
        worker.wait_for("serving the frontier")
        cluster.create(unique("secrets"), "http://127.0.0.1:1/", useProxies=1)  # a crawl's log lines too
        time.sleep(2)
        assert cluster.http.get("/readyz").status_code == 200  # it did use the password
        logs = {"controller": cluster.controller.log, "worker": worker.log}
    finally:
        cluster.stop()
    for name, path in logs.items():
        text = path.read_text(errors="replace")
        assert "serving the frontier at redis://:***@127.0.0.1" in text or name == "controller"
        leaked = [line for line in text.splitlines() if SECRET in line]
        assert not leaked, f"{name} log shows the password:\n" + "\n".join(leaked[:5])


@pytest.mark.parametrize(("text", "shown"), [
    ("redis://:pw@db:6379/0", "redis://:***@db:6379/0"),
    ("rediss://user:pw@db:6380", "rediss://user:***@db:6380"),
    ("mongodb://app:p%40ss@a:27017,b:27017/db?replicaSet=rs", "mongodb://app:***@a:27017,b:27017/db?replicaSet=rs"),
    ("smtp://mail:pw@smtp.example.com:587", "smtp://mail:***@smtp.example.com:587"),
    ("http://u:pw@p1:3128,http://TOKEN@p2:3128", "http://u:***@p1:3128,http://***@p2:3128"),
    ("cannot reach Redis at redis://:pw@db:6379/0 (REDIS_URL): refused",
     "cannot reach Redis at redis://:***@db:6379/0 (REDIS_URL): refused"),
    ("redis://db:6379/0", "redis://db:6379/0"),
    ("http://example.com/a?mail=x@y.z", "http://example.com/a?mail=x@y.z"),
])
def test_redact_hides_the_password_of_every_url(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_the_configuration_prints_without_secrets() -> None:
    config = Config.from_env({"REDIS_URL": "redis://:pw1@db", "MONGO_URL": "mongodb://u:pw2@m",
                              "CRAWLFLEET_PROXIES": "http://u:pw3@p:1", "CRAWLFLEET_SMTP_URL": "smtp://u:pw4@s",
                              "CRAWLFLEET_JWT_SECRET": "pw5"})
    text = repr(config)
    assert "redis://:***@db" in text
    assert not any(f"pw{i}" in text for i in range(1, 6)), text
