"""Every error of /v3: right status, Diffbot's JSON shape, the parameter named, nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from crawlstore.tokens import TokenStore
from tests.sites.process import FixtureServers

from .conftest import Cluster, unique

pytestmark = [pytest.mark.servers, pytest.mark.e2e]


def _error(resp: Any, status: int) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error", "errorCode"} and body["errorCode"] == status
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"maxHops": "abc"}, "maxHops"),
        ({"maxHops": "-2"}, "maxHops"),
        ({"seeds": ""}, "seeds"),
        ({"seeds": "ftp://example.com/"}, "seeds"),
        ({"seeds": "http://"}, "seeds"),
        ({"urlCrawlRegEx": "(unclosed"}, "urlCrawlRegEx"),
        ({"urlProcessRegEx": "[a-"}, "urlProcessRegEx"),
        ({"maxToCrawl": "-1"}, "maxToCrawl"),
        ({"maxToProcess": "-5"}, "maxToProcess"),
        ({"crawlDelay": "soon"}, "crawlDelay"),
        ({"obeyRobots": "2"}, "obeyRobots"),
        ({"notifyWebhook": "not a url"}, "notifyWebhook"),
        ({"customHeaders": "NoColonHere"}, "customHeaders"),
    ],
    ids=lambda v: v if isinstance(v, str) else "-".join(f"{k}={w}" for k, w in v.items()),
)
def test_invalid_parameter_is_400_naming_it_and_creates_nothing(
    cluster: Cluster, fixture_sites: FixtureServers, params: dict[str, str], param: str
) -> None:
    name = unique("bad")
    before = cluster.db.crawls.count_documents({})
    all_params = {"name": name, "seeds": fixture_sites.seeds[0], **params}
    for method in ("POST", "GET"):
        message = _error(cluster.crawl(method, **all_params), 400)
        assert param in message
    assert cluster.crawl("GET", name=name).status_code == 404
    assert cluster.db.crawls.count_documents({}) == before


def test_missing_seeds_on_create_is_400(cluster: Cluster) -> None:
    assert "seeds" in _error(cluster.crawl(name=unique("noseeds"), maxHops=1), 400)


def test_missing_or_unknown_token_is_401(cluster: Cluster, fixture_sites: FixtureServers) -> None:
    resp = cluster.http.post("/v3/crawl", data={"name": "x", "seeds": fixture_sites.seeds[0]})
    assert "token" in _error(resp, 401)
    _error(cluster.crawl(token="0" * 32, name="x", seeds=fixture_sites.seeds[0]), 401)
    _error(cluster.http.get("/v3/crawl/data", params={"token": "nope", "name": "x"}), 401)


def test_revoked_token_is_401(cluster: Cluster) -> None:
    store = TokenStore(cluster.db)
    token = store.create("to-revoke")
    assert cluster.crawl("GET", token=token).status_code == 200
    store.revoke("to-revoke")
    # the controller caches tokens for a few seconds
    import time

    deadline = time.monotonic() + 10
    while cluster.crawl("GET", token=token).status_code != 401:
        assert time.monotonic() < deadline, "revoked token still accepted"
        time.sleep(0.5)


def test_unknown_name_is_404(cluster: Cluster) -> None:
    _error(cluster.crawl("GET", name=unique("ghost")), 404)
    _error(cluster.crawl(name=unique("ghost"), pause=1), 404)
    _error(cluster.http.get("/v3/crawl/data", params={"token": cluster.token, "name": unique("ghost")}), 404)


def test_another_tokens_crawl_is_invisible(cluster: Cluster, fixture_sites: FixtureServers) -> None:
    name = unique("mine")
    cluster.create(name, fixture_sites.seeds[0], maxHops=0)
    other = TokenStore(cluster.db).create("other")
    _error(cluster.crawl("GET", token=other, name=name), 404)
    _error(cluster.crawl(token=other, name=name, delete=1), 404)
    _error(cluster.crawl(token=other, name=name, pause=1), 404)
    _error(cluster.http.get("/v3/crawl/data", params={"token": other, "name": name}), 404)
    assert name not in {j["name"] for j in cluster.crawl("GET", token=other).json()["jobs"]}
    # the same name under the other token is a different crawl
    resp = cluster.crawl(token=other, name=name, seeds=fixture_sites.seeds[0], maxHops=0, crawlDelay=0)
    assert resp.status_code == 200 and resp.json()["jobs"][0]["id"] != cluster.job(name)["id"]
    assert cluster.crawl("GET", name=name).status_code == 200


@pytest.mark.parametrize(
    ("params", "param"),
    [({"format": "xml"}, "format"), ({"type": "pages"}, "type"), ({"num": "0"}, "num"), ({"num": "x"}, "num")],
)
def test_bad_data_parameters_are_400(cluster: Cluster, fixture_sites: FixtureServers,
                                     params: dict[str, str], param: str) -> None:
    name = unique("data")
    cluster.create(name, fixture_sites.seeds[0], maxHops=0)
    resp = cluster.http.get("/v3/crawl/data", params={"token": cluster.token, "name": name, **params})
    assert param in _error(resp, 400)


def test_bad_control_value_is_400(cluster: Cluster, fixture_sites: FixtureServers) -> None:
    name = unique("ctl")
    cluster.create(name, fixture_sites.seeds[0], maxHops=0)
    assert "pause" in _error(cluster.crawl(name=name, pause="yes please"), 400)
    assert "delete" in _error(cluster.crawl(name=name, delete="2"), 400)
    assert cluster.crawl("GET", name=name).status_code == 200
