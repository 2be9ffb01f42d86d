"""Fixtures of the /api/v1 tests: the controller app in-process (TestClient, lifespan run),
on the session's Redis and MongoDB-wire servers, and helpers to make users and crawls.

Passwords are hashed with cheap argon2 parameters here (the real ones cost ~50 ms each).
Registration is `first-admin` here (anyone registers; the first account is the admin), so that
tests make their users through the API; tests of the other modes set it themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

import crawlstore.users
from controller.app import create_app
from crawlbase.config import Config

PASSWORD = "correct horse battery"


class Api:
    """A TestClient plus helpers; `as_(auth)` returns headers for a user, key or nobody."""

    def __init__(self, client: TestClient, config: Config) -> None:
        self.client = client
        self.config = config

    def register(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        resp = self.client.post("/api/v1/auth/register", json={"username": username, "password": password})
        assert resp.status_code == 201, resp.text
        return resp.json()

    def login(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        resp = self.client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert resp.status_code == 200, resp.text
        return {"Authorization": f"Bearer {resp.json()['access_token']}"}

    def user(self, username: str) -> dict[str, str]:
        """Register and log in; the headers of the session."""
        self.register(username)
        return self.login(username)

    def key(self, headers: dict[str, str], name: str = "k") -> tuple[str, str]:
        resp = self.client.post("/api/v1/keys", json={"name": name}, headers=headers)
        assert resp.status_code == 201, resp.text
        return resp.json()["key"], resp.json()["id"]

    def crawl(self, headers: dict[str, str], name: str = "c", **settings: Any) -> dict[str, Any]:
        body = {"name": name, "seeds": ["https://example.com/"], **settings}
        resp = self.client.post("/api/v1/crawls", json=body, headers=headers)
        assert resp.status_code == 201, resp.text
        return resp.json()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        return getattr(self.client, name)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(crawlstore.users, "PasswordHasher", lambda: cheap)


def make_api(config: Config, **changes: Any) -> Iterator[Api]:
    app = create_app(config.replace(**{"registration": "first-admin", **changes}))
    with TestClient(app, client=("198.51.100.1", 50000)) as client:
        yield Api(client, config)


@pytest.fixture
def api(config: Config) -> Iterator[Api]:
    yield from make_api(config)


@pytest.fixture
def admin(api: Api) -> dict[str, str]:
    """The first registered user: the admin."""
    return api.user("root")
