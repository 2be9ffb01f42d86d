"""Streaming export formats: json, jsonl, csv, xml and rss, each in constant memory.

Every renderer takes an iterator of documents (a MongoDB cursor) and yields text chunks of
about 64 KiB; nothing holds more than one chunk and the cursor's current batch.

    >>> "".join(render("jsonl", iter([{"a": 1}, {"a": 2}]), fields=[], title="t", link=""))
    '{"a":1}\\n{"a":2}\\n'
    >>> "".join(render("csv", iter([{"a": 1, "m": {"d": "x"}}]), fields=["a", "m.d"], title="t", link=""))
    'a,m.d\\r\\n1,x\\r\\n'
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from crawlcore.csvsafe import csv_line

from ..exports import chunked

__all__ = ["FORMATS", "MEDIA_TYPES", "dig", "render"]

MEDIA_TYPES = {
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "xml": "application/xml",
    "rss": "application/rss+xml",
}
FORMATS = tuple(MEDIA_TYPES)
_SCALARS = (str, int, float, bool)
_XML_BAD = re.compile(r"[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd]")  # characters XML 1.0 cannot hold
_TAG_BAD = re.compile(r"[^A-Za-z0-9_.-]")


def dig(doc: Any, path: str) -> Any:
    """A dotted field of a document (None when absent)."""
    for part in path.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def _dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str)


def _json(docs: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    first = True
    for doc in docs:
        yield ("" if first else ",") + _dumps(doc)
        first = False
    yield "]"


def _jsonl(docs: Iterator[dict[str, Any]]) -> Iterator[str]:
    for doc in docs:
        yield _dumps(doc) + "\n"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, _SCALARS):
        return value
    return _dumps(value)


def _csv(docs: Iterator[dict[str, Any]], fields: Sequence[str]) -> Iterator[str]:
    yield csv_line(fields)
    for doc in docs:
        yield csv_line(_cell(dig(doc, f)) for f in fields)


def _tag(name: str) -> str:
    tag = _TAG_BAD.sub("_", name) or "field"
    return tag if tag[0].isalpha() or tag[0] == "_" else "_" + tag


def _xml_text(value: Any) -> str:
    return escape(_XML_BAD.sub("", str(value)))


def _xml_value(name: str, value: Any) -> str:
    tag = _tag(name)
    if isinstance(value, dict):
        return f"<{tag}>" + "".join(_xml_value(k, v) for k, v in value.items()) + f"</{tag}>"
    if isinstance(value, list):
        return f"<{tag}>" + "".join(_xml_value("value", v) for v in value) + f"</{tag}>"
    if value is None:
        return f"<{tag}/>"
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{tag}>{_xml_text(value)}</{tag}>"


def _xml(docs: Iterator[dict[str, Any]], title: str) -> Iterator[str]:
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<export crawl={quoteattr(_XML_BAD.sub("", title))}>\n'
    for doc in docs:
        yield "<item>" + "".join(_xml_value(k, v) for k, v in doc.items()) + "</item>\n"
    yield "</export>\n"


def _when(doc: dict[str, Any]) -> str:
    raw = doc.get("timestamp") or doc.get("crawled") or doc.get("date")
    try:
        if isinstance(raw, (int, float)) and raw > 0:
            stamp = float(raw) / (1000 if raw > 1e11 else 1)
            return format_datetime(datetime.fromtimestamp(stamp, UTC), usegmt=True)
    except (OverflowError, OSError, ValueError):
        pass
    return ""


def _rss(docs: Iterator[dict[str, Any]], title: str, link: str) -> Iterator[str]:
    yield ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
           f"<title>{_xml_text(title)}</title><link>{_xml_text(link)}</link>"
           f"<description>{_xml_text('Pages crawled by ' + title)}</description>\n")
    for doc in docs:
        url = str(doc.get("pageUrl") or doc.get("url") or "")
        meta = doc.get("meta")
        summary = (meta.get("description") if isinstance(meta, dict) else "") or str(doc.get("text") or "")[:500]
        parts = [f"<title>{_xml_text(doc.get('title') or url)}</title>", f"<link>{_xml_text(url)}</link>",
                 f'<guid isPermaLink="true">{_xml_text(url)}</guid>']
        if summary:
            parts.append(f"<description>{_xml_text(summary)}</description>")
        when = _when(doc)
        if when:
            parts.append(f"<pubDate>{when}</pubDate>")
        yield "<item>" + "".join(parts) + "</item>\n"
    yield "</channel></rss>\n"


def render(fmt: str, docs: Iterator[dict[str, Any]], *, fields: Sequence[str], title: str, link: str,
           columns: Callable[[], list[str]] | None = None) -> Iterator[str]:
    """Chunks of `docs` in format `fmt`. CSV needs `fields`, or `columns` to find them (a first pass)."""
    if fmt == "json":
        pieces = _json(docs)
    elif fmt == "jsonl":
        pieces = _jsonl(docs)
    elif fmt == "csv":
        pieces = _csv(docs, list(fields) or (columns() if columns else []))
    elif fmt == "xml":
        pieces = _xml(docs, title)
    elif fmt == "rss":
        pieces = _rss(docs, title, link)
    else:
        raise ValueError(fmt)
    return chunked(pieces)
