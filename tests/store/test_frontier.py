"""The frontier's Lua scripts against a real redis-server: schedule, leases, limits, dedupe."""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterator

import pytest
import redis

from crawlcore.status import Status
from crawlcore.urls import fingerprint, host_of
from crawlcore.wire import FrontierRequest
from crawlstore.frontier import Discovery, Frontier, Outcome, PageResult
from crawlstore.keys import CrawlKeys, slot_tag

pytestmark = pytest.mark.servers


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(redis_url)
    yield c
    c.close()


@pytest.fixture
def frontier(client: redis.Redis, unique_prefix: str) -> Frontier:
    return Frontier(client, unique_prefix, host_concurrency=2)


def link(url: str, processable: bool = False, delta: int = 1) -> Discovery:
    return Discovery(url, fingerprint(url), host_of(url), processable, delta)


def make(frontier: Frontier, seeds: list[str], crawl_id: str = "c1", **job: object) -> str:
    fields = {"status": 0, "delay_ms": 0, "max_hops": -1, "dm": "e", "db": 4, "round": 0,
              "max_crawl": 1000, "max_proc": 1000, "robots": 0, "def": "{}", **job}
    frontier.create(crawl_id, fields, [link(s, processable=True, delta=0) for s in seeds])
    frontier.set_status(crawl_id, [Status.INITIALIZING], Status.IN_PROGRESS)
    return crawl_id


def urls(members: list[bytes]) -> list[str]:
    return [FrontierRequest.decode(m.partition(b" ")[2]).url for m in members]


def done(member: bytes, links: list[Discovery] = (), **kw: object) -> PageResult:  # type: ignore[assignment]
    url = urls([member])[0]
    return PageResult(member, fingerprint(url), kw.pop("outcome", Outcome.FETCHED), ok=True,  # type: ignore[arg-type]
                      links=list(links), **kw)  # type: ignore[arg-type]


def test_hosts_take_turns_and_concurrency_per_host_is_capped(frontier: Frontier) -> None:
    cid = make(frontier, ["http://a.test/", "http://b.test/"])
    first = frontier.pop(cid, 10, 10_000)
    assert sorted(urls(first.members)) == ["http://a.test/", "http://b.test/"]
    frontier.commit(cid, [done(m, [link(f"http://{host_of(urls([m])[0])}/{i}") for i in range(5)])
                          for m in first.members])
    second = frontier.pop(cid, 10, 10_000)
    hosts = [host_of(u) for u in urls(second.members)]
    assert sorted(hosts) == ["a.test", "a.test", "b.test", "b.test"]  # host_concurrency=2 each
    assert frontier.pop(cid, 10, 10_000).members == []  # both hosts are at their limit


def test_a_crawl_delay_spaces_pops_of_a_host_and_does_not_block_others(frontier: Frontier) -> None:
    cid = make(frontier, ["http://a.test/", "http://b.test/"], delay_ms=300)
    first = frontier.pop(cid, 10, 10_000)
    frontier.commit(cid, [done(m, [link(f"http://{host_of(urls([m])[0])}/{i}") for i in range(3)])
                          for m in first.members])
    started = time.monotonic()
    seen: list[tuple[float, str]] = []
    while len(seen) < 6:
        popped = frontier.pop(cid, 10, 10_000)
        now = time.monotonic() - started
        seen += [(now, host_of(u)) for u in urls(popped.members)]
        frontier.commit(cid, [done(m) for m in popped.members])
        if not popped.members:
            assert popped.next_due_ms >= 0
            time.sleep(popped.next_due_ms / 1000)
    for host in ("a.test", "b.test"):
        times = [t for t, h in seen if h == host]
        assert all(b - a >= 0.3 - 0.005 for a, b in itertools.pairwise(times)), times
    # the two hosts advance side by side, not one after the other
    assert abs(seen[0][0] - seen[1][0]) < 0.1


def test_max_to_crawl_counts_leases_in_flight(frontier: Frontier) -> None:
    cid = make(frontier, ["http://a.test/"], max_crawl=4)
    seed = frontier.pop(cid, 10, 10_000).members
    frontier.commit(cid, [done(m, [link(f"http://a.test/{i}") for i in range(10)]) for m in seed])
    frontier.host_concurrency = 100
    popped = frontier.pop(cid, 100, 10_000)
    assert len(popped.members) == 3  # 1 crawled + 3 in flight = maxToCrawl
    result = frontier.commit(cid, [done(m) for m in popped.members])
    assert result.snapshot is not None and result.snapshot.crawled == 4
    assert frontier.pop(cid, 100, 10_000).members == []


def test_max_to_process_reserves_processable_requests_only(frontier: Frontier) -> None:
    frontier.host_concurrency = 100
    cid = make(frontier, ["http://a.test/"], max_proc=2)
    seed = frontier.pop(cid, 10, 10_000).members
    links = [link(f"http://a.test/p{i}", processable=True) for i in range(5)]
    links += [link(f"http://a.test/c{i}") for i in range(5)]
    frontier.commit(cid, [done(m, links, processed=True, process_ok=True, objects=1) for m in seed])
    popped = urls(frontier.pop(cid, 100, 10_000).members)
    # one page processed already: one processing slot left; crawl-only pages are not held back
    assert [u for u in popped if "/p" in u] == ["http://a.test/p0"]


def test_an_expired_lease_comes_back_with_one_more_try(frontier: Frontier) -> None:
    cid = make(frontier, ["http://a.test/"])
    (member,) = frontier.pop(cid, 1, 150).members
    assert frontier.pop(cid, 1, 150).members == []
    time.sleep(0.2)
    (again,) = frontier.pop(cid, 1, 150).members
    assert FrontierRequest.decode(again.partition(b" ")[2]).tries == 1
    late = frontier.commit(cid, [done(member)])  # the first worker was only slow: its result is void
    assert late.lost == 1 and late.snapshot is not None and late.snapshot.crawled == 0
    assert frontier.commit(cid, [done(again)]).snapshot.crawled == 1  # type: ignore[union-attr]


def test_renewed_leases_do_not_expire(frontier: Frontier) -> None:
    cid = make(frontier, ["http://a.test/"])
    (member,) = frontier.pop(cid, 1, 200).members
    for _ in range(3):
        time.sleep(0.1)
        assert frontier.renew(cid, [member], 200) == []
    assert frontier.pop(cid, 1, 200).members == []
    assert frontier.renew(cid, [b"a.test C{\"u\":\"http://a.test/x\"}"], 200) != []


def test_retries_count_tries_and_unstarted_leases_do_not(frontier: Frontier) -> None:
    cid = make(frontier, ["http://a.test/"])
    (m,) = frontier.pop(cid, 1, 10_000).members
    frontier.commit(cid, [done(m, outcome=Outcome.RETRY)])
    (m,) = frontier.pop(cid, 1, 10_000).members
    assert FrontierRequest.decode(m.partition(b" ")[2]).tries == 1
    frontier.commit(cid, [done(m, outcome=Outcome.UNSTARTED)])
    (m,) = frontier.pop(cid, 1, 10_000).members
    assert FrontierRequest.decode(m.partition(b" ")[2]).tries == 1


def test_dedupe_and_shortest_hops(frontier: Frontier) -> None:
    frontier.host_concurrency = 100
    cid = make(frontier, ["http://a.test/"])

    def crawl(url: str, links: list[str]) -> None:
        popped = {urls([m])[0]: m for m in frontier.pop(cid, 10, 10_000).members}
        frontier.commit(cid, [done(popped.pop(url), [link(u) for u in links])])
        frontier.commit(cid, [done(m, outcome=Outcome.UNSTARTED) for m in popped.values()])

    crawl("http://a.test/", ["http://a.test/long", "http://a.test/x"])
    crawl("http://a.test/long", ["http://a.test/mid", "http://a.test/x"])  # /x known: not queued twice
    crawl("http://a.test/mid", ["http://a.test/deep"])
    members = {urls([m])[0]: m for m in frontier.pop(cid, 10, 10_000).members}
    assert FrontierRequest.decode(members["http://a.test/deep"].partition(b" ")[2]).hop == 3
    frontier.commit(cid, [done(members["http://a.test/deep"], [link("http://a.test/deeper")])])
    # a shorter path to the crawled /deep: its hop drops to 2 and its links are re-sent
    frontier.commit(cid, [done(members["http://a.test/x"], [link("http://a.test/deep")])])
    tasks = [FrontierRequest.decode(m.partition(b" ")[2]) for m in frontier.pop(cid, 10, 10_000).members]
    assert [(t.url, t.hop) for t in tasks if t.expand] == [("http://a.test/deep", 2)]
    state = frontier.state(cid)
    assert state is not None and state[0].harvested == 6


def test_a_queued_url_found_closer_commits_with_its_true_hop(frontier: Frontier) -> None:
    frontier.host_concurrency = 100
    cid = make(frontier, ["http://a.test/"])
    (seed,) = frontier.pop(cid, 10, 10_000).members
    frontier.commit(cid, [done(seed, [link("http://a.test/1")])])
    (one,) = frontier.pop(cid, 10, 10_000).members
    frontier.commit(cid, [done(one, [link("http://a.test/2")])])
    (two,) = frontier.pop(cid, 10, 10_000).members  # /2 at hop 2, now in flight
    frontier.add_seeds(cid, [link("http://a.test/2", delta=0)])  # now it is a seed: hop 0
    result = frontier.commit(cid, [done(two, [link("http://a.test/3")])])
    assert result.corrections == {0: 0}
    (three,) = frontier.pop(cid, 10, 10_000).members
    assert FrontierRequest.decode(three.partition(b" ")[2]).hop == 1


def test_max_hops_is_applied_to_shortest_hops(frontier: Frontier) -> None:
    cid = make(frontier, ["http://a.test/"], max_hops=1)
    (seed,) = frontier.pop(cid, 10, 10_000).members
    frontier.commit(cid, [done(seed, [link("http://a.test/1")])])
    (one,) = frontier.pop(cid, 10, 10_000).members
    result = frontier.commit(cid, [done(one, [link("http://a.test/2")])])
    assert result.snapshot is not None and (result.snapshot.queued, result.snapshot.leased) == (0, 0)


def test_bloom_false_positive_rate_through_the_scripts(frontier: Frontier, client: redis.Redis) -> None:
    from crawlcore.dedupe import bloom_positions, bloom_shape

    n, target = 200_000, 0.001
    m, k = bloom_shape(n, target)
    cid = make(frontier, [], dm="b", bm=m, bk=k)
    for _ in range(0, n, 2000):  # n random fingerprints through the Lua scripts
        frontier.add_seeds(cid, [Discovery("http://a.test/", os.urandom(8), "a.test", False, 0)
                                 for _ in range(2000)])
    assert frontier.state(cid)[0].harvested >= n * (1 - 2 * target)  # type: ignore[index]
    bitmap = client.get(CrawlKeys(frontier.prefix, cid).bloom(0)) or b""

    def seen(fp: bytes) -> bool:  # Redis bit offsets count from the most significant bit
        return all(p // 8 < len(bitmap) and bitmap[p // 8] >> (7 - p % 8) & 1 for p in bloom_positions(fp, m, k))

    rate = sum(seen(os.urandom(8)) for _ in range(n)) / n
    print(f"bloom: {len(bitmap) / n:.2f} bytes per URL, false-positive rate {rate:.5f} (target {target})")
    assert rate <= 2 * target


def test_every_key_of_a_crawl_is_in_one_cluster_slot(frontier: Frontier, client: redis.Redis) -> None:
    frontier.host_concurrency = 100
    cids = [make(frontier, [f"http://{h}.test/"], crawl_id=f"crawl{h}") for h in ("a", "b")]
    for cid in cids:
        (seed,) = frontier.pop(cid, 10, 10_000).members
        frontier.commit(cid, [done(seed, [link(f"http://h{i}.test/") for i in range(20)])])
        frontier.pop(cid, 5, 10_000)
    tags: dict[str, set[str]] = {}
    for raw in client.scan_iter(match=f"{frontier.prefix}:*"):
        key = raw.decode()
        tags.setdefault(slot_tag(key), set()).add(key)
    for cid in cids:
        keys = tags.pop(cid)
        assert CrawlKeys(frontier.prefix, cid).job in keys and len(keys) > 20
    # what is left are the global keys, used only by single-key commands
    assert set().union(*tags.values()) <= {frontier.globals.active, frontier.globals.crawls}


def test_delete_leaves_no_key(frontier: Frontier, client: redis.Redis) -> None:
    cid = make(frontier, ["http://a.test/"])
    (seed,) = frontier.pop(cid, 10, 10_000).members
    frontier.commit(cid, [done(seed, [link(f"http://h{i}.test/") for i in range(30)])])
    frontier.delete(cid)
    assert list(client.scan_iter(match=f"{frontier.prefix}:{{{cid}}}*")) == []
    assert frontier.pop(cid, 10, 1000).snapshot is None
    assert frontier.commit(cid, [done(seed)]).snapshot is None  # a late worker finds it gone


def test_requests_are_compact(frontier: Frontier, client: redis.Redis) -> None:
    cid = make(frontier, ["http://a.test/"])
    (seed,) = frontier.pop(cid, 10, 10_000).members
    frontier.commit(cid, [done(seed, [link("http://a.test/articles/2024/05/some-article-title.html")])])
    (payload,) = client.lrange(CrawlKeys(frontier.prefix, cid).queue("a.test"), 0, -1)
    assert payload[:1] == b"C" and len(payload) < 120
    assert json.loads(payload[1:]) .keys() <= {"u", "h", "d", "t"}
