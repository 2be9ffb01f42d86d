"""A crawl's definition: Diffbot Crawlbot parameters, parsed and validated.

Parameters arrive as strings (query string or form), possibly repeated. `parse_create`
turns them into a `CrawlDefinition` or raises `InvalidParameter` naming the first bad one;
`parse_update` applies the parameters present to an existing definition.

    >>> d = parse_create({"name": ["docs"], "seeds": ["example.com http://b.org/x"], "maxHops": ["2"]})
    >>> d.seeds, d.max_hops, d.max_to_crawl
    (('https://example.com/', 'http://b.org/x'), 2, 100000)
    >>> parse_create({"name": ["docs"], "seeds": ["example.com"], "maxHops": ["abc"]})
    Traceback (most recent call last):
    ...
    crawlcore.errors.InvalidParameter: Invalid parameter maxHops: must be an integer, got 'abc'
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .api_url import parse_api_url
from .errors import InvalidParameter
from .filters import parse_filters
from .patterns import compile_regex
from .selectors import parse_selectors
from .urls import normalize, normalize_seed

__all__ = [
    "CONTROL_PARAMS",
    "DEFAULT_CRAWL_DELAY",
    "PARAMS",
    "CrawlDefinition",
    "Param",
    "Params",
    "has_settings",
    "parse_create",
    "parse_update",
]

Params = Mapping[str, Sequence[str]]

DEFAULT_CRAWL_DELAY = 0.25  # seconds; Diffbot's sample job and a polite default for the open web
MAX_NAME_LENGTH = 200
CONTROL_PARAMS = ("pause", "delete", "restart", "roundStart")


@dataclasses.dataclass(frozen=True)
class CrawlDefinition:
    """Everything a crawl was asked to do. Field docs name the Diffbot parameter."""

    name: str  # name
    seeds: tuple[str, ...]  # seeds (normalised)
    api_url: str = ""  # apiUrl
    max_hops: int = -1  # maxHops; -1 = unlimited
    max_to_crawl: int = 100_000  # maxToCrawl
    max_to_process: int = 100_000  # maxToProcess
    max_to_crawl_per_subdomain: int = -1  # maxToCrawlPerSubdomain
    max_to_process_per_subdomain: int = -1  # maxToProcessPerSubdomain
    restrict_domain: bool = True  # restrictDomain
    url_crawl_pattern: str = ""  # urlCrawlPattern
    url_crawl_regex: str = ""  # urlCrawlRegEx
    url_process_pattern: str = ""  # urlProcessPattern
    url_process_regex: str = ""  # urlProcessRegEx
    page_process_pattern: str = ""  # pageProcessPattern
    obey_robots: bool = True  # obeyRobots
    crawl_delay: float = DEFAULT_CRAWL_DELAY  # crawlDelay, seconds
    use_canonical: bool = True  # useCanonical
    use_proxies: bool = False  # useProxies
    custom_headers: tuple[tuple[str, str], ...] = ()  # customHeaders, repeated "Name:Value"
    repeat: float = 0.0  # repeat, days
    max_rounds: int = 0  # maxRounds; 0 = forever
    only_process_if_new: bool = True  # onlyProcessIfNew
    seed_recrawl_frequency: float = -1.0  # seedRecrawlFrequency, days; -1 = use repeat
    notify_email: str = ""  # notifyEmail
    notify_webhook: str = ""  # notifyWebhook
    filters: tuple[tuple[str, str], ...] = ()  # repeated expression / action pairs, in order
    selectors: str = ""  # JSON object: custom field name -> CSS or XPath selector

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for storage."""
        out = dataclasses.asdict(self)
        out["seeds"] = list(self.seeds)
        out["custom_headers"] = [list(h) for h in self.custom_headers]
        out["filters"] = [list(f) for f in self.filters]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CrawlDefinition:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["seeds"] = tuple(values.get("seeds", ()))
        values["custom_headers"] = tuple(tuple(h) for h in values.get("custom_headers", ()))
        values["filters"] = tuple(tuple(f) for f in values.get("filters", ()))
        return cls(**values)


# ---------------------------------------------------------------- parameter parsers

def _int(lowest: int) -> Callable[[str, str], int]:
    def parse(param: str, raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise InvalidParameter(param, f"must be an integer, got {raw!r}") from None
        if value < lowest:
            raise InvalidParameter(param, f"must be {lowest} or more, got {value}")
        return value

    return parse


def _float(lowest: float, highest: float = math.inf) -> Callable[[str, str], float]:
    def parse(param: str, raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise InvalidParameter(param, f"must be a number, got {raw!r}") from None
        if not math.isfinite(value) or not lowest <= value <= highest:
            raise InvalidParameter(param, f"must be between {lowest:g} and {highest:g}, got {raw!r}")
        return value

    return parse


def _flag(param: str, raw: str) -> bool:
    low = raw.strip().lower()
    if low in {"1", "true", "yes"}:
        return True
    if low in {"0", "false", "no"}:
        return False
    raise InvalidParameter(param, f"must be 0 or 1, got {raw!r}")


def _text(param: str, raw: str) -> str:
    return raw.strip()


def _regex(param: str, raw: str) -> str:
    """A user's regular expression: it must compile with RE2 (crawlcore.patterns.compile_regex)."""
    text = raw.strip()
    if text:
        compile_regex(text, param)  # raises InvalidParameter naming the parameter, with RE2's reason
    return text


def _http_url(param: str, raw: str) -> str:
    text = raw.strip()
    if text and normalize(text) is None:
        raise InvalidParameter(param, f"must be an http(s) URL, got {raw!r}")
    return text


def _email(param: str, raw: str) -> str:
    text = raw.strip()
    if text and not re.fullmatch(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+", text):
        raise InvalidParameter(param, f"must be an email address, got {raw!r}")
    return text


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # RFC 9110 5.5: no controls but tab in a field value


def _headers(param: str, raws: Sequence[str]) -> tuple[tuple[str, str], ...]:
    headers = []
    for raw in raws:
        name, sep, value = raw.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not _HEADER_NAME.fullmatch(name) or _CONTROL.search(value):
            raise InvalidParameter(param, f"each header must be 'Name:Value', got {raw!r}")
        headers.append((name, value))
    return tuple(headers)


def _selectors(param: str, raw: str) -> str:
    """Custom fields (crawlcore.selectors): checked, stored as compact JSON."""
    text = raw.strip()
    if not text:
        return ""
    parse_selectors(text)  # raises InvalidParameter naming selectors
    return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)


def _api_url(param: str, raw: str) -> str:
    """A Diffbot API (full or short form) or a processing service's http(s) URL (crawlcore.api_url)."""
    text = raw.strip()
    parse_api_url(text)  # raises InvalidParameter naming apiUrl
    return text


def _seeds(param: str, raw: str) -> tuple[str, ...]:
    seeds: list[str] = []
    for part in raw.split():
        url = normalize_seed(part)
        if url is None:
            raise InvalidParameter(param, f"{part!r} is not an http(s) URL")
        if url not in seeds:
            seeds.append(url)
    return tuple(seeds)


@dataclasses.dataclass(frozen=True)
class Param:
    """A Diffbot parameter: its name, the definition attribute it sets, and its parser."""

    name: str
    attr: str
    parse: Callable[[str, str], Any]


PARAMS: tuple[Param, ...] = (
    Param("apiUrl", "api_url", _api_url),
    Param("maxHops", "max_hops", _int(-1)),
    Param("maxToCrawl", "max_to_crawl", _int(0)),
    Param("maxToProcess", "max_to_process", _int(0)),
    Param("maxToCrawlPerSubdomain", "max_to_crawl_per_subdomain", _int(-1)),
    Param("maxToProcessPerSubdomain", "max_to_process_per_subdomain", _int(-1)),
    Param("restrictDomain", "restrict_domain", _flag),
    Param("urlCrawlPattern", "url_crawl_pattern", _text),
    Param("urlCrawlRegEx", "url_crawl_regex", _regex),
    Param("urlProcessPattern", "url_process_pattern", _text),
    Param("urlProcessRegEx", "url_process_regex", _regex),
    Param("pageProcessPattern", "page_process_pattern", _text),
    Param("obeyRobots", "obey_robots", _flag),
    Param("crawlDelay", "crawl_delay", _float(0.0, 3600.0)),
    Param("useCanonical", "use_canonical", _flag),
    Param("useProxies", "use_proxies", _flag),
    Param("repeat", "repeat", _float(0.0)),
    Param("maxRounds", "max_rounds", _int(0)),
    Param("onlyProcessIfNew", "only_process_if_new", _flag),
    Param("seedRecrawlFrequency", "seed_recrawl_frequency", _float(-1.0)),
    Param("notifyEmail", "notify_email", _email),
    Param("notifyWebhook", "notify_webhook", _http_url),
    Param("selectors", "selectors", _selectors),
)
_BY_NAME = {p.name: p for p in PARAMS}


def has_settings(params: Params) -> bool:
    """True when the request carries any crawl setting (so it creates or updates a crawl)."""
    return any(name in params for name in (*_BY_NAME, "seeds", "customHeaders", "expression", "action"))


def _last(params: Params, name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _name(params: Params) -> str:
    raw = _last(params, "name")
    name = (raw or "").strip()
    if not name:
        raise InvalidParameter("name", "is required")
    if len(name) > MAX_NAME_LENGTH or "/" in name or not name.isprintable():
        raise InvalidParameter("name", f"must be 1-{MAX_NAME_LENGTH} printable characters without '/'")
    return name


def _changes(params: Params) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name, values in params.items():
        param = _BY_NAME.get(name)
        if param is not None and values:
            changes[param.attr] = param.parse(name, values[-1])
    if "customHeaders" in params:
        changes["custom_headers"] = _headers("customHeaders", [v for v in params["customHeaders"] if v.strip()])
    if "expression" in params or "action" in params:
        parsed = parse_filters(params.get("expression", []), params.get("action", []))
        changes["filters"] = tuple((f.expression, f.action) for f in parsed)
    return changes


def parse_create(params: Params) -> CrawlDefinition:
    """A new crawl's definition from request parameters (name and seeds required)."""
    name = _name(params)
    raw_seeds = " ".join(params.get("seeds", ()))
    if not raw_seeds.strip():
        raise InvalidParameter("seeds", "at least one seed URL is required")
    seeds = _seeds("seeds", raw_seeds)
    return CrawlDefinition(name=name, seeds=seeds, **_changes(params))


def parse_update(current: CrawlDefinition, params: Params) -> tuple[CrawlDefinition, tuple[str, ...]]:
    """The definition after applying the settings present in `params`, and the seeds it adds."""
    changes = _changes(params)
    added: tuple[str, ...] = ()
    if "seeds" in params and " ".join(params["seeds"]).strip():
        given = _seeds("seeds", " ".join(params["seeds"]))
        added = tuple(s for s in given if s not in current.seeds)
        changes["seeds"] = current.seeds + added
    return dataclasses.replace(current, **changes), added
