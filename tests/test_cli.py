"""Tests of the `crawlfleet` console script, run as `python -m crawlfleet` subprocesses."""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from crawlstore.mongo import connect
from crawlstore.tokens import TokenStore

pytestmark = pytest.mark.servers

REPO_ROOT = Path(__file__).resolve().parents[1]
_STORE_VARS = ("REDIS_URL", "MONGO_URL")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any crawlfleet setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in _STORE_VARS and not k.startswith("CRAWLFLEET_")}
    return env | {"PYTHONPATH": str(REPO_ROOT)} | extra


def crawlfleet(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `python -m crawlfleet ARGS`; cwd matters: the default data dir is ./crawlfleet-data."""
    return subprocess.run(
        [sys.executable, "-m", "crawlfleet", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def lookup(mongo_url: str, db_name: str, token: str) -> bool:
    """True when `token` is live in that database."""
    db = connect(mongo_url, db_name)
    try:
        return TokenStore(db).lookup(token) is not None
    finally:
        db.client.close()


def table(stdout: str) -> dict[str, list[str]]:
    """`token list` output as {name: [hint, created, revoked]}, after checking the header."""
    lines = stdout.splitlines()
    assert lines[0].split() == ["HINT", "NAME", "CREATED", "REVOKED"], stdout
    rows = [line.split() for line in lines[1:]]
    return {name: [hint, created, revoked] for hint, name, created, revoked in rows}


def test_token_create_list_revoke(mongo_url: str, unique_prefix: str, tmp_path: Path) -> None:
    env = clean_env(MONGO_URL=mongo_url, CRAWLFLEET_MONGO_DB=unique_prefix)

    created = crawlfleet("token", "create", "--name", "ci", env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{32}", token), f"stdout must be the token only: {created.stdout!r}"
    assert created.stderr == ""
    assert lookup(mongo_url, unique_prefix, token)

    other = crawlfleet("token", "create", env=env, cwd=tmp_path).stdout.strip()  # default name

    listed = crawlfleet("token", "list", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = table(listed.stdout)
    assert rows["ci"][0] == token[:6]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rows["ci"][1])
    assert rows["ci"][2] == "no"
    assert len(rows) == 2 and any(name.startswith("token-") for name in rows), rows

    revoked = crawlfleet("token", "revoke", "ci", env=env, cwd=tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked 1 token" in revoked.stdout
    assert not lookup(mongo_url, unique_prefix, token)
    assert lookup(mongo_url, unique_prefix, other)
    assert table(crawlfleet("token", "list", env=env, cwd=tmp_path).stdout)["ci"][2] == "yes"

    by_hint = crawlfleet("token", "revoke", other[:6], env=env, cwd=tmp_path)
    assert by_hint.returncode == 0, by_hint.stderr
    assert not lookup(mongo_url, unique_prefix, other)


def test_revoking_nothing_exits_1(mongo_url: str, unique_prefix: str, tmp_path: Path) -> None:
    env = clean_env(MONGO_URL=mongo_url, CRAWLFLEET_MONGO_DB=unique_prefix)
    result = crawlfleet("token", "revoke", "no-such-token", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert (
        result.stderr
        == "crawlfleet: no live token has the name or hint 'no-such-token' (see `crawlfleet token list`).\n"
    )


def test_config_error_exits_2_with_one_line(mongo_url: str, tmp_path: Path) -> None:
    env = clean_env(MONGO_URL=mongo_url, CRAWLFLEET_PORT="eighty")
    result = crawlfleet("token", "list", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "crawlfleet: Config 'CRAWLFLEET_PORT' has value 'eighty', which is not an int."
    ]


def test_missing_mongo_url_says_what_to_do(tmp_path: Path) -> None:
    result = crawlfleet("token", "list", env=clean_env(), cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("crawlfleet: MONGO_URL is not set, and no `crawlfleet up` is running")
    assert "crawlfleet up" in line and "MONGO_URL=mongodb://" in line


def test_worker_without_stores_is_a_config_error(tmp_path: Path) -> None:
    result = crawlfleet("worker", env=clean_env(), cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("crawlfleet: REDIS_URL and MONGO_URL are not set")


def test_up_rejects_bad_flag_values_before_starting_anything(tmp_path: Path) -> None:
    result = crawlfleet(
        "up", "--workers", "0", "--data-dir", str(tmp_path / "data"), env=clean_env(), cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "crawlfleet: Config 'CRAWLFLEET_WORKERS' has value '0', which is not a positive int."
    ]
    assert not (tmp_path / "data").exists()


def test_token_commands_use_a_running_up(mongo_url: str, unique_prefix: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "cluster.env").write_text(
        f"# written by a test\nREDIS_URL=redis://127.0.0.1:1/0\nMONGO_URL={mongo_url}\n"
        f"CRAWLFLEET_MONGO_DB={unique_prefix}\nCRAWLFLEET_KEY_PREFIX={unique_prefix}\n"
    )
    with (data / "up.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # what a running `crawlfleet up` holds

        by_env = crawlfleet(
            "token", "create", "--name", "a", env=clean_env(CRAWLFLEET_DATA_DIR=str(data)), cwd=tmp_path
        )
        assert by_env.returncode == 0, by_env.stderr
        assert lookup(mongo_url, unique_prefix, by_env.stdout.strip())

        by_flag = crawlfleet("token", "--data-dir", str(data), "list", env=clean_env(), cwd=tmp_path)
        assert by_flag.returncode == 0, by_flag.stderr
        assert list(table(by_flag.stdout)) == ["a"]

        fcntl.flock(lock, fcntl.LOCK_UN)  # the `up` is gone: its cluster.env is stale

    stale = crawlfleet("token", "list", "--data-dir", str(data), env=clean_env(), cwd=tmp_path)
    assert stale.returncode == 2
    assert "did not stop cleanly" in stale.stderr


def test_explicit_mongo_url_wins_over_a_running_up(
    mongo_url: str, unique_prefix: str, tmp_path: Path
) -> None:
    data = tmp_path / "crawlfleet-data"  # the default data dir, seen from cwd=tmp_path
    data.mkdir()
    (data / "cluster.env").write_text("MONGO_URL=mongodb://127.0.0.1:1/\nCRAWLFLEET_MONGO_DB=elsewhere\n")
    with (data / "up.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        env = clean_env(MONGO_URL=mongo_url, CRAWLFLEET_MONGO_DB=unique_prefix)
        result = crawlfleet("token", "create", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert lookup(mongo_url, unique_prefix, result.stdout.strip())


def test_admin_pause_and_resume(redis_url: str, mongo_url: str, unique_prefix: str, tmp_path: Path) -> None:
    from crawlcore.definition import parse_create
    from crawlcore.status import Status
    from crawlstore.connection import connect_redis
    from crawlstore.crawls import CrawlStore
    from crawlstore.frontier import Frontier
    from crawlstore.mongo import connect

    env = clean_env(REDIS_URL=redis_url, MONGO_URL=mongo_url, CRAWLFLEET_MONGO_DB=unique_prefix,
                    CRAWLFLEET_KEY_PREFIX=unique_prefix)
    client = connect_redis(redis_url)
    db = connect(mongo_url, unique_prefix)
    try:
        store = CrawlStore(Frontier(client, unique_prefix, 4), db)
        crawl = store.registry.create("tok", parse_create({"name": ["c"], "seeds": ["http://a.test/"]}))
        done = crawlfleet("admin", "pause", env=env, cwd=tmp_path)
        assert done.returncode == 0 and "paused 1 crawl " in done.stdout
        assert store.registry.get(crawl.id).state.status is Status.ADMIN_PAUSED  # type: ignore[union-attr]
        done = crawlfleet("admin", "resume", env=env, cwd=tmp_path)
        assert done.returncode == 0 and "resumed 1 crawl" in done.stdout
        assert store.registry.get(crawl.id).state.status is Status.IN_PROGRESS  # type: ignore[union-attr]
    finally:
        client.close()
        db.client.drop_database(unique_prefix)
        db.client.close()


def test_token_create_admin(mongo_url: str, unique_prefix: str, tmp_path: Path) -> None:
    from crawlstore.mongo import connect
    from crawlstore.tokens import TokenStore

    env = clean_env(MONGO_URL=mongo_url, CRAWLFLEET_MONGO_DB=unique_prefix)
    token = crawlfleet("token", "create", "--admin", "--name", "root", env=env, cwd=tmp_path).stdout.strip()
    db = connect(mongo_url, unique_prefix)
    try:
        info = TokenStore(db).lookup(token)
        assert info is not None and info.admin and info.name == "root"
    finally:
        db.client.drop_database(unique_prefix)
        db.client.close()
