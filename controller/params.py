"""Request parameters as Diffbot clients send them: a query string, a form-encoded body, or both.

    >>> merge_params(b"a=1&b=2", b"b=3&c=%20x")
    {'a': ['1'], 'b': ['2', '3'], 'c': [' x']}
"""

from __future__ import annotations

from urllib.parse import parse_qs

__all__ = ["MAX_BODY", "merge_params"]

MAX_BODY = 1 << 20  # 1 MiB of form data is far more than any crawl definition


def merge_params(query: bytes, body: bytes) -> dict[str, list[str]]:
    """Query-string values first, then body values, each in the order sent."""
    merged: dict[str, list[str]] = {}
    for source in (query, body):
        if not source:
            continue
        for key, values in parse_qs(source.decode("utf-8", "replace"), keep_blank_values=True).items():
            merged.setdefault(key, []).extend(values)
    return merged
