"""Every Crawlbot parameter and job-control argument, end to end through real workers."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawlstore.clock import advance
from crawlstore.tokens import TokenStore, token_id
from tests.sites.fixtures import generate_site
from tests.sites.model import Page, Site
from tests.sites.process import SiteProcess
from tests.sites.receiver import WebhookReceiver

from .conftest import Cluster, MailBox, Proxies, report_hops, unique

pytestmark = [pytest.mark.servers, pytest.mark.e2e]

DAY = 86400.0


def page(path: str, *links: str, text: str = "", **kw: object) -> Page:
    return Page(path, links=list(links), title=path, text=text or f"The page {path}.", **kw)  # type: ignore[arg-type]


def site(*pages: Page, robots: str | None = None) -> Site:
    return Site("t", {p.path: p for p in pages}, robots_txt=robots)


def rows_by_path(cluster: Cluster, name: str, base: str) -> dict[str, dict[str, str]]:
    return {row["Url"].replace(base, ""): row for row in cluster.url_report(name)}


def objects_by_path(cluster: Cluster, name: str, base: str) -> dict[str, dict[str, object]]:
    return {str(o["pageUrl"]).replace(base, ""): o for o in cluster.objects(name)}


# ---------------------------------------------------------------- what gets processed


def test_page_process_pattern_processes_pages_whose_html_matches(cluster: Cluster) -> None:
    s = site(page("/", "/a", "/b", "/c"), page("/a", text="price: 12 EUR"), page("/b", text="no money here"),
             page("/c", extra_html="<div class='price'>5</div>"))
    with SiteProcess(s) as server:
        name = unique("ppp")
        cluster.create(name, server.base_url + "/", pageProcessPattern="price:||class='price'")
        job = cluster.wait(name, {9})
        assert set(objects_by_path(cluster, name, server.base_url)) == {"/a", "/c"}
        assert job["pageCrawlAttempts"] == 4 and job["objectsFound"] == 2


def test_url_filters_apply_in_order_one_per_url(cluster: Cluster) -> None:
    s = site(page("/", "/private/x", "/blog/1", "/products/1", "/products/2.pdf", "/about"),
             page("/private/x"), page("/blog/1"), page("/products/1"), page("/products/2.pdf"), page("/about"))
    with SiteProcess(s) as server:
        name = unique("filters")
        params = {"expression": ["/private/", "/blog/", "products&&!$.pdf", "*"],
                  "action": ["doNotCrawl", "doNotProcess", "https://api.diffbot.com/v3/product", "doNotProcess"]}
        resp = cluster.http.post("/v3/crawl", data={"token": cluster.token, "name": name,
                                                    "seeds": server.base_url + "/", "crawlDelay": "0", **params})
        assert resp.status_code == 200, resp.text
        cluster.wait(name, {9})
        rows = rows_by_path(cluster, name, server.base_url)
        assert "/private/x" not in rows  # doNotCrawl
        assert {"/", "/blog/1", "/products/1", "/products/2.pdf", "/about"} <= set(rows)
        # only the API filter processes; '*' (doNotProcess) catches the rest, the seed included
        assert set(objects_by_path(cluster, name, server.base_url)) == {"/products/1"}
        assert {f["path"] for f in server.fetches()}.isdisjoint({"/private/x"})


def test_filters_must_come_in_pairs(cluster: Cluster) -> None:
    resp = cluster.http.post("/v3/crawl", data={"token": cluster.token, "name": unique("pairs"),
                                                "seeds": "http://127.0.0.1:9/", "expression": ["a", "b"],
                                                "action": ["doNotCrawl"]})
    assert resp.status_code == 400 and "action" in resp.json()["error"]


# ---------------------------------------------------------------- per-subdomain limits and scope


def test_per_subdomain_limits_are_exact_across_workers(cluster: Cluster) -> None:
    a = generate_site(30, links_per_page=5, seed=51, page_bytes=400)
    b = generate_site(30, links_per_page=5, seed=52, page_bytes=400)
    with SiteProcess(a, host="127.0.0.1") as sa, SiteProcess(b, host="127.0.0.2") as sb:
        name = unique("persub")
        cluster.create(name, f"{sa.base_url}/ {sb.base_url}/", maxToCrawlPerSubdomain=7,
                       maxToProcessPerSubdomain=3)
        job = cluster.wait(name, {9})
        rows = cluster.url_report(name)
        for server in (sa, sb):
            assert len([r for r in rows if r["Url"].startswith(server.base_url)]) == 7
            assert len({f["path"] for f in server.fetches() if f["path"] != "/robots.txt"}) == 7
        objects = cluster.objects(name)
        assert len([o for o in objects if o["pageUrl"].startswith(sa.base_url)]) == 3
        assert len([o for o in objects if o["pageUrl"].startswith(sb.base_url)]) == 3
        assert job["pageCrawlAttempts"] == 14 and job["pageProcessAttempts"] == 6


def test_restrict_domain_0_crawls_one_hop_off_the_seed_domains(cluster: Cluster) -> None:
    with SiteProcess(site(page("/x", "/y", "{home}/z"), page("/y")), host="127.0.0.2") as other:
        home = site(page("/", other.base_url + "/x"), page("/z"))
        with SiteProcess(home, host="127.0.0.1") as main:
            other.update(site(page("/x", "/y", main.base_url + "/z"), page("/y")))
            for restrict, expected in ((1, {main.base_url + "/"}),
                                       (0, {main.base_url + "/", other.base_url + "/x", main.base_url + "/z"})):
                name = unique(f"restrict{restrict}")
                cluster.create(name, main.base_url + "/", restrictDomain=restrict)
                cluster.wait(name, {9})
                assert set(report_hops(cluster.url_report(name))) == expected


# ---------------------------------------------------------------- duplicates


def test_canonical_and_identical_pages_are_processed_once(cluster: Cluster) -> None:
    same = "Exactly the same words."
    s = site(page("/", "/a", "/b", "/copy1", "/copy2"),
             page("/a", canonical="{base}/b"), page("/b"),
             Page("/copy1", title="copy", text=same), Page("/copy2", title="copy", text=same))
    with SiteProcess(s) as server:
        for use_canonical in (1, 0):
            name = unique(f"canon{use_canonical}")
            cluster.create(name, server.base_url + "/", useCanonical=use_canonical)
            cluster.wait(name, {9})
            rows = rows_by_path(cluster, name, server.base_url)
            objects = objects_by_path(cluster, name, server.base_url)
            b_id = rows["/b"]["Doc ID"]
            if use_canonical:
                assert rows["/a"]["Duplicate Of"] == b_id and "/a" not in objects
            else:
                assert rows["/a"]["Duplicate Of"] == "" and "/a" in objects
            # byte-identical pages: one object; the other row names the first one's Doc ID
            copies = [rows["/copy1"], rows["/copy2"]]
            assert sorted(r["Duplicate Of"] for r in copies)[0] == ""
            duplicate = next(r for r in copies if r["Duplicate Of"])
            original = next(r for r in copies if not r["Duplicate Of"])
            assert duplicate["Duplicate Of"] == original["Doc ID"]
            assert len([p for p in objects if p.startswith("/copy")]) == 1


# ---------------------------------------------------------------- requests


def test_custom_headers_are_sent_with_every_request(cluster: Cluster) -> None:
    with SiteProcess(site(page("/", "/a"), page("/a"))) as server:
        name = unique("headers")
        resp = cluster.http.post("/v3/crawl", data={
            "token": cluster.token, "name": name, "seeds": server.base_url + "/", "crawlDelay": "0",
            "customHeaders": ["Accept-Language:fr-CH", "X-Team:crawlers"]})
        assert resp.status_code == 200, resp.text
        cluster.wait(name, {9})
        pages = [f for f in server.fetches() if f["path"] != "/robots.txt"]
        assert len(pages) == 2
        for fetch in pages:
            headers = {k.lower(): v for k, v in fetch["headers"].items()}
            assert headers["accept-language"] == "fr-CH" and headers["x-team"] == "crawlers"


def test_robots_allow_is_honoured_and_obey_robots_0_ignores_robots(cluster: Cluster) -> None:
    robots = "User-agent: *\nDisallow: /private/\nAllow: /private/open.html\n"
    s = site(page("/", "/private/open.html", "/private/closed.html"), page("/private/open.html"),
             page("/private/closed.html"), robots=robots)
    with SiteProcess(s) as server:
        name = unique("robots1")
        cluster.create(name, server.base_url + "/")
        cluster.wait(name, {9})
        rows = rows_by_path(cluster, name, server.base_url)
        assert rows["/private/open.html"]["Crawl Status"] == "Success"
        assert rows["/private/closed.html"]["Crawl Status"] == "Blocked by robots.txt"
        name = unique("robots0")
        cluster.create(name, server.base_url + "/", obeyRobots=0)
        cluster.wait(name, {9})
        assert rows_by_path(cluster, name, server.base_url)["/private/closed.html"]["Crawl Status"] == "Success"


def test_use_proxies_routes_requests_through_the_pool(cluster: Cluster, proxies: Proxies) -> None:
    with SiteProcess(site(page("/", "/a", "/b"), page("/a"), page("/b"))) as server:
        name = unique("proxies")
        cluster.create(name, server.base_url + "/", useProxies=1)
        cluster.wait(name, {9}, timeout=90)
        rows = cluster.url_report(name)
        assert {r["Proxy Used"] for r in rows} == {proxies.live.url}
        assert all(r["Crawl Status"] == "Success" for r in rows)
        assert {p.split("/", 3)[-1] for p in proxies.live.requests if server.base_url in p} >= {"", "a", "b"}
        name = unique("noproxy")  # without useProxies, no proxy
        cluster.create(name, server.base_url + "/")
        cluster.wait(name, {9})
        assert {r["Proxy Used"] for r in cluster.url_report(name)} == {""}


# ---------------------------------------------------------------- rounds


def _status(cluster: Cluster, name: str) -> int:
    return int(cluster.job(name)["jobStatus"]["status"])


def test_rounds_repeat_until_max_rounds_processing_only_new_pages(cluster: Cluster) -> None:
    first = site(page("/", "/a"), page("/a"))
    with SiteProcess(first) as server:
        name = unique("rounds")
        cluster.create(name, server.base_url + "/", repeat=1.0, maxRounds=2)
        job = cluster.wait(name, {4})
        assert job["roundsCompleted"] == 1
        seconds = int(job["jobStatus"]["message"].split()[-2])
        assert job["jobStatus"]["message"].startswith("Next round to start in ") and 86000 < seconds <= 86400
        server.update(site(page("/", "/a", "/new"), page("/a"), page("/new")))  # the site gains a page
        advance(cluster.redis, cluster.env["CRAWLFLEET_KEY_PREFIX"], DAY)
        job = cluster.wait(name, {1})
        assert job["jobStatus"]["message"] == "Job has reached maxRounds limit" and job["roundsCompleted"] == 2
        rows = cluster.url_report(name)
        by_round: dict[str, set[str]] = {}
        for row in rows:
            by_round.setdefault(row["Crawl Round"], set()).add(row["Url"].replace(server.base_url, ""))
        assert by_round == {"0": {"/", "/a"}, "1": {"/", "/a", "/new"}}
        objects = cluster.objects(name)  # data covers every round
        assert sorted((o["crawlRound"], o["pageUrl"].replace(server.base_url, "")) for o in objects) == [
            (0, "/"), (0, "/a"), (1, "/new")]  # onlyProcessIfNew: round 1 processes the new page only
        assert job["pageCrawlSuccesses"] == 5 and job["pageCrawlSuccessesThisRound"] == 3


def test_only_process_if_new_0_processes_every_round(cluster: Cluster) -> None:
    with SiteProcess(site(page("/", "/a"), page("/a"))) as server:
        name = unique("allnew")
        cluster.create(name, server.base_url + "/", repeat=1.0, maxRounds=2, onlyProcessIfNew=0)
        cluster.wait(name, {4})
        advance(cluster.redis, cluster.env["CRAWLFLEET_KEY_PREFIX"], DAY)
        cluster.wait(name, {1})
        assert len(cluster.objects(name)) == 4


def test_seed_recrawl_frequency_refetches_seeds_between_full_rounds(cluster: Cluster) -> None:
    with SiteProcess(site(page("/", "/a"), page("/a"))) as server:
        name = unique("seedfreq")
        cluster.create(name, server.base_url + "/", repeat=7.0, seedRecrawlFrequency=1.0, maxRounds=2)
        job = cluster.wait(name, {4})
        assert 86000 < int(job["jobStatus"]["message"].split()[-2]) <= 86400  # the seeds' day, not the week
        server.update(site(page("/", "/a", "/b"), page("/a"), page("/b")))
        before = len(server.fetches())
        advance(cluster.redis, cluster.env["CRAWLFLEET_KEY_PREFIX"], DAY)
        cluster.wait(name, {1})
        fetched = [f["path"] for f in server.fetches()[before:] if f["path"] != "/robots.txt"]
        assert sorted(fetched) == ["/", "/b"]  # the seed again, and what is new; not /a


def test_round_start_and_restart(cluster: Cluster) -> None:
    with SiteProcess(site(page("/", "/a"), page("/a"))) as server:
        name = unique("control")
        cluster.create(name, server.base_url + "/", onlyProcessIfNew=0)
        cluster.wait(name, {9})
        resp = cluster.crawl(name=name, roundStart=1)
        assert resp.status_code == 200, resp.text
        job = cluster.wait(name, {9})
        assert job["pageCrawlAttempts"] == 4 and {r["Crawl Round"] for r in cluster.url_report(name)} == {"0", "1"}

        resp = cluster.crawl(name=name, restart=1, maxHops=0)  # settings change with the restart
        assert resp.status_code == 200, resp.text
        job = cluster.wait(name, {9})
        rows = cluster.url_report(name)
        assert [(r["Url"], r["Crawl Round"]) for r in rows] == [(server.base_url + "/", "0")]
        assert job["pageCrawlAttempts"] == 1 and job["objectsFound"] == 1 and job["maxHops"] == 0


# ---------------------------------------------------------------- updates and limits


def test_raising_a_reached_limit_resumes_the_crawl(cluster: Cluster) -> None:
    with SiteProcess(generate_site(20, links_per_page=4, seed=61, page_bytes=300)) as server:
        name = unique("raise")
        cluster.create(name, server.base_url + "/", maxToCrawl=5)
        cluster.wait(name, {2})
        resp = cluster.crawl(name=name, maxToCrawl=8)
        assert resp.status_code == 200 and resp.json()["jobs"][0]["maxToCrawl"] == 8
        job = cluster.wait(name, {2})
        assert job["pageCrawlAttempts"] == 8


def test_reaching_max_to_process_is_status_3(cluster: Cluster) -> None:
    with SiteProcess(generate_site(20, links_per_page=4, seed=62, page_bytes=300)) as server:
        name = unique("maxproc")
        cluster.create(name, server.base_url + "/", maxToProcess=4)
        job = cluster.wait(name, {3})
        assert job["jobStatus"]["message"] == "Job has reached maxToProcess limit"
        assert job["objectsFound"] == 4 and len(cluster.objects(name)) == 4
        assert job["pageProcessSuccessesThisRound"] == 4


def test_a_crawl_being_fetched_is_status_7_then_9(cluster: Cluster) -> None:
    with SiteProcess(site(page("/", "/a", "/b"), page("/a"), page("/b"))) as server:
        name = unique("inprog")
        created = cluster.create(name, server.base_url + "/", crawlDelay=1)
        assert created["jobStatus"] == {"status": 7, "message": "Job in progress"}
        assert cluster.job(name)["jobStatus"]["status"] == 7  # two more pages, a second apart
        job = cluster.wait(name, {9})
        assert job["jobStatus"]["message"] == "Job has completed and no repeat is scheduled."
        assert job["pageCrawlSuccesses"] == 3


def test_too_many_collections(own_cluster_factory: object) -> None:
    cluster = own_cluster_factory(CRAWLFLEET_MAX_CRAWLS_PER_TOKEN="2")  # type: ignore[operator]
    with SiteProcess(site(page("/"))) as server:
        for i in range(2):
            cluster.create(unique(f"many{i}"), server.base_url + "/", maxHops=0)
        resp = cluster.crawl(name=unique("many"), seeds=server.base_url + "/")
        assert resp.status_code == 400 and resp.json()["error"].startswith("Too Many Collections")


# ---------------------------------------------------------------- administrator pause


def test_an_administrator_pauses_and_resumes_every_crawl(cluster: Cluster) -> None:
    with SiteProcess(site(page("/", "/a", delay=0.0), page("/a", delay=2.0))) as server:
        running, paused = unique("admin-run"), unique("admin-user")
        cluster.create(running, server.base_url + "/", crawlDelay=1)
        cluster.create(paused, server.base_url + "/?2", crawlDelay=1)
        cluster.crawl(name=paused, pause=1)
        admin = TokenStore(cluster.db).create("admin", admin=True)
        assert cluster.http.post("/v3/admin/pause", data={"token": cluster.token}).status_code == 403
        resp = cluster.http.post("/v3/admin/pause", data={"token": admin})
        assert resp.status_code == 200, resp.text
        job = cluster.job(running)
        assert job["jobStatus"] == {
            "status": 8, "message": "All crawling temporarily paused by root administrator for maintenance"}
        assert _status(cluster, paused) == 6  # a user's own pause is not the administrator's
        assert cluster.http.post("/v3/admin/resume", data={"token": admin}).status_code == 200
        assert _status(cluster, running) in (7, 9) and _status(cluster, paused) == 6
        cluster.wait(running, {9})


# ---------------------------------------------------------------- notifications


def test_webhook_is_signed_retried_and_sets_sent_job_done_notification(cluster: Cluster) -> None:
    with WebhookReceiver(fail_first=1) as receiver, SiteProcess(site(page("/", "/a"), page("/a"))) as server:
        name = unique("hook")
        cluster.create(name, server.base_url + "/", notifyWebhook=receiver.url)
        cluster.wait(name, {9})
        deadline = time.monotonic() + 30
        while len(receiver.deliveries) < 2 or not cluster.job(name)["sentJobDoneNotification"]:
            assert time.monotonic() < deadline, receiver.deliveries
            time.sleep(0.2)
        failed, delivered = receiver.deliveries[:2]
        assert (failed.answered, delivered.answered) == (500, 200)  # retried after the receiver failed
        job = json.loads(delivered.body)
        assert "jobs" not in job and job["name"] == name and job["jobStatus"]["status"] == 9
        assert delivered.headers["X-Crawl-Name"] == name and delivered.headers["X-Crawl-Status"] == "9"
        key = token_id(cluster.token).encode()
        signed = delivered.headers["X-Crawlfleet-Timestamp"].encode() + b"." + delivered.body
        expected = "sha256=" + hmac.new(key, signed, hashlib.sha256).hexdigest()
        assert delivered.headers["X-Crawlfleet-Signature"] == expected


def test_webhook_on_reaching_max_to_crawl(cluster: Cluster) -> None:
    with WebhookReceiver() as receiver, SiteProcess(generate_site(20, seed=71, page_bytes=300)) as server:
        name = unique("hooklimit")
        cluster.create(name, server.base_url + "/", maxToCrawl=3, notifyWebhook=receiver.url)
        cluster.wait(name, {2})
        deadline = time.monotonic() + 30
        while not receiver.deliveries:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert receiver.deliveries[0].headers["X-Crawl-Status"] == "2"


def test_email_notification(cluster: Cluster, mailbox: MailBox) -> None:
    with SiteProcess(site(page("/"))) as server:
        name = unique("mail")
        cluster.create(name, server.base_url + "/", notifyEmail="ops@example.com")
        cluster.wait(name, {9})
        deadline = time.monotonic() + 30
        while not [m for m in mailbox.messages if m["X-Crawl-Name"] == name]:
            assert time.monotonic() < deadline, "no email arrived"
            time.sleep(0.2)
        (mail,) = [m for m in mailbox.messages if m["X-Crawl-Name"] == name]
        assert mail["To"] == "ops@example.com" and mail["X-Crawl-Status"] == "9"
        assert json.loads(mail.get_payload())["name"] == name


# ---------------------------------------------------------------- the private-network guard


def test_private_network_guard(own_cluster_factory: object) -> None:
    # this cluster may crawl 127.0.0.2 only: 127.0.0.1 is a private address it refuses
    cluster = own_cluster_factory(CRAWLFLEET_ALLOW_NETWORKS="127.0.0.2/32")  # type: ignore[operator]
    with SiteProcess(site(page("/")), host="127.0.0.1") as private:
        inside = site(page("/", private.base_url + "/", "/moved"),
                      Page("/moved", status=302, redirect_to=private.base_url + "/"))
        with SiteProcess(inside, host="127.0.0.2") as allowed:
            resp = cluster.crawl(name=unique("guard"), seeds=private.base_url + "/")
            assert resp.status_code == 400 and "seeds" in resp.json()["error"]
            assert "private network address 127.0.0.1" in resp.json()["error"]
            name = unique("guarded")
            cluster.create(name, allowed.base_url + "/", restrictDomain=0)
            cluster.wait(name, {9})
            rows = {r["Url"]: r for r in cluster.url_report(name)}
            assert rows[private.base_url + "/"]["Crawl Status"] == "Blocked: private network address 127.0.0.1"
            assert rows[allowed.base_url + "/moved"]["Redirected To"] == private.base_url + "/"
            assert private.fetches() == []


@pytest.fixture
def own_cluster_factory(cluster_env: dict[str, str], tmp_path: Path) -> Iterator[object]:
    """A cluster of one controller and one worker with settings of its own."""
    from crawlfleet.servers import free_port as port

    made: list[Cluster] = []

    def make(**env: str) -> Cluster:
        prefix = "own" + uuid.uuid4().hex[:6]
        (tmp_path / prefix).mkdir()
        c = Cluster({**cluster_env, "CRAWLFLEET_KEY_PREFIX": prefix, "CRAWLFLEET_MONGO_DB": prefix,
                     "CRAWLFLEET_PORT": str(port()), **env}, tmp_path / prefix)
        c.add_worker()
        made.append(c)
        return c

    try:
        yield make
    finally:
        for c in made:
            c.stop()

