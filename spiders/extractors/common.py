"""Fields every extractor shares: language, images, titles, and the optional fields that
`fields=` asks for (links, meta, querystring, breadcrumb).

    >>> from crawlcore.api_url import ApiSpec
    >>> doc = Doc.parse('<html lang="de"><head><title>T</title></head><body><a href="b">b</a></body></html>',
    ...                 "https://a.example/x?q=1")
    >>> optional_fields(doc, ApiSpec("article", ("links", "querystring")))
    {'links': ['https://a.example/b'], 'querystring': {'q': '1'}}
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from crawlcore.api_url import ApiSpec

from .document import Doc, clean, language_code
from .structured import find_item, first_text, text_values

__all__ = ["human_language", "image_entries", "optional_fields", "page_title"]

_LANGID_LOCK = threading.Lock()
_MIN_SAMPLE = 40
_SAMPLE = 3000


def _classify_language(text: str) -> str:
    """py3langid's guess (its model loads on first use, once)."""
    with _LANGID_LOCK:
        import py3langid  # heavy import, deferred to the first page that declares no language

        code, _score = py3langid.classify(text)
    return str(code)


def human_language(doc: Doc, text: str) -> str:
    """ISO 639-1 code: what the page declares, else py3langid's guess from the text."""
    declared = doc.declared_language
    if declared:
        return declared
    sample = (text or "")[:_SAMPLE]
    if len(sample) < _MIN_SAMPLE:
        sample = f"{doc.title_tag} {sample}".strip()
    return language_code(_classify_language(sample)) if len(sample) >= _MIN_SAMPLE else ""


def page_title(doc: Doc, *candidates: str) -> str:
    """The first non-empty candidate, else the h1, og:title or <title> without the site's name."""
    for candidate in candidates:
        if clean(candidate):
            return clean(candidate)
    return (doc.h1 or doc.title_heading or doc.strip_site_name(doc.meta("og:title", "twitter:title"))
            or doc.strip_site_name(doc.title_tag))


def image_entries(doc: Doc, urls: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """`images` entries from (url, caption) pairs: absolute, deduplicated, the first marked primary."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for raw, caption in urls:
        url = doc.absolute(raw)
        if not url or url in seen:
            continue
        seen.add(url)
        entry: dict[str, Any] = {"url": url}
        if caption:
            entry["caption"] = caption
        out.append(entry)
    if out:
        out[0]["primary"] = True
    return out


def _breadcrumb(doc: Doc) -> list[dict[str, str]]:
    crumbs = find_item(doc.items, ("BreadcrumbList",))
    out: list[dict[str, str]] = []
    elements = crumbs.get("itemListElement") if crumbs else None
    for element in elements if isinstance(elements, list) else []:
        if not isinstance(element, dict):
            continue
        item = element.get("item")
        name = first_text(element, "name") or (first_text(item, "name") if isinstance(item, dict) else "")
        link = item.get("@id", item.get("url", "")) if isinstance(item, dict) else (item or "")
        link = text_values(link)[0] if text_values(link) else ""
        if name:
            out.append({"name": name, "link": doc.absolute(link) if link else ""})
    return out


def _meta(doc: Doc) -> dict[str, Any]:
    """What the page says about itself (the object field `meta` this server always had, and more)."""
    og = {name: doc.meta(name) for name in doc.meta_names if name.startswith("og:")}
    return {
        "title": doc.title_tag,
        "description": doc.meta("description", "og:description"),
        "canonical": doc.canonical,
        "language": doc.root.get("lang") or doc.meta("content-language"),
        "keywords": doc.meta("keywords"),
        "og": og,
    }


def optional_fields(doc: Doc, spec: ApiSpec) -> dict[str, Any]:
    """The optional fields the apiUrl's `fields` asks for."""
    out: dict[str, Any] = {}
    for name in spec.fields:
        if name == "links":
            out["links"] = doc.links
        elif name == "meta":
            out["meta"] = _meta(doc)
        elif name == "querystring":
            out["querystring"] = dict(parse_qsl(urlsplit(doc.url).query, keep_blank_values=True))
        elif name == "breadcrumb":
            out["breadcrumb"] = _breadcrumb(doc)
    return out
