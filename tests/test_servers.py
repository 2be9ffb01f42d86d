"""Tests of crawlfleet.servers: Redis and SecantusDB as child processes that die with their parent."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from pymongo import MongoClient

from crawlfleet import servers
from crawlfleet.servers import (
    ServerError,
    free_port,
    spawn,
    start_mongo,
    start_redis,
    stop_all,
    wait_for_port,
)

pytestmark = pytest.mark.servers

REPO_ROOT = Path(__file__).resolve().parents[1]


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_redis_without_data_dir_answers_ping_and_writes_nothing(tmp_path: Path) -> None:
    proc = start_redis(free_port(), data_dir=None, log_path=tmp_path / "redis.log")
    with proc:
        client = redis.Redis.from_url(proc.url)
        try:
            assert client.ping()
            assert client.config_get("appendonly") == {"appendonly": "no"}
            assert client.config_get("save") == {"save": ""}
        finally:
            client.close()
        # Its own session: a terminal's Ctrl-C (sent to our process group) does not reach it.
        assert os.getsid(proc.pid) == proc.pid != os.getsid(0)
    assert proc.returncode == 0, proc.log_tail()
    assert not alive(proc.pid)
    assert "ready to accept connections" in (tmp_path / "redis.log").read_text().lower()


def test_redis_with_data_dir_persists(tmp_path: Path) -> None:
    data = tmp_path / "redis"
    with start_redis(free_port(), data_dir=data) as proc:
        client = redis.Redis.from_url(proc.url)
        try:
            assert client.config_get("appendonly") == {"appendonly": "yes"}
            client.set("k", "v")
        finally:
            client.close()
        aof = data / "appendonlydir"
        assert aof.is_dir() and any(aof.iterdir()), f"no AOF in {data}: {sorted(os.listdir(data))}"
    assert (data / "redis.log").is_file()  # the default log place with a data dir

    with start_redis(free_port(), data_dir=data) as proc:  # a new port, the same data
        client = redis.Redis.from_url(proc.url)
        try:
            assert client.get("k") == b"v"
        finally:
            client.close()


def test_redis_that_cannot_listen_fails_with_its_log(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with pytest.raises(ServerError) as info:
            start_redis(port, data_dir=None, log_path=tmp_path / "redis.log")
    message = str(info.value)
    assert "exited with code" in message
    assert "already in use" in message, message  # the log tail is in the error


def test_missing_redis_server_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(servers, "REDIS_SEARCH_DIRS", (str(tmp_path),))
    with pytest.raises(ServerError, match=r"sudo apt-get install redis-server"):
        start_redis(free_port(), data_dir=None)


def test_missing_secantusd_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(servers.sys, "executable", str(tmp_path / "python"))
    with pytest.raises(ServerError, match=r"pip install 'secantusdb==0\.7\.0b3'"):
        start_mongo(free_port(), storage_path=None)


def test_mongo_answers_ping_and_stops(tmp_path: Path) -> None:
    proc = start_mongo(free_port(), storage_path=None, log_path=tmp_path / "mongo.log")
    with proc:
        assert proc.url.endswith("/?directConnection=true")
        client: MongoClient = MongoClient(proc.url, serverSelectionTimeoutMS=5000)
        try:
            assert client.admin.command("ping")["ok"] == 1
            client.db.things.insert_one({"_id": 1})
        finally:
            client.close()
    assert proc.returncode == 0, proc.log_tail()
    assert not alive(proc.pid)


def test_mongo_with_storage_path_persists(tmp_path: Path) -> None:
    storage = tmp_path / "mongo"
    for attempt in range(2):
        with start_mongo(free_port(), storage_path=storage) as proc:
            client: MongoClient = MongoClient(proc.url, serverSelectionTimeoutMS=5000)
            try:
                if attempt == 0:
                    client.db.things.insert_one({"_id": 1})
                else:
                    assert client.db.things.find_one({"_id": 1}) == {"_id": 1}
            finally:
                client.close()
    assert (tmp_path / "mongo.log").is_file()  # next to the storage, not inside it


def test_stop_kills_a_process_that_ignores_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "stubborn.log"
    code = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = spawn("stubborn", [sys.executable, "-c", code], log_path=log)
    deadline = time.monotonic() + 10
    while "ready" not in log.read_text().splitlines():  # a line of its own, not the log's header
        assert time.monotonic() < deadline, proc.log_tail()
        time.sleep(0.02)
    started = time.monotonic()
    assert proc.stop(timeout=0.5) == -signal.SIGKILL
    assert time.monotonic() - started < 5
    assert not alive(proc.pid)
    assert proc.stop() == -signal.SIGKILL  # idempotent


def test_stop_all_and_temp_logs(tmp_path: Path) -> None:
    procs = [spawn(f"sleeper-{i}", [sys.executable, "-c", "import time; time.sleep(60)"]) for i in range(3)]
    logs = [p.log_path for p in procs]
    assert all(log.exists() for log in logs)
    stop_all(procs, timeout=5)
    assert [p.returncode for p in procs] == [-signal.SIGTERM] * 3
    assert not any(log.exists() for log in logs), "temp logs are removed after a stop"


def test_wait_for_port_times_out_clearly() -> None:
    port = free_port()
    with pytest.raises(ServerError, match=rf"did not listen on 127\.0\.0\.1:{port} within 0\.3 s"):
        wait_for_port("127.0.0.1", port, timeout=0.3)


def test_child_is_killed_when_its_parent_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "redis.pid"
    script = (
        "import os, sys, time\n"
        "from crawlfleet.servers import free_port, start_redis\n"
        f"proc = start_redis(free_port(), data_dir=None, log_path={str(tmp_path / 'redis.log')!r})\n"
        f"open({str(pid_file) + '.tmp'!r}, 'w').write(str(proc.pid))\n"
        f"os.replace({str(pid_file) + '.tmp'!r}, {str(pid_file)!r})\n"
        "time.sleep(120)\n"
    )
    env = os.environ | {"PYTHONPATH": str(REPO_ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=tmp_path, stderr=subprocess.PIPE)
    redis_pid = 0
    try:
        deadline = time.monotonic() + 20
        while not pid_file.exists():
            if parent.poll() is not None or time.monotonic() > deadline:
                parent.kill()
                pytest.fail(f"the parent did not start redis: {parent.communicate()[1].decode()}")
            time.sleep(0.05)
        redis_pid = int(pid_file.read_text())
        assert alive(redis_pid)

        parent.send_signal(signal.SIGKILL)  # no chance to clean up: only the kernel can
        parent.wait(10)
        assert wait_gone(redis_pid, 5), f"redis-server (pid {redis_pid}) outlived its SIGKILLed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stderr:
            parent.stderr.close()
        if redis_pid and alive(redis_pid) and b"redis" in Path(f"/proc/{redis_pid}/cmdline").read_bytes():
            os.kill(redis_pid, signal.SIGKILL)
