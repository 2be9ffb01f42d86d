"""Sizing and addressing of the seen-URL store (pure arithmetic; the store is in Redis).

Two modes, chosen per crawl when it is created:

- exact: every fingerprint (8 bytes) is a field of one of 2**bits small Redis hashes,
  its value the URL's best known hop count. Buckets are sized to stay in Redis's compact
  listpack encoding (about 12 bytes a URL instead of ~60 for a plain set).
- bloom: a Bloom filter of m bits and k hash functions in one Redis bitmap, for crawls too
  large to remember exactly; fingerprint positions use double hashing.

    >>> exact_bucket_bits(400_000)
    13
    >>> bloom_shape(1_000_000, 0.001)
    (14377588, 10)
"""

from __future__ import annotations

import math

__all__ = ["SEEN_PER_CRAWLED", "bloom_positions", "bloom_shape", "exact_bucket_bits", "expected_urls", "seen_bucket"]

#: How many distinct URLs a crawl is expected to see per page it may crawl (links point
#: outside the crawl's limits, to pages beyond maxHops, ...): used to size the store.
SEEN_PER_CRAWLED = 4
#: Redis keeps a hash compact (listpack) up to 128 fields by default; aim below that.
_FIELDS_PER_BUCKET = 64
_MAX_BUCKET_BITS = 16
_MAX_BLOOM_BITS = 2**32  # one Redis string holds at most 512 MB


def expected_urls(max_to_crawl: int) -> int:
    """URLs a crawl with this maxToCrawl is sized for."""
    return max(SEEN_PER_CRAWLED * max_to_crawl, 1024)


def exact_bucket_bits(expected: int) -> int:
    """How many leading fingerprint bits pick the bucket hash."""
    buckets = max(1, math.ceil(expected / _FIELDS_PER_BUCKET))
    return min(_MAX_BUCKET_BITS, max(0, math.ceil(math.log2(buckets))))


def seen_bucket(fp: bytes, bits: int) -> int:
    """The bucket of a fingerprint: its leading `bits` bits.

    >>> seen_bucket(bytes.fromhex("abcd000000000000"), 8)
    171
    """
    return int.from_bytes(fp[:2], "big") >> (16 - bits) if bits else 0


def bloom_shape(expected: int, error_rate: float) -> tuple[int, int]:
    """(m bits, k hash functions) of a Bloom filter for `expected` items at `error_rate`."""
    n = max(1, expected)
    m = math.ceil(-n * math.log(error_rate) / (math.log(2) ** 2))
    m = min(m, _MAX_BLOOM_BITS)
    k = max(1, round(m / n * math.log(2)))
    return m, k


def bloom_positions(fp: bytes, m: int, k: int) -> list[int]:
    """Bit positions of a fingerprint (Kirsch-Mitzenmacher double hashing; the Lua script agrees)."""
    h1 = int.from_bytes(fp[:4], "big")
    h2 = int.from_bytes(fp[4:8], "big") | 1
    return [(h1 + i * h2) % m for i in range(k)]
