"""One page as every extractor sees it: the parsed tree, its meta data and its schema.org items,
each read once and shared.

    >>> doc = Doc.parse('<html lang="en-GB"><head><title>T</title><meta property="og:type" content="article">'
    ...                 '</head><body><a href="/x">x</a></body></html>', "https://a.example/p")
    >>> doc.meta("og:type"), doc.declared_language, doc.absolute("/x")
    ('article', 'en', 'https://a.example/x')
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from .structured import schema_items, type_names

__all__ = ["Doc", "clean", "text_of"]

_SPACES = re.compile(r"\s+")
_LANG = re.compile(r"[A-Za-z]{2,3}(?=$|[-_])")
_LINKS = etree.XPath("//a[@href]")
_H1 = etree.XPath("//h1")
_HEADINGS = etree.XPath("//h1 | //h2 | //h3")
_SEPARATORS = (" | ", " - ", " \u2013 ", " \u2014 ", " :: ", " · ", " » ")
_MAX_SITE_WORDS = 5


def clean(text: str | None) -> str:
    """Whitespace collapsed and trimmed."""
    return _SPACES.sub(" ", text).strip() if text else ""


def text_of(element: Any) -> str:
    """An element's text without scripts and styles, whitespace collapsed."""
    parts = [t for t in element.xpath(".//text()[not(ancestor::script or ancestor::style)]")]
    return clean(" ".join(parts))


def language_code(value: str | None) -> str:
    """The primary language subtag of `en-GB`, `de_DE` or `fr`, lowercased ('' when none)."""
    match = _LANG.match((value or "").strip())
    return match.group(0).lower() if match else ""


class Doc:
    """A parsed page. Construct with `Doc.parse` (or directly with an lxml root); cheap until used."""

    def __init__(self, root: lxml.html.HtmlElement, url: str, resolved_url: str | None = None) -> None:
        self.root = root
        self.url = url
        self.resolved_url = resolved_url or url
        self._meta: dict[str, list[str]] = {}
        self.title_tag = ""
        self.canonical = ""
        base = ""
        for element in root.iter("base", "title", "meta", "link"):
            tag = element.tag
            if tag == "title":
                self.title_tag = self.title_tag or clean(element.text_content())
            elif tag == "base":
                base = base or (element.get("href") or "").strip()
            elif tag == "link":
                rel = (element.get("rel") or "").lower().split()
                if "canonical" in rel and not self.canonical:
                    self.canonical = clean(element.get("href"))
            else:
                name = (element.get("property") or element.get("name") or element.get("itemprop")
                        or element.get("http-equiv") or "").strip().lower()
                content = element.get("content")
                if name and content is not None and content.strip():
                    self._meta.setdefault(name, []).append(clean(content))
        self.base = urljoin(self.resolved_url, base) if base else self.resolved_url

    @classmethod
    def parse(cls, html: str | bytes, url: str, resolved_url: str | None = None) -> Doc | None:
        """Parse HTML; None when it is not a document lxml can read."""
        try:
            root = lxml.html.document_fromstring(html)
        except (etree.ParserError, ValueError):
            return None
        return cls(root, url, resolved_url)

    # ---------------------------------------------------------------- meta data

    def meta(self, *names: str) -> str:
        """The first value of the first of these meta names or properties that the page has."""
        for name in names:
            values = self._meta.get(name)
            if values:
                return values[0]
        return ""

    def metas(self, name: str) -> list[str]:
        return list(self._meta.get(name, ()))

    @property
    def meta_names(self) -> list[str]:
        return list(self._meta)

    @cached_property
    def declared_language(self) -> str:
        """The language the page declares (html lang, Content-Language, og:locale, dc.language)."""
        for value in (self.root.get("lang"), self.root.get("xml:lang"), self.meta("content-language"),
                      self.meta("og:locale"), self.meta("dc.language", "language")):
            code = language_code(value)
            if code:
                return code
        for item in self.items:
            code = language_code(item.get("inLanguage") if isinstance(item.get("inLanguage"), str) else "")
            if code:
                return code
        return ""

    @cached_property
    def items(self) -> list[dict[str, Any]]:
        """The page's schema.org items (JSON-LD and microdata)."""
        return schema_items(self.root, self.resolved_url)

    @cached_property
    def types(self) -> list[str]:
        """schema.org types of the top-level items and their main entities, in page order."""
        found: list[str] = []
        for item in self.items:
            main = item.get("mainEntity")
            for entity in [item, *(main if isinstance(main, list) else [main])]:
                for name in sorted(type_names(entity)):
                    if name not in found:
                        found.append(name)
        return found

    @cached_property
    def h1(self) -> str:
        for element in _H1(self.root):
            text = text_of(element)
            if text:
                return text
        return ""

    @cached_property
    def title_heading(self) -> str:
        """The first h1-h3 whose text the <title> contains: the page's own title, site name aside."""
        for element in _HEADINGS(self.root):
            text = text_of(element)
            if len(text) >= 8 and text in self.title_tag:
                return text
        return ""

    @cached_property
    def site_name(self) -> str:
        """og:site_name, else the publisher or WebSite named in schema.org data."""
        name = self.meta("og:site_name", "application-name")
        if name:
            return name
        for item in self.items:
            publisher = item.get("publisher")
            if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
                return clean(publisher["name"])
        for item in self.items:
            if "WebSite" in type_names(item) and isinstance(item.get("name"), str):
                return clean(item["name"])
        return ""

    def absolute(self, href: str | None) -> str:
        """A link resolved against the page's base ('' for none or non-http links)."""
        if not href:
            return ""
        href = href.strip()
        if href.startswith(("javascript:", "mailto:", "tel:", "data:", "#")):
            return ""
        url = urljoin(self.base, href)
        return url if urlsplit(url).scheme in ("http", "https") else ""

    @cached_property
    def links(self) -> list[str]:
        """Every http(s) link of the page, absolute, without fragments, first occurrence order.

        Pages repeat links (menus, footers) and most are absolute or root-relative: each distinct
        href is resolved once, and those two kinds without urljoin."""
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.base))
        resolved: dict[str, str] = {}
        seen: dict[str, None] = {}
        for a in _LINKS(self.root):
            href = (a.get("href") or "").strip()
            if href in resolved:
                continue
            if href.startswith(("http://", "https://")) and " " not in href:
                url = href
            elif href.startswith("/") and not href.startswith("//") and "/." not in href and " " not in href:
                url = origin + href
            else:
                url = self.absolute(href)
            resolved[href] = url
            if url:
                seen.setdefault(url.partition("#")[0], None)
        return list(seen)

    def strip_site_name(self, title: str) -> str:
        """`Headline | Site` -> `Headline`, when the suffix (or prefix) is the site's name, or, the
        site's name unknown, a short last segment."""
        site = self.site_name
        if not title:
            return title
        if site:
            for sep in _SEPARATORS:
                if title.endswith(sep + site):
                    return title[: -len(sep + site)].strip()
                if title.startswith(site + sep):
                    return title[len(site + sep):].strip()
            return title
        cut = max((title.rfind(sep), sep) for sep in _SEPARATORS)
        if cut[0] > 0:
            head, tail = title[: cut[0]].strip(), title[cut[0] + len(cut[1]):].strip()
            if len(tail.split()) <= _MAX_SITE_WORDS and len(head) >= len(tail):
                return head
        return title
