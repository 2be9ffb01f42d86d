"""A crawl's apiUrl: which extractor processes its pages, and with which optional fields.

Three forms are accepted (nothing is ever sent to diffbot.com):

- a Diffbot API URL, `https://api.diffbot.com/v3/<kind>?fields=...&mode=...` (v2 too), or its short
  form, the kind alone (`article`, `product?fields=meta`): a built-in extractor;
- any other http(s) URL: an external processing service, called like Diffbot's
  (`GET {apiUrl}&url={pageUrl}`, see `service_url`);
- nothing: analyze in automatic mode, with the fields objects always had here (`links`, `meta`).

    >>> parse_api_url("https://api.diffbot.com/v3/article?token=T&fields=tags,meta")
    ApiSpec(kind='article', fields=('tags', 'meta'), mode='', external_url='')
    >>> parse_api_url("analyze?mode=product")
    ApiSpec(kind='analyze', fields=(), mode='product', external_url='')
    >>> parse_api_url("https://api.diffbot.com/v3/analyze?mode=auto&fields=links").mode
    ''
    >>> parse_api_url("").fields
    ('links', 'meta')
    >>> parse_api_url("http://127.0.0.1:9000/extract?key=k").kind
    'external'
    >>> parse_api_url("ftp://example.com/x")
    Traceback (most recent call last):
    ...
    crawlcore.errors.InvalidParameter: Invalid parameter apiUrl: must be a Diffbot API (article, product, list, \
analyze, discussion, image, video) or an http(s) URL of a processing service, got 'ftp://example.com/x'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from .errors import InvalidParameter

__all__ = [
    "BUILTIN_KINDS",
    "DEFAULT_FIELDS",
    "PAGE_TYPES",
    "ApiSpec",
    "parse_api_url",
    "service_url",
]

PARAM = "apiUrl"
#: Extractors this server runs itself.
BUILTIN_KINDS = ("article", "product", "list", "analyze", "discussion", "image", "video")
#: What analyze can decide a page is (an object's `type`), and the values of analyze's `mode`.
PAGE_TYPES = ("article", "product", "list", "discussion", "image", "video", "other")
#: Optional fields of objects made without an apiUrl: what this server returned before apiUrl support.
DEFAULT_FIELDS = ("links", "meta")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_MAX_FIELDS = 50


@dataclass(frozen=True)
class ApiSpec:
    """What processes a crawl's pages.

    `kind` is one of BUILTIN_KINDS or "external"; `fields` the optional fields asked for
    (top-level names, in the order given); `mode` restricts analyze's full extraction to one
    page type ("" = every type); `external_url` is the service's URL for kind "external".
    """

    kind: str
    fields: tuple[str, ...] = ()
    mode: str = ""
    external_url: str = ""

    @property
    def external(self) -> bool:
        return self.kind == "external"

    def wants(self, field: str) -> bool:
        """Whether the optional `field` was asked for."""
        return field in self.fields


def _split_fields(raw: str) -> tuple[str, ...]:
    """Top-level names of a Diffbot `fields` value; sub-field lists in parentheses are accepted
    and ignored (`images(url,caption)` is `images`)."""
    names: list[str] = []
    depth = 0
    current = ""
    for char in raw + ",":
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise InvalidParameter(PARAM, f"fields has an unbalanced ')': {raw!r}")
        elif char == "," and depth == 0:
            name = current.strip()
            if name:
                if not _FIELD.fullmatch(name):
                    raise InvalidParameter(PARAM, f"fields has an invalid field name {name!r}")
                if name not in names:
                    names.append(name)
            current = ""
        elif depth == 0:
            current += char
    if depth:
        raise InvalidParameter(PARAM, f"fields has an unbalanced '(': {raw!r}")
    if len(names) > _MAX_FIELDS:
        raise InvalidParameter(PARAM, f"fields names more than {_MAX_FIELDS} fields")
    return tuple(names)


def _builtin(kind: str, query: str) -> ApiSpec:
    params = parse_qs(query, keep_blank_values=True)
    fields = _split_fields(",".join(params.get("fields", [])))
    mode = (params.get("mode") or [""])[-1].strip().lower()
    if mode == "auto":
        mode = ""  # Diffbot's automatic mode: every page type fully extracted
    if kind != "analyze":
        mode = ""  # Diffbot's mode belongs to analyze; the other APIs ignore it
    elif mode and mode not in PAGE_TYPES[:-1]:
        raise InvalidParameter(PARAM, f"mode must be one of {', '.join(PAGE_TYPES[:-1])}, got {mode!r}")
    return ApiSpec(kind, fields, mode)


def _invalid(raw: str) -> InvalidParameter:
    return InvalidParameter(
        PARAM,
        f"must be a Diffbot API ({', '.join(BUILTIN_KINDS)}) or an http(s) URL of a processing service, got {raw!r}",
    )


def parse_api_url(api_url: str) -> ApiSpec:
    """The ApiSpec of an apiUrl; InvalidParameter naming apiUrl when it is none of the accepted forms."""
    text = api_url.strip()
    if not text:
        return ApiSpec("analyze", DEFAULT_FIELDS)
    short, _, query = text.partition("?")
    if short.lower() in BUILTIN_KINDS:
        return _builtin(short.lower(), query)
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise _invalid(api_url) from None
    if parts.scheme.lower() not in ("http", "https") or not host or any(c.isspace() for c in text):
        raise _invalid(api_url)
    if host == "diffbot.com" or host.endswith(".diffbot.com"):
        match = re.fullmatch(r"/(?:api/|v[23]/)?([A-Za-z]+)/?", parts.path)
        kind = match.group(1).lower() if match else ""
        if kind not in BUILTIN_KINDS:
            supported = ", ".join(BUILTIN_KINDS)
            raise InvalidParameter(PARAM, f"unsupported Diffbot API {parts.path!r}; supported: {supported}")
        return _builtin(kind, parts.query)
    return ApiSpec("external", external_url=text)


def service_url(api_url: str, page_url: str) -> str:
    """The URL a processing service is called with for one page, as Diffbot calls its APIs.

    >>> service_url("http://127.0.0.1:9000/x?key=k", "https://a.example/p?q=1")
    'http://127.0.0.1:9000/x?key=k&url=https%3A%2F%2Fa.example%2Fp%3Fq%3D1'
    >>> service_url("http://127.0.0.1:9000/x", "https://a.example/")
    'http://127.0.0.1:9000/x?url=https%3A%2F%2Fa.example%2F'
    """
    base, _, fragment = api_url.partition("#")
    if "?" not in base:
        sep = "?"
    elif base.endswith(("?", "&")):
        sep = ""
    else:
        sep = "&"
    return f"{base}{sep}url={quote(page_url, safe='')}" + (f"#{fragment}" if fragment else "")
