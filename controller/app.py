"""The controller's ASGI application.

    app = create_app(Config.from_env())

Start-up connects to Redis and MongoDB and creates indexes; a background thread
keeps the active-crawl set consistent with the crawls' statuses.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from crawlcore.errors import InvalidParameter
from crawlfleet.config import Config
from crawlstore.connection import connect_redis
from crawlstore.crawls import CrawlStore
from crawlstore.frontier import Frontier
from crawlstore.mongo import connect, ensure_indexes
from crawlstore.tokens import TokenStore

from . import health, v3
from .auth import TokenCache
from .errors import ApiError, error_response
from .services import Services

__all__ = ["create_app"]

log = logging.getLogger(__name__)

RECONCILE_EVERY = 10.0  # seconds between repairs of the active set


class CollapseSlashes:
    """`//v3/crawl` is `/v3/crawl`: Diffbot's own client builds download URLs with a double slash."""

    _SLASHES = re.compile(r"/{2,}")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "//" in scope["path"]:
            scope = dict(scope, path=self._SLASHES.sub("/", scope["path"]))
        await self.app(scope, receive, send)


def _reconciler(crawls: CrawlStore, stop: threading.Event) -> None:
    while not stop.wait(RECONCILE_EVERY):
        try:
            crawls.reconcile_active()
        except Exception:  # a store outage must not kill the loop; /readyz reports it
            log.warning("active-set reconciliation failed", exc_info=True)


def create_app(config: Config, *, clock: Callable[[], float] = time.time) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client = connect_redis(config.redis_url, cluster=config.redis_cluster, socket_timeout=10)
        db = connect(config.mongo_url, config.mongo_db)
        ensure_indexes(db)
        frontier = Frontier(client, config.key_prefix, config.host_concurrency)
        crawls = CrawlStore(frontier, db, dedupe=config.dedupe, bloom_error_rate=config.bloom_error_rate,
                            clock=clock)
        app.state.services = Services(config, client, db, crawls, TokenCache(TokenStore(db)), clock)
        stop = threading.Event()
        thread = threading.Thread(target=_reconciler, args=(crawls, stop), name="reconciler", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            client.close()
            db.client.close()

    app = Starlette(
        routes=[*health.routes, *v3.routes],
        exception_handlers={ApiError: error_response, InvalidParameter: error_response, Exception: error_response},
        lifespan=lifespan,
    )
    app.add_middleware(CollapseSlashes)
    return app
