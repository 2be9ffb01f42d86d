"""`crawlfleet controller`: serve the API with uvicorn until SIGTERM/SIGINT.

uvicorn is given bounds on what one client can make the server hold: the request head
(CRAWLFLEET_MAX_HEADER_BYTES), connections at once (CRAWLFLEET_MAX_CONNECTIONS) and idle
keep-alive time (CRAWLFLEET_KEEP_ALIVE_TIMEOUT); request bodies are bounded in the app (BodyLimit).
"""

from __future__ import annotations

import gc
import logging
from typing import Any

import uvicorn

from crawlbase.config import Config

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
        http=_http_protocol(config.max_header_bytes),
        log_level=config.log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=10,
        h11_max_incomplete_event_size=config.max_header_bytes,
        limit_concurrency=config.max_connections,
        timeout_keep_alive=config.keep_alive_timeout,
        proxy_headers=False,  # the client's address is the app's to work out (CRAWLFLEET_TRUSTED_PROXIES)
    )


def _http_protocol(max_head: int) -> Any:
    """httptools (about twice as fast as h11) with the bound on the request head that h11 has
    built in and httptools lacks; h11 when httptools is not installed."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return "h11"

    class BoundedHttpTools(HttpToolsProtocol):
        """Answers 431 and closes the connection once a request head passes `max_head` bytes.

        Counted are the reads made while a head is incomplete that neither finish a head nor a
        message, so a read bringing the end of a head and some body is never held against it."""

        _in_head = True  # between messages, or in a request line and headers
        _head_bytes = 0
        _progress = False  # a head or a message ended during this read

        def on_headers_complete(self) -> None:
            self._in_head, self._progress = False, True
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._in_head, self._progress = True, True
            super().on_message_complete()

        def data_received(self, data: bytes) -> None:
            self._progress = False
            super().data_received(data)
            if self._progress:
                self._head_bytes = 0
            elif self._in_head:
                self._head_bytes += len(data)
                if self._head_bytes > max_head and not self.transport.is_closing():
                    self.transport.write(_HEAD_TOO_LARGE)
                    self.transport.close()

    return BoundedHttpTools


_HEAD_MESSAGE = b"The request head is too large (CRAWLFLEET_MAX_HEADER_BYTES)."
_HEAD_TOO_LARGE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
                   b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_HEAD_MESSAGE), _HEAD_MESSAGE))
