"""Users, login tokens, API keys and roles."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from controller.app import create_app
from crawlbase.config import Config
from crawlstore.mongo import connect
from crawlstore.tokens import TokenStore
from crawlstore.users import UserStore
from tests.api_v1.conftest import PASSWORD, Api, make_api


def test_first_user_is_admin_then_users(api: Api) -> None:
    first = api.register("alice")
    second = api.register("bob")
    assert (first["role"], second["role"]) == ("admin", "user")
    stored = api.client.app.state.services.db.users.find_one({"_id": first["id"]})  # type: ignore[attr-defined]
    assert stored["password"].startswith("$argon2id$") and PASSWORD not in str(stored)
    dup = api.post("/api/v1/auth/register", json={"username": "bob", "password": PASSWORD})
    assert dup.status_code == 409 and dup.json()["code"] == "conflict"


@pytest.mark.parametrize(("body", "field"), [
    ({"username": "x", "password": PASSWORD}, "username"),
    ({"username": "carol", "password": "short"}, "password"),
    ({"username": "carol"}, "password"),
    ({"username": "carol", "password": PASSWORD, "role": "admin"}, None),  # 403: only admins choose roles
])
def test_registration_is_validated(api: Api, admin: dict[str, str], body: dict[str, str], field: str | None) -> None:
    resp = api.post("/api/v1/auth/register", json=body)
    if field is None:
        assert resp.status_code == 403
        return
    assert resp.status_code == 400, resp.text
    problem = resp.json()
    assert resp.headers["content-type"] == "application/problem+json"
    assert problem["errors"][0]["field"] == field
    assert {"type", "title", "status", "code", "detail"} <= set(problem)


def test_login_accepts_form_data_and_rejects_wrong_passwords(api: Api) -> None:
    api.register("alice")
    form = api.post("/api/v1/auth/login", data={"username": "alice", "password": PASSWORD})
    assert form.status_code == 200 and form.json()["token_type"] == "bearer"
    wrong = api.post("/api/v1/auth/login", json={"username": "alice", "password": "not the password"})
    nobody = api.post("/api/v1/auth/login", json={"username": "nobody", "password": "not the password"})
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Bearer")


def test_credentials_are_required_and_checked(api: Api) -> None:
    assert api.get("/api/v1/crawls").status_code == 401
    assert api.get("/api/v1/crawls", headers={"X-API-Key": "0" * 32}).status_code == 401
    assert api.get("/api/v1/crawls", headers={"Authorization": "Bearer not.a.jwt"}).status_code == 401
    assert api.get("/api/v1/crawls", headers={"Authorization": "Basic abc"}).status_code == 401


def test_expired_jwt_is_refused(config: Config) -> None:
    now = [1_800_000_000.0]
    app = create_app(config.replace(jwt_ttl=60.0, registration="first-admin"), clock=lambda: now[0])
    with TestClient(app) as client:
        api = Api(client, config)
        headers = api.user("alice")
        assert api.get("/api/v1/auth/me", headers=headers).status_code == 200
        made = api.post("/api/v1/keys", json={"name": "short", "expires_in": 120}, headers=headers)
        assert made.status_code == 201 and made.json()["expires_at"]
        key = {"X-API-Key": made.json()["key"]}
        now[0] += 61
        expired = api.get("/api/v1/auth/me", headers=headers)
        assert expired.status_code == 401 and "expired" in expired.json()["detail"]
        assert api.get("/api/v1/auth/me", headers=key).status_code == 200  # the key lives 120 s
        now[0] += 60
        assert api.get("/api/v1/crawls", headers=key).status_code == 401  # an expired key is refused


def test_logout_revokes_the_jwt(api: Api) -> None:
    headers = api.user("alice")
    assert api.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert api.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_api_keys_work_and_revoked_keys_do_not(api: Api, admin: dict[str, str]) -> None:
    key, key_id = api.key(admin)
    assert api.get("/api/v1/auth/me", headers={"X-API-Key": key}).json()["auth"] == "api_key"
    listed = api.get("/api/v1/keys", headers=admin).json()
    assert [k["id"] for k in listed["items"]] == [key_id] and "key" not in listed["items"][0]
    assert api.delete(f"/api/v1/keys/{key_id}", headers=admin).status_code == 204
    assert api.get("/api/v1/auth/me", headers={"X-API-Key": key}).status_code == 401
    assert api.delete(f"/api/v1/keys/{key_id}", headers=admin).status_code == 404


def test_users_cannot_revoke_each_others_keys(api: Api, admin: dict[str, str]) -> None:
    bob = api.user("bob")
    _, key_id = api.key(admin)
    assert api.delete(f"/api/v1/keys/{key_id}", headers=bob).status_code == 404


def test_a_users_key_is_a_v3_token_over_the_same_crawls(api: Api, admin: dict[str, str]) -> None:
    key, _ = api.key(admin)
    other_key, _ = api.key(admin, "second")
    made = api.crawl(admin, "from-v1")
    jobs = api.get("/v3/crawl", params={"token": key}).json()["jobs"]
    assert [j["name"] for j in jobs] == ["from-v1"] and jobs[0]["id"] == made["id"]
    created = api.post("/v3/crawl", data={"token": other_key, "name": "from-v3", "seeds": "https://example.com/"})
    assert created.status_code == 200, created.text
    names = {c["name"] for c in api.get("/api/v1/crawls", headers={"X-API-Key": key}).json()["items"]}
    assert names == {"from-v1", "from-v3"}


def test_a_key_revoked_through_api_v1_is_refused_by_v3_at_once(api: Api, admin: dict[str, str]) -> None:
    """Both APIs look tokens up through one cache, which revoking a key clears."""
    key, key_id = api.key(admin)
    assert api.get("/v3/crawl", params={"token": key}).status_code == 200  # now cached
    assert api.get("/api/v1/auth/me", headers={"X-API-Key": key}).status_code == 200
    assert api.delete(f"/api/v1/keys/{key_id}", headers=admin).status_code == 204
    assert api.get("/v3/crawl", params={"token": key}).status_code == 401


def test_standalone_cli_tokens_work_as_keys(api: Api, config: Config) -> None:
    db = connect(config.mongo_url, config.mongo_db)
    try:
        token = TokenStore(db).create("cli")
        admin_token = TokenStore(db).create("ops", admin=True)
    finally:
        db.client.close()
    me = api.get("/api/v1/auth/me", headers={"X-API-Key": token}).json()
    assert me["role"] == "user" and me["user"] is None
    assert api.get("/api/v1/auth/me", headers={"X-API-Key": admin_token}).json()["role"] == "admin"
    assert api.get("/api/v1/users", headers={"X-API-Key": token}).status_code == 403


def test_roles_guard_admin_endpoints(api: Api, admin: dict[str, str]) -> None:
    bob = api.user("bob")
    for path in ("/api/v1/users", "/api/v1/monitoring/workers", "/api/v1/monitoring/memory",
                 "/api/v1/admin/settings"):
        assert api.get(path, headers=bob).status_code == 403, path
        assert api.get(path, headers=admin).status_code == 200, path


def test_admin_manages_users(api: Api, admin: dict[str, str]) -> None:
    bob = api.register("bob")
    key, _ = api.key(api.login("bob"))
    promoted = api.patch(f"/api/v1/users/{bob['id']}", json={"role": "admin"}, headers=admin)
    assert promoted.json()["role"] == "admin"
    assert api.patch(f"/api/v1/users/{bob['id']}", json={"disabled": True}, headers=admin).status_code == 200
    assert api.get("/api/v1/auth/me", headers={"X-API-Key": key}).status_code == 401
    assert api.post("/api/v1/auth/login", json={"username": "bob", "password": PASSWORD}).status_code == 401
    assert api.delete(f"/api/v1/users/{bob['id']}", headers=admin).status_code == 204
    assert api.get(f"/api/v1/users/{bob['id']}", headers=admin).status_code == 404


def test_closed_registration(config: Config) -> None:
    for api in make_api(config, registration="closed"):
        first = api.post("/api/v1/auth/register", json={"username": "root", "password": PASSWORD})
        assert first.status_code == 403 and "closed" in first.json()["detail"]  # the first account too
        db = api.client.app.state.services.db  # type: ignore[attr-defined]
        UserStore(db).register("root", PASSWORD, "admin")  # what `crawlfleet user create --role admin` does
        admin = api.login("root")
        refused = api.post("/api/v1/auth/register", json={"username": "eve", "password": PASSWORD})
        assert refused.status_code == 403
        made = api.post("/api/v1/auth/register", json={"username": "eve", "password": PASSWORD}, headers=admin)
        assert made.status_code == 201 and made.json()["role"] == "user"


def test_open_registration_makes_users_only(config: Config) -> None:
    for api in make_api(config, registration="open"):
        assert [api.register(name)["role"] for name in ("alice", "bob")] == ["user", "user"]
        assert api.get("/api/v1/users", headers=api.login("alice")).status_code == 403


def test_first_admin_registration_defers_to_an_admin_made_before(config: Config) -> None:
    for api in make_api(config, registration="first-admin"):
        UserStore(api.client.app.state.services.db).register("root", PASSWORD, "admin")  # type: ignore[attr-defined]
        assert api.register("alice")["role"] == "user"


# ---------------------------------------------------------------------- guests and addresses

def guest(api: Api) -> dict[str, str]:
    resp = api.post("/api/v1/auth/guest")
    assert resp.status_code == 200, resp.text
    assert resp.json()["user"]["role"] == "guest"
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def test_guests_create_three_crawls_a_day_per_address_and_change_nothing(api: Api, admin: dict[str, str]) -> None:
    first, second = guest(api), guest(api)
    crawl = api.crawl(first, "g1")
    api.crawl(first, "g2")
    assert api.post("/api/v1/crawls", json={"name": "g2", "seeds": ["https://example.com/"]},
                    headers=first).status_code == 409  # refused before the quota: it costs nothing
    api.crawl(second, "g3")  # another guest session, the same address: the same quota
    refused = api.post("/api/v1/crawls", json={"seeds": ["https://example.com/"]}, headers=second)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert api.get(f"/api/v1/crawls/{crawl['id']}", headers=first).status_code == 200
    assert api.patch(f"/api/v1/crawls/{crawl['id']}", json={"status": "paused"}, headers=first).status_code == 403
    assert api.delete(f"/api/v1/crawls/{crawl['id']}", headers=first).status_code == 403
    assert api.post("/api/v1/keys", json={}, headers=first).status_code == 403
    assert api.get("/api/v1/auth/me", headers=first).json()["crawls_left_today"] == 0


@pytest.fixture
def proxied(config: Config) -> Iterator[TestClient]:
    app = create_app(config.replace(trusted_proxies="10.0.0.0/8", guest_crawls=1))
    with TestClient(app, client=("10.1.2.3", 1234)) as client:
        yield client


def test_forwarded_addresses_count_only_from_trusted_proxies(proxied: TestClient, config: Config) -> None:
    api = Api(proxied, config)

    def create(forwarded: str) -> int:
        token = api.post("/api/v1/auth/guest", headers={"X-Forwarded-For": forwarded}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": forwarded}
        return api.post("/api/v1/crawls", json={"seeds": ["https://example.com/"]}, headers=headers).status_code

    assert create("203.0.113.1") == 201
    assert create("203.0.113.2") == 201  # another client behind the proxy: its own quota
    assert create("203.0.113.1") == 429
    spoofed = create("6.6.6.6, 203.0.113.1")  # the proxy appended the real address: still .1
    assert spoofed == 429


def test_forwarding_headers_from_untrusted_peers_are_ignored(api: Api) -> None:
    # the api fixture's peer (198.51.100.1) is not a trusted proxy: X-Forwarded-For changes nothing
    codes = []
    for i in range(4):
        headers = guest(api) | {"X-Forwarded-For": f"203.0.113.{i}"}
        codes.append(api.post("/api/v1/crawls", json={"seeds": ["https://example.com/"]}, headers=headers)
                     .status_code)
    assert codes == [201, 201, 201, 429]
