"""What a crawl found: its pages (the URL report), items (objects), exports, link graph
and site audit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from crawlcore.audit import ISSUE_TYPES, Exclusions, audit, summarize
from crawlcore.definition import CrawlDefinition
from crawlcore.errors import InvalidParameter
from crawlcore.graph import DEFAULT_MAX_EDGES, DEFAULT_MAX_NODES, link_graph
from crawlcore.pagination import envelope, parse_window

from .context import V1, Principal
from .crawls import resolve
from .http import caller, flag, integer, ok, query, query_list, resource
from .render import FORMATS, MEDIA_TYPES, render

__all__ = ["routes"]

FIELD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*")
MAX_FIELDS = 100
AUDIT_MAX_PAGES = 200_000  # pages an audit reads; beyond, it says it is partial
CSV_SAMPLE = 1000


def _field(name: str, raw: str) -> str:
    if not FIELD.fullmatch(raw):
        raise InvalidParameter(name, f"{raw!r} is not a field name (letters, digits, _ - and dots)")
    return raw


def _fields(request: Request) -> list[str]:
    fields = [_field("fields", f) for f in query_list(request, "fields")]
    if len(fields) > MAX_FIELDS:
        raise InvalidParameter("fields", f"at most {MAX_FIELDS} fields")
    return fields


# ---------------------------------------------------------------------- pages

_OUTCOMES = ("fetched", "blocked", "failed")


def page_query(params: dict[str, str]) -> dict[str, Any]:
    q: dict[str, Any] = {}
    status = params.get("http_status")
    if status:
        if re.fullmatch(r"[1-5]xx", status):
            low = int(status[0]) * 100
            q["http_status"] = {"$gte": low, "$lt": low + 100}
        else:
            code = integer(params, "http_status", None, 100, 599)
            q["http_status"] = code
    hop = integer(params, "hop", None, 0, 1_000_000)
    low_hop = integer(params, "min_hop", None, 0, 1_000_000)
    high_hop = integer(params, "max_hop", None, 0, 1_000_000)
    if hop is not None:
        q["hop"] = hop
    elif low_hop is not None or high_hop is not None:
        q["hop"] = {k: v for k, v in (("$gte", low_hop), ("$lte", high_hop)) if v is not None}
    ctype = params.get("content_type")
    if ctype:
        q["content_type"] = {"$regex": "^" + re.escape(ctype), "$options": "i"}
    processed = flag(params, "processed")
    if processed is not None:
        q["process_attempted"] = processed
    round_ = integer(params, "round", None, 0, 1_000_000)
    if round_ is not None:
        q["round"] = round_
    outcome = params.get("outcome")
    if outcome:
        if outcome not in _OUTCOMES:
            raise InvalidParameter("outcome", f"must be one of {', '.join(_OUTCOMES)}")
        q["outcome"] = outcome
    search = params.get("search")
    if search:
        q["url"] = {"$regex": re.escape(search), "$options": "i"}
    return q


async def list_pages(request: Request) -> Response:
    v1, principal = caller(request)
    params = query(request)

    def work() -> dict[str, Any]:
        window = parse_window(params)
        crawl_q = page_query(params)
        links = bool(flag(params, "links"))
        record = resolve(v1, principal, request.path_params["crawl_id"])
        total, docs = v1.reports.pages(record["_id"], crawl_q, window, links=links)
        return envelope(total, window, docs)

    return ok(await run_in_threadpool(work))


# ---------------------------------------------------------------------- items

def item_query(request: Request, params: dict[str, str]) -> dict[str, Any]:
    q: dict[str, Any] = {}
    if params.get("type"):
        q["type"] = params["type"]
    for raw in request.query_params.getlist("filter"):
        name, sep, value = raw.partition(":")
        if not sep:
            raise InvalidParameter("filter", f"must be field:value, got {raw!r}")
        name = _field("filter", name.strip())
        choices: list[Any] = [value]
        if re.fullmatch(r"-?\d{1,15}", value):
            choices.append(int(value))
        elif value in ("true", "false"):
            choices.append(value == "true")
        q[name] = {"$in": choices}
    return q


async def list_items(request: Request) -> Response:
    v1, principal = caller(request)
    params = query(request)

    def work() -> dict[str, Any]:
        window = parse_window(params, default=100, maximum=1000)
        crawl_q = item_query(request, params)
        record = resolve(v1, principal, request.path_params["crawl_id"])
        total, docs = v1.reports.items(record["_id"], crawl_q, window)
        return envelope(total, window, docs)

    return ok(await run_in_threadpool(work))


# ---------------------------------------------------------------------- export

def _columns(v1: V1, crawl_id: str, kind: str, crawl_q: dict[str, Any]) -> list[str]:
    """CSV columns when no `fields` were given: the scalar top-level fields of the first documents."""
    preferred = ["url", "http_status", "hop", "title", "content_type", "outcome", "crawled"] if kind == "pages" \
        else ["type", "pageUrl", "title", "text", "humanLanguage", "timestamp"]
    found: set[str] = set()
    docs = (v1.reports.iter_pages(crawl_id, crawl_q, limit=CSV_SAMPLE) if kind == "pages"
            else v1.reports.iter_items(crawl_id, crawl_q))
    for i, doc in enumerate(docs):
        if i >= CSV_SAMPLE:
            break
        found.update(k for k, v in doc.items() if isinstance(v, (str, int, float, bool)) or v is None)
    return [c for c in preferred if c in found] + sorted(found.difference(preferred))


def _export(v1: V1, principal: Principal, request: Request, params: dict[str, str],
            ) -> tuple[Iterator[str], str, str]:
    fmt = (params.get("format") or "json").lower()
    if fmt not in FORMATS:
        raise InvalidParameter("format", f"must be one of {', '.join(FORMATS)}")
    kind = params.get("data") or "items"  # (`type` filters items by their type, as on /items)
    if kind not in ("items", "pages"):
        raise InvalidParameter("data", "must be items or pages")
    fields = _fields(request)
    crawl_q = page_query(params) if kind == "pages" else item_query(request, params)
    record = resolve(v1, principal, request.path_params["crawl_id"])
    crawl_id = record["_id"]
    definition = CrawlDefinition.from_dict(record["definition"])
    docs = (v1.reports.iter_pages(crawl_id, crawl_q, fields) if kind == "pages"
            else v1.reports.iter_items(crawl_id, crawl_q, fields))
    chunks = render(fmt, docs, fields=fields, title=definition.name,
                    link=definition.seeds[0] if definition.seeds else "",
                    columns=lambda: _columns(v1, crawl_id, kind, crawl_q))
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", definition.name)[:80] or "crawl"
    return chunks, MEDIA_TYPES[fmt], f"{safe}-{kind}.{fmt}"


async def export(request: Request) -> Response:
    v1, principal = caller(request)
    chunks, media, filename = await run_in_threadpool(_export, v1, principal, request, query(request))
    return StreamingResponse(chunks, media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# ---------------------------------------------------------------------- graph and audit

async def graph(request: Request) -> Response:
    v1, principal = caller(request)
    params = query(request)

    def work() -> dict[str, Any]:
        max_nodes = integer(params, "max_nodes", DEFAULT_MAX_NODES, 1, 5000) or DEFAULT_MAX_NODES
        max_edges = integer(params, "max_edges", DEFAULT_MAX_EDGES, 0, 50_000) or 0
        record = resolve(v1, principal, request.path_params["crawl_id"])
        fields = ["url", "hop", "http_status", "title", "content_type", "outcome", "redirected_to", "links"]
        rows = v1.reports.iter_pages(record["_id"], {}, fields, by_hop=True, limit=max_nodes)
        out = link_graph(rows, max_nodes=max_nodes, max_edges=max_edges)
        total = v1.reports.count_pages(record["_id"])
        out.update(crawl_id=record["_id"], total_nodes=total, sampled=total > len(out["nodes"]),
                   truncated_edges=out["edges_total"] > len(out["edges"]))
        return out

    return ok(await run_in_threadpool(work))


async def site_audit(request: Request) -> Response:
    v1, principal = caller(request)
    params = query(request)
    exclude = Exclusions(query_list(request, "exclude"))
    types = query_list(request, "types")
    for t in types:
        if t not in ISSUE_TYPES:
            raise InvalidParameter("types", f"{t!r} is not an issue type ({', '.join(ISSUE_TYPES)})")

    def work() -> dict[str, Any]:
        window = parse_window(params, default=100, maximum=1000)
        record = resolve(v1, principal, request.path_params["crawl_id"])
        crawl_id = record["_id"]
        fields = ["url", "http_status", "outcome", "redirected_to", "title", "content_type", "links"]
        rows = v1.reports.iter_pages(crawl_id, {}, fields, limit=AUDIT_MAX_PAGES)
        issues = audit(rows, v1.reports.descriptions(crawl_id, AUDIT_MAX_PAGES), exclude)
        counts = summarize(issues)
        if types:
            issues = [i for i in issues if i["type"] in types]
        body = envelope(len(issues), window, issues[window.offset:window.offset + window.limit])
        pages = v1.reports.count_pages(crawl_id)
        body.update(crawl_id=crawl_id, summary=counts, pages_audited=min(pages, AUDIT_MAX_PAGES),
                    partial=pages > AUDIT_MAX_PAGES, exclude=list(exclude.patterns))
        return body

    return ok(await run_in_threadpool(work))


routes = [
    resource("/crawls/{crawl_id}/pages", GET=list_pages),
    resource("/crawls/{crawl_id}/items", GET=list_items),
    resource("/crawls/{crawl_id}/export", GET=export),
    resource("/crawls/{crawl_id}/graph", GET=graph),
    resource("/crawls/{crawl_id}/audit", GET=site_audit),
]
