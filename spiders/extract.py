"""What a worker reads out of an HTML page: links, title, meta data and readable text.

One lxml parse per page (the tree Scrapy's selector already built), no regular
expressions over HTML:

    >>> page = read_page(b'<html lang="en"><head><title> Hi </title><base href="/b/"></head>'
    ...                  b'<body><a href="x">x</a><iframe src="/f"></iframe><p>Text here.</p></body></html>',
    ...                  "http://h/a/")
    >>> page.title, page.base, page.hrefs, page.language
    ('Hi', 'http://h/b/', ['x', '/f'], 'en')
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

import lxml.html
from lxml import etree

__all__ = ["Page", "main_text", "read_page"]

_LINK_XPATH = etree.XPath("//a[@href]/@href | //area[@href]/@href | //frame[@src]/@src | //iframe[@src]/@src")
_NOISE = ("script", "style", "noscript", "template", "svg", "nav", "header", "footer", "aside", "form")
_SPACES = re.compile(r"\s+")


@dataclass
class Page:
    """The parts of an HTML page the crawler and the basic extractor use."""

    root: lxml.html.HtmlElement | None
    base: str
    hrefs: list[str] = field(default_factory=list)
    title: str = ""
    description: str = ""
    canonical: str = ""
    language: str = ""
    og_type: str = ""


def _clean(text: str | None) -> str:
    return _SPACES.sub(" ", text).strip() if text else ""


def read_page(body: bytes | str, url: str, root: lxml.html.HtmlElement | None = None) -> Page:
    """Parse (or reuse `root`) and collect links from a, area, frame and iframe, resolved later
    against `Page.base` (the page URL, or its <base href>)."""
    if root is None:
        try:
            root = lxml.html.document_fromstring(body)
        except (etree.ParserError, ValueError):
            return Page(None, url)
    page = Page(root, url, hrefs=[str(h) for h in _LINK_XPATH(root)], language=_clean(root.get("lang")))
    # One pass over the few elements that carry page metadata (first of each wins).
    for element in root.iter("base", "title", "meta", "link"):
        tag = element.tag
        if tag == "title":
            page.title = page.title or _clean(element.text_content())
        elif tag == "base":
            href = element.get("href")
            if href and page.base == url:
                page.base = urljoin(url, href.strip())
        elif tag == "link":
            if not page.canonical and "canonical" in (element.get("rel") or "").lower().split():
                page.canonical = _clean(element.get("href"))
        else:
            name = (element.get("name") or element.get("property") or element.get("http-equiv") or "").lower()
            if name == "description" and not page.description:
                page.description = _clean(element.get("content"))
            elif name == "og:type" and not page.og_type:
                page.og_type = _clean(element.get("content")).lower()
            elif name == "content-language" and not page.language:
                page.language = _clean(element.get("content"))
    return page


def main_text(root: lxml.html.HtmlElement | None) -> str:
    """Readable text of a page: <main> or <article> when present, else <body>, without
    scripts, styles and navigation."""
    if root is None:
        return ""
    candidates = root.xpath("//main") or root.xpath("//article") or root.xpath("//body") or [root]
    node = copy.deepcopy(candidates[0])
    etree.strip_elements(node, *_NOISE, etree.Comment, with_tail=False)
    return _SPACES.sub(" ", " ".join(node.itertext())).strip()
