"""Frontier requests on the wire: one flag byte, then compact JSON (never pickle).

Only the fields that differ from their defaults are written; a typical request is
about 60 bytes:

    >>> r = FrontierRequest("http://example.com/a", hop=2, discovered=1700000000)
    >>> r.encode()
    b'C{"u":"http://example.com/a","h":2,"d":1700000000}'
    >>> FrontierRequest.decode(r.encode()) == r
    True

The flag says what the frontier needs to know without decoding the JSON:
`P` a page whose URL matches the process rules (it holds a processing slot while in
flight, so maxToProcess is exact), `C` crawl only, `X` a re-expansion task (re-send the
links of an already crawled page whose shortest hop count just got smaller).
The Lua scripts in crawlstore build and re-encode these payloads the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["FrontierRequest"]

_FLAGS = {"P", "C", "X"}


@dataclass(frozen=True)
class FrontierRequest:
    url: str
    hop: int = 0
    tries: int = 0  # tries that already ended without a result (lost lease, download error)
    discovered: int = 0  # epoch seconds when the URL was first seen
    processable: bool = False
    expand: bool = False

    @property
    def flag(self) -> str:
        return "X" if self.expand else "P" if self.processable else "C"

    def encode(self) -> bytes:
        body: dict[str, object] = {"u": self.url}
        if self.hop:
            body["h"] = self.hop
        if self.tries:
            body["t"] = self.tries
        if self.discovered:
            body["d"] = self.discovered
        return (self.flag + json.dumps(body, separators=(",", ":"), ensure_ascii=False)).encode("utf-8")

    @classmethod
    def decode(cls, raw: bytes) -> FrontierRequest:
        text = raw.decode("utf-8")  # UnicodeDecodeError is a ValueError
        flag = text[:1]
        body = json.loads(text[1:]) if flag in _FLAGS else None  # json.JSONDecodeError too
        if not isinstance(body, dict) or not isinstance(body.get("u"), str):
            raise ValueError(f"not a frontier request: {raw[:60]!r}")
        numbers = [body.get(k, 0) for k in ("h", "t", "d")]
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
            raise ValueError(f"not a frontier request: {raw[:60]!r}")
        hop, tries, discovered = numbers
        return cls(body["u"], hop, tries, discovered, processable=flag == "P", expand=flag == "X")
