"""Attack: claim another client address with X-Forwarded-For, to get a fresh guest quota.

The client address is the socket peer unless the peer is in CRAWLFLEET_TRUSTED_PROXIES (none
here). The HTTP server must not decide otherwise on its own: uvicorn believes forwarding headers
from 127.0.0.1 unless told not to. Against a real controller process.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Cluster, base_env


@pytest.fixture(scope="module")
def controller(redis_url: str, mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    env = {**base_env(redis_url, mongo_url, "addr"), "CRAWLFLEET_GUEST_CRAWLS": "1"}
    c = Cluster(env, tmp_path_factory.mktemp("address"))
    try:
        yield c
    finally:
        c.stop()


def test_forwarding_headers_from_an_untrusted_peer_change_nothing(controller: Cluster) -> None:
    def create(forwarded: str) -> int:
        headers = {"X-Forwarded-For": forwarded, "X-Real-IP": forwarded}
        session = controller.http.post("/api/v1/auth/guest", headers=headers)
        assert session.status_code == 200, session.text
        headers["Authorization"] = f"Bearer {session.json()['access_token']}"
        return controller.http.post("/api/v1/crawls", json={"seeds": ["http://127.0.0.1:9/"]},
                                    headers=headers).status_code

    assert create("203.0.113.1") == 201
    assert create("203.0.113.2") == 429  # the same peer, 127.0.0.1, whatever the headers say
