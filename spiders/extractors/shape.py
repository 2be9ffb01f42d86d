"""The shape of a page's content, read in one walk of the tree: prose, repeated items (a list's
entries, a thread's posts), prices, buy buttons, big images and video players.

Boilerplate (nav, header, footer, aside, forms, and elements whose class or id says navigation,
sidebar, footer, ...) is skipped. Repeated items are sibling blocks with the same tag and first
class: a list's entries each carry a title link; a thread's posts each carry an author element
and their own text.

    >>> import lxml.html
    >>> items = "".join(f'<li class="s"><h3><a href="/n{i}">Story number {i} headline</a></h3><p>Dek {i}</p></li>'
    ...                 for i in range(5))
    >>> shape = read_shape(lxml.html.document_fromstring(f"<html><body><ul>{items}</ul></body></html>"))
    >>> len(shape.list_group), shape.posts_group
    (5, [])
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .document import clean

__all__ = ["BOILERPLATE_TAGS", "PLAYER", "Item", "Shape", "is_boilerplate", "read_shape", "title_link"]

BOILERPLATE_TAGS = frozenset({"nav", "header", "footer", "aside", "form", "script", "style", "noscript",
                              "template", "svg", "select", "button", "iframe", "head"})
_HINT = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navigation|menu|menue|topnav|footer|fuss|fusszeile|foot|ftr|header|hdr|kopf"
    r"|kopfzeile|masthead|breadcrumbs?|crumbs|pfad|sidebar|seitenleiste|widget|widget-area|related|popular"
    r"|rail|share|teilen|social|cookie|cookie-hinweis|banner|pagination|pager|blaettern|filters?|newsletter"
    r"|newsletter-signup|ads?|advert|advertisement|ad-slot|anzeige|skip-link|sitemap"
    r"|site-footer|site-header|top-banner|alert-bar|announcement-bar)(?:$|[\s_-])",
    re.IGNORECASE,
)
_BLOCK_TAGS = frozenset({"li", "div", "article", "section", "tr", "dd"})
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_AUTHORISH = re.compile(
    r"(?:^|[\s_-])(?:author|username|user|poster|postprofile|creator|benutzer|member|commenter|nick|byline)"
    r"(?:$|[\s_-])", re.IGNORECASE)
_PROFILE = re.compile(r"/(?:members?|users?|u|profiles?|profil|benutzer|membres?|utilisateurs?|authors?)/",
                      re.IGNORECASE)
_PRICEISH = re.compile(r"price|preis|prix|precio|prezzo|cost|amount|betrag", re.IGNORECASE)
_CART = re.compile(
    r"add to (?:cart|basket|bag|trolley)|buy (?:it )?now|in den (?:warenkorb|einkaufswagen)|jetzt kaufen"
    r"|ajouter au panier|añadir al carrito|aggiungi al carrello|in winkelwagen|kaufen",
    re.IGNORECASE)
_MONEY = re.compile(r"(?:[$€£¥₹]|\b(?:USD|EUR|GBP|CHF|CAD|AUD|JPY|SEK|NOK|DKK|PLN)\b)\s?\d"
                    r"|\d[\d.,]*\s?(?:€|\b(?:EUR|USD|CHF)\b)")
PLAYER = re.compile(r"youtube\.com|youtu\.be|vimeo\.com|dailymotion|/embed/|player\.|/player/|wistia|brightcove",
                     re.IGNORECASE)
_MIN_TITLE = 12
_MIN_POST_TEXT = 30
_MIN_PARAGRAPH = 60
_BIG_IMAGE = 500


def is_boilerplate(element: Any) -> bool:
    """Navigation, headers, footers, sidebars, forms and the like, by tag, role, class or id."""
    if element.tag in BOILERPLATE_TAGS:
        return True
    role = element.get("role")
    if role in ("navigation", "banner", "contentinfo", "complementary", "search"):
        return True
    hints = f"{element.get('class') or ''} {element.get('id') or ''}"
    return bool(hints.strip()) and bool(_HINT.search(hints))


def _signature(element: Any) -> tuple[str, str]:
    """Tag and first class, ids left out: CMSs put record ids in classes (WordPress's `post-412 post`),
    which would make every sibling look different."""
    classes = (element.get("class") or "").split()
    named = [c for c in classes if not any(ch.isdigit() for ch in c)] or classes
    return element.tag, named[0] if named else ""


def _usable(href: str) -> bool:
    return bool(href) and not href.startswith(("#", "javascript:"))


def _enclosing_link(element: Any, member: Any) -> Any:
    """The link wrapping `element` inside `member` (cards whose whole body is one link), if any."""
    for ancestor in element.iterancestors():
        if ancestor.tag == "a":
            return ancestor
        if ancestor is member:
            break
    return None


def title_link(member: Any) -> tuple[str, str, bool, Any]:
    """(text, href, in a heading, the link element) of an item's title link: a link in a heading,
    or a heading inside a link (its text then is the heading's); else the item's longest link.
    Links to a fragment of the same page do not count."""
    for heading in member.iter(*_HEADINGS):
        for a in heading.iter("a"):
            href = (a.get("href") or "").strip()
            text = clean(a.text_content())
            if _usable(href) and text:
                return text, href, True, a
        wrapper = _enclosing_link(heading, member)
        if wrapper is not None:
            href = (wrapper.get("href") or "").strip()
            text = clean(heading.text_content())
            if _usable(href) and text:
                return text, href, True, wrapper
    best: tuple[str, str, bool, Any] = ("", "", False, None)
    for a in member.iter("a"):
        href = (a.get("href") or "").strip()
        if not _usable(href):
            continue
        text = clean(a.text_content())
        if len(text) > len(best[0]):
            best = (text, href, False, a)
    return best


def _link_chars(member: Any) -> int:
    return sum(len(clean(a.text_content())) for a in member.iter("a"))


@dataclass
class Item:
    """One repeated block and what it holds."""

    element: Any
    title: str = ""
    href: str = ""
    headed: bool = False  # the title link is in a heading
    text_chars: int = 0
    own_chars: int = 0  # text outside links
    authorish: Any = None  # the element naming the author, if any


def _signs(link: Any, authorish: Any) -> bool:
    """Whether a link names the item's author rather than titling the item: it sits in the
    author element, or it carries an author hint itself, or it points to a member profile."""
    if link is None:
        return False
    if authorish is not None and (link is authorish or any(a is authorish for a in link.iterancestors())):
        return True
    hint = f"{link.get('class') or ''} {link.get('rel') or ''} {link.get('itemprop') or ''}"
    return bool(_AUTHORISH.search(hint)) or bool(_PROFILE.search(link.get("href") or ""))


def _read_item(element: Any) -> Item:
    text, href, headed, link = title_link(element)
    total = len(clean(element.text_content()))
    authorish = None
    for el in element.iter():
        if not isinstance(el.tag, str):
            continue
        hint = f"{el.get('class') or ''} {el.get('itemprop') or ''} {el.get('rel') or ''}"
        if _AUTHORISH.search(hint):
            authorish = el
            break
    if headed and _signs(link, authorish):
        headed = False  # a username set as a heading (forum software does) does not title the item
    return Item(element, text, href, headed, total, total - _link_chars(element), authorish)


def _is_post(item: Item) -> bool:
    """Signed by an author, with text of its own, and not headed by a title link."""
    return item.authorish is not None and item.own_chars >= _MIN_POST_TEXT and not item.headed


def _is_list_item(item: Item) -> bool:
    return not _is_post(item) and (len(item.title) >= _MIN_TITLE or len(item.title.split()) >= 3)


@dataclass
class Shape:
    """What `read_shape` found."""

    list_group: list[Item] = field(default_factory=list)
    posts_group: list[Item] = field(default_factory=list)
    paragraph_chars: int = 0
    list_chars: int = 0
    has_price: bool = False
    has_cart: bool = False
    big_images: int = 0
    videos: int = 0


def _walk(element: Any, out: list[Any]) -> None:
    """Content elements in document order, boilerplate subtrees left out."""
    for child in element:
        if not isinstance(child.tag, str) or is_boilerplate(child):
            continue
        out.append(child)
        _walk(child, out)


def _best_groups(elements: list[Any]) -> tuple[list[Item], list[Item]]:
    best_list: list[Item] = []
    best_list_score = 0.0
    best_posts: list[Item] = []
    for parent in elements:
        if len(parent) < 2:
            continue
        buckets: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for child in parent:
            if isinstance(child.tag, str) and child.tag in _BLOCK_TAGS and not is_boilerplate(child):
                buckets[_signature(child)].append(child)
        for members in buckets.values():
            if len(members) < 2:
                continue
            items = [_read_item(m) for m in members]
            posts = [i for i in items if _is_post(i)]
            if len(posts) >= 2 and len(posts) * 2 >= len(items) and len(posts) > len(best_posts):
                best_posts = posts
            entries = [i for i in items if _is_list_item(i)]
            if len(entries) >= 3 and len(entries) * 3 >= len(items) * 2:
                headed = sum(1 for i in entries if any(True for _ in i.element.iter(*_HEADINGS)))
                score = len(entries) * (1 + 0.5 * headed / len(entries))
                if score > best_list_score:
                    best_list, best_list_score = entries, score
    return best_list, best_posts


def _width(img: Any) -> int:
    raw = (img.get("width") or "").strip().rstrip("px")
    return int(raw) if raw.isdigit() else 0


def read_shape(root: Any) -> Shape:
    """Read the shape of a page (one walk; the repeated-block search looks only at content)."""
    body = root.find("body")
    if body is None:
        body = root
    content: list[Any] = [body]
    _walk(body, content)
    shape = Shape()
    shape.list_group, shape.posts_group = _best_groups(content)
    in_list = {id(i.element) for i in shape.list_group}
    listed: set[int] = set()
    for item in shape.list_group:
        listed.update(id(e) for e in item.element.iter())
    shape.list_chars = sum(i.text_chars for i in shape.list_group)
    for el in content:
        tag = el.tag
        if tag == "p" or (tag in ("div", "td", "dd") and el.text and len(el.text.strip()) >= _MIN_PARAGRAPH):
            if id(el) in listed:
                continue
            text = clean(el.text_content())
            if len(text) >= _MIN_PARAGRAPH and _link_chars(el) * 2 < len(text):
                shape.paragraph_chars += len(text)
        elif tag == "img" and _width(el) >= _BIG_IMAGE:
            shape.big_images += 1
        elif tag == "video" or (tag == "embed" and PLAYER.search(el.get("src") or "")):
            shape.videos += 1
        if not shape.has_price and id(el) not in in_list:
            hints = f"{el.get('class') or ''} {el.get('id') or ''} {el.get('itemprop') or ''}"
            if _PRICEISH.search(hints) and len(el) < 6 and _MONEY.search(el.text_content() or ""):
                shape.has_price = True
    # Buttons and players live in forms and iframes, which the content walk skips.
    for el in body.iter("button", "input", "a", "iframe"):
        if el.tag == "iframe":
            if PLAYER.search(el.get("src") or ""):
                shape.videos += 1
            continue
        if shape.has_cart:
            continue
        label = el.get("value") if el.tag == "input" else el.text_content()
        if label and len(label) < 40 and _CART.search(label):
            shape.has_cart = True
    return shape


