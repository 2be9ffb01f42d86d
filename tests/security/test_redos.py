"""Hostile regular expressions: `(a|a)*$` against a URL ending in 30 `a`s and a `!` takes Python's
backtracking `re` minutes, holding the GIL. Users' regexes run on RE2 (linear time), so the
controller keeps answering while it checks them, and a worker matching them against every link
keeps crawling. Patterns RE2 cannot run (backreferences, lookaround) are refused naming the
parameter, on /v3 and /api/v1.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Cluster, unique
from tests.security.conftest import complete_while_healthy, wait_healthy
from tests.sites.model import Page, Site
from tests.sites.process import SiteProcess

pytestmark = [pytest.mark.servers]

HOSTILE = "(a|a)*$"
TAIL = "a" * 30 + "!"  # ~2^30 backtracking paths for Python's re
HEALTH_BOUND = 1.0  # seconds: the controller must keep answering /healthz within this while it works
CREATE_BOUND = 5.0  # seconds: and answer the create itself within a few seconds


@dataclass
class HealthPoller:
    """Polls `url` from its own thread until stopped; records each answer's latency (None: no answer)."""

    url: str
    latencies: list[float | None] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=10.0) as client:
            while not self._stop.is_set():
                start = time.monotonic()
                try:
                    ok = client.get(self.url).status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.latencies.append(time.monotonic() - start if ok else None)
                self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()


@pytest.fixture
def poller(guarded: Cluster) -> Iterator[HealthPoller]:
    poll = HealthPoller(guarded.base + "/healthz")
    thread = threading.Thread(target=poll.run, daemon=True)
    thread.start()
    time.sleep(0.2)  # a few answers before the attack
    yield poll
    poll.stop()
    thread.join(15)


@pytest.mark.parametrize(("params", "param"), [
    pytest.param({"urlCrawlRegEx": HOSTILE}, "urlCrawlRegEx", id="urlCrawlRegEx"),
    pytest.param({"urlProcessRegEx": HOSTILE}, "urlProcessRegEx", id="urlProcessRegEx"),
    # URL filters are literal terms (crawlcore.filters), never regexes: the same text is harmless there
    pytest.param({"expression": HOSTILE, "action": "doNotProcess"}, "expression", id="filter-expression"),
])
def test_controller_answers_while_a_hostile_regex_is_checked(guarded: Cluster, poller: HealthPoller,
                                                             params: dict[str, str], param: str) -> None:
    seed = "http://127.0.0.1:9/" + TAIL  # never fetched: the controller matches it against the patterns
    start = time.monotonic()
    try:
        resp = guarded.http.post("/v3/crawl", data={"token": guarded.token, "name": unique("redos"), "seeds": seed,
                                                    **params}, timeout=CREATE_BOUND * 2)
    except httpx.TimeoutException:
        pytest.fail(f"the create did not answer within {CREATE_BOUND * 2} s")
    took = time.monotonic() - start
    time.sleep(0.2)
    poller.stop()
    assert resp.status_code == 200 or (resp.status_code == 400 and param in resp.json()["error"]), resp.text
    assert took < CREATE_BOUND, f"the create took {took:.1f} s"
    answered = [t for t in poller.latencies if t is not None]
    assert len(answered) == len(poller.latencies) and answered, f"/healthz unanswered: {poller.latencies}"
    assert max(answered) < HEALTH_BOUND, f"/healthz took {max(answered):.2f} s while the create was handled"


def test_a_worker_matching_a_hostile_regex_against_links_stays_healthy(guarded: Cluster) -> None:
    site = Site("redos", {"/": Page("/", title="home", links=["/" + TAIL, "/b.html"]),
                          "/" + TAIL: Page("/" + TAIL, title="tail"),
                          "/b.html": Page("/b.html", title="b")})
    worker_health = f"http://127.0.0.1:{guarded.workers[0].env['CRAWLFLEET_METRICS_PORT']}/healthz"
    wait_healthy(worker_health)
    with SiteProcess(site) as server:
        name = unique("redos-worker")
        guarded.create(name, server.url("/"), urlCrawlRegEx=HOSTILE, maxHops=1, obeyRobots=0)
        complete_while_healthy(guarded, name, worker_health, timeout=60)
        rows = {row["Url"].replace(server.base_url, ""): row for row in guarded.url_report(name)}
    assert {"/", "/b.html"} <= set(rows) and any(TAIL[:30] in path for path in rows), rows


@pytest.mark.parametrize("regex", [r"(a)\1", "(?=a)"], ids=["backreference", "lookahead"])
@pytest.mark.parametrize("param", ["urlCrawlRegEx", "urlProcessRegEx"])
def test_patterns_re2_cannot_run_are_refused_on_v3(guarded: Cluster, param: str, regex: str) -> None:
    resp = guarded.crawl(name=unique("re2"), seeds="http://127.0.0.1:9/", **{param: regex})
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert param in error and "RE2" in error, error


@pytest.mark.parametrize("regex", [r"(a)\1", "(?=a)"], ids=["backreference", "lookahead"])
@pytest.mark.parametrize("param", ["urlCrawlRegEx", "urlProcessRegEx"])
def test_patterns_re2_cannot_run_are_refused_on_api_v1(guarded: Cluster, param: str, regex: str) -> None:
    body: dict[str, Any] = {"name": unique("re2"), "seeds": ["http://127.0.0.1:9/"], param: regex}
    resp = guarded.http.post("/api/v1/crawls", json=body, headers={"X-API-Key": guarded.token})
    assert resp.status_code == 400, resp.text
    [error] = resp.json()["errors"]
    assert error["field"] == param and "RE2" in resp.text, resp.text
