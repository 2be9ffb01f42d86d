"""controller.bodylimit.BodyLimit driven as the ASGI callable it is: what the app behind it gets,
what is answered, and how much of the body is read, for each shape of request."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.responses import JSONResponse, Response

from controller.bodylimit import BodyLimit

LIMIT = 10


def _refuse(scope: dict[str, Any], message: str) -> Response:
    return JSONResponse({"error": message}, status_code=413)


def run(headers: list[tuple[bytes, bytes]], chunks: list[bytes], *, disconnect: bool = False) -> dict[str, Any]:
    """Send a request through BodyLimit; what the app got, the status answered, chunks read."""
    seen: dict[str, Any] = {"app_body": None, "status": None, "read": 0}
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    if disconnect:
        messages[-1]["more_body"] = True
        messages.append({"type": "http.disconnect"})

    async def receive() -> dict[str, Any]:
        seen["read"] += 1
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen["status"] = message["status"]
            seen["headers"] = dict(message["headers"])

    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen["app_body"] = body
        await Response("ok")(scope, receive, send)

    scope = {"type": "http", "method": "POST", "path": "/x", "headers": headers}
    asyncio.run(BodyLimit(app, limit=LIMIT, refuse=_refuse)(scope, receive, send))  # type: ignore[arg-type]
    return seen


CL = b"content-length"
TE = (b"transfer-encoding", b"chunked")

CASES = [
    # (headers, chunks, disconnect, app gets, status, chunks read at most)
    ([], [b""], False, b"", 200, 1),  # no body: passed through untouched
    ([(CL, b"5")], [b"hello"], False, b"hello", 200, 1),
    ([(CL, b"10")], [b"hello", b"world"], False, b"helloworld", 200, 2),  # exactly the limit
    ([(CL, b"11")], [b"hello", b"world!"], False, None, 413, 0),  # declared too large: nothing read
    ([(CL, b"999999999999")], [b"x"], False, None, 413, 0),
    ([TE], [b"hello", b"world"], False, b"helloworld", 200, 2),
    ([TE], [b"hello", b"world", b"!", b"more", b"more"], False, None, 413, 3),  # refused as it passes
    ([(CL, b"4")], [b"hello", b"world!"], False, None, 413, 2),  # a Content-Length that lies
    ([TE], [b"hel"], True, None, None, 2),  # the client went away: nobody to answer
]


@pytest.mark.parametrize(("headers", "chunks", "disconnect", "app_body", "status", "read"), CASES)
def test_body_limit(headers: list[tuple[bytes, bytes]], chunks: list[bytes], disconnect: bool,
                    app_body: bytes | None, status: int | None, read: int) -> None:
    seen = run(headers, chunks, disconnect=disconnect)
    assert seen["app_body"] == app_body
    assert seen["status"] == status
    assert seen["read"] <= read
    if status == 413:
        assert seen["headers"][b"connection"] == b"close"
