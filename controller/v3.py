"""Diffbot Crawlbot-compatible endpoints.

- `/v3/crawl` (GET or POST, query string or form): create or update by name, job control
  (pause, delete), view one job or list the token's jobs.
- `/v3/crawl/data`: objects as JSON (default) or CSV, or the URL report (`type=urls`).
- `/v3/crawl/download/{token}-{name}_data.json|_data.csv|_urls.csv`: the download links
  every job object carries.

Handlers parse and validate everything before writing anything, so a bad request
changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from crawlcore.definition import CONTROL_PARAMS, has_settings, parse_create, parse_update
from crawlcore.errors import InvalidParameter
from crawlcore.job import download_urls, job_json
from crawlcore.status import Event
from crawlstore.crawls import Crawl, CrawlExists, TooManyCrawls
from crawlstore.tokens import token_id

from .errors import BadRequest, Forbidden, NotFound
from .exports import csv_columns, json_array, objects_csv, url_report_csv
from .netcheck import check_crawl
from .params import request_params
from .selectors import check_selectors
from .services import Services

__all__ = ["routes"]

ADDED = "Successfully added urls for spidering."
Params = dict[str, list[str]]


def _one(params: Params, name: str) -> str | None:
    values = params.get(name)
    return values[-1].strip() if values else None


def _flag(params: Params, name: str) -> bool | None:
    raw = _one(params, name)
    if raw is None or raw == "":
        return None
    if raw not in ("0", "1"):
        raise InvalidParameter(name, f"must be 0 or 1, got {raw!r}")
    return raw == "1"




def _services(request: Request) -> Services:
    return request.app.state.services


def _base_url(svc: Services, request: Request) -> str:
    return svc.config.public_url or str(request.base_url).rstrip("/")


def _job(svc: Services, request: Request, token: str, crawl: Crawl) -> dict[str, Any]:
    return job_json(
        crawl.id, crawl.definition, crawl.state, now=svc.clock(),
        downloads=download_urls(_base_url(svc, request), token, crawl.definition.name),
    )


# ---------------------------------------------------------------- /v3/crawl

def _crawl(svc: Services, request: Request, params: Params) -> dict[str, Any]:
    token = _one(params, "token")
    owner = svc.tokens.require(token).id
    assert token is not None
    name = _one(params, "name")
    controls = {c: _flag(params, c) for c in CONTROL_PARAMS}
    if not name:
        if has_settings(params) or any(v is not None for v in controls.values()):
            raise InvalidParameter("name", "is required")
        return {"jobs": [_job(svc, request, token, c) for c in svc.crawls.registry.list(owner)]}

    crawl = svc.crawls.registry.find(owner, name)
    if any(v is not None for v in controls.values()):
        if crawl is None:
            raise NotFound(f"No crawl named {name!r} for this token.")
        return _control(svc, request, token, crawl, controls, params)
    if has_settings(params):
        if crawl is None:
            definition = parse_create(params)
            check_crawl(svc.guard, definition, definition.seeds)
            check_selectors(definition.selectors)
            try:
                crawl = svc.crawls.registry.create(owner, definition, signing_key=token_id(token))
            except TooManyCrawls as exc:
                raise BadRequest(f"Too Many Collections: this token has {exc.args[0]} crawls, the most it may "
                                 "have; delete some to create more.") from None
            except CrawlExists:  # created concurrently by another request: update it instead
                crawl = svc.crawls.registry.find(owner, name)
                if crawl is None:
                    raise
                return _update(svc, request, token, crawl, params)
            return {"response": ADDED, "jobs": [_job(svc, request, token, crawl)]}
        return _update(svc, request, token, crawl, params)
    if crawl is None:
        raise NotFound(f"No crawl named {name!r} for this token.")
    return {"jobs": [_job(svc, request, token, crawl)]}


def _update(svc: Services, request: Request, token: str, crawl: Crawl, params: Params) -> dict[str, Any]:
    definition, added = parse_update(crawl.definition, params)
    check_crawl(svc.guard, definition, added, crawl.definition)
    check_selectors(definition.selectors)
    crawl = svc.crawls.registry.update(crawl, definition, added)
    return {"response": ADDED if added else "Successfully updated crawl.", "jobs": [_job(svc, request, token, crawl)]}


def _control(svc: Services, request: Request, token: str, crawl: Crawl, controls: dict[str, bool | None],
             params: Params) -> dict[str, Any]:
    if controls["delete"]:
        svc.crawls.registry.delete(crawl.id)
        return {"response": "Successfully deleted job."}
    if has_settings(params):
        definition, added = parse_update(crawl.definition, params)
        check_crawl(svc.guard, definition, added, crawl.definition)
        check_selectors(definition.selectors)
        crawl = svc.crawls.registry.update(crawl, definition, added)
    messages = []
    if controls["restart"]:
        svc.crawls.rounds.restart(crawl.id)
        messages.append("Successfully restarted job.")
    elif controls["roundStart"]:
        svc.crawls.rounds.start_round(crawl.id, full=True)
        messages.append("Successfully started a new round.")
    if controls["pause"] is not None:
        svc.crawls.lifecycle.apply(crawl.id, Event.PAUSE if controls["pause"] else Event.RESUME)
        if not controls["pause"]:
            svc.crawls.lifecycle.observe(crawl.id, svc.crawls.lifecycle.snapshot(crawl.id))
        messages.append("Successfully paused job." if controls["pause"] else "Successfully resumed job.")
    updated = svc.crawls.registry.get(crawl.id)
    if updated is None:
        raise NotFound(f"No crawl named {crawl.definition.name!r} for this token.")
    return {"response": " ".join(messages) or "Successfully updated crawl.",
            "jobs": [_job(svc, request, token, updated)]}


async def crawl_endpoint(request: Request) -> Response:
    params = await request_params(request)
    svc = _services(request)
    body = await run_in_threadpool(_crawl, svc, request, params)
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


# ---------------------------------------------------------------- data

def _data(svc: Services, token: str | None, name: str | None, fmt: str, kind: str, num_raw: str | None,
          ) -> tuple[Iterator[str], str]:
    owner = svc.tokens.require(token).id
    if not name:
        raise InvalidParameter("name", "is required")
    if fmt not in ("json", "csv"):
        raise InvalidParameter("format", f"must be json or csv, got {fmt!r}")
    if kind not in ("", "urls"):
        raise InvalidParameter("type", f"must be urls when given, got {kind!r}")
    num = None
    if num_raw:
        try:
            num = int(num_raw)
        except ValueError:
            raise InvalidParameter("num", f"must be a positive integer, got {num_raw!r}") from None
        if num < 1:
            raise InvalidParameter("num", f"must be a positive integer, got {num_raw!r}")
    crawl = svc.crawls.registry.find(owner, name)
    if crawl is None:
        raise NotFound(f"No crawl named {name!r} for this token.")
    output = svc.crawls.output
    if kind == "urls":
        return url_report_csv(output.iter_urls(crawl.id, num)), "text/csv; charset=utf-8"
    if fmt == "csv":
        columns = csv_columns(output.iter_objects(crawl.id, num))
        return objects_csv(columns, output.iter_objects(crawl.id, num)), "text/csv; charset=utf-8"
    return json_array(output.iter_objects(crawl.id, num)), "application/json"


async def data_endpoint(request: Request) -> Response:
    params = await request_params(request)
    svc = _services(request)
    chunks, media = await run_in_threadpool(
        _data, svc, _one(params, "token"), _one(params, "name"), (_one(params, "format") or "json").lower(),
        (_one(params, "type") or "").lower(), _one(params, "num"),
    )
    return StreamingResponse(chunks, media_type=media, headers={"Cache-Control": "no-store"})


_DOWNLOADS = {"_data.json": ("json", ""), "_data.csv": ("csv", ""), "_urls.csv": ("csv", "urls")}


async def download_endpoint(request: Request) -> Response:
    """`/v3/crawl/download/{token}-{name}_data.json` and friends (what Diffbot's client fetches)."""
    filename = request.path_params["filename"]
    for suffix, (fmt, kind) in _DOWNLOADS.items():
        if filename.endswith(suffix):
            token, sep, name = filename[: -len(suffix)].partition("-")
            if sep:
                svc = _services(request)
                chunks, media = await run_in_threadpool(_data, svc, token, name, fmt, kind, None)
                return StreamingResponse(chunks, media_type=media, headers={"Cache-Control": "no-store"})
    raise NotFound("Unknown download: expected {token}-{name}_data.json, _data.csv or _urls.csv.")


# ---------------------------------------------------------------- administrator

def _admin(svc: Services, token: str | None, action: str) -> dict[str, Any]:
    if not svc.tokens.require(token).admin:
        raise Forbidden("This action needs an administrator's token (crawlfleet token create --admin).")
    if action == "pause":
        count = svc.crawls.admin.pause()
        return {"response": f"Paused {count} crawls for maintenance.", "paused": count}
    count = svc.crawls.admin.resume()
    return {"response": f"Resumed {count} crawls.", "resumed": count}


async def admin_endpoint(request: Request) -> Response:
    """`/v3/admin/pause` and `/v3/admin/resume`: every crawl to status 8 and back."""
    params = await request_params(request)
    body = await run_in_threadpool(_admin, _services(request), _one(params, "token"), request.path_params["action"])
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


routes = [
    Route("/v3/admin/{action:str}", admin_endpoint, methods=["POST"]),
    Route("/v3/crawl", crawl_endpoint, methods=["GET", "POST"]),
    Route("/v3/crawl/data", data_endpoint, methods=["GET", "POST"]),
    Route("/v3/crawl/download/{filename:path}", download_endpoint, methods=["GET"]),
]
