"""The /api/v1 application: its routes wrapped in the gate every request passes.

The gate, in order: take the /api/v1 context the app's lifespan built (503 outside the lifespan:
starting or stopping); authenticate; count the request against its rate-limit bucket (429 when
over); then route. Every response gets `Cache-Control: no-store` and the X-RateLimit-* headers,
and every error, whatever raised it (a handler, the router's 404/405, a store outage), becomes
one problem+json response.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.routing import BaseRoute, Router
from starlette.types import Message, Receive, Scope, Send

from crawlstore.gate import admit
from crawlstore.ratelimit import Verdict

from .context import V1, CacheMiss, Principal, address_of, authenticate, bucket
from .errors import TooManyRequests, Unauthorized, Unavailable, problem, problem_handler

__all__ = ["ApiV1"]

log = logging.getLogger(__name__)


async def _gate(ctx: V1, request: Request, address: str) -> tuple[Principal | None, Verdict | None]:
    """Who is calling (from the caches when possible) and their rate-limit verdict: one async
    Redis round trip counts the request and checks that a JWT was not logged out."""
    try:
        principal = authenticate(ctx, request, address, cached=True)
    except CacheMiss:
        principal = await run_in_threadpool(authenticate, ctx, request, address)
    name, limit = bucket(ctx, principal, address)
    try:
        client = await ctx.aredis.client()
        verdict, logged_out = await admit(client, ctx.limiter, ctx.sessions, name, limit, ctx.clock(),
                                          principal.jti if principal is not None else "")
    except RedisError:  # fail open: an outage of the limiter must not take the API down with it
        log.warning("rate limiter unavailable; request not counted", exc_info=True)
        return principal, None
    if logged_out:
        raise Unauthorized("This login token was logged out.")
    return principal, verdict


class ApiV1:
    """ASGI app for everything under /api/v1."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        self.router = Router(routes=routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.router(scope, receive, send)
            return
        app = scope["app"]
        extra: dict[str, str] = {"Cache-Control": "no-store"}  # every response, the docs' assets too
        request = Request(scope, receive)
        try:
            ctx = self._context(app)
            address = address_of(ctx, request)
            principal, verdict = await _gate(ctx, request, address)
        except Exception as exc:
            await problem(exc, extra)(scope, receive, send)
            return
        if verdict is not None:
            extra.update(verdict.headers())
            if not verdict.allowed:
                error = TooManyRequests(f"Rate limit of {verdict.limit} requests per window exceeded.")
                await problem(error, extra)(scope, receive, send)
                return
        scope["crawlfleet.v1"] = ctx
        scope["crawlfleet.principal"] = principal
        scope["crawlfleet.address"] = address
        scope["starlette.exception_handlers"] = ({Exception: problem_handler}, {})
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers[name] = value
            await send(message)

        try:
            await self.router(scope, receive, send_with_headers)
        except Exception as exc:
            if started:
                raise
            await problem(exc, extra)(scope, receive, send)

    @staticmethod
    def _context(app: Any) -> V1:
        ctx: V1 | None = getattr(app.state, "api_v1", None)
        if ctx is None:
            raise Unavailable("The controller is starting or stopping.")
        return ctx
