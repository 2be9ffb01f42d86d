"""The frontier on a real three-node Redis Cluster.

Redis Cluster refuses a script that touches a key of another slot than its declared key's
("non local key"), and a multi-key command across slots (CROSSSLOT). Running every
frontier operation for crawls spread over the three nodes checks the key layout rule:
each operation touches the keys of one crawl only, all under its hash tag.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.cluster import RedisCluster

from crawlcore.status import Status
from crawlcore.urls import fingerprint, host_of
from crawlfleet.servers import ManagedProcess, find_redis_server, port_is_free, spawn, wait_for_port
from crawlstore.connection import connect_redis
from crawlstore.frontier import Discovery, Frontier, Outcome, PageResult

pytestmark = pytest.mark.servers


def _cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is free too; both must stay below 65536."""
    for _ in range(200):
        port = random.randint(20000, 45000)
        if port_is_free("127.0.0.1", port) and port_is_free("127.0.0.1", port + 10000):
            return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


@pytest.fixture(scope="module")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cli = shutil.which("redis-cli") or "/usr/bin/redis-cli"
    base = tmp_path_factory.mktemp("redis-cluster")
    nodes: list[ManagedProcess] = []
    ports = [_cluster_port() for _ in range(3)]
    try:
        for port in ports:
            workdir = Path(base, str(port))
            workdir.mkdir()
            nodes.append(spawn(f"redis-{port}", [
                find_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf", "--save", "", "--appendonly", "no",
                "--protected-mode", "no"], cwd=workdir, log_path=workdir / "redis.log"))
            wait_for_port("127.0.0.1", port, 10, process=nodes[-1])
        subprocess.run([cli, "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports], "--cluster-yes"],
                       check=True, capture_output=True, timeout=30)
        client = RedisCluster(host="127.0.0.1", port=ports[0])
        for _ in range(100):  # wait until every node agrees the cluster is up
            if all(n["cluster_state"] == "ok" for n in client.cluster_info(target_nodes=RedisCluster.ALL_NODES
                                                                           ).values()):
                break
            time.sleep(0.1)
        client.close()
        yield f"redis://127.0.0.1:{ports[0]}/0"
    finally:
        for node in nodes:
            node.stop()


def test_every_frontier_operation_works_on_a_cluster(cluster_url: str) -> None:
    client = connect_redis(cluster_url, cluster=True)
    frontier = Frontier(client, "cf", host_concurrency=4)
    crawl_ids = [f"crawl{i}" for i in range(12)]  # spread over the three nodes' slots
    nodes = {client.get_node_from_key(frontier.keys(cid).job).name for cid in crawl_ids}
    assert len(nodes) == 3

    def link(url: str, delta: int = 1) -> Discovery:
        return Discovery(url, fingerprint(url), host_of(url), True, delta)

    batches: dict[str, list[PageResult]] = {}
    for cid in crawl_ids:
        job = {"status": 0, "delay_ms": 0, "max_hops": -1, "dm": "e", "db": 6, "round": 0,
               "max_crawl": 100, "max_proc": 100, "robots": 1, "def": "{}"}
        frontier.create(cid, job, [link("http://a.test/", 0)])
        assert frontier.set_status(cid, [Status.INITIALIZING], Status.IN_PROGRESS) is Status.INITIALIZING
        frontier.sync_active(cid, Status.IN_PROGRESS)
        (seed,) = frontier.pop(cid, 10, 5000).members
        batches[cid] = [PageResult(seed, fingerprint("http://a.test/"), Outcome.FETCHED, ok=True, delay_ms=0,
                                   links=[link(f"http://h{i}.test/") for i in range(20)])]
    results = frontier.commit_many(batches)
    assert all(r.snapshot is not None and r.snapshot.queued == 20 for r in results.values())
    held = {cid: frontier.pop(cid, 5, 5000).members for cid in crawl_ids}
    assert all(len(m) == 5 for m in held.values())
    assert frontier.renew_many(held, 5000) == {cid: [] for cid in crawl_ids}
    assert frontier.active() == set(crawl_ids)
    state = frontier.state(crawl_ids[0])
    assert state is not None and state[0].harvested == 21
    for cid in crawl_ids:
        frontier.delete(cid)
    assert frontier.active() == set()
    for node in client.get_nodes():
        assert [k for k in node.redis_connection.scan_iter(match="cf:{*")] == []
    client.close()
