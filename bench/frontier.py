"""Frontier benchmark: crawlfleet against plain Scrapy and vanilla scrapy-redis, in one run.

    .venv/bin/python -m bench.frontier                 # 20,000 pages, 2 interleaved rounds
    .venv/bin/python -m bench.frontier --pages 5000 --rounds 1 --quick

Everything runs on this machine, on loopback: a fresh redis-server and MongoDB-wire server,
and a deterministic generated site served by nginx (Python's server when nginx is absent).
Every crawler does the same parsing work per page (crawlfleet's own extraction code) at the
same download concurrency and stores one object per page in MongoDB; crawlfleet also writes
the URL report. Measured, interleaved round by round:

  (a) plain Scrapy, one process, in-memory scheduler
  (b) vanilla scrapy-redis (RedisSpider, default scheduler, queue, dupefilter, pickle)
  (c) crawlfleet, one worker      (d) crawlfleet, two workers

then Redis commands per crawled page (MONITOR, client commands only), Redis memory per
seen URL (exact and Bloom, 1,000,000 fingerprints) and per queued request, and the time from
POST /v3/crawl to the first fetch (median of 20). Results go to stdout and bench/out/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import redis

from crawlcore.dedupe import bloom_shape, exact_bucket_bits, expected_urls
from crawlcore.status import Status
from crawlcore.urls import fingerprint
from crawlfleet.servers import ManagedProcess, free_port, spawn, start_mongo, start_redis, wait_for_port
from crawlstore.frontier import Discovery, Frontier
from crawlstore.keys import CrawlKeys
from crawlstore.mongo import connect
from crawlstore.tokens import TokenStore
from tests.sites.fixtures import generate_site
from tests.sites.model import Page, Site
from tests.sites.nginx import start_nginx
from tests.sites.process import SiteProcess

REPO = Path(__file__).resolve().parents[1]
CONCURRENCY = 32


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.redis = start_redis(free_port(), data_dir=None, log_path=workdir / "redis.log")
        self.mongo = start_mongo(free_port(), storage_path=str(workdir / "mongo-data"),
                                 log_path=workdir / "mongo.log", cache_size="4G")
        self.client = redis.Redis.from_url(self.redis.url)
        self.db = connect(self.mongo.url, "bench")
        self.token = TokenStore(self.db).create("bench")
        self.env = {**os.environ, "PYTHONPATH": str(REPO), "REDIS_URL": self.redis.url, "MONGO_URL": self.mongo.url,
                    "CRAWLFLEET_MONGO_DB": "bench", "CRAWLFLEET_CONCURRENCY": str(CONCURRENCY),
                    "CRAWLFLEET_HOST_CONCURRENCY": str(4 * CONCURRENCY), "CRAWLFLEET_LOG_LEVEL": "WARNING",
                    "CRAWLFLEET_ALLOW_NETWORKS": "127.0.0.0/8",
                    "CRAWLFLEET_PORT": str(free_port())}
        self.controller = self._spawn("controller", ["controller"])
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{self.env['CRAWLFLEET_PORT']}", timeout=60)
        wait_for_port("127.0.0.1", int(self.env["CRAWLFLEET_PORT"]), 30, process=self.controller)

    def _spawn(self, name: str, args: list[str], **env: str) -> ManagedProcess:
        return spawn(name, [sys.executable, "-m", "crawlfleet", *args], env={**self.env, **env}, cwd=REPO,
                     log_path=self.workdir / f"{name}.log")

    def close(self) -> None:
        self.api.close()
        self.controller.stop()
        self.client.close()
        self.db.client.close()
        self.mongo.stop()
        self.redis.stop()
        shutil.rmtree(self.workdir / "mongo-data", ignore_errors=True)

    # ---------------------------------------------------------------- peers

    def peer(self, kind: str, start: str, pages: int) -> float:
        out = self.workdir / f"{kind}-{uuid.uuid4().hex[:6]}.json"
        db = f"peer{uuid.uuid4().hex[:6]}"
        cmd = [sys.executable, "-m", f"bench.peers.{kind}", "--start", start, "--expect", str(pages),
               "--mongo", self.mongo.url, "--db", db, "--out", str(out), "--concurrency", str(CONCURRENCY),
               "--processing", self.args.processing]
        if kind == "vanilla_redis":
            cmd += ["--redis", self.redis.url, "--key", f"vanilla{uuid.uuid4().hex[:6]}"]
        subprocess.run(cmd, cwd=REPO, env=self.env, check=True, stdout=subprocess.DEVNULL,
                       stderr=(self.workdir / f"{kind}.log").open("ab"))
        result = json.loads(out.read_text())
        assert result["pages"] >= pages, result
        self.db.client.drop_database(db)  # keep the store small: every run starts alike
        return float(result["pages"]) / float(result["seconds"])

    # ---------------------------------------------------------------- crawlfleet

    def workers(self, n: int) -> list[ManagedProcess]:
        # each worker serves its metrics on a port of its own, as in a deployment (they cost what they cost)
        procs = [self._spawn(f"worker-{i}", ["worker"], CRAWLFLEET_METRICS_PORT=str(free_port())) for i in range(n)]
        deadline = time.monotonic() + 60
        while self.client.hlen("cf:workers") < n:  # every worker has written its heartbeat
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not start; see " + str(self.workdir))
            time.sleep(0.2)
        return procs

    def stop_workers(self, procs: list[ManagedProcess]) -> None:
        for proc in procs:
            proc.stop(timeout=30)
        self.client.delete("cf:workers")

    def processing_params(self) -> dict[str, str]:
        """Crawl settings for --processing off: no URL matches the process regex (it is searched, so
        "^$" never matches a URL); with analyze, the default (no apiUrl)."""
        return {"urlProcessRegEx": "^$"} if self.args.processing == "off" else {}

    def create(self, seed: str, **params: Any) -> tuple[str, float]:
        name = f"bench-{uuid.uuid4().hex[:8]}"
        data = {"token": self.token, "name": name, "seeds": seed, "crawlDelay": 0, "maxToCrawl": 10_000_000,
                **params}
        started = time.time()
        resp = self.api.post("/v3/crawl", data=data)
        resp.raise_for_status()
        return name, started

    def job(self, name: str) -> dict[str, Any]:
        resp = self.api.get("/v3/crawl", params={"token": self.token, "name": name})
        resp.raise_for_status()
        return resp.json()["jobs"][0]

    def wait(self, name: str, timeout: float = 3600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(name)
            if job["jobStatus"]["status"] not in (Status.IN_PROGRESS, Status.INITIALIZING):
                return job
            if time.monotonic() > deadline:
                raise RuntimeError(f"crawl {name} did not finish: {job['jobStatus']}")
            time.sleep(0.1)

    def crawlfleet(self, n_workers: int, start: str, pages: int) -> float:
        procs = self.workers(n_workers)
        try:
            name, started = self.create(start, **self.processing_params())
            job = self.wait(name)
            seconds = time.time() - started
            assert job["jobStatus"]["status"] == Status.COMPLETED, job["jobStatus"]
            assert job["pageCrawlAttempts"] >= pages, job
            self.api.post("/v3/crawl", data={"token": self.token, "name": name, "delete": 1})
            return float(job["pageCrawlAttempts"]) / seconds
        finally:
            self.stop_workers(procs)

    # ---------------------------------------------------------------- Redis cost

    def commands_per_page(self, start: str, pages: int) -> tuple[float, float]:
        """(client commands, commands run inside scripts) per crawled page, from MONITOR."""
        counts = {"client": 0, "script": 0}
        stop = threading.Event()
        mon_client = redis.Redis.from_url(self.redis.url)

        def monitor() -> None:
            with mon_client.monitor() as m:
                for command in m.listen():
                    if stop.is_set():
                        return
                    counts["script" if command.get("client_type") == "lua" else "client"] += 1

        procs = self.workers(1)
        thread = threading.Thread(target=monitor, daemon=True)
        try:
            thread.start()
            time.sleep(0.5)
            before = dict(counts)
            name, _ = self.create(start, maxToCrawl=pages, **self.processing_params())
            job = self.wait(name)
            after = dict(counts)
            self.api.post("/v3/crawl", data={"token": self.token, "name": name, "delete": 1})
        finally:
            stop.set()
            self.client.set("bench:wakeup-monitor", 1)
            self.stop_workers(procs)
            mon_client.close()
        crawled = job["pageCrawlAttempts"]
        # the API requests made while waiting are client commands too; they are few and counted
        return (after["client"] - before["client"]) / crawled, (after["script"] - before["script"]) / crawled

    # ---------------------------------------------------------------- Redis memory

    def memory(self, n: int) -> dict[str, float]:
        frontier = Frontier(self.client, "mem", host_concurrency=CONCURRENCY)
        out: dict[str, float] = {}
        hosts = [f"site-{h}.example.com" for h in range(100)]

        def fill(crawl_id: str, job: dict[str, Any]) -> None:
            base = {"status": 7, "delay_ms": 0, "max_hops": -1, "round": 0, "max_crawl": n // 4,
                    "max_proc": 0, "robots": 0, "def": "{}", **job}
            frontier.create(crawl_id, base, [])
            for start in range(0, n, 5000):
                seeds = []
                for i in range(start, min(n, start + 5000)):
                    host = hosts[i % len(hosts)]
                    url = f"http://{host}/section-{i % 97}/article-{i}.html"
                    seeds.append(Discovery(url, fingerprint(url), host, False, 0))
                frontier.add_seeds(crawl_id, seeds)

        def usage(keys: list[str]) -> int:
            with self.client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.memory_usage(key, samples=0)
                return sum(int(v or 0) for v in pipe.execute())

        bits = exact_bucket_bits(expected_urls(n // 4))
        fill("exact", {"dm": "e", "db": bits})
        k = CrawlKeys("mem", "exact")
        out["exact_bytes_per_seen_url"] = usage([k.seen(0, b) for b in range(1 << bits)]) / n
        out["bytes_per_queued_request"] = usage([k.queue(h) for h in hosts]) / n
        frontier.delete("exact")

        m, kk = bloom_shape(expected_urls(n // 4), 0.001)
        fill("bloom", {"dm": "b", "bm": m, "bk": kk})
        out["bloom_bytes_per_seen_url"] = usage([CrawlKeys("mem", "bloom").bloom(0)]) / n
        frontier.delete("bloom")
        return out

    # ---------------------------------------------------------------- first fetch

    def first_fetch(self, samples: int) -> list[float]:
        site = Site("first", {"/": Page("/", title="t", text="hello")})
        delays: list[float] = []
        with SiteProcess(site) as server:
            procs = self.workers(1)
            try:
                for i in range(samples + 1):
                    seed = f"{server.base_url}/?sample={i}"
                    name, started = self.create(seed, obeyRobots=0, maxHops=0)
                    deadline = time.monotonic() + 30
                    while not (hits := [f for f in server.fetches() if f["path"] == f"/?sample={i}"]):
                        if time.monotonic() > deadline:
                            raise RuntimeError("no fetch of " + seed)
                        time.sleep(0.005)
                    if i:  # the first sample warms up DNS caches and connections
                        delays.append(float(hits[0]["t"]) - started)
                    self.wait(name)
            finally:
                self.stop_workers(procs)
        return delays


def machine() -> dict[str, str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    with contextlib.suppress(OSError):
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()

    def version(cmd: list[str]) -> str:
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (done.stdout + done.stderr).strip().splitlines()[0]  # nginx -v writes to stderr
        except (OSError, IndexError, subprocess.SubprocessError):
            return "absent"

    import scrapy
    import scrapy_redis

    return {
        "cpu": f"{cpu} x {os.cpu_count()}", "memory": mem, "os": platform.platform(),
        "python": platform.python_version(), "scrapy": scrapy.__version__, "scrapy-redis": scrapy_redis.__version__,
        "redis": version(["redis-server", "--version"]), "nginx": version(["/usr/sbin/nginx", "-v"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--fingerprints", type=int, default=1_000_000)
    parser.add_argument("--first-fetch-samples", type=int, default=20)
    parser.add_argument("--monitor-pages", type=int, default=5_000)
    parser.add_argument("--only", default="abcd", help="which crawlers to run, e.g. 'ac'")
    parser.add_argument("--processing", choices=("off", "analyze"), default="off",
                        help="off: pages are parsed for their links only (the frontier's own cost); analyze: "
                             "every crawler also runs crawlfleet's default extraction and stores the objects")
    args = parser.parse_args()

    workdir = REPO / "bench" / "out" / time.strftime("frontier-%Y%m%d-%H%M%S")
    workdir.mkdir(parents=True)
    site = generate_site(args.pages, links_per_page=10, seed=1, page_bytes=6000)
    server = start_nginx(site, tempfile.mkdtemp(prefix="bench-site-"))
    server_kind = "nginx"
    python_server: SiteProcess | None = None
    if server is None:
        python_server = SiteProcess(site).start()
        base = python_server.base_url
        server_kind = "python http.server"
    else:
        base = server.base_url
    start = base + "/"
    log(f"site: {args.pages} pages at {base} ({server_kind}); work dir {workdir}")

    bench = Bench(args, workdir)
    runs: dict[str, list[float]] = {k: [] for k in "abcd"}
    jobs: dict[str, Callable[[], float]] = {
        "a": lambda: bench.peer("plain_scrapy", start, args.pages),
        "b": lambda: bench.peer("vanilla_redis", start, args.pages),
        "c": lambda: bench.crawlfleet(1, start, args.pages),
        "d": lambda: bench.crawlfleet(2, start, args.pages),
    }
    results: dict[str, Any] = {"machine": machine(), "pages": args.pages, "concurrency": CONCURRENCY,
                               "processing": args.processing,
                               "site_server": server_kind, "rounds": args.rounds}
    try:
        for r in range(args.rounds):
            for kind in args.only:
                rate = jobs[kind]()
                runs[kind].append(rate)
                log(f"round {r + 1} ({kind}): {rate:.0f} pages/s")
        results["pages_per_second"] = {k: statistics.median(v) for k, v in runs.items() if v}
        results["runs"] = runs
        client_cmds, script_cmds = bench.commands_per_page(start, min(args.monitor_pages, args.pages))
        results["redis_commands_per_page"] = client_cmds
        results["redis_script_commands_per_page"] = script_cmds
        log(f"Redis: {client_cmds:.2f} client commands per page ({script_cmds:.1f} more inside scripts)")
        results["memory"] = bench.memory(args.fingerprints)
        log(f"memory: {results['memory']}")
        delays = bench.first_fetch(args.first_fetch_samples)
        results["first_fetch_seconds"] = {"median": statistics.median(delays), "max": max(delays),
                                          "samples": len(delays)}
    finally:
        bench.close()
        if server is not None:
            server.stop()
        if python_server is not None:
            python_server.stop()

    rates = results.get("pages_per_second", {})
    ratios = {}
    if "a" in rates and "c" in rates:
        ratios["c/a"] = rates["c"] / rates["a"]
    if "b" in rates and "c" in rates:
        ratios["c/b"] = rates["c"] / rates["b"]
    if "c" in rates and "d" in rates:
        ratios["d/c"] = rates["d"] / rates["c"]
    results["ratios"] = ratios
    (workdir / "results.json").write_text(json.dumps(results, indent=2))
    print(report(results))


def report(r: dict[str, Any]) -> str:
    names = {"a": "plain Scrapy (1 process)", "b": "vanilla scrapy-redis (1 process)",
             "c": "crawlfleet, 1 worker", "d": "crawlfleet, 2 workers"}
    lines = [f"frontier benchmark: {r['pages']} pages, concurrency {r['concurrency']}, {r['site_server']}, "
             f"processing {r['processing']}, median of {r['rounds']} interleaved rounds", ""]
    for k, rate in r.get("pages_per_second", {}).items():
        runs = ", ".join(f"{x:.0f}" for x in r["runs"][k])
        lines.append(f"  ({k}) {names[k]:<34} {rate:7.0f} pages/s   (runs: {runs})")
    lines.append("")
    targets = {"c/a": 1.0, "c/b": 1.3}
    for k, v in r.get("ratios", {}).items():
        target = f"   target >= {targets[k]}" if k in targets else ""
        lines.append(f"  {k} = {v:.2f}{target}")
    mem = r.get("memory", {})
    ff = r.get("first_fetch_seconds", {})
    lines += [
        "",
        f"  Redis client commands per crawled page   {r.get('redis_commands_per_page', 0):6.2f}   target <= 6"
        f"   (+{r.get('redis_script_commands_per_page', 0):.1f} run inside Lua scripts)",
        f"  Redis bytes per seen URL, exact mode      {mem.get('exact_bytes_per_seen_url', 0):6.1f}   target <= 60",
        f"  Redis bytes per seen URL, Bloom (0.1%)    {mem.get('bloom_bytes_per_seen_url', 0):6.2f}   target <= 2",
        f"  Redis bytes per queued request            {mem.get('bytes_per_queued_request', 0):6.1f}   target <= 200",
        f"  POST to first fetch, median of {ff.get('samples', 0)}        {ff.get('median', 0) * 1000:6.0f} ms"
        f"   (max {ff.get('max', 0) * 1000:.0f} ms)   target <= 1000 ms",
        "",
        "  machine: " + ", ".join(f"{k} {v}" for k, v in r["machine"].items()),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
