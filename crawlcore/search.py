"""The search language of `/v3/search`: a documented subset of Diffbot's Search query syntax.

- `obama`, `"white house"`: the word or phrase in any text field (TEXT_FIELDS).
- `title:word`, `author:"A B"`, `images.caption:flower`: the word or phrase in that field; dotted
  paths reach into nested objects and lists; `'single quotes'` work as in DQL.
- `type:article`, `humanLanguage:de`, `crawlRound:0`: exactly that value (fields in EXACT_FIELDS).
- `a b`, `a AND b`: both. `a OR b`: either (`OR` and `AND` in capitals, as Diffbot has them).
- `NOT a`, `-a`, `-(a OR b)`: not. `( ... )`: grouping.
- `min:field:value`, `max:field:value`: a range, bounds included. Numbers compare as numbers,
  dates as dates: `max:date:2024-01-31` takes in the whole day; epoch seconds or milliseconds
  work for `date` too; `offerPrice` and `regularPrice` mean their amounts.
- `has:field`: the field is present.
- `sortby:field`, `revsortby:field`: sortby is descending (newest, largest first), revsortby
  ascending; several may be given, the first decides first.
- Paging and format are request parameters: `num` (default 20, or `all`), `start`, `format`.

Words match whole words, case-insensitively (no stemming, no relevance ranking: results come
most recently crawled first unless sorted). Field names start with a letter; internal fields
(`_...`) cannot be searched.

    >>> q = parse_query('type:article title:"white house" -author:smith sortby:date')
    >>> q.where
    And(items=(Match(field='type', value='article', phrase=False), Match(field='title', value='white house', \
phrase=True), Not(item=Match(field='author', value='smith', phrase=False))))
    >>> q.sort
    (SortKey(field='date', descending=True),)
    >>> parse_query('min:date:2024-01-01 max:offerPrice:20').where
    And(items=(Compare(field='date', op='gte', value='2024-01-01'), Compare(field='offerPriceDetails.amount', \
op='lte', value=20)))
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .dates import epoch_to_iso, is_date_only, iso_datetime, next_day
from .errors import InvalidParameter

__all__ = [
    "DEFAULT_NUM",
    "EXACT_FIELDS",
    "TEXT_FIELDS",
    "And",
    "Compare",
    "Exists",
    "Match",
    "Node",
    "Not",
    "Or",
    "SearchQuery",
    "SearchRequest",
    "SortKey",
    "literals",
    "parse_query",
    "parse_search",
]

#: Fields matched by exact value (keywords, ids, numbers, flags) rather than by word.
EXACT_FIELDS = frozenset({
    "type", "pageUrl", "resolvedPageUrl", "diffbotUri", "docId", "humanLanguage", "crawlName", "crawlRound",
    "timestamp", "currency", "sku", "mpn", "availability", "numPosts", "links", "images.url", "items.link",
})
#: Where a word without a field is looked for.
TEXT_FIELDS = ("title", "text", "author", "tags.label", "siteName", "items.title", "posts.text")
#: What a field name means in a word match (Diffbot's tags are objects with a label).
MATCH_ALIASES = {"tags": "tags.label"}
#: What a field name means in a range or a sort: prices are text, their amounts numbers.
RANGE_ALIASES = {"offerPrice": "offerPriceDetails.amount", "regularPrice": "regularPriceDetails.amount"}
#: Fields holding ISO 8601 dates, and fields holding epoch milliseconds.
DATE_FIELDS = frozenset({"date", "estimatedDate"})
EPOCH_MS_FIELDS = frozenset({"timestamp"})

DEFAULT_NUM = 20
MAX_QUERY = 4096
MAX_TERMS = 64
MAX_DEPTH = 16
_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*")
_INT = re.compile(r"[+-]?\d{1,18}")
_FLOAT = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")
_PARAM = "query"


# ---------------------------------------------------------------- the tree

@dataclass(frozen=True)
class Match:
    """A word or phrase in a field (None: any of TEXT_FIELDS); exact value for EXACT_FIELDS."""

    field: str | None
    value: str
    phrase: bool = False


@dataclass(frozen=True)
class Compare:
    """field <op> value, op one of gte, lte, lt; value a number or a string (dates are ISO strings)."""

    field: str
    op: str
    value: str | int | float


@dataclass(frozen=True)
class Exists:
    field: str


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Match | Compare | Exists | And | Or | Not


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool


@dataclass(frozen=True)
class SearchQuery:
    """A parsed query: the condition (None matches everything) and the sort keys."""

    where: Node | None
    sort: tuple[SortKey, ...] = ()


@dataclass(frozen=True)
class SearchRequest:
    """A /v3/search request: collections (crawl names; empty means all of the token's), the query,
    how many results (None = all) from which offset, and the output format."""

    collections: tuple[str, ...]
    query: SearchQuery
    num: int | None = DEFAULT_NUM
    start: int = 0
    format: str = "json"


# ---------------------------------------------------------------- values

def literals(value: str) -> tuple[Any, ...]:
    """The typed values a query word also stands for, besides the text itself.

    >>> literals("true"), literals("12"), literals("10.50"), literals("abc")
    ((True,), (12, 12.0), (10.5,), ())
    """
    low = value.lower()
    if low in ("true", "false"):
        return (low == "true",)
    if _INT.fullmatch(value):
        return (int(value), float(value))
    if _FLOAT.fullmatch(value):
        return (float(value),)
    return ()


def _number(value: str) -> int | float | None:
    if _INT.fullmatch(value):
        return int(value)
    if _FLOAT.fullmatch(value):
        return float(value)
    return None


def _range(bound: str, field: str, raw: str) -> Compare:
    """min/max as a comparison: the core decides how dates, epochs and numbers compare."""
    field = RANGE_ALIASES.get(field, field)
    number = _number(raw)
    value: str | int | float
    if field in DATE_FIELDS:
        text = epoch_to_iso(number) if number is not None else iso_datetime(raw)
        if text is None:
            raise InvalidParameter(_PARAM, f"{bound}:{field} needs a date (YYYY-MM-DD or epoch), got {raw!r}")
        if bound == "max" and is_date_only(text):
            return Compare(field, "lt", next_day(text))
        value = text
    elif field in EPOCH_MS_FIELDS and number is None:
        text = iso_datetime(raw)
        if text is None:
            raise InvalidParameter(_PARAM, f"{bound}:{field} needs a number or a date, got {raw!r}")
        if bound == "max" and is_date_only(text):
            return Compare(field, "lt", _epoch_ms(next_day(text)))
        value = _epoch_ms(text)
    else:
        value = number if number is not None else raw
    return Compare(field, "gte" if bound == "min" else "lte", value)


def _epoch_ms(iso: str) -> int:
    import datetime as dt  # local: only ranges over timestamps need it

    parsed = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)


# ---------------------------------------------------------------- tokens

@dataclass(frozen=True)
class _Tok:
    kind: str  # "(", ")", "AND", "OR", "NOT", "ATOM"
    text: str = ""  # the atom; for a quoted one, what precedes the quote ("" or "field:")
    quoted: str | None = None  # the text between quotes


def _read_quoted(text: str, i: int) -> tuple[str, int]:
    quote = text[i]
    out = []
    i += 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if char == quote:
            return "".join(out), i + 1
        out.append(char)
        i += 1
    raise InvalidParameter(_PARAM, f"unclosed quote {quote} in {text!r}")


def _tokens(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            toks.append(_Tok(char))
            i += 1
        elif char == "-" and i + 1 < len(text) and not text[i + 1].isspace():
            toks.append(_Tok("NOT"))
            i += 1
        else:
            # an atom: prefix parts up to the value, which may be quoted
            start = i
            while i < len(text) and not text[i].isspace() and text[i] not in "()\"'":
                i += 1
            head = text[start:i]
            if i < len(text) and text[i] in "\"'" and (head == "" or head.endswith(":")):
                value, i = _read_quoted(text, i)
                toks.append(_Tok("ATOM", head, value))
            elif i < len(text) and text[i] in "\"'":
                # a quote inside a word (O'Brien): part of the word
                i += 1
                while i < len(text) and not text[i].isspace() and text[i] not in "()":
                    i += 1
                toks.append(_Tok("ATOM", text[start:i]))
            elif head in ("AND", "OR", "NOT"):
                toks.append(_Tok(head))
            else:
                toks.append(_Tok("ATOM", head))
    return toks


# ---------------------------------------------------------------- parser

class _Sort:
    def __init__(self, key: SortKey) -> None:
        self.key = key


def _field(name: str, context: str) -> str:
    if not _FIELD.fullmatch(name):
        raise InvalidParameter(_PARAM, f"{context}: {name!r} is not a field name (letters, digits, '_', dots)")
    return name


def _atom(tok: _Tok) -> Node | _Sort:
    if tok.quoted is not None:
        head, value = tok.text, tok.quoted
        if not head:
            return Match(None, value, phrase=True)
        prefix = head[:-1]
        parts = prefix.split(":")
        if parts[0] in ("min", "max") and len(parts) == 2:
            return _range(parts[0], _field(parts[1], parts[0]), value)
        field = _field(prefix, "field")
        return _match(field, value, phrase=True)
    text = tok.text
    prefix, sep, rest = text.partition(":")
    if not sep:
        return Match(None, text)
    if prefix in ("min", "max"):
        field, sep2, value = rest.partition(":")
        if not sep2 or not value:
            raise InvalidParameter(_PARAM, f"{prefix} takes field:value, got {text!r}")
        return _range(prefix, _field(field, prefix), value)
    if prefix in ("sortby", "revsortby"):
        field = _field(rest, prefix)
        return _Sort(SortKey(RANGE_ALIASES.get(field, field), descending=prefix == "sortby"))
    if prefix == "has":
        return Exists(_field(rest, "has"))
    if not rest:
        raise InvalidParameter(_PARAM, f"{text!r} has no value after the field")
    return _match(_field(prefix, "field"), rest, phrase=False)


def _match(field: str, value: str, phrase: bool) -> Match:
    if not value.strip():
        raise InvalidParameter(_PARAM, f"{field} has an empty value")
    return Match(MATCH_ALIASES.get(field, field), value, phrase)


class _Parser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.pos = 0
        self.sort: list[SortKey] = []
        self.terms = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def parse(self) -> Node | None:
        node = self.or_expr(0, top=True)
        if self.peek() is not None:
            raise InvalidParameter(_PARAM, "unbalanced ')'")
        return node

    def or_expr(self, depth: int, top: bool) -> Node | None:
        if depth > MAX_DEPTH:
            raise InvalidParameter(_PARAM, f"nests deeper than {MAX_DEPTH} levels")
        branches = [self.and_expr(depth, top)]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            branches.append(self.and_expr(depth, top=False))
        if len(branches) > 1 and any(b is None for b in branches):
            raise InvalidParameter(_PARAM, "OR needs a term on each side (sortby cannot be one)")
        nodes = [b for b in branches if b is not None]
        if not nodes:
            return None
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def and_expr(self, depth: int, top: bool) -> Node | None:
        items: list[Node] = []
        while (tok := self.peek()) is not None and tok.kind not in (")", "OR"):
            if tok.kind == "AND":
                self.take()
                continue
            got = self.unary(depth)
            if isinstance(got, _Sort):
                if not top:
                    raise InvalidParameter(_PARAM, "sortby and revsortby belong at the top level of the query")
                self.sort.append(got.key)
            else:
                items.append(got)
        if not items:
            return None
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self, depth: int) -> Node | _Sort:
        tok = self.take()
        if tok.kind == "NOT":
            if self.peek() is None:
                raise InvalidParameter(_PARAM, "NOT needs a term after it")
            inner = self.unary(depth + 1)
            if isinstance(inner, _Sort):
                raise InvalidParameter(_PARAM, "sortby cannot be negated")
            return Not(inner)
        if tok.kind == "(":
            node = self.or_expr(depth + 1, top=False)
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise InvalidParameter(_PARAM, "unbalanced '('")
            self.take()
            if node is None:
                raise InvalidParameter(_PARAM, "empty parentheses")
            return node
        if tok.kind == ")":
            raise InvalidParameter(_PARAM, "unbalanced ')'")
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise InvalidParameter(_PARAM, f"has more than {MAX_TERMS} terms")
        return _atom(tok)


def parse_query(text: str) -> SearchQuery:
    """The condition and sort keys of a query; InvalidParameter naming query when malformed."""
    if len(text) > MAX_QUERY:
        raise InvalidParameter(_PARAM, f"is longer than {MAX_QUERY} characters")
    parser = _Parser(_tokens(text))
    where = parser.parse()
    if where is None and not parser.sort:
        raise InvalidParameter(_PARAM, "is empty")
    return SearchQuery(where, tuple(parser.sort))


# ---------------------------------------------------------------- request parameters

def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1].strip() if values else None


def parse_search(params: Mapping[str, Sequence[str]]) -> SearchRequest:
    """A /v3/search request from its parameters (token apart), or InvalidParameter naming the bad one.

    >>> r = parse_search({"col": ["news,blog"], "query": ["type:article"], "num": ["5"], "start": ["10"]})
    >>> r.collections, r.num, r.start, r.format
    (('news', 'blog'), 5, 10, 'json')
    >>> parse_search({"col": ["all"], "query": ["x"], "num": ["all"]}).num is None
    True
    """
    col = _one(params, "col")
    if not col:
        raise InvalidParameter("col", "is required (a crawl name, names separated by commas, or all)")
    names = tuple(dict.fromkeys(n.strip() for n in col.split(",") if n.strip()))
    if not names:
        raise InvalidParameter("col", f"names no crawl: {col!r}")
    collections = () if names == ("all",) else names
    raw_query = _one(params, "query")
    if raw_query is None or not raw_query:
        raise InvalidParameter("query", "is required")
    query = parse_query(raw_query)
    num: int | None = DEFAULT_NUM
    raw_num = _one(params, "num")
    if raw_num:
        if raw_num.lower() == "all":
            num = None
        elif raw_num.isdigit() and int(raw_num) > 0:
            num = int(raw_num)
        else:
            raise InvalidParameter("num", f"must be a positive integer or all, got {raw_num!r}")
    start = 0
    raw_start = _one(params, "start")
    if raw_start:
        if not raw_start.isdigit():
            raise InvalidParameter("start", f"must be 0 or a positive integer, got {raw_start!r}")
        start = int(raw_start)
    fmt = (_one(params, "format") or "json").lower()
    if fmt not in ("json", "csv"):
        raise InvalidParameter("format", f"must be json or csv, got {fmt!r}")
    return SearchRequest(collections, query, num, start, fmt)
