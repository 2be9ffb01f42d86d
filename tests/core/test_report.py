"""crawlcore.report: the URL report's columns, Crawl Status, row cells and the stored record."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from crawlcore.report import URL_REPORT_COLUMNS, Outcome, UrlRecord, crawl_status, report_row

# Diffbot's URL report documentation ("How to Read the URL Report"), in its order.
DIFFBOT_COLUMNS = (
    "Doc ID", "URL Discovered Time", "Crawled Time", "Content Length", "Duplicate Of", "Redirects",
    "Redirected To", "Robots.txt Crawl Delay (ms)", "Crawl Round", "Crawl Try #", "Hop Count", "Crawl Status",
    "Diffbot URI", "Process Attempted", "Process Response", "Proxy Used",
)


def record(**fields: Any) -> UrlRecord:
    base: dict[str, Any] = dict(url="http://x.com/", fp="00000000000000ff", round=0, hop=0, tries=1,
                                discovered=1.0, crawled=2.0, http_status=200, outcome=Outcome.FETCHED)
    base.update(fields)
    return UrlRecord(**base)


def test_columns_start_with_url() -> None:
    assert URL_REPORT_COLUMNS[0] == "Url"


def test_columns_contain_diffbots_in_order() -> None:
    positions = [URL_REPORT_COLUMNS.index(c) for c in DIFFBOT_COLUMNS]
    assert positions == sorted(positions)


def test_columns_are_distinct() -> None:
    assert len(set(URL_REPORT_COLUMNS)) == len(URL_REPORT_COLUMNS)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"http_status": 200}, "Success", id="200"),
        pytest.param({"http_status": 204}, "Success", id="204"),
        pytest.param({"http_status": 299}, "Success", id="299"),
        pytest.param({"http_status": 301, "redirected_to": "http://x.com/b"}, "Redirect 301", id="301"),
        pytest.param({"http_status": 308}, "Redirect 308", id="308"),
        pytest.param({"http_status": 404}, "HTTP 404", id="404"),
        pytest.param({"http_status": 410}, "HTTP 410", id="410"),
        pytest.param({"http_status": 500}, "HTTP 500", id="500"),
        pytest.param({"http_status": 503}, "HTTP 503", id="503"),
        pytest.param({"outcome": Outcome.BLOCKED, "http_status": 0}, "Blocked by robots.txt", id="blocked"),
        pytest.param({"outcome": Outcome.FAILED, "http_status": 0, "tries": 3, "error": "DNS lookup failed"},
                     "Failed after 3 tries: DNS lookup failed", id="failed-with-error"),
        pytest.param({"outcome": Outcome.FAILED, "http_status": 0, "tries": 2}, "Failed after 2 tries",
                     id="failed-without-error"),
        pytest.param({"outcome": Outcome.BLOCKED, "http_status": 200}, "Blocked by robots.txt",
                     id="outcome-wins-over-status"),
    ],
)
def test_crawl_status(fields: dict[str, Any], expected: str) -> None:
    assert crawl_status(record(**fields)) == expected


def cells(rec: UrlRecord) -> dict[str, str]:
    row = report_row(rec)
    assert len(row) == len(URL_REPORT_COLUMNS)
    assert all(isinstance(cell, str) for cell in row)
    return dict(zip(URL_REPORT_COLUMNS, row, strict=True))


FULL = record(
    url="http://x.com/a?b=1", fp="00000000000000ff", round=2, hop=3, tries=2, discovered=1700000000.0,
    crawled=1700000061.9, http_status=301, content_length=5120, duplicate_of="42",
    redirected_to="http://x.com/b", robots_delay_ms=1500, process_attempted=True,
    process_response="OK", diffbot_uri="article|3|123", proxy="10.0.0.1",
)


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        pytest.param("Url", "http://x.com/a?b=1", id="url"),
        pytest.param("Doc ID", "127", id="doc-id-from-fingerprint"),
        pytest.param("URL Discovered Time", "2023-11-14T22:13:20Z", id="discovered-iso-utc"),
        pytest.param("Crawled Time", "2023-11-14T22:14:21Z", id="crawled-iso-utc-truncated"),
        pytest.param("Content Length", "5120", id="content-length"),
        pytest.param("Duplicate Of", "42", id="duplicate-of"),
        pytest.param("Redirects", "1", id="redirects"),
        pytest.param("Redirected To", "http://x.com/b", id="redirected-to"),
        pytest.param("Robots.txt Crawl Delay (ms)", "1500", id="robots-delay"),
        pytest.param("Crawl Round", "2", id="round"),
        pytest.param("Crawl Try #", "2", id="try"),
        pytest.param("Hop Count", "3", id="hop"),
        pytest.param("Crawl Status", "Redirect 301", id="status"),
        pytest.param("Diffbot URI", "article|3|123", id="diffbot-uri"),
        pytest.param("Process Attempted", "true", id="process-attempted"),
        pytest.param("Process Response", "OK", id="process-response"),
        pytest.param("Proxy Used", "10.0.0.1", id="proxy"),
    ],
)
def test_report_row_cells(column: str, expected: str) -> None:
    assert cells(FULL)[column] == expected


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        pytest.param("URL Discovered Time", "", id="no-discovered-time"),
        pytest.param("Crawled Time", "", id="not-crawled"),
        pytest.param("Content Length", "0", id="no-content"),
        pytest.param("Duplicate Of", "", id="not-duplicate"),
        pytest.param("Redirects", "0", id="no-redirect"),
        pytest.param("Redirected To", "", id="no-redirect-target"),
        pytest.param("Robots.txt Crawl Delay (ms)", "", id="no-robots-delay"),
        pytest.param("Process Attempted", "false", id="not-processed"),
        pytest.param("Process Response", "", id="no-process-response"),
        pytest.param("Proxy Used", "", id="no-proxy"),
    ],
)
def test_report_row_empty_cells(column: str, expected: str) -> None:
    rec = record(discovered=0.0, crawled=0.0, outcome=Outcome.BLOCKED, http_status=0)
    assert cells(rec)[column] == expected


@pytest.mark.parametrize(
    ("fp", "doc"),
    [
        pytest.param("0000000000000000", "0", id="zero"),
        pytest.param("ffffffffffffffff", str(2**63 - 1), id="max"),
        pytest.param("fb2241160c9dad06", str(int("fb2241160c9dad06", 16) >> 1), id="example-com"),
    ],
)
def test_report_row_doc_id(fp: str, doc: str) -> None:
    assert cells(record(fp=fp))["Doc ID"] == doc


@pytest.mark.parametrize(
    "rec",
    [
        pytest.param(record(), id="minimal"),
        pytest.param(dataclasses.replace(FULL, title="T", links=["http://x.com/c"], content_type="text/html",
                                         error=""), id="full"),
        pytest.param(record(outcome=Outcome.FAILED, error="timeout", tries=3), id="failed"),
        pytest.param(record(outcome=Outcome.BLOCKED), id="blocked"),
    ],
)
def test_to_doc_from_doc_round_trip(rec: UrlRecord) -> None:
    assert UrlRecord.from_doc(rec.to_doc()) == rec


def test_to_doc_stores_outcome_as_plain_string() -> None:
    doc = record(outcome=Outcome.BLOCKED).to_doc()
    assert doc["outcome"] == "blocked"
    assert type(doc["outcome"]) is str


def test_from_doc_restores_outcome_enum() -> None:
    assert UrlRecord.from_doc(record().to_doc()).outcome is Outcome.FETCHED


def test_from_doc_ignores_unknown_keys() -> None:
    rec = record()
    assert UrlRecord.from_doc({**rec.to_doc(), "_id": "x", "crawl": "c"}) == rec
