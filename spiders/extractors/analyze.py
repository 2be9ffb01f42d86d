"""Analyze: read the page's signals, let the core decide its type (crawlcore.pagetype), run that
type's extractor. The object's `type` says what was decided.

Pages of type other, and pages of another type than the apiUrl's `mode` asks for, get the
default fields only: type, title, text (the page's readable text), humanLanguage, and the
optional fields asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crawlcore.api_url import ApiSpec
from crawlcore.pagetype import PageSignals, classify

from ..extract import main_text
from .article import article
from .common import human_language, optional_fields, page_title
from .discussion import discussion
from .document import Doc
from .listing import listing
from .media import image, video
from .product import product
from .shape import Shape, read_shape

__all__ = ["EXTRACTORS", "analyze", "basic", "signals"]

Extractor = Callable[[Doc, ApiSpec], dict[str, Any]]

#: The built-in extractor of each page type.
EXTRACTORS: dict[str, Extractor] = {
    "article": article,
    "product": product,
    "list": listing,
    "discussion": discussion,
    "image": image,
    "video": video,
}


def signals(doc: Doc, shape: Shape) -> PageSignals:
    """What the core's classifier needs, read off the page."""
    return PageSignals(
        schema_types=tuple(doc.types),
        og_type=doc.meta("og:type").lower(),
        text_chars=shape.paragraph_chars,
        list_items=len(shape.list_group),
        list_chars=shape.list_chars,
        posts=len(shape.posts_group),
        has_price=shape.has_price or bool(doc.meta("product:price:amount", "og:price:amount")),
        has_cart=shape.has_cart,
        big_images=shape.big_images,
        videos=shape.videos,
    )


def basic(doc: Doc, spec: ApiSpec, kind: str) -> dict[str, Any]:
    """The default fields of a page analyze does not fully extract."""
    text = main_text(doc.root)
    obj: dict[str, Any] = {
        "type": kind,
        "title": page_title(doc, doc.strip_site_name(doc.meta("og:title"))),
        "text": text,
        "humanLanguage": human_language(doc, text),
    }
    obj.update(optional_fields(doc, spec))
    return obj


def analyze(doc: Doc, spec: ApiSpec) -> dict[str, Any]:
    """Decide the page type and extract the page as that type."""
    shape = read_shape(doc.root)
    kind = classify(signals(doc, shape))
    if kind == "other" or (spec.mode and kind != spec.mode):
        return basic(doc, spec, kind)
    if kind == "list":
        return listing(doc, spec, shape)
    if kind == "discussion":
        return discussion(doc, spec, shape)
    return EXTRACTORS[kind](doc, spec)
