"""The image and video extractors, for pages built around one picture or one player: schema.org
ImageObject / VideoObject when present, else OpenGraph, else the page's largest image or its
video element or embedded player.

Image fields: title, images [{url, caption, width, height}], url (the main image), text (caption),
humanLanguage. Video fields: title, url (the media file or player), embedUrl, duration,
date (upload date), images (thumbnail), text (description), humanLanguage. Both take the
optional fields asked for.
"""

from __future__ import annotations

from typing import Any

from crawlcore.api_url import ApiSpec
from crawlcore.dates import iso_datetime

from .common import human_language, image_entries, optional_fields, page_title
from .document import Doc, clean
from .shape import PLAYER, is_boilerplate
from .structured import find_item, first_text, names

__all__ = ["image", "video"]


def _int(value: Any) -> int | None:
    text = str(value or "").strip().rstrip("px")
    return int(text) if text.isdigit() else None


def _largest_image(doc: Doc) -> tuple[str, int | None, int | None, str]:
    best: tuple[str, int | None, int | None, str] = ("", None, None, "")
    best_width = -1
    for img in doc.root.iter("img"):
        if any(is_boilerplate(a) for a in img.iterancestors()):
            continue
        width = _int(img.get("width")) or 0
        if width > best_width and doc.absolute(img.get("src")):
            best_width = width
            best = (doc.absolute(img.get("src")), _int(img.get("width")), _int(img.get("height")),
                    clean(img.get("alt")))
    return best


def image(doc: Doc, spec: ApiSpec) -> dict[str, Any]:
    """The image object's fields (type image)."""
    item = find_item(doc.items, ("ImageObject", "Photograph"))
    src, width, height, alt = _largest_image(doc)
    url = first_text(item, "contentUrl", "url") or doc.meta("og:image", "twitter:image") or src
    caption = first_text(item, "caption", "description") or alt
    entry: dict[str, Any] = {"url": doc.absolute(url)} if url else {}
    if entry:
        w = _int((item or {}).get("width")) or _int(doc.meta("og:image:width")) or width
        h = _int((item or {}).get("height")) or _int(doc.meta("og:image:height")) or height
        entry.update({k: v for k, v in (("caption", caption), ("width", w), ("height", h)) if v})
    title = page_title(doc, first_text(item, "name", "headline"), doc.h1, doc.strip_site_name(doc.meta("og:title")))
    obj: dict[str, Any] = {
        "type": "image",
        "title": title,
        "url": entry.get("url", ""),
        "images": [entry] if entry else [],
        "text": caption,
        "humanLanguage": human_language(doc, f"{title} {caption}"),
    }
    author = names((item or {}).get("author"))
    if author:
        obj["author"] = author[0]
    obj.update(optional_fields(doc, spec))
    return obj


def video(doc: Doc, spec: ApiSpec) -> dict[str, Any]:
    """The video object's fields (type video)."""
    item = find_item(doc.items, ("VideoObject",))
    embed = first_text(item, "embedUrl") or doc.meta("og:video:url", "og:video", "og:video:secure_url")
    source = next((s.get("src") for s in doc.root.iter("source", "video") if s.get("src")), "")
    player = next((f.get("src") for f in doc.root.iter("iframe") if PLAYER.search(f.get("src") or "")), "")
    url = first_text(item, "contentUrl") or source or embed or player
    title = page_title(doc, first_text(item, "name", "headline"), doc.strip_site_name(doc.meta("og:title")), doc.h1)
    text = first_text(item, "description") or doc.meta("description", "og:description")
    poster = next((v.get("poster") for v in doc.root.iter("video") if v.get("poster")), "")
    thumbs = [first_text(item, "thumbnailUrl"), doc.meta("og:image"), poster]
    obj: dict[str, Any] = {
        "type": "video",
        "title": title,
        "url": doc.absolute(url),
        "embedUrl": doc.absolute(embed or player),
        "text": text,
        "images": image_entries(doc, [(t, "") for t in thumbs if t]),
        "humanLanguage": human_language(doc, f"{title} {text}"),
    }
    duration = first_text(item, "duration")
    if duration:
        obj["duration"] = duration
    date = iso_datetime(first_text(item, "uploadDate", "datePublished"))
    if date:
        obj["date"] = date
    obj.update(optional_fields(doc, spec))
    return obj
