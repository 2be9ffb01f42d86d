"""Rate limits: headers on every response, 429 with Retry-After, shared by controller replicas."""

from __future__ import annotations

from crawlbase.config import Config
from tests.api_v1.conftest import Api, make_api


def test_headers_on_every_response_including_errors(api: Api, admin: dict[str, str]) -> None:
    for resp in (api.get("/api/v1/auth/me", headers=admin), api.get("/api/v1/crawls/nope", headers=admin),
                 api.get("/api/v1/monitoring/health"), api.get("/api/v1/no/such/thing"),
                 api.post("/api/v1/auth/me", headers=admin)):
        assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(resp.headers), resp.url
        assert resp.headers["cache-control"] == "no-store"
    assert api.post("/api/v1/auth/me", headers=admin).status_code == 405
    assert set(api.post("/api/v1/auth/me", headers=admin).headers["allow"].split(", ")) == {"GET", "HEAD"}


def test_limit_per_key_shared_by_replicas(config: Config) -> None:
    limited = {"rate_limit": 5, "rate_limit_anonymous": 3, "rate_window": 3600.0}
    replicas = [make_api(config, **limited), make_api(config, **limited)]
    one, two = (next(r) for r in replicas)
    headers = one.user("alice")  # 2 anonymous requests (register, login) of this address
    remaining = [int(r.get("/api/v1/auth/me", headers=headers).headers["x-ratelimit-remaining"])
                 for r in (one, two, one, two, one)]
    assert remaining == [4, 3, 2, 1, 0]
    refused = two.get("/api/v1/auth/me", headers=headers)
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    # anonymous callers are counted per address: the register and login above used 2 of 3
    assert one.get("/api/v1/monitoring/health").status_code == 200
    assert one.get("/api/v1/monitoring/health").status_code == 429
    login = one.post("/api/v1/auth/login", json={"username": "alice", "password": "correct horse battery"})
    assert login.status_code == 429  # logins count against the address too: no password guessing spree
    for r in replicas:
        for _ in r:
            pass
