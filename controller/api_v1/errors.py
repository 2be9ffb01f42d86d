"""Errors of /api/v1 and the one shape they all take (RFC 9457 problem details).

    V1Error (500 internal_error)
     ├── BadRequest (400 invalid_request)       malformed JSON, parameter or field; names it
     ├── Unauthorized (401 unauthorized)        no credentials where needed, or bad ones
     ├── Forbidden (403 forbidden)              the role may not do this
     ├── NotFound (404 not_found)               no such resource for this user
     ├── MethodNotAllowed (405)
     ├── Conflict (409 conflict)                the resource's state does not allow it
     ├── PayloadTooLarge (413)
     ├── UnsupportedMediaType (415)
     ├── TooManyRequests (429 rate_limited)     rate limit or guest quota used up
     └── Unavailable (503 unavailable)          Redis or MongoDB does not answer

Every error response is `application/problem+json`:

    {"type": "about:blank", "title": "Not Found", "status": 404, "code": "not_found",
     "detail": "No crawl 3f2a for this user."}

with `errors` ([{field, message}]) for invalid fields and `candidates` for an ambiguous id
prefix.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from pymongo.errors import PyMongoError
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from crawlcore.errors import InvalidParameter, InvalidTransition

__all__ = [
    "BadRequest",
    "Conflict",
    "Forbidden",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "TooManyRequests",
    "Unauthorized",
    "Unavailable",
    "UnsupportedMediaType",
    "V1Error",
    "as_v1_error",
    "problem",
]

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


class V1Error(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class BadRequest(V1Error):
    status = 400
    code = "invalid_request"


class Unauthorized(V1Error):
    status = 401
    code = "unauthorized"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="crawlfleet"'}, **extra)


class Forbidden(V1Error):
    status = 403
    code = "forbidden"


class NotFound(V1Error):
    status = 404
    code = "not_found"


class MethodNotAllowed(V1Error):
    status = 405
    code = "method_not_allowed"


class Conflict(V1Error):
    status = 409
    code = "conflict"


class PayloadTooLarge(V1Error):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(V1Error):
    status = 415
    code = "unsupported_media_type"


class TooManyRequests(V1Error):
    status = 429
    code = "rate_limited"


class Unavailable(V1Error):
    status = 503
    code = "unavailable"


def as_v1_error(exc: BaseException) -> V1Error:
    """Any exception as the V1Error it means."""
    if isinstance(exc, V1Error):
        return exc
    if isinstance(exc, InvalidParameter):
        return BadRequest(str(exc), errors=[{"field": exc.param, "message": exc.problem}])
    if isinstance(exc, InvalidTransition):
        return Conflict(str(exc))
    if isinstance(exc, HTTPException):
        kinds: dict[int, type[V1Error]] = {404: NotFound, 405: MethodNotAllowed, 400: BadRequest}
        kind = kinds.get(exc.status_code, V1Error)
        detail = "No such endpoint." if exc.status_code == 404 else str(exc.detail)
        error = kind(detail, headers=dict(exc.headers or {}))
        if kind is V1Error:
            error.status = exc.status_code
        return error
    if isinstance(exc, (RedisError, PyMongoError)):
        log.warning("store unavailable: %s", exc)
        return Unavailable(f"A store does not answer ({type(exc).__name__}).")
    log.error("unexpected error in /api/v1", exc_info=exc)
    return V1Error("Internal error.")


def problem(exc: BaseException, headers: dict[str, str] | None = None) -> Response:
    error = as_v1_error(exc)
    body = {"type": "about:blank", "title": HTTPStatus(error.status).phrase, "status": error.status,
            "code": error.code, "detail": error.detail, **error.extra}
    return Response(json.dumps(body, ensure_ascii=False, default=str), status_code=error.status,
                    media_type=PROBLEM, headers={"Cache-Control": "no-store", **error.headers, **(headers or {})})


async def problem_handler(request: Request, exc: Exception) -> Response:
    return problem(exc)
