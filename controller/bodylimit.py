"""The bound on request bodies, applied before anything else reads a request (authentication included).

    app = BodyLimit(app, limit=1 << 20, refuse=lambda scope, message: JSONResponse({"error": message}, 413))

A request declaring a `Content-Length` above the limit is answered 413 at once, its body unread.
Any other request with a body (chunked, or a Content-Length that lies) is read here while it
streams and refused with 413 the moment it passes the limit; a body within the limit is handed
on whole, so nothing behind this middleware ever sees more than `limit` bytes. Refusals close
the connection, so the rest of the body is never read. Requests without a body pass untouched.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit"]


class BodyLimit:
    """Pure ASGI middleware; `refuse(scope, message)` builds the 413 in the API's own error shape."""

    def __init__(self, app: ASGIApp, *, limit: int, refuse: Callable[[Scope, str], Response]) -> None:
        self.app = app
        self.limit = limit
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is None and "transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body
            return
        if declared is not None and declared.strip().isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        try:
            body = await self._read(receive)
        except _Disconnected:
            return  # nobody to answer
        if body is None:
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.refuse(scope, f"The request body is larger than {self.limit} bytes (CRAWLFLEET_MAX_BODY).")
        response.headers["Connection"] = "close"  # the server drops the connection, unread body and all
        await response(scope, receive, send)


class _Disconnected(Exception):
    """The client went away before its body was complete."""


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands over the whole body first, then the connection's own messages."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
