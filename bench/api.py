"""/api/v1 benchmark: one controller process driven over loopback with many keep-alive connections.

    .venv/bin/python -m bench.api                      # 64 connections, 10 s per scenario
    .venv/bin/python -m bench.api --connections 128 --seconds 20 --crawls 10000 --objects 100000

Starts a fresh redis-server and MongoDB-wire server (SecantusDB; or uses REDIS_URL / MONGO_URL)
and one `crawlfleet controller`, stores the data, then measures requests per second and p50/p99
latency for:

  (1) GET /api/v1/crawls/{id}            one crawl (live counters from Redis)
  (2) GET /api/v1/crawls?limit=50        with --crawls crawls stored for the caller
  (3) GET /api/v1/crawls/{id}/export?format=csv of --objects objects (streamed)

The load generator is a minimal HTTP/1.1 client on asyncio (keep-alive, one request in flight
per connection), in this process, so it shares the machine's cores with the controller and the
stores: the figures are a floor. Results go to stdout and bench/out/api-<time>/results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from crawlbase.config import Config
from crawlfleet.servers import free_port, start_mongo, start_redis
from crawlstore.mongo import connect
from crawlstore.tokens import TokenStore

REPO = Path(__file__).resolve().parents[1]
TARGET_RPS, TARGET_P99_MS = 1500.0, 50.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- load generator

class Conn:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def get(self, request: bytes) -> tuple[int, int]:
        """Send a prepared request; (status, body bytes)."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        length = 0
        if b"transfer-encoding: chunked" in lower:
            while True:
                size_line = await self.reader.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                length += size
                if size == 0:
                    break
        else:
            start = lower.find(b"content-length:")
            if start >= 0:
                length = int(lower[start + 15: lower.find(b"\r\n", start)])
                await self.reader.readexactly(length)
        return status, length


async def _load(port: int, request: bytes, connections: int, seconds: float, warmup: float) -> dict[str, Any]:
    conns = [Conn(*await asyncio.open_connection("127.0.0.1", port)) for _ in range(connections)]
    latencies: list[float] = []
    errors = 0
    received = 0
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + seconds

    async def worker(conn: Conn) -> None:
        nonlocal errors, received
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at:
                return
            status, size = await conn.get(request)
            t1 = time.perf_counter()
            if t0 >= measure_from:
                latencies.append(t1 - t0)
                received += size
                if status != 200:
                    errors += 1

    await asyncio.gather(*(worker(c) for c in conns))
    elapsed = time.perf_counter() - measure_from
    for c in conns:
        c.writer.close()
    latencies.sort()
    count = len(latencies)

    def pct(p: float) -> float:
        return round(latencies[min(count - 1, int(p * count))] * 1000, 2) if count else 0.0

    return {"requests": count, "seconds": round(elapsed, 2), "rps": round(count / elapsed, 1),
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": pct(1.0), "errors": errors,
            "mb_per_s": round(received / elapsed / 2**20, 2), "connections": connections}


def run_load(port: int, path: str, key: str, connections: int, seconds: float, warmup: float = 2.0,
             ) -> dict[str, Any]:
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-API-Key: {key}\r\n"
               "Accept: */*\r\n\r\n").encode()
    with contextlib.suppress(ImportError):
        import uvloop

        return uvloop.run(_load(port, request, connections, seconds, warmup))
    return asyncio.run(_load(port, request, connections, seconds, warmup))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------- set-up

@contextlib.contextmanager
def stores(workdir: Path) -> Iterator[tuple[str, str]]:
    if os.environ.get("REDIS_URL") and os.environ.get("MONGO_URL"):
        yield os.environ["REDIS_URL"], os.environ["MONGO_URL"]
        return
    with start_redis(free_port(), data_dir=None, log_path=workdir / "redis.log") as r, \
            start_mongo(free_port(), storage_path=None, log_path=workdir / "mongo.log") as m:
        yield r.url, m.url


def seed_crawl_records(db: Any, owner: str, count: int) -> None:
    """`count` finished crawls of one owner, as their MongoDB records (the registry /api/v1 lists)."""
    now = time.time()
    definition = {"name": "", "seeds": ["https://example.com/"], "max_hops": 2, "max_to_crawl": 1000}
    for start in range(0, count, 1000):
        db.crawls.insert_many([{
            "_id": uuid.uuid4().hex, "token": owner, "name": f"stored-{i:05d}",
            "definition": {**definition, "name": f"stored-{i:05d}"}, "status": 9, "created": now - count + i,
            "state": {"created": now - count + i, "completed": now, "attempts": 120, "crawl_ok": 118,
                      "objects": 100, "harvested": 130},
        } for i in range(start, min(count, start + 1000))])


def seed_objects(db: Any, crawl_id: str, count: int) -> None:
    text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 8
    for start in range(0, count, 5000):
        db.objects.insert_many([{
            "_id": f"{crawl_id}:0:{i:016x}:0", "_c": crawl_id, "_r": 0, "_t": 1.7e9 + i, "type": "article",
            "pageUrl": f"https://example.com/p/{i}", "title": f"Page {i}", "text": text, "humanLanguage": "en",
            "timestamp": 1.7e12 + i, "meta": {"description": f"page {i}"},
        } for i in range(start, min(count, start + 5000))])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario")
    parser.add_argument("--crawls", type=int, default=10_000, help="crawls stored for the list scenario")
    parser.add_argument("--objects", type=int, default=100_000, help="objects in the exported crawl")
    parser.add_argument("--export-connections", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=[], help="run only these scenarios (names as printed)")
    args = parser.parse_args(argv)

    stamp = time.strftime("%Y%m%d-%H%M%S")
    workdir = REPO / "bench" / "out" / f"api-{stamp}"
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                           "platform": platform.platform()}, "args": vars(args)}
    with stores(workdir) as (redis_url, mongo_url):
        prefix = "b" + uuid.uuid4().hex[:8]
        port = free_port()
        config = Config.from_env({"REDIS_URL": redis_url, "MONGO_URL": mongo_url, "CRAWLFLEET_MONGO_DB": prefix,
                                  "CRAWLFLEET_KEY_PREFIX": prefix, "CRAWLFLEET_PORT": str(port),
                                  "CRAWLFLEET_RATE_LIMIT": "100000000", "CRAWLFLEET_LOG_LEVEL": "WARNING",
                                  "CRAWLFLEET_MAX_CRAWLS_PER_TOKEN": str(args.crawls + 10)})
        db = connect(mongo_url, prefix)
        key = TokenStore(db).create("bench")
        owner = TokenStore(db).lookup(key).id  # type: ignore[union-attr]
        controller_log = (workdir / "controller.log").open("wb")
        proc = subprocess.Popen([sys.executable, "-m", "crawlfleet", "controller"],
                                env={**os.environ, **config.as_env()}, cwd=REPO, stdout=controller_log,
                                stderr=subprocess.STDOUT)
        log(f"controller pid {proc.pid}")
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=300) as client:
                deadline = time.monotonic() + 30
                while True:
                    with contextlib.suppress(httpx.TransportError):
                        if client.get("/readyz").status_code == 200:
                            break
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise SystemExit("controller did not start; see " + str(workdir / "controller.log"))
                    time.sleep(0.1)
                one = client.post("/api/v1/crawls", json={"name": "bench-one", "seeds": ["https://example.com/"]})
                assert one.status_code == 201, one.text
                crawl_id = one.json()["id"]
                log(f"storing {args.crawls} crawls and {args.objects} objects")
                t0 = time.monotonic()
                seed_crawl_records(db, owner, args.crawls)
                seed_objects(db, crawl_id, args.objects)
                log(f"stored in {time.monotonic() - t0:.0f} s")
                assert client.get("/api/v1/crawls", params={"limit": 1}).json()["total_items"] == args.crawls + 1
                export = client.get(f"/api/v1/crawls/{crawl_id}/export", params={"format": "csv"})
                results["export_bytes"] = len(export.content)
                results["export_rows"] = export.text.count("\n") - 1

            scenarios = [
                ("get_one_crawl", f"/api/v1/crawls/{crawl_id}", args.connections, args.seconds),
                ("list_crawls", "/api/v1/crawls?limit=50", args.connections, args.seconds),
                ("export_csv", f"/api/v1/crawls/{crawl_id}/export?format=csv", args.export_connections,
                 max(args.seconds, 20.0)),
            ]
            for name, path, conns, seconds in scenarios:
                if args.only and name not in args.only:
                    continue
                log(f"{name}: {conns} connections, {seconds:.0f} s")
                if name != "export_csv":
                    run_load(port, path, key, conns, 1.0, warmup=0.0)  # warm-up, not measured
                cpu_before = cpu_seconds(proc.pid)
                results[name] = run_load(port, path, key, conns, seconds, warmup=0.0)
                cpu = cpu_seconds(proc.pid) - cpu_before
                results[name]["controller_cpu_ms_per_request"] = round(cpu * 1000 / max(1, results[name]["requests"]),
                                                                       3)
                results[name]["controller_cpu_share"] = round(cpu / results[name]["seconds"], 2)
                log(f"  {results[name]}")
        finally:
            proc.terminate()
            proc.wait(30)
            controller_log.close()
            db.client.close()

    one = results.get("get_one_crawl", {"rps": 0.0, "p99_ms": 1e9})
    results["targets"] = {"get_one_crawl_rps": TARGET_RPS, "get_one_crawl_p99_ms": TARGET_P99_MS,
                          "met": one["rps"] >= TARGET_RPS and one["p99_ms"] < TARGET_P99_MS}
    (workdir / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\n/api/v1 benchmark ({os.cpu_count()} cores; client, controller and stores on one machine)")
    print(f"{'scenario':<16}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'MB/s':>8}{'errors':>8}"
          f"{'ctl CPU ms/req':>16}")
    for name in ("get_one_crawl", "list_crawls", "export_csv"):
        if name not in results:
            continue
        r = results[name]
        print(f"{name:<16}{r['connections']:>6}{r['rps']:>10}{r['p50_ms']:>9}{r['p99_ms']:>9}"
              f"{r['mb_per_s']:>8}{r['errors']:>8}{r['controller_cpu_ms_per_request']:>16}")
    print(f"export: {results['export_rows']} rows, {results['export_bytes'] / 2**20:.1f} MiB per request")
    print(f"target GET one crawl >= {TARGET_RPS:.0f} req/s with p99 < {TARGET_P99_MS:.0f} ms: "
          f"{'met' if results['targets']['met'] else 'NOT met'}")
    print(f"results: {workdir / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
