"""The crawls resource: create, list (paging, filters, sorting), get by id or prefix, PATCH
(settings, pause, resume, stop, seal), DELETE; users see only their own crawls."""

from __future__ import annotations

from typing import Any

import pytest

from crawlstore.crawls import CrawlStore
from crawlstore.settings_store import apply_cluster
from tests.api_v1.conftest import Api


def test_create_returns_201_with_the_crawl(api: Api, admin: dict[str, str]) -> None:
    body = {"name": "docs", "seeds": "example.com https://example.org/x", "maxHops": 2, "obeyRobots": False,
            "customHeaders": {"X-Test": "1"}, "tags": ["news", "fr"], "selectors": {"price": ".price"}}
    resp = api.post("/api/v1/crawls", json=body, headers=admin)
    assert resp.status_code == 201, resp.text
    crawl = resp.json()
    assert resp.headers["location"] == f"/api/v1/crawls/{crawl['id']}"
    assert crawl["name"] == "docs" and crawl["status"] == "running" and crawl["job_status"]["code"] == 7
    assert crawl["settings"]["seeds"] == ["https://example.com/", "https://example.org/x"]
    assert crawl["settings"]["maxHops"] == 2 and crawl["settings"]["obeyRobots"] is False
    assert crawl["settings"]["customHeaders"] == ["X-Test:1"]
    assert crawl["settings"]["selectors"] == {"price": ".price"}
    assert crawl["tags"] == ["news", "fr"] and crawl["created_by_username"] == "root"
    assert resp.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(("body", "field", "status"), [
    ({"seeds": []}, "seeds", 400),
    ({"seeds": ["ftp://x"]}, "seeds", 400),
    ({"seeds": ["example.com"], "maxHops": "abc"}, "maxHops", 400),
    ({"seeds": ["example.com"], "urlCrawlRegEx": "("}, "urlCrawlRegEx", 400),
    ({"seeds": ["example.com"], "nope": 1}, "nope", 400),
    ({"seeds": ["example.com"], "maxHops": None}, "maxHops", 400),
    ({"seeds": ["example.com"], "tags": "x"}, "tags", 400),
    ({"seeds": ["example.com"], "status": "paused"}, "status", 400),
])
def test_create_validation(api: Api, admin: dict[str, str], body: dict[str, Any], field: str, status: int) -> None:
    resp = api.post("/api/v1/crawls", json=body, headers=admin)
    assert resp.status_code == status, resp.text
    assert resp.json()["errors"][0]["field"] == field
    assert api.get("/api/v1/crawls", headers=admin).json()["total_items"] == 0  # nothing written


def test_bodies_must_be_json_objects(api: Api, admin: dict[str, str]) -> None:
    assert api.post("/api/v1/crawls", content=b"{", headers=admin | {"content-type": "application/json"}) \
        .status_code == 400
    assert api.post("/api/v1/crawls", content=b"[1]", headers=admin | {"content-type": "application/json"}) \
        .status_code == 400
    assert api.post("/api/v1/crawls", content=b"a=b", headers=admin | {"content-type": "text/plain"}) \
        .status_code == 415
    big = api.post("/api/v1/crawls", content=b" " * (1 << 21), headers=admin | {"content-type": "application/json"})
    assert big.status_code == 413


def test_duplicate_names_conflict(api: Api, admin: dict[str, str]) -> None:
    api.crawl(admin, "same")
    again = api.post("/api/v1/crawls", json={"name": "same", "seeds": ["example.com"]}, headers=admin)
    assert again.status_code == 409


def test_list_pages_filters_and_sorts(api: Api, admin: dict[str, str]) -> None:
    for i in range(7):
        api.crawl(admin, f"crawl-{i}", tags=["even"] if i % 2 == 0 else [])
    page = api.get("/api/v1/crawls", params={"limit": 3, "page": 1}, headers=admin).json()
    assert {k: page[k] for k in ("total_items", "total_pages", "page", "limit", "offset", "num_items")} == \
        {"total_items": 7, "total_pages": 3, "page": 1, "limit": 3, "offset": 3, "num_items": 3}
    assert [c["name"] for c in page["items"]] == ["crawl-3", "crawl-2", "crawl-1"]  # newest first
    by_name = api.get("/api/v1/crawls", params={"sort": "name", "offset": 5}, headers=admin).json()
    assert [c["name"] for c in by_name["items"]] == ["crawl-5", "crawl-6"]
    assert api.get("/api/v1/crawls", params={"tag": "even"}, headers=admin).json()["total_items"] == 4
    assert api.get("/api/v1/crawls", params={"search": "CRAWL-6"}, headers=admin).json()["total_items"] == 1
    assert api.get("/api/v1/crawls", params={"status": "running"}, headers=admin).json()["total_items"] == 7
    assert api.get("/api/v1/crawls", params={"status": "paused"}, headers=admin).json()["total_items"] == 0
    future = api.get("/api/v1/crawls", params={"created_after": "2100-01-01T00:00:00Z"}, headers=admin).json()
    assert future["total_items"] == 0
    past = api.get("/api/v1/crawls", params={"created_before": "2100-01-01T00:00:00Z"}, headers=admin).json()
    assert past["total_items"] == 7


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "501"}, {"offset": "-1"}, {"page": "x"},
                                    {"page": "1", "offset": "2"}, {"status": "sleeping"}, {"sort": "size"},
                                    {"created_after": "yesterday"}])
def test_list_rejects_bad_parameters(api: Api, admin: dict[str, str], params: dict[str, str]) -> None:
    resp = api.get("/api/v1/crawls", params=params, headers=admin)
    assert resp.status_code == 400 and resp.json()["errors"], resp.text


def test_users_never_see_each_others_crawls(api: Api, admin: dict[str, str]) -> None:
    bob, carol = api.user("bob"), api.user("carol")
    mine = api.crawl(bob, "bobs")
    api.crawl(carol, "carols")
    assert [c["name"] for c in api.get("/api/v1/crawls", headers=bob).json()["items"]] == ["bobs"]
    for method in ("get", "patch", "delete"):
        kwargs: dict[str, Any] = {"json": {"tags": []}} if method == "patch" else {}
        resp = getattr(api, method)(f"/api/v1/crawls/{mine['id']}", headers=carol, **kwargs)
        assert resp.status_code == 404, method
    for sub in ("pages", "items", "export", "graph", "audit"):
        assert api.get(f"/api/v1/crawls/{mine['id']}/{sub}", headers=carol).status_code == 404, sub
    assert api.get(f"/api/v1/crawls/{mine['id'][:8]}", headers=carol).status_code == 404
    everything = api.get("/api/v1/crawls", headers=admin).json()
    assert {c["name"] for c in everything["items"]} == {"bobs", "carols"}  # admins see every crawl


def test_get_by_id_prefix_and_dashed_uuid(api: Api, admin: dict[str, str], config: Any) -> None:
    crawl = api.crawl(admin, "one")
    cid = crawl["id"]
    dashed = f"{cid[:8]}-{cid[8:12]}-{cid[12:16]}-{cid[16:20]}-{cid[20:]}"
    for ref in (cid, dashed, cid[:6], cid.upper()):
        assert api.get(f"/api/v1/crawls/{ref}", headers=admin).json()["id"] == cid, ref
    assert api.get(f"/api/v1/crawls/{cid[:3]}", headers=admin).status_code == 400
    assert api.get("/api/v1/crawls/zzzz", headers=admin).status_code == 404


def test_ambiguous_prefix_lists_the_candidates(api: Api, admin: dict[str, str], monkeypatch: Any) -> None:
    ids = iter(["abcd0000" + "0" * 24, "abcd1111" + "1" * 24])

    class FixedIds:
        @staticmethod
        def uuid4() -> Any:
            return type("U", (), {"hex": next(ids)})()

    import crawlstore.crawls.registry
    monkeypatch.setattr(crawlstore.crawls.registry, "uuid", FixedIds)
    api.crawl(admin, "a")
    api.crawl(admin, "b")
    resp = api.get("/api/v1/crawls/abcd", headers=admin)
    assert resp.status_code == 400
    assert sorted(c["name"] for c in resp.json()["candidates"]) == ["a", "b"]
    assert api.get("/api/v1/crawls/abcd1", headers=admin).json()["name"] == "b"


def test_patch_settings_tags_and_seeds(api: Api, admin: dict[str, str]) -> None:
    crawl = api.crawl(admin, "p")
    resp = api.patch(f"/api/v1/crawls/{crawl['id']}", json={"maxToCrawl": 50, "tags": ["x"],
                                                              "seeds": ["https://example.net/"]}, headers=admin)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["settings"]["maxToCrawl"] == 50 and body["tags"] == ["x"]
    assert body["settings"]["seeds"] == ["https://example.com/", "https://example.net/"]
    assert api.patch(f"/api/v1/crawls/{crawl['id']}", json={"name": "other"}, headers=admin).status_code == 400
    assert api.patch(f"/api/v1/crawls/{crawl['id']}", json={"maxHops": "x"}, headers=admin).status_code == 400


def test_pause_resume_and_invalid_transitions(api: Api, admin: dict[str, str]) -> None:
    crawl = api.crawl(admin, "p")
    url = f"/api/v1/crawls/{crawl['id']}"
    assert api.patch(url, json={"status": "paused"}, headers=admin).json()["status"] == "paused"
    assert api.patch(url, json={"status": "paused"}, headers=admin).status_code == 409
    assert api.patch(url, json={"status": "running"}, headers=admin).json()["status"] == "running"
    assert api.patch(url, json={"status": "running"}, headers=admin).status_code == 409
    assert api.patch(url, json={"status": "flying"}, headers=admin).status_code == 400


def _queue(store: CrawlStore, crawl_id: str) -> tuple[int, int]:
    redis: Any = store.frontier.redis
    keys = store.frontier.keys(crawl_id)
    raw = redis.hgetall(keys.job)
    waiting = sum(int(redis.llen(keys.queue(h.decode()))) for h in redis.smembers(keys.hosts))
    return int(raw[b"q"]), waiting


def test_stop_drops_pending_work_and_seal_freezes(api: Api, admin: dict[str, str]) -> None:
    store: CrawlStore = api.client.app.state.services.crawls  # type: ignore[attr-defined]
    stopped = api.crawl(admin, "s", seeds=[f"https://example{i}.com/" for i in range(5)])
    assert _queue(store, stopped["id"]) == (5, 5)
    body = api.patch(f"/api/v1/crawls/{stopped['id']}", json={"status": "stopped"}, headers=admin).json()
    assert body["status"] == "stopped" and body["job_status"]["code"] in (9, 10)
    assert _queue(store, stopped["id"]) == (0, 0)
    again = api.patch(f"/api/v1/crawls/{stopped['id']}", json={"seeds": ["https://example.net/"]}, headers=admin)
    assert again.status_code == 200 and again.json()["status"] == "running"  # a stopped crawl can go on

    sealed = api.crawl(admin, "z", seeds=[f"https://example{i}.org/" for i in range(4)])
    assert _queue(store, sealed["id"]) == (4, 4)
    body = api.patch(f"/api/v1/crawls/{sealed['id']}", json={"status": "sealed"}, headers=admin).json()
    assert body["status"] == "sealed" and body["sealed"] is True
    assert _queue(store, sealed["id"]) == (0, 0)  # sealing cancelled every pending request
    assert body["counts"]["queued"] == 0 and body["job_status"]["code"] in (9, 10)
    for change in ({"status": "running"}, {"maxHops": 3}, {"tags": ["late"]}):
        assert api.patch(f"/api/v1/crawls/{sealed['id']}", json=change, headers=admin).status_code == 409
    assert api.get("/api/v1/crawls", params={"status": "sealed"}, headers=admin).json()["total_items"] == 1


def test_stop_waits_for_leases_in_flight(api: Api, admin: dict[str, str]) -> None:
    store: CrawlStore = api.client.app.state.services.crawls  # type: ignore[attr-defined]
    crawl = api.crawl(admin, "busy", seeds=["https://example.com/", "https://example.org/"], crawlDelay=0)
    popped = store.frontier.pop(crawl["id"], 1, 60_000)  # a worker holds one lease
    assert len(popped.members) == 1
    body = api.patch(f"/api/v1/crawls/{crawl['id']}", json={"status": "stopped"}, headers=admin).json()
    assert body["status"] == "stopping" and body["counts"]["in_flight"] == 1
    store.frontier.redis.zremrangebyrank(store.frontier.keys(crawl["id"]).leases, 0, -1)  # the worker is done
    import time

    deadline = time.monotonic() + 10
    while api.get(f"/api/v1/crawls/{crawl['id']}", headers=admin).json()["status"] == "stopping":
        assert time.monotonic() < deadline, "the housekeeper did not finish the stop"
        time.sleep(0.2)
    assert api.get(f"/api/v1/crawls/{crawl['id']}", headers=admin).json()["status"] == "stopped"


def test_delete(api: Api, admin: dict[str, str]) -> None:
    crawl = api.crawl(admin, "d")
    assert api.delete(f"/api/v1/crawls/{crawl['id']}", headers=admin).status_code == 204
    assert api.get(f"/api/v1/crawls/{crawl['id']}", headers=admin).status_code == 404
    assert api.delete(f"/api/v1/crawls/{crawl['id']}", headers=admin).status_code == 404


def test_user_defaults_fill_in_new_crawls(api: Api, admin: dict[str, str]) -> None:
    saved = api.put("/api/v1/settings", json={"maxHops": 3, "crawlDelay": 1.5}, headers=admin)
    assert saved.status_code == 200, saved.text
    assert api.get("/api/v1/settings", headers=admin).json()["effective"]["maxHops"] == 3
    crawl = api.crawl(admin, "d1", crawlDelay=0.5)
    assert crawl["settings"]["maxHops"] == 3 and crawl["settings"]["crawlDelay"] == 0.5
    assert api.put("/api/v1/settings", json={"maxHops": "x"}, headers=admin).status_code == 400
    assert api.put("/api/v1/settings", json={"name": "x"}, headers=admin).status_code == 400
    assert api.delete("/api/v1/settings", headers=admin).json() == {"settings": {}}
    assert api.crawl(admin, "d2")["settings"]["maxHops"] == -1


def test_cluster_settings_are_admin_only(api: Api, admin: dict[str, str]) -> None:
    bob = api.user("bob")
    body = {"concurrency": 16, "memory_limit_mb": 2048, "proxies": ["http://proxy:3128"]}
    assert api.put("/api/v1/admin/settings", json=body, headers=bob).status_code == 403
    saved = api.put("/api/v1/admin/settings", json=body, headers=admin)
    assert saved.status_code == 200 and saved.json()["settings"]["concurrency"] == 16
    assert api.get("/api/v1/admin/settings", headers=admin).json()["settings"]["proxies"] == ["http://proxy:3128"]
    assert apply_cluster(api.config) is not api.config  # what a worker applies when it starts
    applied = apply_cluster(api.config)
    assert (applied.concurrency, applied.proxies, applied.host_concurrency) == \
        (16, "http://proxy:3128", api.config.host_concurrency)
    assert apply_cluster(api.config.replace(key_prefix=api.config.key_prefix + "x")) == api.config.replace(
        key_prefix=api.config.key_prefix + "x")  # nothing stored: the deployment's settings
    assert api.put("/api/v1/admin/settings", json={"concurrency": 0}, headers=admin).status_code == 400
    assert api.put("/api/v1/admin/settings", json={"proxies": ["ftp://x"]}, headers=admin).status_code == 400
    assert api.put("/api/v1/admin/settings", json={"colour": 1}, headers=admin).status_code == 400
