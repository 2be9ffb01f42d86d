"""Custom fields: a crawl's `selectors`, compiled once (CSS through parsel's translator, with
Scrapy's ::text and ::attr(name)) and evaluated on each page's tree into the object's `custom`.
Evaluation has no time bound (lxml's XPath runs in C): workers evaluate in a child process under a
deadline (spiders.extractors.sandbox); the controller only compiles (`check_selectors`).

    >>> import lxml.html
    >>> fields = custom_fields('{"price": ".price::text", "tags": ["a.tag::text"], "to": "a.tag::attr(href)"}')
    >>> root = lxml.html.document_fromstring('<p class="price"> $5 </p><a class="tag" href="/t">x</a>'
    ...                                      '<a class="tag">y</a>')
    >>> fields.apply(root)
    {'price': '$5', 'tags': ['x', 'y'], 'to': '/t'}
    >>> check_selectors('{"bad": "//p["}')
    Traceback (most recent call last):
    ...
    crawlcore.errors.InvalidParameter: Invalid parameter selectors: the selector of 'bad' does not compile: \
Invalid expression
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cssselect import SelectorError
from lxml import etree
from parsel.csstranslator import css2xpath

from crawlcore.errors import InvalidParameter
from crawlcore.selectors import FieldSelector, parse_selectors

__all__ = ["CustomFields", "check_selectors", "compile_selectors", "custom_fields"]

_SPACES = re.compile(r"\s+")
_MAX_VALUES = 200
_MAX_VALUE_CHARS = 10_000


def _value(found: Any) -> str:
    if isinstance(found, str):
        text = found
    elif isinstance(found, etree._Element):
        text = " ".join(found.xpath(".//text()[not(ancestor::script or ancestor::style)]"))
    else:  # numbers and booleans from XPath functions
        text = str(found)
    return _SPACES.sub(" ", text).strip()[:_MAX_VALUE_CHARS]


@dataclass(frozen=True)
class _Compiled:
    name: str
    xpath: etree.XPath
    many: bool


class CustomFields:
    """Compiled selectors. `apply(root)` gives the `custom` dict of one page."""

    def __init__(self, compiled: list[_Compiled]) -> None:
        self._compiled = compiled

    def __bool__(self) -> bool:
        return bool(self._compiled)

    def values(self, root: Any) -> Iterator[tuple[str, Any]]:
        """(name, value) of each field on a page's tree, in order (None as the tree: every value null).

        Unbounded in time: the worker runs this in its selector process (spiders.extractors.sandbox)."""
        for field in self._compiled:
            try:
                found = field.xpath(root) if root is not None else []
            except etree.XPathError:
                found = []
            matches = found if isinstance(found, list) else [found]
            values = [v for v in (_value(m) for m in matches[:_MAX_VALUES]) if v]
            yield field.name, values if field.many else (values[0] if values else None)

    def apply(self, root: Any) -> dict[str, Any]:
        return dict(self.values(root))


def _compile(field: FieldSelector) -> _Compiled:
    try:
        xpath = css2xpath(field.query) if field.syntax == "css" else field.query
        return _Compiled(field.name, etree.XPath(xpath, smart_strings=False), field.many)
    except (SelectorError, etree.XPathError, ValueError) as exc:
        raise InvalidParameter("selectors", f"the selector of {field.name!r} does not compile: {exc}") from None


def compile_selectors(fields: dict[str, FieldSelector]) -> CustomFields:
    """Compile parsed selectors; InvalidParameter naming selectors when one does not compile."""
    return CustomFields([_compile(f) for f in fields.values()])


@lru_cache(maxsize=256)
def custom_fields(json_text: str) -> CustomFields:
    """Parse and compile a `selectors` value, cached by its text (workers call it for every page)."""
    return compile_selectors(parse_selectors(json_text))


def check_selectors(json_text: str) -> None:
    """Validate a `selectors` value completely (JSON shape and compilation), for the controller."""
    custom_fields(json_text)
