"""Property-based checks of the pure core (wire, urls, patterns, dedupe) with Hypothesis.

Skipped when Hypothesis is not installed (it is not in the `test` extra yet).
"""

from __future__ import annotations

import pytest

pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawlcore.dedupe import bloom_positions, seen_bucket
from crawlcore.patterns import UrlPattern
from crawlcore.urls import doc_id, fingerprint, normalize
from crawlcore.wire import FrontierRequest

PROPERTY = settings(max_examples=300, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

counts = st.integers(min_value=0, max_value=2**53)
labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
hosts = st.lists(labels, min_size=1, max_size=4).map(".".join)
segments = st.text(st.characters(codec="utf-8", exclude_characters="/?#"), max_size=8)
paths = st.lists(st.one_of(segments, st.sampled_from([".", "..", ""])), max_size=6).map(
    lambda parts: "/" + "/".join(parts)
)
queries = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="#"), max_size=12)
urls = st.builds(
    lambda scheme, host, port, path, query: f"{scheme}://{host}{port}{path}{'?' + query if query else ''}",
    st.sampled_from(["http", "https", "HTTP", "Https"]),
    hosts,
    st.sampled_from(["", ":80", ":443", ":8080"]),
    paths,
    queries,
)


@PROPERTY
@given(url=st.text(max_size=80), hop=counts, tries=counts, discovered=counts, processable=st.booleans(),
       expand=st.booleans())
def test_wire_round_trip(
    url: str, hop: int, tries: int, discovered: int, processable: bool, expand: bool
) -> None:
    request = FrontierRequest(url, hop, tries, discovered, processable and not expand, expand)
    assert FrontierRequest.decode(request.encode()) == request


@PROPERTY
@given(url=st.text(max_size=80), hop=counts, processable=st.booleans(), expand=st.booleans())
def test_wire_encoding_is_stable(url: str, hop: int, processable: bool, expand: bool) -> None:
    encoded = FrontierRequest(url, hop=hop, processable=processable, expand=expand).encode()
    assert FrontierRequest.decode(encoded).encode() == encoded


@PROPERTY
@given(url=urls)
def test_normalize_generated_urls_is_idempotent(url: str) -> None:
    once = normalize(url)
    assert once is not None
    assert once.startswith(("http://", "https://"))
    assert "#" not in once
    assert normalize(once) == once


@PROPERTY
@given(href=st.text(max_size=60), base=st.one_of(st.none(), urls))
def test_normalize_never_raises(href: str, base: str | None) -> None:
    result = normalize(href, base)
    assert result is None or result.startswith(("http://", "https://"))


@PROPERTY
@given(url=urls)
def test_fingerprint_and_doc_id_ranges(url: str) -> None:
    fp = fingerprint(url)
    assert len(fp) == 8
    assert 0 <= doc_id(fp) < 2**63


@PROPERTY
@given(pattern=st.text(alphabet="ab/!^$| ", max_size=20), url=st.text(alphabet="ab/!^$", max_size=12))
def test_pattern_matches_any_positive_and_no_negative(pattern: str, url: str) -> None:
    parsed = UrlPattern.parse(pattern)
    expected = (not parsed.positives or any(t.hit(url) for t in parsed.positives)) and not any(
        t.hit(url) for t in parsed.negatives
    )
    assert parsed.matches(url) is expected


@PROPERTY
@given(fp=st.binary(min_size=8, max_size=8), m=st.integers(min_value=1, max_value=2**32),
       k=st.integers(min_value=1, max_value=30), bits=st.integers(min_value=0, max_value=16))
def test_dedupe_addresses_in_range(fp: bytes, m: int, k: int, bits: int) -> None:
    positions = bloom_positions(fp, m, k)
    assert len(positions) == k and all(0 <= p < m for p in positions)
    assert 0 <= seen_bucket(fp, bits) < 2**bits
