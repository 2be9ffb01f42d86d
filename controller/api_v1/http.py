"""Small request/response helpers shared by the /api/v1 handlers."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from crawlcore.errors import InvalidParameter

from .context import V1, Principal, need
from .errors import BadRequest, UnsupportedMediaType

__all__ = ["ctx", "flag", "integer", "json_body", "ok", "query", "query_list"]


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str), status_code=status,
                    media_type="application/json", headers=headers)


def ctx(request: Request) -> V1:
    return request.scope["crawlfleet.v1"]


def caller(request: Request, role: str = "guest") -> tuple[V1, Principal]:
    return ctx(request), need(request, role)


async def json_body(request: Request, *, form: bool = False) -> dict[str, Any]:
    """The request's JSON object (or form fields, when `form`); the app's BodyLimit bounds its size."""
    raw = await request.body()
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if form and ctype == "application/x-www-form-urlencoded":
        return {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
    if not raw.strip():
        return {}
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise UnsupportedMediaType("Send a JSON body (Content-Type: application/json).")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body


def query(request: Request) -> dict[str, str]:
    """Query parameters, the last value of each."""
    return dict(request.query_params.items())


def query_list(request: Request, name: str) -> list[str]:
    """Every value of a repeated parameter; comma-separated values are split too."""
    out: list[str] = []
    for value in request.query_params.getlist(name):
        out += [v.strip() for v in value.split(",") if v.strip()]
    return out


def integer(params: dict[str, str], name: str, default: int | None, lowest: int, highest: int) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidParameter(name, f"must be an integer, got {raw!r}") from None
    if not lowest <= value <= highest:
        raise InvalidParameter(name, f"must be between {lowest} and {highest}, got {value}")
    return value


def flag(params: dict[str, str], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    low = raw.lower()
    if low in ("1", "true", "yes"):
        return True
    if low in ("0", "false", "no"):
        return False
    raise InvalidParameter(name, f"must be true or false, got {raw!r}")


def text_field(body: dict[str, Any], name: str, *, required: bool = True, max_length: int = 256) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidParameter(name, "is required")
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise InvalidParameter(name, f"must be a string of at most {max_length} characters")
    return value


def resource(path: str, **handlers: Any) -> Any:
    """One route for a path, dispatching on the method (so a 405 lists every allowed method)."""
    from starlette.routing import Route

    if "GET" in handlers:
        handlers.setdefault("HEAD", handlers["GET"])

    async def dispatch(request: Request) -> Response:
        response: Response = await handlers[request.method](request)
        return response

    return Route(path, dispatch, methods=list(handlers))
