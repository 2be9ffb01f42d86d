"""The article extractor: trafilatura finds the main text; schema.org, OpenGraph and meta tags
give the metadata, with trafilatura's byline, tag and site-name searches and htmldate as fallbacks.

Fields: title, text, html (the cleaned main content), author, authors, date, estimatedDate
(only when no date is given: from the URL), siteName, humanLanguage, images (url, caption),
tags ({label}), and the optional fields asked for.

Dates: `date` is the publication date the page states, in markup (schema.org datePublished,
article:published_time and its kin, a <time datetime>) or, failing that, in its visible text
(htmldate's extensive search); `estimatedDate` is htmldate's guess from the URL when the page
states none.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

import htmldate
import trafilatura
from lxml import etree
from trafilatura.htmlprocessing import convert_to_html
from trafilatura.metadata import extract_author, extract_catstags, extract_sitename
from trafilatura.xml import xmltotxt

from crawlcore.api_url import ApiSpec
from crawlcore.dates import iso_datetime
from crawlcore.pagetype import ARTICLE_TYPES

from .common import human_language, image_entries, optional_fields, page_title
from .document import Doc, clean, text_of
from .shape import is_boilerplate
from .structured import find_item, first_text, names, text_values

__all__ = ["DATE_METAS", "article", "main_content", "published_date"]

log = logging.getLogger(__name__)

#: Meta names and properties that carry a publication date, most specific first.
DATE_METAS = (
    "article:published_time", "datepublished", "og:published_time", "published_time", "article.published",
    "pubdate", "publishdate", "publish-date", "publish_date", "date", "dc.date.issued", "dcterms.issued",
    "dc.date", "dcterms.date", "dcterms.created", "sailthru.date", "parsely-pub-date", "citation_publication_date",
    "citation_date", "datecreated", "uploaddate",
)
_AUTHOR_METAS = ("author", "article:author", "dc.creator", "dcterms.creator", "sailthru.author", "parsely-author")
_TIMES = etree.XPath("//time[@datetime]")
# Promotions inside article bodies that trafilatura keeps (it prunes navigation and the like itself).
_PROMO = ("//*[@class and (contains(@class,'newsletter') or contains(@class,'subscri') or contains(@class,'abonnement')"
          " or contains(@class,'paywall') or contains(@class,'promo') or contains(@class,'share')"
          " or contains(@class,'social') or contains(@class,'related') or contains(@class,'sponsor'))]")
# A byline in the page's text: "By Jane Doe, Staff Writer", "Von Katrin Vogel".
_BYLINE = re.compile(
    r"^(?:by|von|par|por|di|door|av)\s+((?:[A-ZÀ-ÖØ-Þ][\w.'\u2019-]*\s?){1,4})(?=$|[,|·•(]|\s(?:and|und|et|y)\s|\s\d)",
    re.IGNORECASE)
_SHORT_TEXTS = etree.XPath("//body//*[not(self::script or self::style)]/text()")
# Paragraphs of prose inside a table cell: the table is the page's layout, not data.
_LAYOUT_TABLE = etree.XPath("boolean(//td//p[string-length(normalize-space(.)) > 200])")
_IMG_BY_SRC = etree.XPath("//img[@src]")


def _time_element_date(doc: Doc) -> str:
    for element in _TIMES(doc.root):
        if any(is_boilerplate(a) for a in element.iterancestors()):
            continue
        value = iso_datetime(element.get("datetime"))
        if value:
            return value
    return ""


def published_date(doc: Doc, item: dict[str, Any] | None) -> str:
    """The publication date the page states in its markup (ISO 8601), or ''."""
    for value in text_values((item or {}).get("datePublished")) + text_values((item or {}).get("dateCreated")):
        iso = iso_datetime(value)
        if iso:
            return iso
    for name in DATE_METAS:
        for value in doc.metas(name):
            iso = iso_datetime(value)
            if iso:
                return iso
    return _time_element_date(doc)


_EMPTY_PAGE = "<html><body><p></p></body></html>"


def _htmldate(doc: Doc, url: str | None) -> str:
    """htmldate's date: from the page's visible text (url None), or from the URL alone."""
    try:
        found = htmldate.find_date(doc.root if url is None else _EMPTY_PAGE, extensive_search=url is None,
                                   original_date=True, url=url, outputformat="%Y-%m-%d")
    except Exception:  # htmldate is defensive, but a page must never fail because of it
        log.debug("htmldate failed on %s", doc.url, exc_info=True)
        return ""
    return str(found) if found else ""


def _authors(doc: Doc, item: dict[str, Any] | None) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    raw = (item or {}).get("author")
    for entry in raw if isinstance(raw, list) else [raw]:
        for name in names(entry):
            link = entry.get("url", "") if isinstance(entry, dict) else ""
            found.append({"name": name, **({"link": doc.absolute(link)} if isinstance(link, str) and link else {})})
    if found:
        return found
    for meta in _AUTHOR_METAS:
        value = doc.meta(meta)
        if value and not value.startswith(("http://", "https://")):
            return [{"name": value}]
    # trafilatura's byline search copies the whole tree: only when the page names no author in markup
    found_byline = extract_author(doc.root)
    if found_byline:
        return [{"name": clean(n)} for n in found_byline.split(";") if clean(n)]
    byline = _byline(doc)
    return [{"name": byline}] if byline else []


def _byline(doc: Doc) -> str:
    """A "By Name" line before the article's prose starts."""
    for raw in _SHORT_TEXTS(doc.root):
        text = clean(raw)
        if len(text) > 200:
            return ""
        match = _BYLINE.match(text) if len(text) <= 100 else None
        if match:
            return clean(match.group(1))
    return ""


def _tags(doc: Doc, item: dict[str, Any] | None) -> list[dict[str, str]]:
    labels: list[str] = []
    for value in text_values((item or {}).get("keywords")):
        labels.extend(clean(v) for v in value.split(","))
    if not labels:
        labels = doc.metas("article:tag")
    if not labels:
        labels = extract_catstags("tag", doc.root)
    unique = list(dict.fromkeys(label for label in labels if label))
    return [{"label": label} for label in unique]


def _caption(doc: Doc, src: str) -> str:
    for img in _IMG_BY_SRC(doc.root):
        if doc.absolute(img.get("src")) == src:
            for ancestor in img.iterancestors("figure"):
                for caption in ancestor.iter("figcaption"):
                    return text_of(caption)
            return ""
    return ""


def main_content(doc: Doc) -> Any:
    """trafilatura's extraction (the main content as its XML `body`), or None.

    Fast mode (no fallback extractors), favouring precision; when that finds nothing, once more
    in balanced mode. Tables are content unless prose sits in table cells (a layout table).
    """
    tables = not _LAYOUT_TABLE(doc.root)
    for precision in (True, False):
        try:
            result = trafilatura.bare_extraction(
                doc.root, url=doc.url, fast=True, favor_precision=precision, with_metadata=False,
                include_comments=False, include_images=True, include_tables=tables, include_links=False,
                prune_xpath=_PROMO,
            )
        except Exception:
            log.debug("trafilatura failed on %s", doc.url, exc_info=True)
            return None
        body = getattr(result, "body", None)
        if body is not None and len(body):
            return result
    return None


def _without_title(body: Any, title: str) -> Any:
    """A copy of the body without a leading heading that repeats the title."""
    out = copy.deepcopy(body)
    first = out[0] if len(out) else None
    if first is not None and first.tag == "head" and clean("".join(first.itertext())) == title:
        out.remove(first)
    return out


def article(doc: Doc, spec: ApiSpec) -> dict[str, Any]:
    """The article object's fields (type article)."""
    item = find_item(doc.items, ARTICLE_TYPES)
    result = main_content(doc)
    body = getattr(result, "body", None)
    title = page_title(doc, first_text(item, "headline", "name"), doc.h1 if doc.h1 in doc.title_tag else "",
                       doc.strip_site_name(doc.meta("og:title")))
    text, html, images = "", "", []
    if body is not None:
        content = _without_title(body, title)
        html_tree = convert_to_html(copy.deepcopy(content))
        html = "".join(etree.tostring(child, encoding="unicode", method="html") for child in html_tree[0]).strip()
        for graphic in content.iter("graphic"):
            src = doc.absolute(graphic.get("src"))
            if src:
                images.append((src, _caption(doc, src) or clean(graphic.get("title"))))
        etree.strip_elements(content, "graphic", with_tail=False)
        text = xmltotxt(content, False).strip()
    lead = [*text_values((item or {}).get("image")), doc.meta("og:image", "twitter:image")]
    images = [(url, "") for url in lead if url][:1] + images
    date = published_date(doc, item) or _htmldate(doc, None)
    obj: dict[str, Any] = {
        "type": "article",
        "title": title,
        "text": text,
        "html": html,
        "date": date or None,
    }
    authors = _authors(doc, item)
    obj["author"] = ", ".join(a["name"] for a in authors)
    obj["authors"] = authors
    if not date:
        estimated = _htmldate(doc, doc.url)
        if estimated:
            obj["estimatedDate"] = estimated
    obj["siteName"] = doc.site_name or extract_sitename(doc.root) or ""
    obj["humanLanguage"] = human_language(doc, text)
    obj["images"] = image_entries(doc, images)
    obj["tags"] = _tags(doc, item)
    obj.update(optional_fields(doc, spec))
    return obj
