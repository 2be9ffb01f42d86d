"""Probes: /healthz says the process is alive; /readyz says Redis and MongoDB answer."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["routes"]


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _check(request: Request) -> dict[str, str]:
    svc = request.app.state.services
    checks: dict[str, str] = {}
    try:
        svc.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:  # any failure means not ready; say which
        checks["redis"] = f"error: {type(exc).__name__}"
    try:
        svc.db.command("ping")
        checks["mongodb"] = "ok"
    except Exception as exc:
        checks["mongodb"] = f"error: {type(exc).__name__}"
    return checks


async def readyz(request: Request) -> Response:
    checks = await run_in_threadpool(_check, request)
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ready else "unavailable", "checks": checks},
                        status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})


routes = [Route("/healthz", healthz), Route("/readyz", readyz)]
