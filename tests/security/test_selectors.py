"""Hostile custom selectors: `//*[count(//*[count(//*)>0])>0]` is cubic in a page's elements and lxml
evaluates it in C, beyond a Python thread's reach. A real worker crawling a page of a few thousand
elements with it stays responsive, the page's report row says the selectors timed out, and a
normal page of the same crawl gets its custom fields."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import Cluster, unique
from tests.security.conftest import complete_while_healthy, wait_healthy
from tests.sites.model import Page, Site
from tests.sites.process import SiteProcess

pytestmark = [pytest.mark.servers]

HOSTILE = "//*[count(//*[count(//*)>0])>0]"
BIG_HTML = ("<html><head><title>big</title></head><body><h1>Big page</h1>"
            + "<div><p>x</p><span>y</span></div>" * 1000 + "</body></html>")  # ~3000 elements: ~15 min unbounded


def test_a_hostile_selector_times_out_and_the_crawl_goes_on(guarded: Cluster) -> None:
    site = Site("selectors", {"/big.html": Page("/big.html", body=BIG_HTML.encode()),
                              "/small.html": Page("/small.html", title="small", text="A normal page.")})
    selectors = json.dumps({"heading": "title::text", "slow": HOSTILE})
    worker_health = f"http://127.0.0.1:{guarded.workers[0].env['CRAWLFLEET_METRICS_PORT']}/healthz"
    wait_healthy(worker_health)
    with SiteProcess(site) as server:
        name = unique("selectors")
        guarded.create(name, f"{server.url('/big.html')} {server.url('/small.html')}", maxHops=0, obeyRobots=0,
                       useCanonical=0, selectors=selectors)
        complete_while_healthy(guarded, name, worker_health, timeout=90)
        rows = {row["Url"].replace(server.base_url, ""): row for row in guarded.url_report(name)}
        objects = {o["pageUrl"].replace(server.base_url, ""): o for o in guarded.objects(name)}
    assert rows["/big.html"]["Process Response"].startswith("Selectors timed out after 1.0 s: slow"), rows
    assert objects["/big.html"]["custom"] == {"heading": "big", "slow": None}  # the field evaluated in time is kept
    assert rows["/small.html"]["Process Response"] == "Success", rows
    assert objects["/small.html"]["custom"]["heading"] == "small" and objects["/small.html"]["custom"]["slow"]


@pytest.mark.parametrize("selector", ["//p[", "p:nosuchpseudo"], ids=["xpath", "css"])
def test_selectors_that_do_not_compile_are_refused_on_api_v1_too(guarded: Cluster, selector: str) -> None:
    body = {"name": unique("sel"), "seeds": ["http://127.0.0.1:9/"], "selectors": {"x": selector}}
    resp = guarded.http.post("/api/v1/crawls", json=body, headers={"X-API-Key": guarded.token})
    assert resp.status_code == 400, resp.text
    assert resp.json()["errors"][0]["field"] == "selectors", resp.text
    created = guarded.http.post("/api/v1/crawls", json={**body, "selectors": {"x": "h1::text"}},
                                headers={"X-API-Key": guarded.token})
    assert created.status_code == 201, created.text
    patched = guarded.http.patch(f"/api/v1/crawls/{created.json()['id']}", json={"selectors": {"x": selector}},
                                 headers={"X-API-Key": guarded.token})
    assert patched.status_code == 400 and patched.json()["errors"][0]["field"] == "selectors", patched.text
