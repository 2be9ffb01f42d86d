"""schema.org data embedded in a page (JSON-LD and microdata, read by extruct) as plain dicts.

Items come out in JSON-LD shape (`{"@type": "Product", "name": ..., "offers": {...}}`) whatever
their syntax: `@graph`s are flattened, `{"@id": ...}` references resolved, microdata converted.

    >>> import lxml.html
    >>> root = lxml.html.document_fromstring('<html><head><script type="application/ld+json">'
    ...     '{"@graph": [{"@type": "NewsArticle", "headline": "Hi", "author": {"@id": "#p"}},'
    ...     ' {"@type": "Person", "@id": "#p", "name": "Ann"}]}</script></head><body></body></html>')
    >>> items = schema_items(root, "https://a.example/")
    >>> [type_names(i) for i in items], names(items[0].get("author"))
    ([{'NewsArticle'}, {'Person'}], ['Ann'])
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from extruct.jsonld import JsonLdExtractor
from extruct.w3cmicrodata import MicrodataExtractor
from lxml import etree

__all__ = ["find_item", "first_text", "names", "schema_items", "text_values", "type_names"]

log = logging.getLogger(__name__)

_HAS_ITEMSCOPE = etree.XPath("boolean(//*[@itemscope])")
_HAS_JSONLD = etree.XPath('boolean(//script[@type="application/ld+json"])')
_JSONLD = JsonLdExtractor()
_MICRODATA = MicrodataExtractor()
_MAX_DEPTH = 8


def type_names(item: Any) -> set[str]:
    """Short schema.org type names of an item: `https://schema.org/Product` is `Product`."""
    if not isinstance(item, dict):
        return set()
    raw = item.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {str(v).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] for v in values if v}


def _walk(value: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, list):
        for v in value:
            yield from _walk(v, depth + 1)
    elif isinstance(value, dict):
        if "@graph" in value:
            yield from _walk(value["@graph"], depth + 1)
        else:
            yield value


def _resolve(value: Any, ids: dict[str, dict[str, Any]], depth: int = 0) -> Any:
    """Replace `{"@id": x}` stubs by the node with that id (one level at a time, bounded)."""
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, list):
        return [_resolve(v, ids, depth + 1) for v in value]
    if isinstance(value, dict):
        if set(value) == {"@id"} and value["@id"] in ids:
            return _resolve(ids[value["@id"]], ids, depth + 1)
        return {k: (_resolve(v, ids, depth + 1) if k != "@id" else v) for k, v in value.items()}
    return value


def _from_microdata(value: Any, depth: int = 0) -> Any:
    """extruct's microdata item (`{"type": url, "properties": {...}}`) in JSON-LD shape."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, list):
        return [_from_microdata(v, depth + 1) for v in value]
    if isinstance(value, dict) and "properties" in value:
        out: dict[str, Any] = {"@type": value.get("type", "")}
        for key, prop in value["properties"].items():
            out[key] = _from_microdata(prop, depth + 1)
        return out
    return value


def schema_items(root: Any, base_url: str) -> list[dict[str, Any]]:
    """Top-level schema.org items of the page, JSON-LD first, then microdata, in page order."""
    items: list[dict[str, Any]] = []
    if _HAS_JSONLD(root):
        try:
            raw = _JSONLD.extract_items(root, base_url=base_url)
        except Exception:  # malformed JSON-LD is common; one bad block must not cost the page
            log.debug("unreadable JSON-LD on %s", base_url, exc_info=True)
            raw = []
        nodes = list(_walk(raw))
        ids = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str) and len(n) > 1}
        items.extend(_resolve(n, ids) for n in nodes)
    if _HAS_ITEMSCOPE(root):
        try:
            micro = _MICRODATA.extract_items(root, base_url)
        except Exception:
            log.debug("unreadable microdata on %s", base_url, exc_info=True)
            micro = []
        items.extend(m for m in (_from_microdata(i) for i in micro) if isinstance(m, dict))
    return items


def find_item(items: Iterable[dict[str, Any]], types: Iterable[str]) -> dict[str, Any] | None:
    """The first item (or an item's mainEntity) of one of the types."""
    wanted = set(types)
    for item in items:
        if type_names(item) & wanted:
            return item
        main = item.get("mainEntity")
        for entity in main if isinstance(main, list) else [main]:
            if type_names(entity) & wanted:
                return entity
    return None


def text_values(value: Any) -> list[str]:
    """Strings of a property: text, `@value`, a `name` or `url`, in lists too."""
    out: list[str] = []
    for v in value if isinstance(value, list) else [value]:
        if isinstance(v, str | int | float) and not isinstance(v, bool):
            text = str(v).strip()
        elif isinstance(v, dict):
            inner = v.get("@value", v.get("name", v.get("url", v.get("contentUrl"))))
            text = str(inner).strip() if isinstance(inner, str | int | float) else ""
        else:
            text = ""
        if text:
            out.append(text)
    return out


def first_text(item: dict[str, Any] | None, *keys: str) -> str:
    """The first non-empty string among the keys of an item."""
    if not item:
        return ""
    for key in keys:
        values = text_values(item.get(key))
        if values:
            return values[0]
    return ""


def names(value: Any) -> list[str]:
    """Names of people or organisations (authors, brands): strings or objects with a name."""
    out: list[str] = []
    for v in value if isinstance(value, list) else [value]:
        if isinstance(v, dict):
            name = v.get("name")
            if isinstance(name, list):
                name = name[0] if name else ""
            text = str(name).strip() if isinstance(name, str) else ""
        elif isinstance(v, str):
            text = v.strip()
        else:
            text = ""
        if text and not text.startswith(("http://", "https://")) and text not in out:
            out.append(text)
    return out
