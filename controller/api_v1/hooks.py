"""/api/v1/webhooks: register webhooks for crawl events, see their delivery log, send a test.

A webhook's URL is checked by the deployment's guard when it is set, and again at every delivery.
Test deliveries are limited per user (TEST_DELIVERIES per CRAWLFLEET_RATE_WINDOW), so /test and
the delivery log cannot be used to probe a network at speed."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from crawlcore.errors import InvalidParameter
from crawlcore.lifecycle import EVENTS
from crawlcore.pagination import envelope, parse_window

from ..netcheck import check_url
from .context import V1, Principal
from .crawlspec import iso
from .errors import NotFound, TooManyRequests
from .http import caller, json_body, ok, query, resource

__all__ = ["routes"]

FIELDS = ("url", "events", "secret", "active")
TEST_DELIVERIES = 10  # test deliveries one user may ask for per rate-limit window


def hook_view(doc: dict[str, Any], with_secret: bool = False) -> dict[str, Any]:
    out = {"id": doc["_id"], "url": doc["url"], "events": doc["events"], "active": doc.get("active", True),
           "owner_id": doc["owner"], "created_at": iso(doc["created"])}
    if with_secret:
        out["secret"] = doc["secret"]
    return out


def delivery_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "webhook_id": doc["webhook"], "event": doc["event"], "crawl_id": doc.get("crawl"),
            "state": doc["state"], "attempts": doc.get("attempts", 0), "created_at": iso(doc["created"]),
            "next_attempt_at": iso(doc.get("next_at")) if doc["state"] in ("pending", "sending") else None,
            "log": [{"at": iso(e.get("at")), "status_code": e.get("status_code") or None,
                     "error": e.get("error") or None, "duration_ms": e.get("ms", 0)} for e in doc.get("log", [])]}


def _validate(v1: V1, body: dict[str, Any], creating: bool) -> dict[str, Any]:
    unknown = set(body) - set(FIELDS)
    if unknown:
        raise InvalidParameter(sorted(unknown)[0], f"is not a webhook field ({', '.join(FIELDS)})")
    out: dict[str, Any] = {}
    if "url" in body or creating:
        url = body.get("url")
        parts = urlsplit(url) if isinstance(url, str) and len(url) <= 2000 else None
        if not isinstance(url, str) or parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidParameter("url", "must be an http(s) URL")
        check_url(v1.svc.guard, url, "url")
        out["url"] = url
    if "events" in body or creating:
        events = body.get("events", list(EVENTS))
        if not isinstance(events, list) or not events or not all(e in EVENTS for e in events):
            raise InvalidParameter("events", f"must be a non-empty list of: {', '.join(EVENTS)}")
        out["events"] = sorted(set(events), key=EVENTS.index)
    if "secret" in body:
        secret = body["secret"]
        if not isinstance(secret, str) or not 16 <= len(secret) <= 256:
            raise InvalidParameter("secret", "must be a string of 16-256 characters")
        out["secret"] = secret
    if "active" in body:
        if not isinstance(body["active"], bool):
            raise InvalidParameter("active", "must be true or false")
        out["active"] = body["active"]
    return out


def _mine(v1: V1, principal: Principal, hook_id: str) -> dict[str, Any]:
    doc = v1.hooks.get(hook_id)
    if doc is None or not (principal.admin or doc["owner"] == principal.owner):
        raise NotFound("No such webhook for this user.")
    return doc


async def list_hooks(request: Request) -> Response:
    v1, principal = caller(request, "user")
    params = query(request)

    def work() -> dict[str, Any]:
        window = parse_window(params)
        total, docs = v1.hooks.list(None if principal.admin else principal.owner, window.offset, window.limit)
        return envelope(total, window, [hook_view(d) for d in docs])

    return ok(await run_in_threadpool(work))


async def create_hook(request: Request) -> Response:
    v1, principal = caller(request, "user")
    body = await json_body(request)

    def work() -> dict[str, Any]:
        fields = _validate(v1, body, True)
        doc = v1.hooks.create(principal.owner, fields["url"], fields["events"], fields.get("secret", ""))
        if fields.get("active") is False:
            doc = v1.hooks.update(doc["_id"], {"active": False}) or doc
        return hook_view(doc, with_secret=True)

    out = await run_in_threadpool(work)
    return ok(out, 201, {"Location": f"/api/v1/webhooks/{out['id']}"})


async def get_hook(request: Request) -> Response:
    v1, principal = caller(request, "user")
    return ok(hook_view(await run_in_threadpool(_mine, v1, principal, request.path_params["hook_id"])))


async def patch_hook(request: Request) -> Response:
    v1, principal = caller(request, "user")
    body = await json_body(request)

    def work() -> dict[str, Any]:
        doc = _mine(v1, principal, request.path_params["hook_id"])
        changes = _validate(v1, body, False)
        return hook_view(v1.hooks.update(doc["_id"], changes) or doc)

    return ok(await run_in_threadpool(work))


async def delete_hook(request: Request) -> Response:
    v1, principal = caller(request, "user")

    def work() -> None:
        doc = _mine(v1, principal, request.path_params["hook_id"])
        v1.hooks.delete(doc["_id"])
        v1.deliveries.delete_for(doc["_id"])

    await run_in_threadpool(work)
    return Response(status_code=204)


async def deliveries(request: Request) -> Response:
    v1, principal = caller(request, "user")
    params = query(request)

    def work() -> dict[str, Any]:
        window = parse_window(params)
        doc = _mine(v1, principal, request.path_params["hook_id"])
        total, docs = v1.deliveries.list(doc["_id"], window.offset, window.limit)
        return envelope(total, window, [delivery_view(d) for d in docs])

    return ok(await run_in_threadpool(work))


async def test_hook(request: Request) -> Response:
    v1, principal = caller(request, "user")

    def work() -> dict[str, Any]:
        doc = _mine(v1, principal, request.path_params["hook_id"])
        verdict = v1.limiter.hit(f"hook-test:{principal.owner}", TEST_DELIVERIES, v1.clock())
        if not verdict.allowed:
            raise TooManyRequests(f"At most {TEST_DELIVERIES} test deliveries per {v1.config.rate_window:g} "
                                  f"seconds: try again in {verdict.retry_after} s.",
                                  headers={"Retry-After": str(verdict.retry_after)})
        delivery_id = v1.deliveries.enqueue(doc, "webhook.test", "", {"webhook_id": doc["_id"]})
        return {"delivery_id": delivery_id, "state": "pending"}

    return ok(await run_in_threadpool(work), 202)


routes = [
    resource("/webhooks", GET=list_hooks, POST=create_hook),
    resource("/webhooks/{hook_id}", GET=get_hook, PATCH=patch_hook, DELETE=delete_hook),
    resource("/webhooks/{hook_id}/deliveries", GET=deliveries),
    resource("/webhooks/{hook_id}/test", POST=test_hook),
]
