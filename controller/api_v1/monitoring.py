"""/api/v1/monitoring: crawl statistics, system health, live workers and memory.

Workers report themselves in the Redis hash `{prefix}:workers` (worker id -> heartbeat JSON:
pid, time, leases, pages, in_flight, host, started, rss, crawls, memory, memory_limited,
pages_per_second). A heartbeat without pages_per_second gets it from two heartbeats this
controller saw.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource as _resource
import threading
import time
from typing import Any

import pymongo
from redis.backoff import NoBackoff
from redis.retry import Retry
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from crawlstore.connection import connect_redis, text

from .context import V1
from .crawlspec import iso
from .http import caller, ctx, ok, resource

__all__ = ["routes"]

DAY = 86400.0
_OK_NAMES = ("completed", "limit_reached", "stopped", "sealed")


async def stats(request: Request) -> Response:
    v1, principal = caller(request)

    def work() -> dict[str, Any]:
        now = v1.clock()
        scope = {} if principal.admin else {"token": principal.owner}
        counts, items, recent = v1.reports.status_totals(scope, now - DAY)
        good = sum(counts.get(n, 0) for n in _OK_NAMES)
        bad = counts.get("failed", 0)
        return {
            "scope": "cluster" if principal.admin else "user",
            "status_counts": counts,
            "total_crawls": sum(counts.values()),
            "total_items": items,
            "crawls_last_24h": recent,
            "success_rate": round(100.0 * good / (good + bad), 2) if good + bad else None,
            "timestamp": iso(now),
        }

    return ok(await run_in_threadpool(work))


def _beats(v1: V1) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for key, raw in v1.svc.redis.hgetall(v1.svc.crawls.frontier.globals.workers).items():
        try:
            beat = json.loads(text(raw))
        except ValueError:
            continue
        if isinstance(beat, dict):
            out.append((text(key), beat))
    return sorted(out)


def _worker_view(v1: V1, worker_id: str, beat: dict[str, Any], now: float) -> dict[str, Any]:
    age = max(0.0, now - float(beat.get("time", 0)))
    pages = int(beat.get("pages", 0))
    rate = None
    previous = v1.worker_samples.get(worker_id)
    stamp = float(beat.get("time", 0))
    if previous is not None and stamp > previous[0]:
        rate = round(max(0, pages - previous[1]) / (stamp - previous[0]), 2)
    if previous is None or stamp > previous[0]:
        v1.worker_samples[worker_id] = (stamp, pages)
    if isinstance(beat.get("pages_per_second"), (int, float)):
        rate = float(beat["pages_per_second"])  # the worker's own, over its last heartbeat interval
    crawls = beat.get("crawls")
    return {
        "id": worker_id,
        "pid": beat.get("pid"),
        "host": beat.get("host"),
        "alive": age <= v1.config.heartbeat_timeout,
        "heartbeat_age_seconds": round(age, 3),
        "last_heartbeat": iso(stamp),
        "started_at": iso(beat.get("started")),
        "leases": int(beat.get("leases", 0)),
        "in_flight": int(beat.get("in_flight", 0)),
        "pages_total": pages,
        "pages_per_second": rate,
        "active_crawls": crawls if isinstance(crawls, (int, list)) else None,
        "memory_rss_bytes": beat.get("rss"),
        "memory_limited": bool(beat.get("memory_limited")),
    }


async def workers(request: Request) -> Response:
    v1, _ = caller(request, "admin")

    def work() -> dict[str, Any]:
        now = time.time()  # workers stamp their heartbeats with the wall clock
        items = [_worker_view(v1, wid, beat, now) for wid, beat in _beats(v1)]
        return {"workers": items, "alive": sum(1 for w in items if w["alive"]), "total": len(items),
                "timestamp": iso(now)}

    return ok(await run_in_threadpool(work))


def _proc_status() -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "VmHWM", "VmSize", "RssAnon", "RssFile"):
                    out[name] = int(value.split()[0]) * 1024
    except OSError:
        out["VmHWM"] = _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss * 1024
    return out


def controller_memory(v1: V1) -> dict[str, Any]:
    proc = _proc_status()
    return {
        "pid": os.getpid(),
        "rss_bytes": proc.get("VmRSS"),
        "peak_rss_bytes": proc.get("VmHWM"),
        "anonymous_bytes": proc.get("RssAnon"),
        "file_backed_bytes": proc.get("RssFile"),
        "threads": threading.active_count(),
        "gc_objects": len(gc.get_objects()),
        "gc_counts": list(gc.get_count()),
        "components": {
            "key_cache_entries": len(v1.key_cache._data),
            "user_cache_entries": len(v1.user_cache._data),
            "record_cache_entries": len(v1.record_cache._data),
            "worker_samples": len(v1.worker_samples),
        },
    }


async def memory(request: Request) -> Response:
    v1, _ = caller(request, "admin")

    def work() -> dict[str, Any]:
        now = time.time()  # workers stamp their heartbeats with the wall clock
        out = []
        for wid, beat in _beats(v1):
            mem = beat.get("memory")
            out.append({"id": wid, "pid": beat.get("pid"), "rss_bytes": beat.get("rss"),
                        "components": mem if isinstance(mem, dict) else None,
                        "heartbeat_age_seconds": round(max(0.0, now - float(beat.get("time", 0))), 3)})
        return {"controller": controller_memory(v1), "workers": out, "timestamp": iso(now)}

    return ok(await run_in_threadpool(work))


HEALTH_TIMEOUT = 2.0  # seconds each store gets to answer a health check


def _check_redis(v1: V1) -> str:
    try:  # a fresh connection with short timeouts: a hung Redis must not hold the check for long
        client = connect_redis(v1.config.redis_url, cluster=v1.config.redis_cluster, socket_timeout=HEALTH_TIMEOUT,
                               socket_connect_timeout=HEALTH_TIMEOUT, retry=Retry(NoBackoff(), 0))
        try:
            client.ping()
        finally:
            client.close()
        return "healthy"
    except Exception as exc:  # any failure: say which
        return f"unhealthy: {type(exc).__name__}"


def _check_mongodb(v1: V1) -> str:
    try:
        with pymongo.timeout(HEALTH_TIMEOUT):
            v1.svc.db.command("ping")
        return "healthy"
    except Exception as exc:
        return f"unhealthy: {type(exc).__name__}"


def _alive_workers(v1: V1) -> int:
    now = time.time()  # workers stamp their heartbeats with the wall clock
    return sum(1 for _, b in _beats(v1) if now - float(b.get("time", 0)) <= v1.config.heartbeat_timeout)


async def health(request: Request) -> Response:
    """Each dependency checked at once, the answer within about HEALTH_TIMEOUT + 1 s."""
    v1 = ctx(request)
    tasks = [asyncio.ensure_future(run_in_threadpool(f, v1)) for f in (_check_redis, _check_mongodb)]
    done, _ = await asyncio.wait(tasks, timeout=HEALTH_TIMEOUT + 1.0)
    redis_state, mongo_state = (t.result() if t in done else "unhealthy: timeout" for t in tasks)
    checks: dict[str, Any] = {"api": "healthy", "redis": redis_state, "mongodb": mongo_state}
    alive = 0
    if redis_state == "healthy":
        try:
            alive = await asyncio.wait_for(run_in_threadpool(_alive_workers, v1), HEALTH_TIMEOUT)
        except Exception:
            checks["redis"] = "unhealthy: timeout"
    checks["workers"] = "healthy" if alive else "none"
    down = checks["redis"] != "healthy" or checks["mongodb"] != "healthy"
    status = "unhealthy" if down else "healthy" if alive else "degraded"
    body = {"status": status, "checks": checks, "workers_alive": alive, "timestamp": iso(time.time())}
    return ok(body, 503 if down else 200)


routes = [
    resource("/monitoring/stats", GET=stats),
    resource("/monitoring/health", GET=health),
    resource("/monitoring/workers", GET=workers),
    resource("/monitoring/memory", GET=memory),
]
