"""Request parameters as Diffbot clients send them: a query string, a form-encoded body, or both.

    >>> merge_params(b"a=1&b=2", b"b=3&c=%20x")
    {'a': ['1'], 'b': ['2', '3'], 'c': [' x']}
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request

from .errors import BadRequest

__all__ = ["merge_params", "request_params"]


def merge_params(query: bytes, body: bytes) -> dict[str, list[str]]:
    """Query-string values first, then body values, each in the order sent."""
    merged: dict[str, list[str]] = {}
    for source in (query, body):
        if not source:
            continue
        for key, values in parse_qs(source.decode("utf-8", "replace"), keep_blank_values=True).items():
            merged.setdefault(key, []).extend(values)
    return merged


async def request_params(request: Request) -> dict[str, list[str]]:
    """The parameters of a /v3 request: its query string, then a form-encoded POST body
    (bounded by the app's BodyLimit before it gets here)."""
    body = b""
    if request.method == "POST":
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        if body and "multipart/form-data" in content_type:
            raise BadRequest("Send parameters form-encoded (application/x-www-form-urlencoded) or in the query.")
    return merge_params(request.scope.get("query_string", b""), body)
