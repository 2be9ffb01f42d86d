"""`/v3/search`: search the objects of one or more crawls, as Diffbot's Search API does.

    GET /v3/search?token=T&col=news&query=type:article author:"Jane Doe" sortby:date&num=20&start=0
    GET /v3/search?token=T&col=news,blog&query=min:offerPrice:10 max:offerPrice:50&format=csv

`col` is a crawl name, names separated by commas, or `all` (every crawl of the token); `query` is
the language documented in crawlcore.search; `num` (20, or `all`) and `start` page through the
results; `format=json` (default) gives `{"request": {...}, "hits": N, "objects": [...]}` with the
same objects /v3/crawl/data returns, `format=csv` their top-level fields. Errors are those of
/v3/crawl: 401 for the token, 404 for a crawl name the token does not own, 400 naming the
parameter (col, query, num, start, format).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from crawlcore.search import SearchRequest, parse_search
from crawlstore.search import ObjectSearch

from .errors import NotFound
from .exports import csv_columns, json_array, objects_csv
from .params import request_params
from .services import Services

__all__ = ["routes"]

Params = dict[str, list[str]]




def _crawl_ids(svc: Services, owner: str, search: SearchRequest) -> list[str]:
    if not search.collections:
        return [c.id for c in svc.crawls.registry.list(owner)]
    ids = []
    for name in search.collections:
        crawl = svc.crawls.registry.find(owner, name)
        if crawl is None:
            raise NotFound(f"No crawl named {name!r} for this token.")
        ids.append(crawl.id)
    return ids


def _envelope(request_info: dict[str, Any], hits: int, objects: Iterator[str]) -> Iterator[str]:
    head = json.dumps({"request": request_info, "hits": hits}, ensure_ascii=False)
    yield head[:-1] + ',"objects":'
    yield from objects
    yield "}"


def _search(svc: Services, params: Params) -> tuple[Iterator[str], str]:
    values = params.get("token")
    owner = svc.tokens.require(values[-1].strip() if values else None).id
    search = parse_search(params)
    ids = _crawl_ids(svc, owner, search)
    store = ObjectSearch(svc.db)
    if search.format == "csv":
        columns = csv_columns(store.find(ids, search.query, start=search.start, num=search.num))
        rows = store.find(ids, search.query, start=search.start, num=search.num)
        return objects_csv(columns, rows), "text/csv; charset=utf-8"
    info = {
        "api": "search",
        "col": ",".join(search.collections) or "all",
        "query": (params.get("query") or [""])[-1],
        "start": search.start,
        "num": search.num if search.num is not None else "all",
    }
    hits = store.count(ids, search.query)
    objects = json_array(store.find(ids, search.query, start=search.start, num=search.num))
    return _envelope(info, hits, objects), "application/json"


async def search_endpoint(request: Request) -> Response:
    params = await request_params(request)
    svc: Services = request.app.state.services
    chunks, media = await run_in_threadpool(_search, svc, params)
    return StreamingResponse(chunks, media_type=media, headers={"Cache-Control": "no-store"})


routes = [Route("/v3/search", search_endpoint, methods=["GET", "POST"])]
