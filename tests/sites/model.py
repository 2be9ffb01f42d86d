"""The description of a test website: pure, JSON-serialisable data.

A `Site` maps paths to `Page`s. Hrefs (and `redirect_to`, `canonical`, `base`)
may contain the placeholder ``{base}``, which the server and the ground truth
replace with the site's own base URL (e.g. ``http://127.0.0.1:8123``), so a site
can hold absolute self-links before its port is known.

    >>> site = Site("demo", {"/": Page("/", links=["a.html", Link("/b.html", "area")]),
    ...                      "/a.html": Page("/a.html", status=301, redirect_to="{base}/b.html")})
    >>> Site.from_json(site.to_json()) == site
    True
    >>> site.lookup("/a.html?x=1").status
    301
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any, NamedTuple

__all__ = ["BASE", "HTML", "LINK_TAGS", "REDIRECTS", "Link", "Page", "Site", "substitute"]

BASE = "{base}"
HTML = "text/html; charset=utf-8"
LINK_TAGS = ("a", "area", "frame", "iframe")
REDIRECTS = frozenset({301, 302, 303, 307, 308})


def substitute(text: str, base_url: str) -> str:
    """Replace the ``{base}`` placeholder by `base_url` (no trailing slash).

    >>> substitute("{base}/x.html", "http://127.0.0.1:80/")
    'http://127.0.0.1:80/x.html'
    """
    return text.replace(BASE, base_url.rstrip("/"))


class Link(NamedTuple):
    """One link as written in the HTML: its href and the tag carrying it.

    ``a`` and ``area`` use ``href``; ``frame`` and ``iframe`` use ``src``.

    >>> Link("../x.html", "iframe")
    Link(href='../x.html', tag='iframe')
    """

    href: str
    tag: str = "a"


@dataclasses.dataclass
class Page:
    """One resource of a site.

    `links` accepts plain hrefs (emitted as ``<a href>``) or `Link`s / ``[href, tag]``
    pairs; they are normalised to `Link`s. `extra_html` must not contain links the
    ground truth should know about (it ignores it). `filler_bytes` asks the renderer
    for that many bytes of deterministic text paragraphs (generated sites use it to
    stay small in JSON while rendering realistic pages).

    >>> Page("/p.html", links=["/", ["x.html", "frame"]]).links
    [Link(href='/', tag='a'), Link(href='x.html', tag='frame')]
    """

    path: str
    status: int = 200
    content_type: str = HTML
    links: list[Any] = dataclasses.field(default_factory=list)  # Link | href | [href, tag] -> Link
    redirect_to: str | None = None
    title: str = ""
    text: str = ""
    description: str | None = None
    canonical: str | None = None
    base: str | None = None
    lang: str = "en"
    extra_html: str = ""
    delay: float = 0.0
    body: bytes | str | None = None
    filler_bytes: int = 0

    def __post_init__(self) -> None:
        self.links = [_as_link(item) for item in self.links]
        for link in self.links:
            if link.tag not in LINK_TAGS:
                raise ValueError(f"{self.path}: unknown link tag {link.tag!r}")

    @property
    def is_html(self) -> bool:
        """True when the content type is HTML (only such pages yield links)."""
        ctype = self.content_type.split(";")[0].strip().lower()
        return ctype in ("text/html", "application/xhtml+xml")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict holding only the fields that differ from the defaults."""
        out: dict[str, Any] = {"path": self.path}
        for field in dataclasses.fields(self)[1:]:
            value = getattr(self, field.name)
            default = field.default_factory() if callable(field.default_factory) else field.default
            if value == default:
                continue
            if field.name == "links":
                value = [link.href if link.tag == "a" else list(link) for link in value]
            elif isinstance(value, bytes):
                value = {"base64": base64.b64encode(value).decode("ascii")}
            out[field.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Page:
        """Inverse of `to_dict`."""
        data = dict(data)
        body = data.get("body")
        if isinstance(body, dict):
            data["body"] = base64.b64decode(body["base64"])
        return cls(**data)


def _as_link(item: Link | str | list[str] | tuple[str, ...]) -> Link:
    if isinstance(item, Link):
        return item
    if isinstance(item, str):
        return Link(item)
    return Link(*item)


@dataclasses.dataclass
class Site:
    """A website: pages by path (query allowed in the key) and an optional robots.txt.

    `robots_txt` None means /robots.txt answers 404.
    """

    name: str
    pages: dict[str, Page] = dataclasses.field(default_factory=dict)
    robots_txt: str | None = None

    def add(self, page: Page) -> Page:
        """Add (or replace) a page under its own path and return it."""
        self.pages[page.path] = page
        return page

    def lookup(self, path: str) -> Page | None:
        """The page serving `path` (with query): an exact key first, else the path without query.

        >>> Site("s", {"/s.html": Page("/s.html")}).lookup("/s.html?q=1").path
        '/s.html'
        """
        page = self.pages.get(path)
        if page is None and "?" in path:
            page = self.pages.get(path.split("?", 1)[0])
        return page

    def to_json(self) -> str:
        """Serialise to a JSON string (see `from_json`)."""
        return json.dumps({"name": self.name, "robots_txt": self.robots_txt,
                           "pages": [page.to_dict() for page in self.pages.values()]})

    @classmethod
    def from_json(cls, text: str | bytes) -> Site:
        """Parse the output of `to_json`."""
        data = json.loads(text)
        pages = [Page.from_dict(item) for item in data["pages"]]
        return cls(data["name"], {page.path: page for page in pages}, data.get("robots_txt"))
