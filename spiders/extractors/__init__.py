"""Built-in processing: what a page becomes under a crawl's apiUrl (article, product, list,
discussion, image, video, or analyze, which decides among them); custom fields are compiled here
(spiders.extractors.custom) and evaluated under a deadline (spiders.extractors.sandbox).

    >>> from crawlcore.api_url import parse_api_url
    >>> html = ('<html lang="en"><head><title>Shop</title><meta property="og:type" content="product">'
    ...         '<meta property="product:price:amount" content="9.50"><meta property="product:price:currency"'
    ...         ' content="EUR"></head><body><h1>Blue mug</h1></body></html>')
    >>> [obj] = extract(parse_api_url(""), html=html, url="https://shop.example/mug")
    >>> obj["type"], obj["title"], obj["offerPriceDetails"]["amount"], obj["currency"], sorted(obj["meta"])[:2]
    ('product', 'Blue mug', 9.5, 'EUR', ['canonical', 'description'])
    >>> [done] = finish_objects([obj], url="https://shop.example/mug", resolved_url="https://shop.example/mug",
    ...                         fp=bytes(8), crawl_id="c1", crawl_name="shop", crawl_round=0, crawled=1700000000.0)
    >>> done["_id"], done["diffbotUri"], done["crawlName"], done["timestamp"]
    ('c1:0:0000000000000000:0', 'product|3|0', 'shop', 1700000000000)

`extract` runs in the worker's reactor thread: it reuses the tree Scrapy already parsed (`root`),
does no I/O, and costs a few milliseconds a page (bench/extraction.py). External processing
services (apiUrl kind "external") are not run here: see spiders.processing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from crawlcore.api_url import ApiSpec
from crawlcore.urls import doc_id
from crawlstore.output import INTERNAL_FIELDS, object_id

from .analyze import EXTRACTORS, analyze
from .custom import CustomFields, check_selectors, compile_selectors, custom_fields
from .document import Doc

__all__ = [
    "EXTRACTORS",
    "CustomFields",
    "Doc",
    "ExtractionError",
    "check_selectors",
    "compile_selectors",
    "custom_fields",
    "extract",
    "finish_objects",
    "warm_up",
]

log = logging.getLogger(__name__)


class ExtractionError(Exception):
    """A built-in extractor failed on a page (a bug or a page it cannot handle): the message is
    for the URL report's Process Response."""


def extract(api: ApiSpec, *, url: str, resolved_url: str | None = None, html: str | bytes | None = None,
            root: Any = None) -> list[dict[str, Any]]:
    """The public fields of the objects a page yields under a built-in apiUrl kind (one object;
    none when the HTML cannot be parsed). Pass `root` (the lxml tree Scrapy already built, which
    is not modified) or `html`. Custom fields (`selectors`) are not evaluated here: their cost has no
    bound, so spiders.processing runs them under a deadline (spiders.extractors.sandbox).

    Raises ValueError for kind "external" (spiders.processing calls those services) and
    ExtractionError when an extractor fails.
    """
    if api.external:
        raise ValueError("external processing services are called by spiders.processing, not extracted here")
    if root is not None:
        doc: Doc | None = Doc(root, url, resolved_url)
    elif html is not None:
        doc = Doc.parse(html, url, resolved_url)
    else:
        raise ValueError("extract needs html or root")
    if doc is None:
        return []
    try:
        obj = analyze(doc, api) if api.kind == "analyze" else EXTRACTORS[api.kind](doc, api)
    except Exception as exc:
        log.warning("%s extraction failed on %s", api.kind, url, exc_info=True)
        raise ExtractionError(f"{api.kind} extraction failed: {type(exc).__name__}: {exc}") from exc
    return [obj]


def warm_up() -> None:
    """Load what the first pages would otherwise wait for (the language model, lazy imports and
    caches): call once when a worker starts, off the hot path."""
    from .common import _classify_language

    _classify_language("warm up the language identifier with a sentence")
    page = ('<html><head><title>Warm up</title></head><body><article><h1>Warm up</h1>'
            + "<p>A paragraph of text long enough to count as the content of an article page.</p>" * 8
            + "</article></body></html>")
    extract(ApiSpec("analyze"), html=page, url="https://warm-up.invalid/")


def _safe_key(key: str) -> str:
    """A field name MongoDB stores and queries as given: no dots, no leading $."""
    key = key.replace(".", "_")
    return "\uff04" + key[1:] if key.startswith("$") else key


def _safe(value: Any, depth: int = 0) -> Any:
    if depth > 32:
        return None
    if isinstance(value, Mapping):
        return {_safe_key(str(k)): _safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(v, depth + 1) for v in value]
    return value


def finish_objects(objects: Sequence[Mapping[str, Any]], *, url: str, resolved_url: str, fp: bytes, crawl_id: str,
                   crawl_name: str, crawl_round: int, crawled: float) -> list[dict[str, Any]]:
    """Objects ready for MongoDB: the crawl's fields (pageUrl, resolvedPageUrl, diffbotUri, docId,
    crawlName, crawlRound, timestamp) and the internal `_id/_c/_r/_t` added; for objects from an
    external service, their own internal-looking fields dropped and field names made storable."""
    fp_hex = fp.hex()
    docid = doc_id(fp)
    out: list[dict[str, Any]] = []
    for index, raw in enumerate(objects):
        body = {k: v for k, v in _safe(raw).items() if k not in INTERNAL_FIELDS}
        kind = str(body.pop("type", "") or "other")
        body.pop("pageUrl", None)
        body.pop("resolvedPageUrl", None)
        suffix = f"-{index}" if index else ""
        out.append({
            "_id": object_id(crawl_id, crawl_round, fp_hex, index), "_c": crawl_id, "_r": crawl_round, "_t": crawled,
            "type": kind, "pageUrl": url, "resolvedPageUrl": resolved_url, **body,
            "diffbotUri": f"{kind}|3|{docid}{suffix}", "docId": docid, "crawlName": crawl_name,
            "crawlRound": crawl_round, "timestamp": int(crawled * 1000),
        })
    return out
