"""crawlcore.urls: normalisation, seeds, host keys, fingerprints and Doc IDs."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from crawlcore.urls import doc_id, fingerprint, host_of, normalize, normalize_seed

_CASES = json.loads((Path(__file__).parent / "cases" / "normalize.json").read_text(encoding="utf-8"))
_NORMALIZED = [c["expected"] for c in _CASES if c["expected"] is not None]


@pytest.mark.parametrize(
    ("href", "base", "expected"),
    [(c["href"], c["base"], c["expected"]) for c in _CASES],
    ids=[c["id"] for c in _CASES],
)
def test_normalize(href: str, base: str | None, expected: str | None) -> None:
    assert normalize(href, base) == expected


@pytest.mark.parametrize("url", _NORMALIZED, ids=[c["id"] for c in _CASES if c["expected"] is not None])
def test_normalize_is_idempotent(url: str) -> None:
    assert normalize(url) == url


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        pytest.param("//example.com/x", "http://example.com/x", id="protocol-relative-takes-base-scheme"),
        pytest.param("x", "http://example.com/dir/x", id="relative-against-dir"),
        pytest.param("", None, id="empty"),
    ],
)
def test_normalize_uses_base_scheme_and_path(href: str, expected: str | None) -> None:
    assert normalize(href, "http://example.com/dir/page") == expected



@pytest.mark.parametrize(
    "href",
    [
        pytest.param("http://exa mple.com/", id="space"),
        pytest.param("http://exa%20mple.com/", id="percent-encoded-space"),
        pytest.param("http://a<b.com/", id="less-than"),
        pytest.param("http://a>b.com/", id="greater-than"),
        pytest.param("http://a^b.com/", id="caret"),
        pytest.param("http://a|b.com/", id="pipe"),
    ],
)
def test_normalize_rejects_forbidden_host_characters(href: str) -> None:
    # RFC 3986 3.2.2 (reg-name) and the WHATWG URL Standard (host parser: forbidden host code
    # point -> failure) make these unparsable; normalize promises None for unparsable URLs.
    assert normalize(href) is None


@pytest.mark.xfail(strict=True, reason="known limitation: the standard library encodes IDNA 2003 (transitional), "
                   "so faß.de becomes fass.de; crawlcore stays stdlib-only")
@pytest.mark.parametrize(
    ("href", "expected"),
    [
        pytest.param("http://fa\u00df.de/", "http://xn--fa-hia.de/", id="sharp-s"),
        pytest.param("http://\u03b1\u03c2.gr/", "http://xn--mxa8a.gr/", id="final-sigma"),
    ],
)
def test_normalize_idna_is_nontransitional(href: str, expected: str) -> None:
    # Browsers (WHATWG URL "domain to ASCII": UTS #46 with Transitional_Processing=false) and
    # IDNA 2008 (RFC 5891) keep sharp s and final sigma; Python's "idna" codec (RFC 3490)
    # maps them to "ss" and a medial sigma,
    # which is another registered domain.
    assert normalize(href) == expected


@pytest.mark.parametrize(
    ("seed", "expected"),
    [
        pytest.param("example.com/docs", "https://example.com/docs", id="no-scheme-gets-https"),
        pytest.param("EXAMPLE.com", "https://example.com/", id="no-scheme-uppercase"),
        pytest.param("  example.com  ", "https://example.com/", id="surrounding-space"),
        pytest.param("example.com?x=1", "https://example.com/?x=1", id="no-scheme-query"),
        pytest.param("localhost:8080", "https://localhost:8080/", id="host-port-no-scheme"),
        pytest.param("[::1]:8080", "https://[::1]:8080/", id="ipv6-no-scheme"),
        pytest.param("http://x.com", "http://x.com/", id="http-kept"),
        pytest.param("https://x.com:443/a", "https://x.com/a", id="https-normalised"),
        pytest.param("ftp://x", None, id="ftp"),
        pytest.param("http://", None, id="no-host"),
        pytest.param("//example.com", None, id="protocol-relative"),
        pytest.param("", None, id="empty"),
        pytest.param("   ", None, id="blank"),
    ],
)
def test_normalize_seed(seed: str, expected: str | None) -> None:
    assert normalize_seed(seed) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("http://Sub.Example.com:8080/x", "sub.example.com", id="port-dropped-lowercased"),
        pytest.param("https://example.com/", "example.com", id="plain"),
        pytest.param("http://user:pw@example.com/", "example.com", id="userinfo-dropped"),
        pytest.param("http://[::1]:80/", "::1", id="ipv6-without-brackets"),
        pytest.param("http://10.0.0.1:81/", "10.0.0.1", id="ipv4"),
        pytest.param("not a url", "", id="no-host"),
    ],
)
def test_host_of(url: str, expected: str) -> None:
    assert host_of(url) == expected


def test_fingerprint_is_eight_bytes() -> None:
    assert len(fingerprint("http://example.com/")) == 8


def test_fingerprint_known_value_is_stable() -> None:
    # Stored in Redis and MongoDB: it must never change between releases.
    assert fingerprint("http://example.com/").hex() == "fb2241160c9dad06"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param("http://Example.com:80/a/../b#top", "http://example.com/b", id="dot-port-case-fragment"),
        pytest.param("HTTPS://EXAMPLE.COM", "https://example.com/", id="case-and-empty-path"),
        pytest.param("http://example.com/a b", "http://example.com/a%20b", id="space-quoted"),
    ],
)
def test_fingerprint_equal_for_equal_urls(a: str, b: str) -> None:
    na, nb = normalize(a), normalize(b)
    assert na is not None and nb is not None
    assert fingerprint(na) == fingerprint(nb)


def test_fingerprint_differs_for_different_urls() -> None:
    urls = [f"http://example.com/page/{i}" for i in range(2000)]
    assert len({fingerprint(u) for u in urls}) == len(urls)


@pytest.mark.parametrize(
    ("fp", "expected"),
    [
        pytest.param(bytes(8), 0, id="zero"),
        pytest.param(b"\xff" * 8, 2**63 - 1, id="max"),
        pytest.param(bytes.fromhex("00000000000000ff"), 127, id="low-bit-dropped"),
        pytest.param(bytes.fromhex("8000000000000000"), 2**62, id="high-bit"),
    ],
)
def test_doc_id(fp: bytes, expected: int) -> None:
    assert doc_id(fp) == expected


def test_doc_id_is_non_negative_63_bit() -> None:
    rng = random.Random(7)
    for _ in range(1000):
        value = doc_id(rng.randbytes(8))
        assert 0 <= value < 2**63


@pytest.mark.parametrize("seed", ["mailto:me@example.com", "javascript:alert(1)", "ftp://example.com/"])
def test_normalize_seed_keeps_other_schemes_and_rejects_them(seed: str) -> None:
    assert normalize_seed(seed) is None


def test_normalize_seed_with_port_but_no_scheme_gets_https() -> None:
    assert normalize_seed("example.com:8080/x") == "https://example.com:8080/x"
