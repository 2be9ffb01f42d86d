"""Crawl settings as JSON, and a crawl as /api/v1 shows it.

Settings use /v3's parameter names and meanings (`seeds`, `maxHops`, `obeyRobots`, ...), with
JSON types: numbers, booleans, lists for repeated parameters (`seeds`, `customHeaders`,
`expression`/`action`), an object for `selectors` (and for `customHeaders`, name -> value).
They are turned into /v3 parameters and validated by the same core parser, so both APIs
accept and reject exactly the same crawls.

    >>> to_params({"seeds": ["a.com", "b.com"], "maxHops": 2, "obeyRobots": False})
    {'seeds': ['a.com', 'b.com'], 'maxHops': ['2'], 'obeyRobots': ['0']}
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from crawlcore.definition import PARAMS, CrawlDefinition, has_settings
from crawlcore.errors import InvalidParameter
from crawlcore.job import JobState
from crawlcore.lifecycle import status_name
from crawlcore.status import Status, message

__all__ = ["MAX_TAGS", "crawl_view", "iso", "parse_tags", "settings_view", "to_params"]

MAX_TAGS = 20
MAX_TAG_LENGTH = 50
SPECIAL = ("name", "tags", "status")  # body fields that are not crawl settings


def iso(epoch: float | None) -> str | None:
    if not epoch:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _scalar(field: str, value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidParameter(field, "must be a finite number")
        return repr(value)
    if isinstance(value, str):
        return value
    raise InvalidParameter(field, f"must be a string, number or boolean, not {type(value).__name__}")


def is_setting(name: str) -> bool:
    return name not in SPECIAL and has_settings({name: [""]})


def to_params(body: Mapping[str, Any]) -> dict[str, list[str]]:
    """The crawl settings of a JSON body as /v3 parameters (InvalidParameter names a bad field)."""
    params: dict[str, list[str]] = {}
    for field, value in body.items():
        if field in SPECIAL:
            continue
        if not is_setting(field):
            raise InvalidParameter(field, "is not a crawl setting")
        if value is None:
            raise InvalidParameter(field, "must not be null")
        if field == "customHeaders" and isinstance(value, dict):
            params[field] = [f"{k}:{_scalar(field, v)}" for k, v in value.items()]
        elif field == "selectors":
            if not isinstance(value, dict):
                raise InvalidParameter(field, "must be an object of field name -> CSS or XPath selector")
            params[field] = [json.dumps(value)]
        elif isinstance(value, list):
            params[field] = [_scalar(field, v) for v in value]
        elif isinstance(value, dict):
            raise InvalidParameter(field, "must not be an object")
        else:
            params[field] = [_scalar(field, value)]
    return params


def parse_tags(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise InvalidParameter("tags", f"must be a list of at most {MAX_TAGS} strings")
    tags: list[str] = []
    for tag in value:
        if not isinstance(tag, str) or not 1 <= len(tag.strip()) <= MAX_TAG_LENGTH or "," in tag:
            raise InvalidParameter("tags", f"each tag must be 1-{MAX_TAG_LENGTH} characters without ','")
        if tag.strip() not in tags:
            tags.append(tag.strip())
    return tags


def settings_view(definition: CrawlDefinition) -> dict[str, Any]:
    """The definition under /v3's parameter names, as JSON values (what PATCH accepts back)."""
    out: dict[str, Any] = {"seeds": list(definition.seeds)}
    for param in PARAMS:
        value = getattr(definition, param.attr, None)
        if param.name == "selectors":
            value = json.loads(value) if isinstance(value, str) and value else {}
        out[param.name] = value
    out["customHeaders"] = [f"{k}:{v}" for k, v in definition.custom_headers]
    filters = getattr(definition, "filters", ())
    if filters:
        out["expression"] = [f[0] for f in filters]
        out["action"] = [f[1] for f in filters]
    return out


_STATE_FIELDS = {f.name for f in dataclasses.fields(JobState)}


def crawl_view(record: Mapping[str, Any], state: JobState, owner_name: str | None, now: float,
               base: str = "/api/v1") -> dict[str, Any]:
    definition = CrawlDefinition.from_dict(record["definition"])
    v1 = record.get("v1") or {}
    code = state.status
    seconds = round(state.next_round - now) if code is Status.NEXT_ROUND else 0
    crawl_id = record["_id"]
    modified = v1.get("modified") or record.get("updated") or record.get("created")
    return {
        "id": crawl_id,
        "name": definition.name,
        "status": status_name(code, sealed=bool(v1.get("sealed")), stopping="stop" in v1,
                              stopped=bool(v1.get("stopped"))),
        "job_status": {"code": int(code), "message": message(code, seconds)},
        "sealed": bool(v1.get("sealed")),
        "tags": list(v1.get("tags", [])),
        "owner_id": record.get("token", ""),
        "created_by_username": owner_name,
        "created_at": iso(record.get("created")),
        "modified_at": iso(modified),
        "completed_at": iso(state.completed),
        "round": state.round,
        "settings": settings_view(definition),
        "counts": {
            "urls_harvested": state.harvested,
            "pages_crawled": state.attempts,
            "crawl_successes": state.crawl_ok,
            "pages_processed": state.proc_attempts,
            "process_successes": state.proc_ok,
            "items": state.objects,
            "queued": state.queued,
            "in_flight": state.leased,
        },
        "links": {
            "self": f"{base}/crawls/{crawl_id}",
            "pages": f"{base}/crawls/{crawl_id}/pages",
            "items": f"{base}/crawls/{crawl_id}/items",
            "export": f"{base}/crawls/{crawl_id}/export",
            "graph": f"{base}/crawls/{crawl_id}/graph",
            "audit": f"{base}/crawls/{crawl_id}/audit",
        },
    }
