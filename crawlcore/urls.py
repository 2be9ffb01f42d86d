"""URL normalisation, fingerprints and host keys.

Every URL a crawl stores or compares goes through `normalize` first, so that
`http://Example.com:80/a/../b#top` and `http://example.com/b` are one URL:

    >>> normalize("b#top", "http://Example.com:80/a/")
    'http://example.com/a/b'
    >>> normalize("mailto:me@example.com", "http://example.com/") is None
    True
    >>> fingerprint("http://example.com/").hex()
    'fb2241160c9dad06'
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

__all__ = ["doc_id", "fingerprint", "host_of", "normalize", "normalize_seed"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left as they are when re-quoting: RFC 3986 reserved + unreserved, and '%'
# so that existing escapes survive.
_SAFE_PATH = "/%:@!$&'()*+,;=-._~"
_SAFE_QUERY = _SAFE_PATH + "?"
# Letters, digits, '-', '_' and '.': a DNS name or an IPv4 address (WHATWG forbids the rest).
_HOST = re.compile(r"[a-z0-9_.-]+")
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:(?!\d)")


def normalize(href: str, base: str | None = None) -> str | None:
    """The canonical absolute http(s) URL for `href` (resolved against `base`), or None.

    None means: not a crawlable URL (another scheme, no host, unparsable).
    """
    href = href.strip()
    if not href:
        return None
    try:
        absolute = urljoin(base, href) if base else href
        parts = urlsplit(absolute)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        host = _host(parts.hostname)
        port = parts.port
    except ValueError:  # bad port, bad IPv6 literal, bad IDNA label
        return None
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{netloc}"
    path = _path(parts.path)
    query = quote(parts.query, safe=_SAFE_QUERY)
    return urlunsplit((scheme, netloc, path, query, ""))


def normalize_seed(seed: str) -> str | None:
    """Like `normalize`, but a seed without a scheme gets https:// (as Diffbot does).

    >>> normalize_seed("example.com/docs")
    'https://example.com/docs'
    """
    seed = seed.strip()
    if seed and "://" not in seed and not _SCHEME.match(seed):  # `mailto:x` keeps its scheme (and fails)
        seed = "https://" + seed
    return normalize(seed)


def host_of(url: str) -> str:
    """The politeness and scope key of a normalised URL: its lowercase hostname, no port.

    >>> host_of("http://Sub.Example.com:8080/x")
    'sub.example.com'
    """
    return urlsplit(url).hostname or ""


def fingerprint(url: str) -> bytes:
    """8-byte BLAKE2b digest of a normalised URL: the identity of a URL in dedupe and storage."""
    return hashlib.blake2b(url.encode("utf-8"), digest_size=8).digest()


def doc_id(fp: bytes) -> int:
    """The URL report's numeric Doc ID for a fingerprint (a non-negative 63-bit integer)."""
    return int.from_bytes(fp, "big") >> 1


def _host(hostname: str) -> str:
    """Lowercase ASCII host (IDNA-encoded); ValueError for characters no host may contain."""
    host = hostname.lower().rstrip(".")
    if ":" in host:  # an IPv6 literal; urlsplit has already validated it
        return f"[{host}]"
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    if not _HOST.fullmatch(host):
        raise ValueError(f"invalid host {hostname!r}")
    return host


def _path(path: str) -> str:
    """Remove dot segments (RFC 3986, 5.2.4) and re-quote; repeated slashes are kept."""
    if not path:
        return "/"
    output: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments[1:] if path.startswith("/") else segments):
        last = i == len(segments) - (2 if path.startswith("/") else 1)
        if segment == "..":
            if output:
                output.pop()
            if last:
                output.append("")
        elif segment == ".":
            if last:
                output.append("")
        else:
            output.append(segment)
    return quote("/" + "/".join(output), safe=_SAFE_PATH)
