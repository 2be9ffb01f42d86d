"""crawlcore.dedupe: exact-store buckets and the Bloom filter's shape and positions."""

from __future__ import annotations

import math
import random

import pytest

from crawlcore.dedupe import (
    SEEN_PER_CRAWLED,
    bloom_positions,
    bloom_shape,
    exact_bucket_bits,
    expected_urls,
    seen_bucket,
)

# ------------------------------------------------------------------ exact store


@pytest.mark.parametrize(
    ("max_to_crawl", "expected"),
    [
        pytest.param(0, 1024, id="floor"),
        pytest.param(100, 1024, id="small-crawl-floor"),
        pytest.param(256, 1024, id="at-floor"),
        pytest.param(1000, 4000, id="per-crawled"),
        pytest.param(100_000, 400_000, id="diffbot-default"),
    ],
)
def test_expected_urls(max_to_crawl: int, expected: int) -> None:
    assert expected_urls(max_to_crawl) == expected
    assert expected >= min(SEEN_PER_CRAWLED * max_to_crawl, expected)


@pytest.mark.parametrize(
    ("expected", "bits"),
    [
        pytest.param(0, 0, id="nothing"),
        pytest.param(1, 0, id="one-url"),
        pytest.param(64, 0, id="one-bucket-full"),
        pytest.param(65, 1, id="two-buckets"),
        pytest.param(128, 1, id="two-buckets-full"),
        pytest.param(1024, 4, id="floor-sized"),
        pytest.param(400_000, 13, id="default-crawl"),
        pytest.param(64 * 2**16, 16, id="at-cap"),
        pytest.param(10**12, 16, id="capped"),
    ],
)
def test_exact_bucket_bits(expected: int, bits: int) -> None:
    assert exact_bucket_bits(expected) == bits


@pytest.mark.parametrize("expected", [1, 100, 1024, 50_000, 400_000, 4_000_000])
def test_exact_buckets_stay_below_listpack_limit(expected: int) -> None:
    # Redis keeps a hash compact up to 128 fields (hash-max-listpack-entries).
    assert expected / 2 ** exact_bucket_bits(expected) <= 128


@pytest.mark.parametrize(
    ("fp_hex", "bits", "bucket"),
    [
        pytest.param("abcd000000000000", 8, 0xAB, id="8-bits"),
        pytest.param("abcd000000000000", 16, 0xABCD, id="16-bits"),
        pytest.param("abcd000000000000", 1, 1, id="1-bit"),
        pytest.param("7fff000000000000", 1, 0, id="1-bit-zero"),
        pytest.param("abcd000000000000", 12, 0xABC, id="12-bits"),
        pytest.param("ffffffffffffffff", 0, 0, id="0-bits-one-bucket"),
        pytest.param("0000ffffffffffff", 16, 0, id="only-leading-bytes-count"),
    ],
)
def test_seen_bucket(fp_hex: str, bits: int, bucket: int) -> None:
    assert seen_bucket(bytes.fromhex(fp_hex), bits) == bucket


@pytest.mark.parametrize("bits", range(17))
def test_seen_bucket_in_range(bits: int) -> None:
    rng = random.Random(bits)
    assert all(0 <= seen_bucket(rng.randbytes(8), bits) < 2**bits for _ in range(500))


# ------------------------------------------------------------------ Bloom filter


def textbook_shape(n: int, p: float) -> tuple[int, int]:
    """m = -n ln p / (ln 2)^2 bits, k = (m / n) ln 2 hash functions."""
    m = math.ceil(-n * math.log(p) / math.log(2) ** 2)
    return m, max(1, round(m / n * math.log(2)))


@pytest.mark.parametrize(
    ("n", "p"),
    [
        pytest.param(1024, 0.001, id="floor-0.1pct"),
        pytest.param(200_000, 0.001, id="200k-0.1pct"),
        pytest.param(1_000_000, 0.001, id="1M-0.1pct"),
        pytest.param(1_000_000, 0.01, id="1M-1pct"),
        pytest.param(10_000, 0.0001, id="10k-0.01pct"),
        pytest.param(400_000, 0.05, id="400k-5pct"),
    ],
)
def test_bloom_shape_matches_textbook(n: int, p: float) -> None:
    assert bloom_shape(n, p) == textbook_shape(n, p)


def test_bloom_shape_docstring_value() -> None:
    assert bloom_shape(1_000_000, 0.001) == (14377588, 10)


@pytest.mark.parametrize("n", [0, -5], ids=["zero", "negative"])
def test_bloom_shape_of_nothing_is_still_a_filter(n: int) -> None:
    m, k = bloom_shape(n, 0.001)
    assert m >= 1 and k >= 1


def test_bloom_shape_capped_at_one_redis_string() -> None:
    m, k = bloom_shape(10**10, 0.001)
    assert m == 2**32
    assert k >= 1


@pytest.mark.parametrize(("m", "k"), [(1, 1), (7, 3), (1000, 10), (14377588, 10), (2**32, 7)])
def test_bloom_positions_in_range(m: int, k: int) -> None:
    rng = random.Random(m)
    for _ in range(200):
        positions = bloom_positions(rng.randbytes(8), m, k)
        assert len(positions) == k
        assert all(0 <= p < m for p in positions)


def test_bloom_positions_deterministic() -> None:
    fp = bytes.fromhex("fb2241160c9dad06")
    assert bloom_positions(fp, 14377588, 10) == bloom_positions(bytes(fp), 14377588, 10)


def test_bloom_positions_double_hashing() -> None:
    # Kirsch-Mitzenmacher: h1 + i*h2 with h1, h2 the two 32-bit halves (h2 forced odd); the
    # Lua script computes the same, so the formula is part of the stored format.
    fp = bytes.fromhex("0000000a00000004")
    assert bloom_positions(fp, 1000, 4) == [10, 15, 20, 25]


def test_bloom_positions_distinct_for_large_m() -> None:
    rng = random.Random(3)
    for _ in range(200):
        assert len(set(bloom_positions(rng.randbytes(8), 14377588, 10))) == 10


def test_bloom_false_positive_rate_within_twice_target() -> None:
    # A product requirement: at its design load the filter's false-positive rate is within
    # 2x the target. Simulate the Redis bitmap with a bytearray.
    n, target = 200_000, 0.001
    m, k = bloom_shape(n, target)
    rng = random.Random(20240501)
    bits = bytearray((m + 7) // 8)
    members = {rng.randbytes(8) for _ in range(n)}
    for fp in members:
        for pos in bloom_positions(fp, m, k):
            bits[pos >> 3] |= 1 << (pos & 7)

    def maybe_seen(fp: bytes) -> bool:
        return all(bits[pos >> 3] >> (pos & 7) & 1 for pos in bloom_positions(fp, m, k))

    assert all(maybe_seen(fp) for fp in members)  # no false negatives
    probes = [fp for fp in (rng.randbytes(8) for _ in range(n)) if fp not in members]
    rate = sum(map(maybe_seen, probes)) / len(probes)
    assert rate <= 2 * target, f"false-positive rate {rate:.5f} for target {target}"
