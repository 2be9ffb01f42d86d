"""Streaming renderers for crawl data: JSON arrays and CSV, in constant memory.

Each renderer takes an iterable of documents (a MongoDB cursor) and yields text chunks;
nothing holds more than one batch of documents at a time. CSV cells that a spreadsheet would
evaluate are written as text (crawlcore.csvsafe).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from crawlcore.csvsafe import csv_line
from crawlcore.report import URL_REPORT_COLUMNS, UrlRecord, report_row

__all__ = ["chunked", "csv_columns", "json_array", "objects_csv", "url_report_csv"]

_CHUNK = 64 * 1024
# Top-level object fields in the order a person reading the CSV expects them.
_PREFERRED = ("type", "pageUrl", "resolvedPageUrl", "title", "text", "humanLanguage", "author", "date",
              "diffbotUri", "docId", "crawlName", "crawlRound", "timestamp")
_SCALARS = (str, int, float, bool)


def chunked(pieces: Iterable[str]) -> Iterator[str]:
    """Small strings joined into pieces of about _CHUNK characters: fewer, larger writes."""
    buf: list[str] = []
    size = 0
    for piece in pieces:
        buf.append(piece)
        size += len(piece)
        if size >= _CHUNK:
            yield "".join(buf)
            buf, size = [], 0
    if buf:
        yield "".join(buf)


def json_array(docs: Iterable[dict[str, Any]]) -> Iterator[str]:
    """`[doc, doc, ...]` as it streams."""

    def pieces() -> Iterator[str]:
        yield "["
        first = True
        for doc in docs:
            yield ("" if first else ",") + json.dumps(doc, ensure_ascii=False, default=str)
            first = False
        yield "]"

    return chunked(pieces())


def csv_columns(docs: Iterable[dict[str, Any]]) -> list[str]:
    """The scalar top-level fields found in the documents, preferred ones first."""
    found: set[str] = set()
    for doc in docs:
        found.update(k for k, v in doc.items() if isinstance(v, _SCALARS) or v is None)
    return [c for c in _PREFERRED if c in found] + sorted(found.difference(_PREFERRED))


def objects_csv(columns: list[str], docs: Iterable[dict[str, Any]]) -> Iterator[str]:
    """Objects as CSV with only top-level scalar fields (what Diffbot's CSV holds)."""

    def cell(value: Any) -> Any:
        return value if isinstance(value, _SCALARS) else ""

    def pieces() -> Iterator[str]:
        yield csv_line(columns)
        for doc in docs:
            yield csv_line(cell(doc.get(c, "")) for c in columns)

    return chunked(pieces())


def url_report_csv(rows: Iterable[dict[str, Any]], to_record: Callable[[dict[str, Any]], UrlRecord]
                   = UrlRecord.from_doc) -> Iterator[str]:
    def pieces() -> Iterator[str]:
        yield csv_line(URL_REPORT_COLUMNS)
        for row in rows:
            yield csv_line(report_row(to_record(row)))

    return chunked(pieces())
