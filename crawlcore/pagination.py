"""Pagination of list endpoints: `limit` with `offset` or `page`, and the response envelope.

    >>> w = parse_window({"limit": "20", "page": "2"})
    >>> w.offset, w.limit, w.page
    (40, 20, 2)
    >>> envelope(45, w, ["a", "b"])["total_pages"]
    3

`page` counts from 0 (page 0 is the first `limit` items), as ArchiveBox's API does.
`skip` is accepted as another name for `offset` (ScrapeMaster's results API).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import InvalidParameter

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "MAX_OFFSET", "Window", "envelope", "parse_window"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_OFFSET = 10_000_000  # far beyond any listing; keeps skip() arguments sane


@dataclass(frozen=True)
class Window:
    limit: int
    offset: int

    @property
    def page(self) -> int:
        return self.offset // self.limit


def _int(params: Mapping[str, str], name: str, lowest: int, highest: int) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        raise InvalidParameter(name, f"must be an integer, got {raw!r}") from None
    if not lowest <= value <= highest:
        raise InvalidParameter(name, f"must be between {lowest} and {highest}, got {value}")
    return value


def parse_window(params: Mapping[str, str], *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> Window:
    """The window a request asks for; InvalidParameter names a malformed or out-of-range value."""
    limit = _int(params, "limit", 1, maximum)
    offset = _int(params, "offset", 0, MAX_OFFSET)
    skip = _int(params, "skip", 0, MAX_OFFSET)
    page = _int(params, "page", 0, MAX_OFFSET)
    if offset is not None and skip is not None and offset != skip:
        raise InvalidParameter("skip", "is another name for offset: give one of them")
    start = offset if offset is not None else skip
    size = default if limit is None else limit
    if page is not None:
        if start is not None:
            raise InvalidParameter("page", "give either page or offset, not both")
        start = page * size
        if start > MAX_OFFSET:
            raise InvalidParameter("page", f"is beyond the last possible offset ({MAX_OFFSET})")
    return Window(size, start or 0)


def envelope(total: int, window: Window, items: Sequence[Any]) -> dict[str, Any]:
    """The paginated response body every list endpoint returns."""
    return {
        "total_items": total,
        "total_pages": math.ceil(total / window.limit) if total else 0,
        "page": window.page,
        "limit": window.limit,
        "offset": window.offset,
        "num_items": len(items),
        "items": list(items),
    }
