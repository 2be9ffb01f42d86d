"""The controller's ASGI application.

    app = create_app(Config.from_env())

Its lifespan builds everything both APIs use and tears it down again, in this order: the services
(Redis and MongoDB clients, MongoDB's indexes, the crawl store, the token cache, the webhook
client: controller.services), the /api/v1 context (its stores and indexes: controller.api_v1.context)
and the background threads (controller.background). At the end the threads are halted and waited
for (STOP_GRACE seconds each round), then everything is closed; outside the lifespan /api/v1
answers 503.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from crawlbase.config import Config
from crawlcore.errors import InvalidParameter

from . import api_v1, health, metrics, search, v3
from .api_v1.context import build as build_v1
from .api_v1.errors import PayloadTooLarge as V1PayloadTooLarge
from .api_v1.errors import problem
from .api_v1.housekeeper import Housekeeper
from .background import Background, Maintenance
from .bodylimit import BodyLimit
from .errors import ApiError, PayloadTooLarge, error_response
from .notifier import Notifier
from .services import open_services

__all__ = ["STOP_GRACE", "create_app"]

log = logging.getLogger(__name__)

STOP_GRACE = 2.0  # seconds halted threads get to end their round, before and again after the stores close


class CollapseSlashes:
    """`//v3/crawl` is `/v3/crawl`: Diffbot's own client builds download URLs with a double slash."""

    _SLASHES = re.compile(r"/{2,}")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "//" in scope["path"]:
            scope = dict(scope, path=self._SLASHES.sub("/", scope["path"]))
        await self.app(scope, receive, send)


_API_V1 = re.compile(r"/+api/v1(/|$)")


def _too_large(scope: Scope, message: str) -> Response:
    """The 413 of BodyLimit in the shape of the API the request is for."""
    if _API_V1.match(scope["path"]):
        return problem(V1PayloadTooLarge(message, errors=[{"field": "body", "message": message}]))
    return error_response(None, PayloadTooLarge(message))


def _forget(state: State) -> None:
    for name in ("api_v1", "services"):
        if hasattr(state, name):
            delattr(state, name)


async def _wait(background: Background, warn: bool) -> None:
    stuck = await run_in_threadpool(background.join, STOP_GRACE)
    if stuck and warn:
        log.warning("background threads still running after the stop: %s", ", ".join(stuck))


def create_app(config: Config, *, clock: Callable[[], float] | None = None) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        background = Background()
        # An exit stack undoes the start-up in reverse, however far it got: forget the state, halt
        # the threads and let them end their round, close the /api/v1 context and the services
        # (which ends a thread blocked on a store that does not answer), then wait for the rest.
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(_wait, background, True)
            svc = open_services(config, clock)
            stack.callback(svc.close)
            v1 = build_v1(svc)
            stack.push_async_callback(v1.aclose)
            stack.push_async_callback(_wait, background, False)
            stack.callback(background.halt)
            background.start(Maintenance(svc.crawls))
            background.start(Notifier(svc.crawls, svc.webhooks, public_url=config.public_url,
                                      smtp_url=config.smtp_url, smtp_from=config.smtp_from, clock=svc.clock))
            background.start(Housekeeper(v1))
            app.state.services, app.state.api_v1 = svc, v1
            stack.callback(_forget, app.state)
            yield

    app = Starlette(
        routes=[*health.routes, *metrics.routes, *v3.routes, *search.routes, *api_v1.routes],
        exception_handlers={ApiError: error_response, InvalidParameter: error_response, Exception: error_response},
        lifespan=lifespan,
    )
    metrics.instrument(app)  # before CollapseSlashes, which copies the scope, so it sees the matched route
    app.add_middleware(CollapseSlashes)
    app.add_middleware(BodyLimit, limit=config.max_body, refuse=_too_large)  # added last: the outermost
    return app
