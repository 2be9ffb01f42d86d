"""crawlcore.wire: frontier requests as a flag byte plus compact JSON."""

from __future__ import annotations

import json

import pytest

from crawlcore.wire import FrontierRequest

URL60 = "https://www.example.com/articles/2024/05/some-article-slug-1"


@pytest.mark.parametrize(
    ("request_", "encoded"),
    [
        pytest.param(FrontierRequest("http://example.com/a"), b'C{"u":"http://example.com/a"}',
                     id="defaults-omitted"),
        pytest.param(FrontierRequest("http://example.com/a", hop=2, discovered=1700000000),
                     b'C{"u":"http://example.com/a","h":2,"d":1700000000}', id="docstring-example"),
        pytest.param(FrontierRequest("http://e.com/", hop=1, tries=2, discovered=5),
                     b'C{"u":"http://e.com/","h":1,"t":2,"d":5}', id="all-fields"),
        pytest.param(FrontierRequest("http://e.com/", tries=1), b'C{"u":"http://e.com/","t":1}',
                     id="tries-only"),
        pytest.param(FrontierRequest("http://e.com/", processable=True), b'P{"u":"http://e.com/"}',
                     id="processable-flag"),
        pytest.param(FrontierRequest("http://e.com/", expand=True), b'X{"u":"http://e.com/"}',
                     id="expand-flag"),
        pytest.param(FrontierRequest("http://e.com/", processable=True, expand=True), b'X{"u":"http://e.com/"}',
                     id="expand-beats-processable"),
        pytest.param(FrontierRequest('http://e.com/"\\'), b'C{"u":"http://e.com/\\"\\\\"}',
                     id="json-escaping"),
        pytest.param(FrontierRequest("http://e.com/\u00e9"), 'C{"u":"http://e.com/\u00e9"}'.encode(),
                     id="utf8-not-ascii-escaped"),
    ],
)
def test_encode(request_: FrontierRequest, encoded: bytes) -> None:
    assert request_.encode() == encoded


@pytest.mark.parametrize(
    ("processable", "expand", "flag"),
    [
        pytest.param(False, False, "C", id="crawl-only"),
        pytest.param(True, False, "P", id="processable"),
        pytest.param(False, True, "X", id="expand"),
        pytest.param(True, True, "X", id="expand-and-processable"),
    ],
)
def test_flag(processable: bool, expand: bool, flag: str) -> None:
    req = FrontierRequest("http://e.com/", processable=processable, expand=expand)
    assert req.flag == flag
    assert req.encode()[:1] == flag.encode()


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(FrontierRequest("http://e.com/"), id="defaults"),
        pytest.param(FrontierRequest(URL60, hop=7, tries=2, discovered=1700000000), id="all-fields"),
        pytest.param(FrontierRequest(URL60, processable=True), id="processable"),
        pytest.param(FrontierRequest(URL60, hop=1, expand=True), id="expand"),
        pytest.param(FrontierRequest("http://e.com/\u00e9?q=\u2603"), id="non-ascii"),
        pytest.param(FrontierRequest("http://e.com/", hop=2**40, discovered=2**33), id="large-numbers"),
    ],
)
def test_round_trip(request_: FrontierRequest) -> None:
    assert FrontierRequest.decode(request_.encode()) == request_


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(b'C{"u":"http://e.com/"}', FrontierRequest("http://e.com/"), id="minimal"),
        pytest.param(b'P{"u":"http://e.com/","d":9}',
                     FrontierRequest("http://e.com/", discovered=9, processable=True),
                     id="processable"),
        pytest.param(b'X{"h":3,"u":"http://e.com/"}', FrontierRequest("http://e.com/", hop=3, expand=True),
                     id="key-order-free"),
        pytest.param(b'C{"u":"http://e.com/","zz":1}', FrontierRequest("http://e.com/"),
                     id="unknown-key-ignored"),
        pytest.param(b'C { "u" : "http://e.com/" }', FrontierRequest("http://e.com/"), id="whitespace"),
    ],
)
def test_decode(raw: bytes, expected: FrontierRequest) -> None:
    assert FrontierRequest.decode(raw) == expected


def test_typical_payload_is_under_100_bytes() -> None:
    assert len(URL60) == 60
    payload = FrontierRequest(URL60, hop=12, tries=1, discovered=1700000000, processable=True).encode()
    assert len(payload) < 100


def test_payload_is_flag_then_compact_json() -> None:
    payload = FrontierRequest(URL60, hop=1).encode()
    assert b" " not in payload
    assert json.loads(payload[1:]) == {"u": URL60, "h": 1}


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"C", id="flag-only"),
        pytest.param(b'Z{"u":"http://e.com/"}', id="unknown-flag"),
        pytest.param(b'c{"u":"http://e.com/"}', id="lowercase-flag"),
        pytest.param(b'{"u":"http://e.com/"}', id="no-flag"),
        pytest.param(b"C{not json", id="broken-json"),
        pytest.param(b'C{"u":"http://e.com/"}trailing', id="trailing-garbage"),
        pytest.param(b"\xff\xfe\x00", id="not-utf8"),
        pytest.param(b"\x80\x04\x95\x10\x00\x00\x00", id="pickle"),
        pytest.param(b'C{"u":"http://e.com/","h":"abc"}', id="hop-not-a-number"),
    ],
)
def test_decode_rejects_garbage(raw: bytes) -> None:
    with pytest.raises(ValueError):
        FrontierRequest.decode(raw)



@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"C{}", id="no-url-KeyError"),
        pytest.param(b"C[]", id="array-body-TypeError"),
        pytest.param(b"C1", id="number-body-TypeError"),
        pytest.param(b'C{"u":"http://e.com/","h":null}', id="null-hop-TypeError"),
        pytest.param(b'C{"u":1}', id="url-not-a-string-accepted"),
    ],
)
def test_decode_rejects_malformed_body_with_value_error(raw: bytes) -> None:
    # decode signals "not a frontier request" with ValueError (bad flag, bad JSON); a
    # well-formed JSON body of the wrong shape should be rejected the same way, so a caller
    # needs one except clause and never gets a FrontierRequest whose url is not a str.
    with pytest.raises(ValueError):
        FrontierRequest.decode(raw)
