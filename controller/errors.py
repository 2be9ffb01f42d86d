"""API errors and the one place that turns them into responses.

    ApiError (500)
     ├── BadRequest (400)       a parameter is missing or malformed (names it)
     ├── Unauthorized (401)     no token, or an unknown or revoked one
     ├── Forbidden (403)        the token may not do this (administrator actions)
     ├── NotFound (404)         no such crawl for this token (another token's crawl included)
     ├── PayloadTooLarge (413)  the request body is over CRAWLFLEET_MAX_BODY
     └── Unavailable (503)      a store does not answer

Every error is JSON in Diffbot's shape: {"error": "...", "errorCode": <status>}.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from crawlcore.errors import InvalidParameter

__all__ = ["ApiError", "BadRequest", "Forbidden", "NotFound", "PayloadTooLarge", "Unauthorized", "Unavailable",
           "error_response"]


class ApiError(Exception):
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class PayloadTooLarge(ApiError):
    status = 413


class Unavailable(ApiError):
    status = 503


def error_response(request: Request | None, exc: Exception) -> JSONResponse:
    if isinstance(exc, InvalidParameter):
        exc = BadRequest(str(exc))
    if not isinstance(exc, ApiError):
        exc = ApiError("Internal error")
    return JSONResponse({"error": exc.message, "errorCode": exc.status}, status_code=exc.status,
                        headers={"Cache-Control": "no-store"})
