"""The discussion extractor, for forum threads, Q&A pages and comment threads: schema.org
DiscussionForumPosting (with its comments) or QAPage (question and answers) when the page has
them, else the largest group of repeated author-signed blocks, with the opening post when it
stands apart from them.

Fields: title, posts [{author, date, text}], numPosts, humanLanguage, and the optional fields
asked for.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from crawlcore.api_url import ApiSpec
from crawlcore.dates import iso_datetime

from .common import human_language, optional_fields, page_title
from .document import Doc, clean, text_of
from .shape import Item, Shape, read_shape
from .structured import find_item, first_text, names

__all__ = ["discussion"]

_DMY = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s+(\d{1,2}):(\d{2}))?")
_BODY_HINT = re.compile(r"content|body|text|message|post-?text|prose|comment-body", re.I)
_MAX_TEXT = 20_000
_TIMES = etree.XPath(".//time[@datetime] | .//*[@title][contains(@class,'time') or contains(@class,'date')]")


def _post(author: list[str], date: str, text: str) -> dict[str, Any]:
    return {"author": author[0] if author else "", "date": iso_datetime(date) or "", "text": clean(text)[:_MAX_TEXT]}


def _structured_posts(doc: Doc) -> tuple[str, list[dict[str, Any]]]:
    qa = find_item(doc.items, ("Question",))
    if qa is not None:
        posts = [_post(names(qa.get("author")), first_text(qa, "dateCreated", "datePublished"),
                       first_text(qa, "text", "name"))]
        for key in ("acceptedAnswer", "suggestedAnswer"):
            answers = qa.get(key)
            for answer in answers if isinstance(answers, list) else [answers]:
                if isinstance(answer, dict):
                    posts.append(_post(names(answer.get("author")), first_text(answer, "dateCreated", "datePublished"),
                                       first_text(answer, "text")))
        return first_text(qa, "name", "headline"), posts
    thread = find_item(doc.items, ("DiscussionForumPosting",))
    if thread is not None:
        posts = [_post(names(thread.get("author")), first_text(thread, "datePublished", "dateCreated"),
                       first_text(thread, "text", "articleBody"))]
        comments = thread.get("comment")
        for comment in comments if isinstance(comments, list) else [comments]:
            if isinstance(comment, dict):
                posts.append(_post(names(comment.get("author")), first_text(comment, "datePublished", "dateCreated"),
                                   first_text(comment, "text")))
        return first_text(thread, "headline", "name"), posts
    return "", []


def _date_of(element: Any) -> str:
    for found in _TIMES(element):
        value = iso_datetime(found.get("datetime") or found.get("title"))
        if value:
            return value
    match = _DMY.search(text_of(element))
    if match:
        day, month, year, hour, minute = match.groups()
        stamp = f"{year}-{int(month):02d}-{int(day):02d}" + (f"T{int(hour):02d}:{minute}:00" if hour else "")
        return iso_datetime(stamp) or ""
    return ""


def _body_of(element: Any, author: str) -> str:
    for child in element.iter():
        if not isinstance(child.tag, str) or child is element:
            continue
        hints = f"{child.get('class') or ''} {child.get('id') or ''}"
        if _BODY_HINT.search(hints) and not re.search(r"meta|author|user|action|profile", hints, re.I):
            text = text_of(child)
            if len(text) >= 20:
                return text
    text = text_of(element)
    return text.replace(author, "", 1).strip() if author else text


def _dom_post(item: Item) -> dict[str, Any]:
    author = text_of(item.authorish) if item.authorish is not None else ""
    if item.authorish is not None:
        # the author element may hold more (a profile box): prefer its first link or name-like child
        link = next((a for a in item.authorish.iter("a") if clean(a.text_content())), None)
        if link is not None:
            author = clean(link.text_content())
    return {"author": author, "date": _date_of(item.element), "text": _body_of(item.element, author)[:_MAX_TEXT]}


def _opening_post(doc: Doc, group: list[Item]) -> dict[str, Any] | None:
    """The thread's first post when it is built differently from the replies (title block with a byline)."""
    first = group[0].element
    heading = next(iter(doc.root.iter("h1")), None)
    if heading is None:
        return None
    block = heading.getparent()
    if block is None or block.tag in ("body", "html", "main") or any(a is block for a in first.iterancestors()):
        return None
    if any(d is first for d in block.iter()):
        return None
    shape_item = Item(block)
    for el in block.iter():
        if isinstance(el.tag, str) and re.search(r"(?:^|[\s_-])(?:author|user|username|poster|creator)(?:$|[\s_-])",
                                                  f"{el.get('class') or ''}", re.I):
            shape_item.authorish = el
            break
    if shape_item.authorish is None:
        return None
    post = _dom_post(shape_item)
    post["text"] = " ".join(text_of(p) for p in block.iter("p")) or post["text"]
    return post if len(post["text"]) >= 20 else None


def discussion(doc: Doc, spec: ApiSpec, shape: Shape | None = None) -> dict[str, Any]:
    """The discussion object's fields (type discussion)."""
    title, posts = _structured_posts(doc)
    if not posts:
        shape = shape or read_shape(doc.root)
        group = shape.posts_group
        posts = [_dom_post(i) for i in group]
        if group:
            opening = _opening_post(doc, group)
            if opening is not None:
                posts.insert(0, opening)
    obj: dict[str, Any] = {
        "type": "discussion",
        "title": page_title(doc, title, doc.h1, doc.strip_site_name(doc.meta("og:title"))),
        "posts": posts,
        "numPosts": len(posts),
        "humanLanguage": human_language(doc, " ".join(p["text"] for p in posts[:10])),
    }
    obj.update(optional_fields(doc, spec))
    return obj
