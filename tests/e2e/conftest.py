"""End-to-end fixtures: a real controller and two real worker processes on the session's
Redis and MongoDB-wire servers, and the fixture websites on loopback.

Every test uses its own crawl names, so tests share one cluster the way users do.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import email
import io
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from crawlfleet.servers import free_port
from crawlstore.mongo import connect
from crawlstore.tokens import TokenStore
from tests.sites.process import FixtureServers, serve_fixture
from tests.sites.proxy import ForwardingProxy

REPO = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3.0  # short, so that tests of crashed workers finish quickly


class Proc:
    """A crawlfleet process with its log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args = args
        self.env = env
        self.log = log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "crawlfleet", *args], env=env, cwd=REPO, stdout=self._out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_for(self, text: str, timeout: float = 60.0) -> None:
        """Until `text` appears in the log; fails when the process exits or time runs out first."""
        deadline = time.monotonic() + timeout
        while text not in self.log.read_text(errors="replace"):
            assert self.popen.poll() is None, self.tail()
            assert time.monotonic() < deadline, self.tail()
            time.sleep(0.2)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int | None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self._out.close()
        return self.popen.returncode


class Cluster:
    """The processes of one test session's cluster and a client for its API."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.base = f"http://127.0.0.1:{env['CRAWLFLEET_PORT']}"
        self.http = httpx.Client(base_url=self.base, timeout=30.0)
        self.controller = Proc(["controller"], env, workdir / "controller.log")
        self.workers: list[Proc] = []
        self.redis = redis.Redis.from_url(env["REDIS_URL"])
        self.db = connect(env["MONGO_URL"], env["CRAWLFLEET_MONGO_DB"])
        self.token = TokenStore(self.db).create("e2e")
        self._wait_ready()

    def add_worker(self, **extra_env: str) -> Proc:
        n = len(self.workers)
        # a /metrics port of its own: workers on one host must not fight over the default 9410
        env = {**self.env, "CRAWLFLEET_METRICS_PORT": str(free_port()), **extra_env}
        proc = Proc(["worker"], env, self.workdir / f"worker-{n}.log")
        self.workers.append(proc)
        return proc

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.controller.popen.poll() is not None:
                raise RuntimeError("controller exited:\n" + self.controller.tail())
            with contextlib.suppress(httpx.TransportError):
                if self.http.get("/readyz").status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError("controller not ready:\n" + self.controller.tail())

    def logs(self) -> str:
        parts = [f"--- controller\n{self.controller.tail()}"]
        parts += [f"--- worker {i}\n{w.tail()}" for i, w in enumerate(self.workers)]
        return "\n".join(parts)

    def stop(self) -> None:
        for proc in [*self.workers, self.controller]:
            proc.stop()
        self.http.close()
        self.redis.close()
        self.db.client.close()

    # ---------------------------------------------------------------- API helpers

    def crawl(self, method: str = "POST", **params: Any) -> httpx.Response:
        params.setdefault("token", self.token)
        if method == "GET":
            return self.http.get("/v3/crawl", params=params)
        return self.http.post("/v3/crawl", data=params)

    def create(self, name: str, seeds: str, **params: Any) -> dict[str, Any]:
        params.setdefault("crawlDelay", 0)
        resp = self.crawl(name=name, seeds=seeds, **params)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["response"] == "Successfully added urls for spidering."
        return body["jobs"][0]  # type: ignore[no-any-return]

    def job(self, name: str) -> dict[str, Any]:
        resp = self.crawl("GET", name=name)
        assert resp.status_code == 200, resp.text
        return resp.json()["jobs"][0]  # type: ignore[no-any-return]

    def wait(self, name: str, statuses: set[int], timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        job = self.job(name)
        while job["jobStatus"]["status"] not in statuses:
            if time.monotonic() > deadline:
                raise AssertionError(f"crawl {name} still {job['jobStatus']} after {timeout}s\n{self.logs()}")
            time.sleep(0.2)
            job = self.job(name)
        return job

    def url_report(self, name: str, **params: Any) -> list[dict[str, str]]:
        resp = self.http.get("/v3/crawl/data", params={"token": self.token, "name": name, "type": "urls", **params})
        assert resp.status_code == 200, resp.text
        return list(csv.DictReader(io.StringIO(resp.text)))

    def objects(self, name: str, **params: Any) -> Any:
        resp = self.http.get("/v3/crawl/data", params={"token": self.token, "name": name, **params})
        assert resp.status_code == 200, resp.text
        return resp.json() if params.get("format", "json") == "json" else resp.text


def report_hops(rows: list[dict[str, str]]) -> dict[str, int]:
    """{Url: Hop Count} of a URL report, asserting each URL appears once."""
    hops = {row["Url"]: int(row["Hop Count"]) for row in rows}
    assert len(hops) == len(rows), "a URL appears more than once in the URL report"
    return hops


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


class MailBox:
    """An SMTP server on loopback (aiosmtpd) that keeps every message it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        box = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                box.messages.append(email.message_from_bytes(envelope.content))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.url = f"smtp://127.0.0.1:{self.port}"


@pytest.fixture(scope="session")
def mailbox() -> Iterator[MailBox]:
    box = MailBox()
    box.controller.start()
    try:
        yield box
    finally:
        box.controller.stop()


@dataclasses.dataclass
class Proxies:
    """The deployment's proxy pool: a dead proxy first, then a working one."""

    dead: str
    live: ForwardingProxy

    @property
    def pool(self) -> list[str]:
        return [self.dead, self.live.url]


@pytest.fixture(scope="session")
def proxies() -> Iterator[Proxies]:
    with ForwardingProxy() as live:
        yield Proxies(f"http://127.0.0.1:{free_port()}", live)


def base_env(redis_url: str, mongo_url: str, stem: str) -> dict[str, str]:
    """The environment of a test cluster: the session's stores, a key prefix and database of its
    own, short leases and timeouts, and loopback allowed (the test sites; the guard is tested too)."""
    prefix = stem + uuid.uuid4().hex[:6]
    return {
        **os.environ,
        "REDIS_URL": redis_url,
        "MONGO_URL": mongo_url,
        "CRAWLFLEET_MONGO_DB": prefix,
        "CRAWLFLEET_KEY_PREFIX": prefix,
        "CRAWLFLEET_PORT": str(free_port()),
        "CRAWLFLEET_LEASE_SECONDS": str(LEASE_SECONDS),
        "CRAWLFLEET_MAX_TRIES": "3",
        "CRAWLFLEET_DOWNLOAD_TIMEOUT": "5",
        "CRAWLFLEET_LOG_LEVEL": "INFO",
        "CRAWLFLEET_ALLOW_NETWORKS": "127.0.0.0/8",
        "PYTHONPATH": str(REPO),
    }


@pytest.fixture(scope="session")
def cluster_env(redis_url: str, mongo_url: str, mailbox: MailBox, proxies: Proxies) -> dict[str, str]:
    return {
        **base_env(redis_url, mongo_url, "e2e"),
        "CRAWLFLEET_CLOCK": "redis",  # tests of repeating crawls move the cluster's time forward
        "CRAWLFLEET_SMTP_URL": mailbox.url,
        "CRAWLFLEET_PROXIES": ",".join(proxies.pool),
        "CRAWLFLEET_PROXY_BENCH_SECONDS": "30",
    }


@pytest.fixture(scope="session")
def cluster(cluster_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(cluster_env, tmp_path_factory.mktemp("cluster"))
    c.add_worker()
    c.add_worker()
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="session")
def fixture_sites() -> Iterator[FixtureServers]:
    with serve_fixture(slow_delay=0.5) as fx:
        yield fx
