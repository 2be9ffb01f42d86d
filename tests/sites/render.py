"""Render a `Page` to the bytes a server answers with.

    >>> from tests.sites.model import Page
    >>> body = render_body(Page("/x.html", title="X", links=["{base}/y.html"]), "http://127.0.0.1:81")
    >>> b'<a href="http://127.0.0.1:81/y.html">' in body
    True
"""

from __future__ import annotations

import functools
import html
import random
import zlib

from tests.sites.model import Page, substitute

__all__ = ["render_body", "render_html"]

_WORDS = [
    "crawler", "frontier", "queue", "politeness", "robots", "host", "request", "response", "worker", "lease",
    "redis", "mongo", "document", "archive", "index", "link", "graph", "depth", "breadth", "shortest", "path",
    "redirect", "canonical", "title", "paragraph", "river", "mountain", "harbour", "library", "garden",
    "window", "morning", "evening", "quiet", "steady", "bright", "careful", "simple", "modern", "ancient",
    "northern", "southern", "market", "bridge", "station", "village", "letter", "story", "engine", "signal",
    "network", "packet", "socket", "thread", "process", "memory", "storage", "report", "measure", "value",
]


def render_body(page: Page, base_url: str) -> bytes:
    """The response body of `page` served at `base_url`: raw `body` if set, else rendered HTML."""
    if page.body is not None:
        return page.body.encode("utf-8") if isinstance(page.body, str) else page.body
    return render_html(page, base_url).encode("utf-8")


def render_html(page: Page, base_url: str) -> str:
    """A complete HTML document: head metadata, heading, text, links by tag, filler, extra HTML.

    A page with ``frame`` links becomes a frameset document whose other content sits
    in ``<noframes>``.
    """

    def attr(value: str) -> str:
        return html.escape(substitute(value, base_url), quote=True)

    title = html.escape(page.title or page.path)
    head = [f'<!DOCTYPE html>\n<html lang="{attr(page.lang)}">\n<head>\n<meta charset="utf-8">',
            f"<title>{title}</title>"]
    if page.description is not None:
        head.append(f'<meta name="description" content="{attr(page.description)}">')
    if page.canonical is not None:
        head.append(f'<link rel="canonical" href="{attr(page.canonical)}">')
    if page.base is not None:
        head.append(f'<base href="{attr(page.base)}">')
    head.append("</head>")

    body = [f"<h1>{title}</h1>"]
    if page.text:
        body.append(f"<p>{html.escape(page.text)}</p>")
    anchors = [ln for ln in page.links if ln.tag == "a"]
    if anchors:
        items = "\n".join(f'<li><a href="{attr(ln.href)}">{_label(ln.href)}</a></li>' for ln in anchors)
        body.append(f'<nav>\n<ul>\n{items}\n</ul>\n</nav>')
    areas = [ln for ln in page.links if ln.tag == "area"]
    if areas:
        shapes = "\n".join(f'<area shape="rect" coords="{i * 10},0,{i * 10 + 9},9" href="{attr(ln.href)}"'
                           f' alt="{_label(ln.href)}">' for i, ln in enumerate(areas))
        body.append(f'<map name="m">\n{shapes}\n</map>')
    body.extend(f'<iframe src="{attr(ln.href)}" title="{_label(ln.href)}"></iframe>'
                for ln in page.links if ln.tag == "iframe")
    if page.filler_bytes > 0:
        body.append(_filler(page.path, page.filler_bytes))
    if page.extra_html:
        body.append(page.extra_html)

    frames = [ln for ln in page.links if ln.tag == "frame"]
    if frames:
        cols = ",".join(["*"] * len(frames))
        tags = "\n".join(f'<frame src="{attr(ln.href)}">' for ln in frames)
        inner = "\n".join(body)
        main = f'<frameset cols="{cols}">\n{tags}\n</frameset>\n<noframes><body>\n{inner}\n</body></noframes>'
    else:
        main = "<body>\n" + "\n".join(body) + "\n</body>"
    return "\n".join(head) + "\n" + main + "\n</html>\n"


def _label(href: str) -> str:
    tail = href.rstrip("/").rsplit("/", 1)[-1] or "home"
    return html.escape(tail.split("?")[0].split("#")[0] or "link")


@functools.lru_cache(maxsize=1)
def _paragraphs() -> tuple[str, ...]:
    rng = random.Random(0)
    out = []
    for _ in range(64):
        sentences = []
        for _ in range(rng.randint(4, 7)):
            words = rng.choices(_WORDS, k=rng.randint(8, 16))
            sentences.append(" ".join(words).capitalize() + ".")
        out.append("<p>" + " ".join(sentences) + "</p>")
    return tuple(out)


def _filler(path: str, n_bytes: int) -> str:
    """About `n_bytes` of paragraphs, chosen deterministically from the path."""
    pool = _paragraphs()
    i = zlib.crc32(path.encode("utf-8"))
    out: list[str] = []
    size = 0
    while size < n_bytes:
        para = pool[i % len(pool)]
        out.append(para)
        size += len(para) + 1
        i += 7
    return '<section class="content">\n' + "\n".join(out) + "\n</section>"
