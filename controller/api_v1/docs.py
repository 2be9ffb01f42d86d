"""The OpenAPI document, Swagger UI and ReDoc, with their assets served from the
`openapi-ui-bundles` package (no CDN: the docs work on a network without internet)."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

import openapi_ui_bundles
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from .errors import NotFound
from .http import resource
from .openapi import document

__all__ = ["routes"]

_ASSETS = {
    "swagger-ui": Path(openapi_ui_bundles.swagger_ui.static_path),
    "redoc": Path(openapi_ui_bundles.redoc.static_path),
}
_SWAGGER = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>crawlfleet API v1 - Swagger UI</title>
<link rel="stylesheet" href="docs/static/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="docs/static/swagger-ui/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true,
  persistAuthorization: true});</script>
</body></html>
"""
_REDOC = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>crawlfleet API v1 - ReDoc</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>body{margin:0}</style></head>
<body><redoc spec-url="openapi.json"></redoc><script src="docs/static/redoc/redoc.standalone.js"></script>
</body></html>
"""
_cached: bytes = b""
_files: dict[str, bytes] = {}


async def openapi_json(request: Request) -> Response:
    global _cached
    if not _cached:
        _cached = json.dumps(document(), separators=(",", ":")).encode()
    return Response(_cached, media_type="application/json")


async def swagger_ui(request: Request) -> Response:
    return HTMLResponse(_SWAGGER)


async def redoc(request: Request) -> Response:
    return HTMLResponse(_REDOC)


async def static(request: Request) -> Response:
    bundle, name = request.path_params["bundle"], request.path_params["name"]
    root = _ASSETS.get(bundle)
    if root is None or "/" in name or name.startswith("."):
        raise NotFound("No such asset.")
    path = root / name
    if not path.is_file():
        raise NotFound("No such asset.")
    if name not in _files:
        _files[name] = path.read_bytes()
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Response(_files[name], media_type=media)


routes = [
    resource("/openapi.json", GET=openapi_json),
    resource("/docs", GET=swagger_ui),
    resource("/redoc", GET=redoc),
    resource("/docs/static/{bundle}/{name}", GET=static),
]
