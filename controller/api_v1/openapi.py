"""The OpenAPI 3.1 document of /api/v1, built from small helpers so that every operation
states its parameters, body, success response and the errors it can give.

tests/api_v1/test_openapi.py checks that every route is documented and the other way round,
and runs Schemathesis against the app with this document.
"""

from __future__ import annotations

from typing import Any

from crawlcore.audit import ISSUE_TYPES
from crawlcore.definition import PARAMS
from crawlcore.lifecycle import ACTIONS, ALL_NAMES, EVENTS
from crawlcore.pagination import MAX_LIMIT
from crawlstore.reports import SORTS
from crawlstore.users import ROLES

from .hooks import TEST_DELIVERIES
from .render import FORMATS

__all__ = ["document"]

S = dict[str, Any]


def ref(name: str) -> S:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: S) -> S:
    return {"anyOf": [schema, {"type": "null"}]}


STR, INT, NUM, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
DATETIME = {"type": "string", "format": "date-time"}
N_DATETIME = nullable(DATETIME)


def obj(props: S, required: list[str] | None = None, extra: bool | S = True) -> S:
    out: S = {"type": "object", "properties": props}
    if required is not None:
        out["required"] = required
    if extra is not True:
        out["additionalProperties"] = extra
    return out


def paged(item: S) -> S:
    return obj({"total_items": INT, "total_pages": INT, "page": INT, "limit": INT, "offset": INT,
                "num_items": INT, "items": {"type": "array", "items": item}},
               ["total_items", "total_pages", "page", "limit", "offset", "num_items", "items"])


# ---------------------------------------------------------------------- schemas

_SETTING_TYPES: dict[str, S] = {
    "maxHops": {"type": "integer", "minimum": -1}, "maxToCrawl": {"type": "integer", "minimum": 0},
    "maxToProcess": {"type": "integer", "minimum": 0},
    "maxToCrawlPerSubdomain": {"type": "integer", "minimum": -1},
    "maxToProcessPerSubdomain": {"type": "integer", "minimum": -1},
    "restrictDomain": BOOL, "obeyRobots": BOOL, "useCanonical": BOOL, "useProxies": BOOL, "onlyProcessIfNew": BOOL,
    "crawlDelay": {"type": "number", "minimum": 0, "maximum": 3600},
    "repeat": {"type": "number", "minimum": 0}, "maxRounds": {"type": "integer", "minimum": 0},
    "seedRecrawlFrequency": {"type": "number", "minimum": -1},
    "selectors": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}},
}


def _settings(for_input: bool) -> S:
    props: S = {}
    for param in PARAMS:
        props[param.name] = _SETTING_TYPES.get(param.name, STR)
    seeds_in = {"anyOf": [{"type": "string"}, {"type": "array", "items": STR}],
                "description": "URLs (a list, or one whitespace-separated string); https:// is added when missing"}
    props["seeds"] = seeds_in if for_input else {"type": "array", "items": STR}
    headers_in = {"anyOf": [{"type": "array", "items": STR}, {"type": "object", "additionalProperties": STR}]}
    props["customHeaders"] = headers_in if for_input else {"type": "array", "items": STR}
    props["expression"] = {"type": "array", "items": STR, "description": "filter expressions (with `action`)"}
    props["action"] = {"type": "array", "items": STR, "description": "filter actions, one per expression"}
    return props


def _crawl_input(create: bool) -> S:
    props = _settings(True)
    props["name"] = {"type": "string", "minLength": 1, "maxLength": 200,
                     "description": "unique per user; made from the first seed when omitted"}
    props["tags"] = {"type": "array", "maxItems": 20, "items": {"type": "string", "minLength": 1, "maxLength": 50}}
    if not create:
        props["status"] = {"type": "string", "enum": list(ACTIONS),
                           "description": "paused: pause; running: resume; stopped: drop pending work and end "
                                          "now; sealed: stop and freeze (no further change)"}
        props["seeds"] = {**props["seeds"], "description": "seeds to add"}
    return obj(props, ["seeds"] if create else None, extra=False)


SCHEMAS: S = {
    "Problem": obj({
        "type": STR, "title": STR, "status": INT, "detail": STR,
        "code": {"type": "string", "enum": ["invalid_request", "unauthorized", "forbidden", "not_found",
                                            "method_not_allowed", "conflict", "payload_too_large",
                                            "unsupported_media_type", "rate_limited", "unavailable",
                                            "internal_error"]},
        "errors": {"type": "array", "items": obj({"field": STR, "message": STR})},
        "candidates": {"type": "array", "items": obj({"id": STR, "name": STR})},
    }, ["type", "title", "status", "code", "detail"]),
    "CrawlSettings": obj(_settings(False)),
    "CrawlCreate": _crawl_input(True),
    "CrawlPatch": _crawl_input(False),
    "Crawl": obj({
        "id": {"type": "string", "pattern": "^[0-9a-f]{32}$"}, "name": STR,
        "status": {"type": "string", "enum": list(ALL_NAMES)},
        "job_status": obj({"code": {"type": "integer", "minimum": 0, "maximum": 10}, "message": STR},
                          ["code", "message"]),
        "sealed": BOOL, "tags": {"type": "array", "items": STR}, "owner_id": STR,
        "created_by_username": nullable(STR), "created_at": N_DATETIME, "modified_at": N_DATETIME,
        "completed_at": N_DATETIME, "round": INT, "settings": ref("CrawlSettings"),
        "counts": obj({k: INT for k in ("urls_harvested", "pages_crawled", "crawl_successes", "pages_processed",
                                        "process_successes", "items", "queued", "in_flight")}),
        "links": obj({k: STR for k in ("self", "pages", "items", "export", "graph", "audit")}),
    }, ["id", "name", "status", "job_status", "sealed", "tags", "owner_id", "created_at", "settings", "counts"]),
    "Page": obj({
        "url": STR, "fp": STR, "round": INT, "hop": INT, "tries": INT, "discovered": NUM, "crawled": NUM,
        "outcome": {"type": "string", "enum": ["fetched", "blocked", "failed"]}, "http_status": INT,
        "content_type": STR, "content_length": INT, "redirected_to": STR, "title": STR,
        "process_attempted": BOOL, "links": {"type": "array", "items": STR},
    }),
    "Item": obj({"type": STR, "pageUrl": STR, "title": STR, "text": STR}),
    "User": obj({"id": STR, "username": STR, "role": {"type": "string", "enum": list(ROLES)},
                 "created_at": N_DATETIME, "disabled": BOOL}, ["id", "username", "role"]),
    "Credentials": obj({"username": {"type": "string", "minLength": 1, "maxLength": 64},
                        "password": {"type": "string", "minLength": 1, "maxLength": 256}},
                       ["username", "password"]),
    "Registration": obj({"username": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}$"},
                         "password": {"type": "string", "minLength": 8, "maxLength": 256},
                         "role": {"type": "string", "enum": ["user", "admin"],
                                  "description": "admins only"}}, ["username", "password"]),
    "Session": obj({"access_token": STR, "token_type": {"const": "bearer"}, "expires_in": INT,
                    "expires_at": N_DATETIME, "user": ref("User"), "crawls_left_today": INT},
                   ["access_token", "token_type", "expires_in", "user"]),
    "Me": obj({"owner_id": STR, "role": STR, "user": nullable(ref("User")),
               "auth": {"type": "string", "enum": ["api_key", "jwt"]},
               "rate_limit": obj({"limit": INT, "window_seconds": NUM}), "crawls_left_today": INT},
              ["owner_id", "role", "auth"]),
    "ApiKey": obj({"id": STR, "name": STR, "hint": STR, "created_at": N_DATETIME, "expires_at": N_DATETIME,
                   "revoked": BOOL}, ["id", "name", "hint", "revoked"]),
    "ApiKeyCreated": {"allOf": [ref("ApiKey"), obj({"key": STR}, ["key"])]},
    "ApiKeyCreate": obj({"name": {"type": "string", "maxLength": 100},
                         "expires_in": {"type": "integer", "minimum": 60, "maximum": 10 * 365 * 86400,
                                        "description": "seconds until the key expires (default: never)"}},
                        extra=False),
    "UserPatch": obj({"role": {"type": "string", "enum": list(ROLES)}, "disabled": BOOL,
                      "password": {"type": "string", "minLength": 8, "maxLength": 256}}, extra=False),
    "Webhook": obj({"id": STR, "url": STR, "events": {"type": "array", "items": {"enum": list(EVENTS)}},
                    "active": BOOL, "owner_id": STR, "created_at": N_DATETIME, "secret": STR},
                   ["id", "url", "events", "active"]),
    "WebhookInput": obj({"url": {"type": "string", "format": "uri", "maxLength": 2000},
                         "events": {"type": "array", "minItems": 1, "items": {"enum": list(EVENTS)}},
                         "secret": {"type": "string", "minLength": 16, "maxLength": 256}, "active": BOOL},
                        extra=False),
    "Delivery": obj({"id": STR, "webhook_id": STR, "event": STR, "crawl_id": nullable(STR),
                     "state": {"type": "string", "enum": ["pending", "sending", "delivered", "failed"]},
                     "attempts": INT, "created_at": N_DATETIME, "next_attempt_at": N_DATETIME,
                     "log": {"type": "array", "items": obj({"at": N_DATETIME, "status_code": nullable(INT),
                                                            "error": nullable(STR), "duration_ms": INT})}},
                    ["id", "event", "state", "attempts"]),
    "Stats": obj({"scope": {"enum": ["user", "cluster"]},
                  "status_counts": {"type": "object", "additionalProperties": INT}, "total_crawls": INT,
                  "total_items": INT, "crawls_last_24h": INT, "success_rate": nullable(NUM),
                  "timestamp": DATETIME},
                 ["status_counts", "total_crawls", "total_items", "crawls_last_24h", "success_rate"]),
    "Health": obj({"status": {"enum": ["healthy", "degraded", "unhealthy"]},
                   "checks": obj({"api": STR, "redis": STR, "mongodb": STR, "workers": STR}),
                   "workers_alive": INT, "timestamp": DATETIME}, ["status", "checks"]),
    "Worker": obj({"id": STR, "pid": nullable(INT), "host": nullable(STR), "alive": BOOL,
                   "heartbeat_age_seconds": NUM, "last_heartbeat": N_DATETIME, "started_at": N_DATETIME,
                   "leases": INT, "in_flight": INT, "pages_total": INT, "pages_per_second": nullable(NUM),
                   "active_crawls": {"anyOf": [INT, {"type": "array"}, {"type": "null"}]},
                   "memory_rss_bytes": nullable(INT),
                   "memory_limited": {"type": "boolean",
                                      "description": "above the cluster's memory_limit_mb: leasing nothing new"}},
                  ["id", "alive", "heartbeat_age_seconds"]),
    "Workers": obj({"workers": {"type": "array", "items": ref("Worker")}, "alive": INT, "total": INT,
                    "timestamp": DATETIME}, ["workers", "alive", "total"]),
    "Memory": obj({"controller": obj({"pid": INT, "rss_bytes": nullable(INT), "peak_rss_bytes": nullable(INT),
                                      "threads": INT, "gc_objects": INT, "components": {"type": "object"}}),
                   "workers": {"type": "array", "items": obj({"id": STR, "rss_bytes": nullable(INT),
                                                              "components": nullable({"type": "object"})})},
                   "timestamp": DATETIME}, ["controller", "workers"]),
    "Graph": obj({"crawl_id": STR, "nodes": {"type": "array", "items": obj({
        "id": INT, "url": STR, "title": STR, "hop": INT, "http_status": INT, "content_type": STR,
        "group": {"enum": ["ok", "redirect", "client_error", "server_error", "blocked", "failed"]}})},
        "edges": {"type": "array", "items": obj({"source": INT, "target": INT,
                                                 "kind": {"enum": ["link", "redirect"]}})},
        "edges_total": INT, "total_nodes": INT, "sampled": BOOL, "truncated_edges": BOOL},
        ["nodes", "edges", "total_nodes", "sampled"]),
    "Issue": obj({"type": {"enum": list(ISSUE_TYPES)}, "severity": {"enum": ["error", "warning", "notice"]},
                  "url": STR, "detail": STR}, ["type", "severity", "url", "detail"]),
    "Settings": obj({"settings": {"type": "object"}, "effective": ref("CrawlSettings")}, ["settings"]),
    "DefaultSettings": obj({k: v for k, v in _settings(True).items()}, extra=False),
    "ClusterSettings": obj({
        "concurrency": nullable({"type": "integer", "minimum": 1, "maximum": 1_000_000}),
        "host_concurrency": nullable({"type": "integer", "minimum": 1, "maximum": 1_000_000}),
        "memory_limit_mb": nullable({"type": "integer", "minimum": 1, "maximum": 1_000_000}),
        "proxies": {"type": "array", "items": {"type": "string"}},
    }, extra=False),
}
SCHEMAS["Audit"] = {"allOf": [paged(ref("Issue")), obj({
    "crawl_id": STR, "summary": {"type": "object", "additionalProperties": INT}, "pages_audited": INT,
    "partial": BOOL, "exclude": {"type": "array", "items": STR}}, ["summary"])]}


# ---------------------------------------------------------------------- operations

RATE_HEADERS = {name: {"$ref": f"#/components/headers/{name}"}
                for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")}
ERRORS = {
    "400": "Malformed parameter, field or body (the problem names it)",
    "401": "No credentials where needed, or unknown, revoked or expired ones",
    "403": "Your role may not do this",
    "404": "No such resource for you",
    "409": "The resource's state does not allow it",
    "413": "Body larger than 1 MiB",
    "415": "The body is not JSON",
    "429": "Rate limit or guest quota used up (see Retry-After)",
    "503": "Redis or MongoDB does not answer",
}


def _error(text: str) -> S:
    return {"description": text, "headers": RATE_HEADERS,
            "content": {"application/problem+json": {"schema": ref("Problem")}}}


def json_response(schema: S, text: str = "OK") -> S:
    return {"description": text, "headers": RATE_HEADERS, "content": {"application/json": {"schema": schema}}}


def q(name: str, schema: S, text: str = "", *, required: bool = False, explode: bool | None = None) -> S:
    out: S = {"name": name, "in": "query", "schema": schema, "required": required}
    if text:
        out["description"] = text
    if explode is not None:
        out["explode"] = explode
    return out


def path(name: str, text: str = "") -> S:
    return {"name": name, "in": "path", "required": True, "schema": STR, "description": text}


def op(summary: str, tag: str, success: dict[str, S], *, auth: str = "guest", params: list[S] | None = None,
       body: S | None = None, errors: tuple[str, ...] = ("400", "401", "403", "404", "429", "503"),
       description: str = "", form: bool = False) -> S:
    out: S = {"summary": summary, "tags": [tag], "operationId": "", "parameters": params or []}
    role_text = {"none": "No credentials needed.", "guest": "Any role (guest, user, admin).",
                 "user": "Role user or admin.", "admin": "Role admin."}[auth]
    out["description"] = (description + "\n\n" if description else "") + role_text
    if auth == "none":
        out["security"] = [{}, {"ApiKey": []}, {"Bearer": []}]
    responses: S = dict(success)
    if body is not None:
        content: S = {"application/json": {"schema": body}}
        if form:
            content["application/x-www-form-urlencoded"] = {"schema": body}
        out["requestBody"] = {"required": True, "content": content}
        errors = (*errors, "413", "415")
    for code in errors:
        responses[code] = {"$ref": f"#/components/responses/E{code}"}
    responses["default"] = {"$ref": "#/components/responses/Error"}
    out["responses"] = responses
    return out


def no_content(text: str) -> dict[str, S]:
    return {"204": {"description": text, "headers": RATE_HEADERS}}


PAGING = [q("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "items per page (default 50)"),
          q("offset", {"type": "integer", "minimum": 0, "maximum": 10_000_000}, "items to skip"),
          q("page", {"type": "integer", "minimum": 0, "maximum": 10_000_000},
            "page number from 0 (instead of offset)")]
ITEM_PAGING = [q("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "items per page (default 100)"),
               q("offset", {"type": "integer", "minimum": 0, "maximum": 10_000_000}),
               q("skip", {"type": "integer", "minimum": 0, "maximum": 10_000_000}, "another name for offset"),
               q("page", {"type": "integer", "minimum": 0, "maximum": 10_000_000})]
CRAWL_ID = path("crawl_id", "a crawl's id (32 hex digits, dashes allowed) or a unique prefix of at least 4")
PAGE_FILTERS = [
    q("http_status", {"type": "string", "pattern": "^([1-5][0-9][0-9]|[1-5]xx)$"}, "a status (404) or class (4xx)"),
    q("hop", {"type": "integer", "minimum": 0, "maximum": 1_000_000}),
    q("min_hop", {"type": "integer", "minimum": 0, "maximum": 1_000_000}),
    q("max_hop", {"type": "integer", "minimum": 0, "maximum": 1_000_000}),
    q("content_type", STR, "prefix, e.g. text/html"),
    q("processed", BOOL, "processing was attempted (or not)"),
    q("round", {"type": "integer", "minimum": 0, "maximum": 1_000_000}),
    q("outcome", {"type": "string", "enum": ["fetched", "blocked", "failed"]}),
    q("search", STR, "substring of the URL"),
]
ITEM_FILTERS = [q("type", STR, "object type, e.g. article"),
                q("filter", {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*:"}},
                  "field:value (repeat it); dotted fields reach into objects", explode=True)]


def _paths() -> S:
    crawl = ref("Crawl")
    return {
        "/auth/register": {"post": op(
            "Register an account", "auth", {"201": json_response(ref("User"), "Created")}, auth="none",
            body=ref("Registration"), errors=("400", "401", "403", "409", "429", "503"), form=True,
            description="Only admins register accounts unless CRAWLFLEET_REGISTRATION is open (anyone, as a "
                        "user) or first-admin (anyone; the first account becomes the admin).")},
        "/auth/login": {"post": op(
            "Log in: a JWT for Authorization: Bearer", "auth", {"200": json_response(ref("Session"))}, auth="none",
            body=ref("Credentials"), errors=("400", "401", "429", "503"), form=True)},
        "/auth/guest": {"post": op(
            "Guest login: read-only, a few crawls per day per address", "auth",
            {"200": json_response(ref("Session"))}, auth="none", errors=("401", "429", "503"))},
        "/auth/logout": {"post": op("Log out (revoke the JWT used)", "auth", no_content("Logged out"),
                                    errors=("400", "401", "429", "503"))},
        "/auth/me": {"get": op("Who am I", "auth", {"200": json_response(ref("Me"))},
                               errors=("401", "429", "503"))},
        "/keys": {
            "get": op("List your API keys", "keys", {"200": json_response(paged(ref("ApiKey")))}, auth="user",
                      params=PAGING),
            "post": op("Create an API key (shown once)", "keys",
                       {"201": json_response(ref("ApiKeyCreated"), "Created")}, auth="user",
                       body=ref("ApiKeyCreate")),
        },
        "/keys/{key_id}": {"delete": op("Revoke an API key", "keys", no_content("Revoked"), auth="user",
                                        params=[path("key_id")])},
        "/users": {"get": op("List users", "users", {"200": json_response(paged(ref("User")))}, auth="admin",
                             params=[*PAGING, q("role", {"type": "string", "enum": list(ROLES)})])},
        "/users/{user_id}": {
            "get": op("A user (yourself, or anyone for admins)", "users", {"200": json_response(ref("User"))},
                      params=[path("user_id")]),
            "patch": op("Change a user: role and disabled (admins), password (yourself)", "users",
                        {"200": json_response(ref("User"))}, auth="user", params=[path("user_id")],
                        body=ref("UserPatch")),
            "delete": op("Delete a user (their keys are revoked; their crawls stay)", "users",
                         no_content("Deleted"), auth="admin", params=[path("user_id")],
                         errors=("400", "401", "403", "404", "409", "429", "503")),
        },
        "/crawls": {
            "get": op("List crawls", "crawls", {"200": json_response(paged(crawl))}, params=[
                *PAGING,
                q("status", {"type": "string", "enum": list(ALL_NAMES)}),
                q("tag", STR), q("search", STR, "substring of the name, any case"),
                q("created_after", STR, "ISO 8601 date-time or epoch seconds"),
                q("created_before", STR, "ISO 8601 date-time or epoch seconds"),
                q("sort", {"type": "string", "enum": list(SORTS)}, "default -created"),
                q("owner", STR, "admins: one owner's crawls"),
            ], description="Your crawls (admins: every crawl), newest first."),
            "post": op("Create a crawl", "crawls", {"201": json_response(crawl, "Created")}, body=ref("CrawlCreate"),
                       errors=("400", "401", "403", "409", "429", "503"),
                       description="The same settings as /v3/crawl, plus tags; your saved defaults fill in what "
                                   "is not given. Guests: at most CRAWLFLEET_GUEST_CRAWLS per address per day."),
        },
        "/crawls/{crawl_id}": {
            "get": op("A crawl", "crawls", {"200": json_response(crawl)}, params=[CRAWL_ID],
                      description="An ambiguous prefix answers 400 with the `candidates`."),
            "patch": op("Change settings, add seeds, tags; pause, resume, stop or seal", "crawls",
                        {"200": json_response(crawl)}, auth="user", params=[CRAWL_ID], body=ref("CrawlPatch"),
                        errors=("400", "401", "403", "404", "409", "429", "503")),
            "delete": op("Delete a crawl and all its data", "crawls", no_content("Deleted"), auth="user",
                         params=[CRAWL_ID]),
        },
        "/crawls/{crawl_id}/pages": {"get": op(
            "The URL report: one row per URL evaluated", "data", {"200": json_response(paged(ref("Page")))},
            params=[CRAWL_ID, *PAGING, *PAGE_FILTERS, q("links", BOOL, "include each page's links")])},
        "/crawls/{crawl_id}/items": {"get": op(
            "Items (processed objects)", "data", {"200": json_response(paged(ref("Item")))},
            params=[CRAWL_ID, *ITEM_PAGING, *ITEM_FILTERS])},
        "/crawls/{crawl_id}/export": {"get": op(
            "Export items or pages (streamed)", "data", {"200": {
                "description": "The export, streamed", "headers": RATE_HEADERS,
                "content": {"application/json": {"schema": {"type": "array"}},
                            "application/x-ndjson": {"schema": STR}, "text/csv": {"schema": STR},
                            "application/xml": {"schema": STR}, "application/rss+xml": {"schema": STR}}}},
            params=[CRAWL_ID, q("format", {"type": "string", "enum": list(FORMATS)}, "default json"),
                    q("data", {"type": "string", "enum": ["items", "pages"]},
                      "what to export: items (default) or pages (the URL report)"),
                    q("fields", {"type": "array", "items": {"type": "string", "pattern":
                                                            "^[A-Za-z0-9][A-Za-z0-9_-]*(\\.[A-Za-z0-9_-]+)*$"}},
                      "fields to export (comma-separated or repeated); CSV default: top-level scalars",
                      explode=False),
                    *PAGE_FILTERS, *ITEM_FILTERS])},
        "/crawls/{crawl_id}/graph": {"get": op(
            "Link graph for visualization (the pages closest to the seeds when capped)", "analysis",
            {"200": json_response(ref("Graph"))},
            params=[CRAWL_ID, q("max_nodes", {"type": "integer", "minimum": 1, "maximum": 5000}),
                    q("max_edges", {"type": "integer", "minimum": 0, "maximum": 50_000})])},
        "/crawls/{crawl_id}/audit": {"get": op(
            "Site audit: the problems the crawl found", "analysis", {"200": json_response(ref("Audit"))},
            params=[CRAWL_ID, *ITEM_PAGING[:2],
                    q("exclude", {"type": "array", "items": STR}, "URL patterns to leave out (* globs or "
                      "substrings)", explode=True),
                    q("types", {"type": "array", "items": {"type": "string", "enum": list(ISSUE_TYPES)}},
                      "only these issue types", explode=False)])},
        "/monitoring/stats": {"get": op("Crawl statistics (yours; admins: the cluster's)", "monitoring",
                                        {"200": json_response(ref("Stats"))})},
        "/monitoring/health": {"get": op(
            "System health: API, Redis, MongoDB, workers", "monitoring",
            {"200": json_response(ref("Health")), "503": json_response(ref("Health"), "A store is down")},
            auth="none", errors=("401", "429"))},
        "/monitoring/workers": {"get": op("Live workers", "monitoring", {"200": json_response(ref("Workers"))},
                                          auth="admin")},
        "/monitoring/memory": {"get": op("Memory of the controller and of each worker", "monitoring",
                                         {"200": json_response(ref("Memory"))}, auth="admin")},
        "/webhooks": {
            "get": op("List webhooks", "webhooks", {"200": json_response(paged(ref("Webhook")))}, auth="user",
                      params=PAGING),
            "post": op("Register a webhook", "webhooks", {"201": json_response(ref("Webhook"), "Created")},
                       auth="user", body={**ref("WebhookInput")},
                       description="Deliveries are POSTs of JSON signed with X-Crawlfleet-Signature: "
                                   "t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<body>' with the secret>; failed "
                                   "ones are retried with exponential backoff."),
        },
        "/webhooks/{hook_id}": {
            "get": op("A webhook", "webhooks", {"200": json_response(ref("Webhook"))}, auth="user",
                      params=[path("hook_id")]),
            "patch": op("Change a webhook", "webhooks", {"200": json_response(ref("Webhook"))}, auth="user",
                        params=[path("hook_id")], body=ref("WebhookInput")),
            "delete": op("Delete a webhook", "webhooks", no_content("Deleted"), auth="user",
                         params=[path("hook_id")]),
        },
        "/webhooks/{hook_id}/deliveries": {"get": op(
            "The delivery log of a webhook", "webhooks", {"200": json_response(paged(ref("Delivery")))},
            auth="user", params=[path("hook_id"), *PAGING])},
        "/webhooks/{hook_id}/test": {"post": op(
            "Send a test delivery (event webhook.test)", "webhooks",
            {"202": json_response(obj({"delivery_id": STR, "state": STR}, ["delivery_id"]), "Queued")},
            auth="user", params=[path("hook_id")],
            description=f"At most {TEST_DELIVERIES} test deliveries per user per rate-limit window (429 beyond). "
                        "The delivery log records only HTTP <status>, connection failed, timed out or refused.")},
        "/settings": {
            "get": op("Your defaults for new crawls", "settings", {"200": json_response(ref("Settings"))}),
            "put": op("Save your defaults for new crawls", "settings", {"200": json_response(ref("Settings"))},
                      auth="user", body=ref("DefaultSettings")),
            "delete": op("Reset your defaults", "settings", {"200": json_response(ref("Settings"))}, auth="user"),
        },
        "/admin/settings": {
            "get": op("Cluster settings", "settings",
                      {"200": json_response(obj({"settings": ref("ClusterSettings")}, ["settings"]))},
                      auth="admin"),
            "put": op("Change cluster settings", "settings",
                      {"200": json_response(obj({"settings": ref("ClusterSettings")}, ["settings"]))},
                      auth="admin", body=ref("ClusterSettings")),
        },
    }


def document() -> S:
    paths = _paths()
    for route, item in paths.items():
        for method, operation in item.items():
            operation["operationId"] = method + "".join(
                part.strip("{}").title().replace("_", "") for part in route.split("/") if part)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "crawlfleet API",
            "version": "1",
            "description": (
                "crawlfleet's own REST API. /v3 stays Diffbot Crawlbot-compatible; both see the same crawls.\n\n"
                "**Authentication**: `X-API-Key: <key>` (a user's key, also usable as the /v3 `token`) or "
                "`Authorization: Bearer <JWT>` from POST /auth/login. Roles: guest (read-only, a few crawls a "
                "day per address), user, admin.\n\n"
                "**Errors** are `application/problem+json` (RFC 9457): `{type, title, status, code, detail}`, "
                "plus `errors` naming invalid fields and `candidates` for an ambiguous id prefix.\n\n"
                "**Rate limits**: every response carries X-RateLimit-Limit, X-RateLimit-Remaining and "
                "X-RateLimit-Reset (per key or user; per address for guests and anonymous calls); over the "
                "limit: 429 with Retry-After. Every response carries Cache-Control: no-store.\n\n"
                "**Lists** are paged: `limit` (default 50, at most 500) with `offset` or `page` (from 0), in "
                "the envelope {total_items, total_pages, page, limit, offset, num_items, items}."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"ApiKey": []}, {"Bearer": []}],
        "tags": [{"name": t} for t in ("auth", "keys", "users", "crawls", "data", "analysis", "monitoring",
                                        "webhooks", "settings")],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "Bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
            "responses": {**{f"E{code}": _error(text) for code, text in ERRORS.items()},
                          "Error": _error("Any other error, in the same shape")},
            "headers": {
                "X-RateLimit-Limit": {"schema": INT, "description": "requests allowed per window"},
                "X-RateLimit-Remaining": {"schema": INT, "description": "requests left in this window"},
                "X-RateLimit-Reset": {"schema": INT, "description": "when the window ends (epoch seconds)"},
            },
        },
    }
