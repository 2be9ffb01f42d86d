"""Probes: /healthz says the process is alive; /readyz says Redis and MongoDB answer.

/readyz answers within about READY_TIMEOUT seconds whatever the stores do: each check has
that timeout (a fresh Redis connection with connect and read timeouts, so a hung server or a
black-holed address cannot hold a thread for the app's 10 s socket timeout; MongoDB under
`pymongo.timeout`, which bounds server selection too), both run at once, and an overall
deadline catches anything slower. Kubernetes' readinessProbe timeoutSeconds must exceed it.
"""

from __future__ import annotations

import asyncio

import pymongo
from redis.backoff import NoBackoff
from redis.retry import Retry
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crawlstore.connection import connect_redis

__all__ = ["READY_TIMEOUT", "routes"]

READY_TIMEOUT = 2.0  # seconds each dependency gets to answer


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _error(exc: BaseException) -> str:
    return f"error: {type(exc).__name__}"


def _check_redis(request: Request) -> str:
    config = request.app.state.services.config
    try:
        client = connect_redis(config.redis_url, cluster=config.redis_cluster, socket_timeout=READY_TIMEOUT,
                               socket_connect_timeout=READY_TIMEOUT, retry=Retry(NoBackoff(), 0))
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    except Exception as exc:  # any failure means not ready; say which
        return _error(exc)


def _check_mongodb(request: Request) -> str:
    try:
        with pymongo.timeout(READY_TIMEOUT):
            request.app.state.services.db.command("ping")
        return "ok"
    except Exception as exc:
        return _error(exc)


async def readyz(request: Request) -> Response:
    names = ("redis", "mongodb")
    tasks = [asyncio.ensure_future(run_in_threadpool(f, request)) for f in (_check_redis, _check_mongodb)]
    done, _ = await asyncio.wait(tasks, timeout=READY_TIMEOUT + 1.0)
    checks = {name: task.result() if task in done else "error: timeout"
              for name, task in zip(names, tasks, strict=True)}
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ready else "unavailable", "checks": checks},
                        status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})


routes = [Route("/healthz", healthz), Route("/readyz", readyz)]
