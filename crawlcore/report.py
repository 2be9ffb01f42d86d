"""The URL report: one row per URL a crawl evaluated in a round, in Diffbot's columns.

The first column is `Url`, which is what Diffbot's clients parse; the rest follow
Diffbot's URL report documentation.

    >>> rec = UrlRecord(url="http://x.com/", fp="00000000000000ff", round=0, hop=0, tries=1,
    ...                 discovered=1.0, crawled=2.0, http_status=200, outcome=Outcome.FETCHED)
    >>> crawl_status(rec)
    'Success'
    >>> report_row(rec)[:3]
    ['http://x.com/', '127', '1970-01-01T00:00:01Z']
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .urls import doc_id

__all__ = ["URL_REPORT_COLUMNS", "Outcome", "UrlRecord", "crawl_status", "report_row"]

URL_REPORT_COLUMNS = (
    "Url",
    "Doc ID",
    "URL Discovered Time",
    "Crawled Time",
    "Content Length",
    "Duplicate Of",
    "Redirects",
    "Redirected To",
    "Robots.txt Crawl Delay (ms)",
    "Crawl Round",
    "Crawl Try #",
    "Hop Count",
    "Crawl Status",
    "Diffbot URI",
    "Process Attempted",
    "Process Response",
    "Proxy Used",
)


class Outcome(enum.StrEnum):
    FETCHED = "fetched"  # an HTTP response arrived (any status)
    BLOCKED = "blocked"  # robots.txt disallows it, or (with `error` saying so) the network guard; not fetched
    FAILED = "failed"  # no response after the last try


@dataclass
class UrlRecord:
    """What a crawl learned about one URL in one round (stored in MongoDB's `urls`)."""

    url: str
    fp: str  # URL fingerprint, 16 hex digits
    round: int
    hop: int
    tries: int  # this try's number, from 1
    discovered: float  # epoch seconds
    crawled: float  # epoch seconds
    outcome: Outcome
    http_status: int = 0
    content_type: str = ""
    content_length: int = 0
    duplicate_of: str = ""  # Doc ID of the page this one duplicates
    redirected_to: str = ""
    robots_delay_ms: int = 0
    error: str = ""
    process_attempted: bool = False
    process_response: str = ""
    diffbot_uri: str = ""
    proxy: str = ""
    title: str = ""
    links: list[str] = field(default_factory=list)  # in-scope links found on the page

    def to_doc(self) -> dict[str, Any]:
        doc = dict(self.__dict__)
        doc["outcome"] = str(self.outcome)
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> UrlRecord:
        names = cls.__dataclass_fields__
        values = {k: v for k, v in doc.items() if k in names}
        values["outcome"] = Outcome(values["outcome"])
        return cls(**values)


def crawl_status(rec: UrlRecord) -> str:
    """The URL report's "Crawl Status": `Success` for a good fetch."""
    if rec.outcome is Outcome.BLOCKED:
        return f"Blocked: {rec.error}" if rec.error else "Blocked by robots.txt"
    if rec.outcome is Outcome.FAILED:
        return f"Failed after {rec.tries} tries: {rec.error}" if rec.error else f"Failed after {rec.tries} tries"
    if 200 <= rec.http_status < 300:
        return "Success"
    if 300 <= rec.http_status < 400:
        return f"Redirect {rec.http_status}"
    return f"HTTP {rec.http_status}"


def _iso(epoch: float) -> str:
    if not epoch:
        return ""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def report_row(rec: UrlRecord) -> list[str]:
    """The CSV cells of one URL report row, in `URL_REPORT_COLUMNS` order."""
    return [
        rec.url,
        str(doc_id(bytes.fromhex(rec.fp))),
        _iso(rec.discovered),
        _iso(rec.crawled),
        str(rec.content_length),
        rec.duplicate_of,
        "1" if rec.redirected_to else "0",
        rec.redirected_to,
        str(rec.robots_delay_ms) if rec.robots_delay_ms else "",
        str(rec.round),
        str(rec.tries),
        str(rec.hop),
        crawl_status(rec),
        rec.diffbot_uri,
        "true" if rec.process_attempted else "false",
        rec.process_response,
        rec.proxy,
    ]
