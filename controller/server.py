"""`crawlfleet controller`: serve the API with uvicorn until SIGTERM/SIGINT."""

from __future__ import annotations

import logging

import uvicorn

from crawlfleet.config import Config

from .app import create_app

__all__ = ["serve"]


def serve(config: Config) -> None:
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        create_app(config),
        host=config.host,
        port=config.port,
        log_level=config.log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=10,
    )
