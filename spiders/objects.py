"""The object a processed page becomes (the basic extractor: title, text, meta data).

Shared by the worker and by the benchmark's peer crawlers, so that every crawler measured
does the same parsing work.
"""

from __future__ import annotations

from typing import Any

from crawlcore.urls import doc_id

from .extract import Page, main_text

__all__ = ["build_object", "page_type"]


def page_type(page: Page) -> str:
    """article or product when the page says so in OpenGraph, else other."""
    if page.og_type.startswith("article"):
        return "article"
    if page.og_type.startswith("product"):
        return "product"
    return "other"


def build_object(page: Page, *, url: str, resolved_url: str, fp: bytes, crawl_name: str, crawl_round: int,
                 crawled: float) -> dict[str, Any]:
    """The public fields of a processed page's object."""
    kind = page_type(page)
    return {
        "type": kind,
        "pageUrl": url,
        "resolvedPageUrl": resolved_url,
        "title": page.title,
        "text": main_text(page.root),
        "humanLanguage": page.language.split("-")[0].lower() if page.language else "",
        "meta": {"description": page.description, "canonical": page.canonical, "language": page.language},
        "links": len(page.hrefs),
        "diffbotUri": f"{kind}|3|{doc_id(fp)}",
        "docId": doc_id(fp),
        "crawlName": crawl_name,
        "crawlRound": crawl_round,
        "timestamp": int(crawled * 1000),
    }
