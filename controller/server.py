"""`crawlfleet controller`: serve the API with uvicorn until SIGTERM/SIGINT."""

from __future__ import annotations

import gc
import logging

import uvicorn

from crawlfleet.config import Config

from .app import create_app

__all__ = ["serve"]


def serve(config: Config) -> None:
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(config)
    # What is loaded by now lives as long as the process: keep it out of the collector's full passes,
    # which otherwise stall the event loop for tens of milliseconds (the p99 of a busy controller).
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_level=config.log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=10,
        # Bounds on what a client can make the server hold (request bodies: BodyLimit in the app).
        h11_max_incomplete_event_size=config.max_header_bytes,
        limit_concurrency=config.max_connections,
        timeout_keep_alive=config.keep_alive_timeout,
        proxy_headers=False,  # the client's address is the app's to work out (CRAWLFLEET_TRUSTED_PROXIES)
    )
