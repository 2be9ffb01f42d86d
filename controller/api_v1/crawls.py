"""/api/v1/crawls: list, create, get (by id or unique id prefix), PATCH, DELETE.

Crawls are the same records /v3 uses: a crawl belongs to `crawls.token` = the caller's owner
id (a user's id, or a standalone token's digest), so a crawl made through one API is seen
through the other. Admins see every crawl.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from crawlcore.definition import CrawlDefinition, parse_create, parse_update
from crawlcore.errors import InvalidParameter
from crawlcore.lifecycle import ACTIONS, ALL_NAMES, check_action
from crawlcore.pagination import envelope, parse_window
from crawlcore.status import Event, Snapshot
from crawlcore.urls import host_of
from crawlstore.crawls import CrawlExists, TooManyCrawls
from crawlstore.reports import SORTS, live_state, record_state, search_regex, status_query

from ..netcheck import check_crawl
from ..selectors import check_selectors
from .context import V1, Principal
from .crawlspec import SPECIAL, crawl_view, parse_tags, to_params
from .errors import BadRequest, Conflict, NotFound, TooManyRequests
from .http import caller, json_body, ok, query, resource
from .stops import finish_stop

__all__ = ["resolve", "routes", "view"]

_HEX = re.compile(r"[0-9a-f]{1,32}")
MIN_PREFIX = 4


def visible(principal: Principal) -> dict[str, Any]:
    return {} if principal.admin else {"token": principal.owner}


def resolve(ctx: V1, principal: Principal, ref: str, *, fresh: bool = False) -> dict[str, Any]:
    """The caller's crawl with this id or unique id prefix (dashes ignored)."""
    key = ref.strip().lower().replace("-", "")
    if not _HEX.fullmatch(key):
        raise NotFound(f"No crawl {ref!r}: crawl ids are 32 hexadecimal digits.")
    if len(key) == 32:
        record = ctx.record(key, fresh)
        if record is None or not (principal.admin or record.get("token") == principal.owner):
            raise NotFound(f"No crawl {ref} for this user.")
        return record
    if len(key) < MIN_PREFIX:
        raise BadRequest(f"A crawl id prefix needs at least {MIN_PREFIX} characters.")
    found = ctx.reports.by_prefix(visible(principal), key, limit=11)
    if not found:
        raise NotFound(f"No crawl id starts with {ref} for this user.")
    if len(found) > 1:
        raise BadRequest(f"The id prefix {ref} matches more than one crawl: give more characters.",
                         candidates=[{"id": r["_id"], "name": r.get("name", "")} for r in found[:10]])
    return found[0]


def _names(ctx: V1, owners: list[str]) -> dict[str, str]:
    wanted = [o for o in set(owners) if len(o) == 32]  # user ids; token digests are 64 characters
    return ctx.users.names(wanted)


def view(ctx: V1, record: dict[str, Any], owner_name: str | None = None) -> dict[str, Any]:
    live = ctx.svc.crawls.frontier.state(record["_id"])
    state = (live_state(live[1], live[0].leased) or live[0]) if live is not None else record_state(record)
    owner = record.get("token", "")
    if owner_name is None and len(owner) == 32:
        user = ctx.user(owner)
        owner_name = user.username if user is not None else None
    return crawl_view(record, state, owner_name, ctx.clock())


# ---------------------------------------------------------------------- list

def _epoch(name: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InvalidParameter(name, f"must be an ISO 8601 date-time or epoch seconds, got {raw!r}") from None


def _list(ctx: V1, principal: Principal, params: dict[str, str]) -> dict[str, Any]:
    window = parse_window(params)
    query_: dict[str, Any] = visible(principal)
    owner = params.get("owner")
    if owner:
        if not principal.admin:
            raise InvalidParameter("owner", "only admins can list other users' crawls")
        query_["token"] = owner
    status = params.get("status")
    if status:
        if status not in ALL_NAMES:
            raise InvalidParameter("status", f"must be one of {', '.join(ALL_NAMES)}")
        query_.update(status_query(status))
    if params.get("tag"):
        query_["v1.tags"] = params["tag"]
    search = params.get("search") or params.get("q")
    if search:
        query_["name"] = search_regex(search)
    created: dict[str, float] = {}
    if params.get("created_after"):
        created["$gte"] = _epoch("created_after", params["created_after"])
    if params.get("created_before"):
        created["$lt"] = _epoch("created_before", params["created_before"])
    if created:
        query_["created"] = created
    sort = params.get("sort") or "-created"
    if sort not in SORTS:
        raise InvalidParameter("sort", f"must be one of {', '.join(SORTS)}")
    total, records = ctx.reports.list_crawls(query_, sort, window)
    live = ctx.reports.live([r["_id"] for r in records])
    names = _names(ctx, [r.get("token", "") for r in records])
    items = [crawl_view(r, live.get(r["_id"]) or record_state(r), names.get(r.get("token", "")), ctx.clock())
             for r in records]
    return envelope(total, window, items)


async def list_crawls(request: Request) -> Response:
    ctx, principal = caller(request)
    return ok(await run_in_threadpool(_list, ctx, principal, query(request)))


# ---------------------------------------------------------------------- create

def _default_name(seeds: Any) -> str:
    first = seeds[0] if isinstance(seeds, list) and seeds else seeds if isinstance(seeds, str) else ""
    host = host_of(str(first).split()[0]) if str(first).strip() and "://" in str(first) else str(first).split("/")[0]
    return f"{host or 'crawl'}-{secrets.token_hex(3)}"[:200]


def _create(ctx: V1, principal: Principal, address: str, body: dict[str, Any]) -> dict[str, Any]:
    tags = parse_tags(body.get("tags", []))
    settings = {**ctx.settings.user_defaults(principal.owner),
                **{k: v for k, v in body.items() if k not in SPECIAL}}
    if "status" in body:
        raise InvalidParameter("status", "is set by the crawl itself; PATCH it to pause, stop or seal")
    params = to_params(settings)
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidParameter("name", "must be a string")
    params["name"] = [name or _default_name(settings.get("seeds"))]
    definition = parse_create(params)
    check_crawl(ctx.svc.guard, definition, definition.seeds)
    check_selectors(definition.selectors)
    if ctx.svc.crawls.registry.find(principal.owner, definition.name) is not None:  # before a guest's quota is used
        raise Conflict(f"You already have a crawl named {definition.name!r}.")
    if principal.role == "guest":
        verdict = ctx.quota.take(address, ctx.clock())
        if not verdict.allowed:
            raise TooManyRequests(f"Guests may create {verdict.limit} crawls per address in 24 hours.",
                                  headers={"Retry-After": str(verdict.retry_after)})
    try:
        crawl = ctx.svc.crawls.registry.create(principal.owner, definition, signing_key=principal.signing_key)
    except CrawlExists:
        raise Conflict(f"You already have a crawl named {definition.name!r}.") from None
    except TooManyCrawls as exc:
        raise Conflict(f"You have {exc.args[0]} crawls, the most allowed: delete some to create more.") from None
    ctx.reports.set_meta(crawl.id, ctx.clock(), {"tags": tags})
    record = ctx.record(crawl.id, fresh=True)
    assert record is not None
    return view(ctx, record, principal.user.username if principal.user else None)


async def create_crawl(request: Request) -> Response:
    ctx, principal = caller(request)
    body = await json_body(request)
    out = await run_in_threadpool(_create, ctx, principal, request.scope["crawlfleet.address"], body)
    return ok(out, 201, {"Location": out["links"]["self"]})


# ---------------------------------------------------------------------- one crawl

async def _fast_view(ctx: V1, principal: Principal, ref: str) -> dict[str, Any] | None:
    """The crawl's view without leaving the event loop: its record from the cache and its live
    counters in one async Redis round trip. None when something is not cached."""
    if len(ref) != 32:
        return None
    hit, record = ctx.record_cache.get(ref)
    if not hit or record is None or not (principal.admin or record.get("token") == principal.owner):
        return None
    owner = record.get("token", "")
    known, name = ctx.user_cache.get(owner) if len(owner) == 32 else (True, None)
    if not known:
        return None
    keys = ctx.svc.crawls.frontier.keys(ref)
    client = await ctx.aredis.client()
    async with client.pipeline(transaction=False) as pipe:
        pipe.hgetall(keys.job)
        pipe.zcard(keys.leases)
        raw, leased = await pipe.execute()
    state = live_state(raw, int(leased))
    if state is None:
        return None  # gone from Redis: let the slow path decide (deleted, or Redis lost it)
    return crawl_view(record, state, name.username if name is not None else None, ctx.clock())


async def get_crawl(request: Request) -> Response:
    ctx, principal = caller(request)
    ref = request.path_params["crawl_id"]
    fast = await _fast_view(ctx, principal, ref)
    if fast is not None:
        return ok(fast)

    def work() -> dict[str, Any]:
        record = resolve(ctx, principal, ref)
        owner = record.get("token", "")
        if len(owner) == 32:
            ctx.user(owner)  # warm the cache the fast path reads
        return view(ctx, record)

    return ok(await run_in_threadpool(work))


def snapshot(ctx: V1, crawl_id: str) -> Snapshot | None:
    """The crawl's counters for `observe`, with the queue length the scripts keep (`q`).

    (Lifecycle.snapshot reads JobState.queued, which the job hash does not hold, so a crawl
    resumed before any worker leased its URLs would look drained.)"""
    snap = ctx.svc.crawls.lifecycle.snapshot(crawl_id)
    if snap is None:
        return None
    queued = ctx.svc.crawls.frontier.redis.hget(ctx.svc.crawls.frontier.keys(crawl_id).job, "q")
    return dataclasses.replace(snap, queued=int(queued or 0))


def _patch(ctx: V1, principal: Principal, ref: str, body: dict[str, Any]) -> dict[str, Any]:
    record = resolve(ctx, principal, ref, fresh=True)
    crawl = ctx.svc.crawls.registry.get(record["_id"])
    if crawl is None:
        raise NotFound(f"No crawl {ref} for this user.")
    v1 = record.get("v1") or {}
    if "name" in body and body["name"] != crawl.definition.name:
        raise InvalidParameter("name", "cannot be changed (it is the crawl's name in /v3 too)")
    action = None
    if "status" in body:
        if body["status"] not in ACTIONS:
            raise InvalidParameter("status", f"must be one of {', '.join(ACTIONS)}")
        action = ACTIONS[body["status"]]
    tags = parse_tags(body["tags"]) if "tags" in body else None
    settings = {k: v for k, v in body.items() if k not in SPECIAL}
    if v1.get("sealed"):
        raise Conflict("The crawl is sealed: it cannot change any more.")
    if "stop" in v1 and (action or settings):
        raise Conflict("The crawl is stopping: wait until it has stopped.")
    if action:
        check_action(action, crawl.state.status, sealed=False)
    definition: CrawlDefinition = crawl.definition
    added: tuple[str, ...] = ()
    if settings:
        definition, added = parse_update(crawl.definition, to_params(settings))
        check_crawl(ctx.svc.guard, definition, added, crawl.definition)
        check_selectors(definition.selectors)
    # everything is valid: now change things
    if settings:
        ctx.svc.crawls.registry.update(crawl, definition, added)
    meta: dict[str, Any] = {}
    if tags is not None:
        meta["tags"] = tags
    if action in ("stop", "seal"):
        meta["stop"] = {"at": ctx.clock(), "seal": action == "seal"}
    ctx.reports.set_meta(crawl.id, ctx.clock(), meta, unset=["stopped"] if action in ("resume",) or added else ())
    if action == "pause":
        ctx.svc.crawls.lifecycle.apply(crawl.id, Event.PAUSE)
    elif action == "resume":
        ctx.svc.crawls.lifecycle.apply(crawl.id, Event.RESUME)
        ctx.svc.crawls.lifecycle.observe(crawl.id, snapshot(ctx, crawl.id))
    elif action in ("stop", "seal"):
        finish_stop(ctx, crawl.id, action == "seal")
    updated = ctx.record(crawl.id, fresh=True)
    if updated is None:
        raise NotFound(f"No crawl {ref} for this user.")
    return view(ctx, updated)


async def patch_crawl(request: Request) -> Response:
    ctx, principal = caller(request, "user")
    body = await json_body(request)
    return ok(await run_in_threadpool(_patch, ctx, principal, request.path_params["crawl_id"], body))


async def delete_crawl(request: Request) -> Response:
    ctx, principal = caller(request, "user")

    def work() -> None:
        record = resolve(ctx, principal, request.path_params["crawl_id"], fresh=True)
        ctx.svc.crawls.registry.delete(record["_id"])
        ctx.record_cache.drop(record["_id"])

    await run_in_threadpool(work)
    return Response(status_code=204)


routes = [
    resource("/crawls", GET=list_crawls, POST=create_crawl),
    resource("/crawls/{crawl_id}", GET=get_crawl, PATCH=patch_crawl, DELETE=delete_crawl),
]
