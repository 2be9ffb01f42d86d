"""A deployment whose credentials were never filled in must not start.

deploy/k8s ships its Secret with empty passwords and docker-compose.yml requires Grafana's; the
controller and the workers refuse an empty, placeholder or well-known credential in any setting
that carries one (crawlfleet/credentials.py). A table of the rule, then the real processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from crawlbase.config import Config, ConfigError
from crawlfleet.credentials import credential_problems, refuse_unset_credentials, secret_problem
from crawlfleet.servers import free_port

REPO = Path(__file__).resolve().parents[2]
STORES = {"REDIS_URL": "redis://127.0.0.1:6379/0", "MONGO_URL": "mongodb://127.0.0.1:27017/"}


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("", "is empty"),
        ("change-me-redis", "is a placeholder"),
        ("CHANGE_ME", "is a placeholder"),
        ("ChangeMe123", "is a placeholder"),
        ("replace-me", "is a placeholder"),
        ("<placeholder>", "is a placeholder"),
        ("admin", "is a well-known default"),
        ("Password", "is a well-known default"),
        ("$(REDIS_PASSWORD)", "is an unexpanded variable reference"),
        ("${MONGO_PASSWORD}", "is an unexpanded variable reference"),
        ("3f9a01bc77d24e6c9b1d0a5e", None),
        ("correct horse battery staple", None),
        ("passwordless-but-long-7d1e", None),
    ],
)
def test_secret_problem(secret: str, problem: str | None) -> None:
    assert secret_problem(secret) == problem


@pytest.mark.parametrize(
    ("env", "problems"),
    [
        ({}, []),  # no credentials at all: the store's own choice (crawlfleet up, the tests)
        ({"REDIS_URL": "redis://:3f9a01bc77d2@redis:6379/0",
          "MONGO_URL": "mongodb://crawlfleet:3f9a01bc77d2@mongo:27017/?authSource=admin"}, []),
        ({"CRAWLFLEET_JWT_SECRET": ""}, []),  # empty: a random key is made and kept in MongoDB
        # what deploy/k8s renders from its Secret before anyone fills it in
        ({"REDIS_URL": "redis://:@crawlfleet-redis:6379/0",
          "MONGO_URL": "mongodb://crawlfleet:@crawlfleet-mongo:27017/?authSource=admin"},
         ["REDIS_URL has an empty password", "MONGO_URL has an empty password"]),
        ({"REDIS_URL": "redis://:change-me-redis@redis:6379/0"},
         ["REDIS_URL has a password that is a placeholder"]),
        ({"MONGO_URL": "mongodb://admin:admin@mongo/"}, ["MONGO_URL has a password that is a well-known default"]),
        ({"MONGO_URL": "mongodb://u:change%2Dme@mongo/"}, ["MONGO_URL has a password that is a placeholder"]),
        ({"REDIS_URL": "redis://@redis:6379/0"}, ["REDIS_URL has an empty user name and no password"]),
        ({"CRAWLFLEET_SMTP_URL": "smtp://mailer:changeme@smtp.example.com:587"},
         ["CRAWLFLEET_SMTP_URL has a password that is a placeholder"]),
        ({"CRAWLFLEET_PROXIES": "http://u:9d8c7b6a5f4e@p1:3128, http://u:@p2:3128"},
         ["CRAWLFLEET_PROXIES has an empty password"]),
        ({"CRAWLFLEET_JWT_SECRET": "change-me"}, ["CRAWLFLEET_JWT_SECRET is a placeholder"]),
        ({"CRAWLFLEET_JWT_SECRET": "secret"}, ["CRAWLFLEET_JWT_SECRET is a well-known default"]),
    ],
)
def test_credential_problems(env: dict[str, str], problems: list[str]) -> None:
    config = Config.from_env({**STORES, **env})
    assert credential_problems(config) == problems


def test_the_refusal_names_the_setting_and_not_the_value() -> None:
    config = Config.from_env({**STORES, "REDIS_URL": "redis://:change-me-redis@redis:6379/0"})
    with pytest.raises(ConfigError) as caught:
        refuse_unset_credentials(config)
    message = str(caught.value)
    assert message.startswith("REDIS_URL has a password that is a placeholder.")
    assert "change-me-redis" not in message and "openssl rand" in message


@pytest.fixture
def placeholder_user(redis_url: str, unique_prefix: str) -> Iterator[str]:
    """REDIS_URL of a user of the session's Redis whose password is a placeholder: it works, the way
    the stores of a deployment that kept its example Secret accept the example password."""
    client = redis.Redis.from_url(redis_url)
    client.acl_setuser(unique_prefix, enabled=True, passwords=["+change-me-redis"], keys=["*"],
                       channels=["*"], commands=["+@all"])
    try:
        parts = urlsplit(redis_url)
        url = urlunsplit(parts._replace(netloc=f"{unique_prefix}:change-me-redis@{parts.netloc}"))
        assert redis.Redis.from_url(url).ping(), "the placeholder password must work on the store"
        yield url
    finally:
        client.acl_deluser(unique_prefix)
        client.close()


@pytest.mark.parametrize("role", ["controller", "worker"])
def test_controller_and_worker_refuse_a_placeholder_store_password(
    role: str, placeholder_user: str, mongo_url: str, unique_prefix: str, tmp_path: Path
) -> None:
    """The store accepts the placeholder password; the process must still exit at once (status 2),
    saying which setting to fix."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CRAWLFLEET_")},
        "PYTHONPATH": str(REPO),
        "REDIS_URL": placeholder_user,
        "MONGO_URL": mongo_url,
        "CRAWLFLEET_KEY_PREFIX": unique_prefix,
        "CRAWLFLEET_MONGO_DB": unique_prefix,
        "CRAWLFLEET_PORT": str(free_port()),
        "CRAWLFLEET_METRICS_PORT": "0",
    }
    proc = subprocess.Popen([sys.executable, "-m", "crawlfleet", role], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
        pytest.fail(f"the {role} ran with a placeholder Redis password:\n{out[-2000:]}{err[-2000:]}")
    assert proc.returncode == 2, out + err
    assert err.startswith("crawlfleet: REDIS_URL has a password that is a placeholder."), err
    assert "change-me-redis" not in err and "Traceback" not in err
