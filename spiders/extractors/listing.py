"""The list extractor, for index pages (section fronts, archives, search results, category grids):
a schema.org ItemList when the page has one, else the largest group of repeated blocks that
each carry a title link.

Fields: title, items [{title, link, summary, image?}], numItems, humanLanguage, and the optional
fields asked for.
"""

from __future__ import annotations

from typing import Any

from crawlcore.api_url import ApiSpec

from .common import human_language, optional_fields, page_title
from .document import Doc, clean, text_of
from .shape import Item, Shape, read_shape
from .structured import find_item, first_text, text_values

__all__ = ["listing"]

_MAX_SUMMARY = 500


def _summary(item: Item) -> str:
    """An item's text besides its title: its first paragraph, else what remains of its text."""
    for p in item.element.iter("p"):
        text = text_of(p)
        if text and text != item.title:
            return text[:_MAX_SUMMARY]
    rest = clean(text_of(item.element).replace(item.title, " ", 1))
    return rest[:_MAX_SUMMARY]


def _dom_items(doc: Doc, group: list[Item]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in group:
        link = doc.absolute(item.href)
        if not link:
            continue
        entry: dict[str, Any] = {"title": item.title, "link": link}
        summary = _summary(item)
        if summary:
            entry["summary"] = summary
        img = next((i for i in item.element.iter("img") if i.get("src")), None)
        if img is not None and doc.absolute(img.get("src")):
            entry["image"] = doc.absolute(img.get("src"))
        out.append(entry)
    return out


def _structured_items(doc: Doc, dom: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = find_item(doc.items, ("ItemList",))
    elements = found.get("itemListElement") if found else None
    summaries = {e["link"]: e.get("summary", "") for e in dom}
    out: list[dict[str, Any]] = []
    for element in elements if isinstance(elements, list) else []:
        if not isinstance(element, dict):
            continue
        nested = element.get("item")
        inner: dict[str, Any] = nested if isinstance(nested, dict) else element
        link = doc.absolute((text_values(inner.get("url")) or text_values(element.get("url"))
                             or text_values(inner.get("@id")) or [""])[0])
        title = first_text(inner, "name", "headline") or first_text(element, "name")
        if link and title:
            entry: dict[str, Any] = {"title": title, "link": link}
            if summaries.get(link):
                entry["summary"] = summaries[link]
            out.append(entry)
    return out


def listing(doc: Doc, spec: ApiSpec, shape: Shape | None = None) -> dict[str, Any]:
    """The list object's fields (type list)."""
    shape = shape or read_shape(doc.root)
    dom = _dom_items(doc, shape.list_group)
    items = _structured_items(doc, dom) or dom
    list_item = find_item(doc.items, ("ItemList", "CollectionPage", "SearchResultsPage"))
    title = page_title(doc, doc.h1, first_text(list_item, "name") if list_item and "ItemList" in str(
        list_item.get("@type")) else "")
    sample = " ".join(f"{i['title']} {i.get('summary', '')}" for i in items[:20])
    obj: dict[str, Any] = {
        "type": "list",
        "title": title,
        "items": items,
        "numItems": len(items),
        "humanLanguage": human_language(doc, sample),
    }
    obj.update(optional_fields(doc, spec))
    return obj
