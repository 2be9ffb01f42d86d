"""A crawl's custom fields: `selectors`, a JSON object of field name -> CSS or XPath selector.

Values are stored under the object's `custom` key. A selector is CSS unless it starts like an
XPath (`/`, `./`, `(`) or carries an explicit `css:` / `xpath:` prefix. As in Scrapy (parsel),
CSS may end with `::text` or `::attr(name)`, XPath with `/text()` or `/@name`; an element match
gives its text. A selector written as a one-element list collects every match into a list;
a plain string gives the first match (or null).

    >>> fields = parse_selectors('{"price": ".price::text", "tags": ["a.tag::text"], "sku": "//b[@id=\\'s\\']"}')
    >>> [(f.name, f.syntax, f.query, f.many) for f in fields.values()]  # doctest: +NORMALIZE_WHITESPACE
    [('price', 'css', '.price::text', False), ('tags', 'css', 'a.tag::text', True),
     ('sku', 'xpath', "//b[@id='s']", False)]
    >>> parse_selectors('["x"]')
    Traceback (most recent call last):
    ...
    crawlcore.errors.InvalidParameter: Invalid parameter selectors: must be a JSON object of field name -> selector

Whether a selector compiles needs a CSS and XPath engine, which the core does not import:
`spiders.extractors.custom.compile_selectors` checks that (and raises the same error).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .errors import InvalidParameter

__all__ = ["MAX_SELECTORS", "FieldSelector", "parse_selectors"]

PARAM = "selectors"
MAX_SELECTORS = 100
MAX_JSON = 64 * 1024
MAX_QUERY = 2000
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_XPATH_START = ("/", "./", "(", "../")


@dataclass(frozen=True)
class FieldSelector:
    """One custom field: its name, selector syntax (css or xpath), query and whether it collects all matches."""

    name: str
    syntax: str
    query: str
    many: bool = False


def _selector(name: str, raw: str, many: bool) -> FieldSelector:
    text = raw.strip()
    lowered = text.lower()
    if lowered.startswith("css:"):
        syntax, text = "css", text[4:].strip()
    elif lowered.startswith("xpath:"):
        syntax, text = "xpath", text[6:].strip()
    else:
        syntax = "xpath" if text.startswith(_XPATH_START) else "css"
    if not text:
        raise InvalidParameter(PARAM, f"the selector of {name!r} is empty")
    if len(text) > MAX_QUERY:
        raise InvalidParameter(PARAM, f"the selector of {name!r} is longer than {MAX_QUERY} characters")
    return FieldSelector(name, syntax, text, many)


def parse_selectors(json_text: str) -> dict[str, FieldSelector]:
    """The custom fields of a `selectors` value, in the order given; InvalidParameter naming selectors
    when it is not a JSON object of names to selectors. An empty value means no custom fields."""
    if not json_text.strip():
        return {}
    if len(json_text) > MAX_JSON:
        raise InvalidParameter(PARAM, f"is longer than {MAX_JSON} characters")
    try:
        data = json.loads(json_text)
    except ValueError as exc:
        raise InvalidParameter(PARAM, f"is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidParameter(PARAM, "must be a JSON object of field name -> selector")
    if len(data) > MAX_SELECTORS:
        raise InvalidParameter(PARAM, f"has more than {MAX_SELECTORS} fields")
    fields: dict[str, FieldSelector] = {}
    for name, value in data.items():
        if not _NAME.fullmatch(name):
            raise InvalidParameter(PARAM, f"field names are letters, digits, '_' and '-', a letter first; got {name!r}")
        if isinstance(value, str):
            fields[name] = _selector(name, value, many=False)
        elif isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
            fields[name] = _selector(name, value[0], many=True)
        else:
            raise InvalidParameter(PARAM, f"the selector of {name!r} must be a string, or a list of one string")
    return fields
