"""/api/v1/settings (a user's defaults for new crawls) and /api/v1/admin/settings (the cluster's)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from crawlcore.definition import parse_create
from crawlcore.errors import InvalidParameter
from crawlstore.settings_store import CLUSTER_DEFAULTS

from .crawlspec import settings_view, to_params
from .http import caller, json_body, ok, resource

__all__ = ["routes"]

_CHECK_SEED = "https://example.com/"


def _check_defaults(body: dict[str, Any]) -> dict[str, Any]:
    for field in ("name", "tags", "status"):
        if field in body:
            raise InvalidParameter(field, "is not a default crawl setting")
    params = to_params(body)
    params["name"] = ["defaults"]
    params.setdefault("seeds", [_CHECK_SEED])
    parse_create(params)  # the same validation as a crawl's
    return body


async def get_settings(request: Request) -> Response:
    v1, principal = caller(request)

    def work() -> dict[str, Any]:
        saved = v1.settings.user_defaults(principal.owner)
        params = to_params(saved)
        params["name"] = ["defaults"]
        params.setdefault("seeds", [_CHECK_SEED])
        effective = settings_view(parse_create(params))
        if "seeds" not in saved:
            effective["seeds"] = []
        return {"settings": saved, "effective": effective}

    return ok(await run_in_threadpool(work))


async def put_settings(request: Request) -> Response:
    v1, principal = caller(request, "user")
    body = await json_body(request)

    def work() -> dict[str, Any]:
        v1.settings.save_user_defaults(principal.owner, _check_defaults(body))
        return {"settings": body}

    return ok(await run_in_threadpool(work))


async def reset_settings(request: Request) -> Response:
    v1, principal = caller(request, "user")
    await run_in_threadpool(v1.settings.reset_user_defaults, principal.owner)
    return ok({"settings": {}})


def _check_cluster(body: dict[str, Any]) -> dict[str, Any]:
    unknown = set(body) - set(CLUSTER_DEFAULTS)
    if unknown:
        raise InvalidParameter(sorted(unknown)[0], f"is not a cluster setting ({', '.join(CLUSTER_DEFAULTS)})")
    for name in ("concurrency", "host_concurrency", "memory_limit_mb"):
        value = body.get(name)
        if name in body and value is not None and (type(value) is not int or not 1 <= value <= 1_000_000):
            raise InvalidParameter(name, "must be a positive integer (or null for the deployment's setting)")
    if "proxies" in body:
        proxies = body["proxies"]
        if not isinstance(proxies, list) or len(proxies) > 1000:
            raise InvalidParameter("proxies", "must be a list of proxy URLs")
        for proxy in proxies:
            parts = urlsplit(proxy) if isinstance(proxy, str) else None
            if parts is None or parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
                raise InvalidParameter("proxies", f"{proxy!r} is not an http(s) or socks5 proxy URL")
    return body


async def get_cluster(request: Request) -> Response:
    v1, _ = caller(request, "admin")
    return ok({"settings": await run_in_threadpool(v1.settings.cluster)})


async def put_cluster(request: Request) -> Response:
    v1, _ = caller(request, "admin")
    body = await json_body(request)
    checked = _check_cluster(body)
    return ok({"settings": await run_in_threadpool(v1.settings.save_cluster, checked)})


routes = [
    resource("/settings", GET=get_settings, PUT=put_settings, DELETE=reset_settings),
    resource("/admin/settings", GET=get_cluster, PUT=put_cluster),
]
