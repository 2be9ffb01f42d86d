"""Custom selectors (`selectors`) checked at create and update, for /v3 and /api/v1 alike.

The core checks their shape (crawlcore.selectors); whether each CSS or XPath compiles needs lxml
and parsel, loaded on first use. Selectors are only compiled here, never evaluated: workers run
them under a deadline (spiders.extractors.sandbox).
"""

from __future__ import annotations

__all__ = ["check_selectors"]


def check_selectors(selectors: str) -> None:
    """InvalidParameter (400) naming selectors when a custom field's CSS or XPath does not compile."""
    if selectors:
        from spiders.extractors.custom import check_selectors as compile_check  # lxml and parsel: loaded on use

        compile_check(selectors)
