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
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from crawlbase.config import Config
from crawlcore.errors import InvalidParameter
from crawlcore.netguard import NetGuard
from crawlstore.clock import make_clock
from crawlstore.connection import connect_redis
from crawlstore.crawls import CrawlStore
from crawlstore.frontier import Frontier
from crawlstore.mongo import connect, ensure_indexes
from crawlstore.search import ensure_search_indexes
from crawlstore.tokens import TokenStore

from . import api_v1, health, metrics, search, v3
from .api_v1.errors import PayloadTooLarge as V1PayloadTooLarge
from .api_v1.errors import problem
from .auth import TokenCache
from .bodylimit import BodyLimit
from .errors import ApiError, PayloadTooLarge, error_response
from .notifier import Notifier
from .services import Services, webhook_client

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


_API_V1 = re.compile(r"/+api/v1(/|$)")


def _too_large(scope: Scope, message: str) -> Response:
    """The 413 of BodyLimit in the shape of the API the request is for."""
    if _API_V1.match(scope["path"]):
        return problem(V1PayloadTooLarge(message, errors=[{"field": "body", "message": message}]))
    return error_response(None, PayloadTooLarge(message))


def _maintenance(crawls: CrawlStore, stop: threading.Event) -> None:
    """Start due rounds and purges every second; repair the active set every RECONCILE_EVERY."""
    last_reconcile = time.monotonic()
    while not stop.wait(1.0):
        try:
            crawls.rounds.run_due()
            if time.monotonic() - last_reconcile >= RECONCILE_EVERY:
                last_reconcile = time.monotonic()
                crawls.lifecycle.reconcile_active()
        except Exception:  # a store outage must not kill the loop; /readyz reports it
            log.warning("crawl maintenance failed", exc_info=True)


def create_app(config: Config, *, clock: Callable[[], float] | None = None) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client = connect_redis(config.redis_url, cluster=config.redis_cluster, socket_timeout=10)
        db = connect(config.mongo_url, config.mongo_db)
        ensure_indexes(db)
        ensure_search_indexes(db)
        frontier = Frontier(client, config.key_prefix, config.host_concurrency)
        now = clock or make_clock(config.clock, client, config.key_prefix)
        crawls = CrawlStore(frontier, db, dedupe=config.dedupe, bloom_error_rate=config.bloom_error_rate,
                            max_crawls_per_token=config.max_crawls_per_token,
                            lease_seconds=config.lease_seconds, clock=now)
        guard = NetGuard.parse(config.allow_networks)
        webhooks = webhook_client(guard)
        app.state.services = Services(config, client, db, crawls, TokenCache(TokenStore(db, now)), now, guard, webhooks)
        stop = threading.Event()
        thread = threading.Thread(target=_maintenance, args=(crawls, stop), name="maintenance", daemon=True)
        thread.start()
        notifier = Notifier(crawls, webhooks, public_url=config.public_url, smtp_url=config.smtp_url,
                            smtp_from=config.smtp_from, clock=now)
        notifier.start()
        try:
            yield
        finally:
            stop.set()
            notifier.halt.set()
            webhooks.close()
            client.close()
            db.client.close()

    app = Starlette(
        routes=[*health.routes, *metrics.routes, *v3.routes, *search.routes, *api_v1.routes],
        exception_handlers={ApiError: error_response, InvalidParameter: error_response, Exception: error_response},
        lifespan=lifespan,
    )
    metrics.instrument(app)  # before CollapseSlashes, which copies the scope, so it sees the matched route
    app.add_middleware(CollapseSlashes)
    app.add_middleware(BodyLimit, limit=config.max_body, refuse=_too_large)  # added last: the outermost
    return app
