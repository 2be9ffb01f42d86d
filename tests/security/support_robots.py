"""A small site on 127.0.0.1 whose robots.txt misbehaves on purpose, for tests/security/test_robots.py.

The site: `/` links to `/public.html`, `/private/secret.html` and `/late/page.html`. Its
robots.txt (`rules`: ``Disallow: /private/``) is answered as `RobotsSite.answers` say, one
entry per robots.txt request (the last one repeats):

- ``"ok"``: 200 with the rules; ``"big"``: 200, 600 KiB, ``Disallow: /late/`` after the
  first 500 KiB;
- an int: that HTTP status (503, 404, 429 ...), no rules;
- ``"slow"``: the rules, after `slow_seconds` (beyond the worker's download timeout);
- ``"reset"``: the connection is reset (RST) without an answer;
- ``"redirect:N"``: N consecutive redirects, then the rules.

Every request is recorded in `fetches` (paths, in order).
"""

from __future__ import annotations

import io
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RULES = b"User-agent: *\nDisallow: /private/\n"
PAGES = ("/public.html", "/private/secret.html", "/late/page.html")
BIG_FILLER = 600 * 1024  # bytes of comments before the late rule (beyond the 500 KiB parsed)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a reset connection, or a slow answer the worker gave up on, is the point


class RobotsSite:
    def __init__(self, answers: list[Any], slow_seconds: float = 30.0) -> None:
        self.answers = answers
        self.slow_seconds = slow_seconds
        self.fetches: list[str] = []
        self._robots = 0
        self._lock = threading.Lock()
        self.server = _QuietServer(("127.0.0.1", 0), _handler(self))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def robots_fetches(self) -> int:
        return sum(1 for path in self.fetches if path == "/robots.txt")

    def page_fetches(self) -> list[str]:
        return [path for path in self.fetches if not path.startswith(("/robots.txt", "/hop/", "/rules.txt"))]

    def next_answer(self) -> Any:
        with self._lock:
            answer = self.answers[min(self._robots, len(self.answers) - 1)]
            self._robots += 1
            return answer


def _handler(site: RobotsSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes = b"", content_type: str = "text/plain",
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _reset(self) -> None:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.wfile = io.BytesIO()  # what the handler flushes after this goes nowhere
            self.close_connection = True

        def _robots(self, answer: Any) -> None:
            if answer == "ok":
                self._send(200, RULES)
            elif answer == "big":
                filler = b"".join(b"# filler line %06d\n" % i for i in range(BIG_FILLER // 20 + 1))
                self._send(200, RULES + filler + b"Disallow: /late/\n")
            elif answer == "slow":
                time.sleep(site.slow_seconds)
                self._send(200, RULES)
            elif answer == "reset":
                self._reset()
            elif isinstance(answer, str) and answer.startswith("redirect:"):
                self._hop(int(answer.split(":")[1]))
            elif isinstance(answer, str) and answer.startswith("location="):  # a redirect to anything
                self._send(301, headers={"Location": answer.split("=", 1)[1]})
            else:
                self._send(int(answer), b"no robots here")

        def _hop(self, left: int) -> None:
            target = f"/hop/{left - 1}" if left > 1 else "/rules.txt"
            self._send(301, headers={"Location": target})

        def do_GET(self) -> None:
            site.fetches.append(self.path)
            if self.path == "/robots.txt":
                self._robots(site.next_answer())
            elif self.path.startswith("/hop/"):
                left = int(self.path.rsplit("/", 1)[1])
                self._hop(left) if left > 0 else self._send(200, RULES)
            elif self.path == "/rules.txt":
                self._send(200, RULES)
            elif self.path == "/":
                links = "".join(f'<a href="{p}">{p}</a>' for p in PAGES)
                self._send(200, f"<html><head><title>root</title></head><body>{links}</body></html>".encode(),
                           "text/html")
            elif self.path in PAGES:
                self._send(200, f"<html><head><title>{self.path}</title></head><body>x</body></html>".encode(),
                           "text/html")
            else:
                self._send(404, b"not found")

    return Handler


@contextmanager
def robots_site(answers: list[Any], slow_seconds: float = 30.0) -> Iterator[RobotsSite]:
    site = RobotsSite(answers, slow_seconds)
    thread = threading.Thread(target=site.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.server.shutdown()
        site.server.server_close()
