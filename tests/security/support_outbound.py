"""Servers for the outbound-request attack tests: a loopback HTTP server whose answers a test
scripts (a redirect to the internal service, a status, a body trickled slowly), recording what
it was sent."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    body: bytes = b'{"objects": []}'
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    trickle: float = 0.0  # seconds between bytes of the body, when positive


@dataclass
class Scripted:
    """An HTTP server on `host` answering every request with `answer(hit)`."""

    server: ThreadingHTTPServer
    hits: list[Hit] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.server.server_address[0]!s}:{self.port}"


@contextmanager
def scripted(answer: Callable[[Hit], Answer], host: str = "127.0.0.1") -> Iterator[Scripted]:
    holder: list[Scripted] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            hit = Hit(self.command, self.path, dict(self.headers.items()), self.rfile.read(length) if length else b"")
            holder[0].hits.append(hit)
            out = answer(hit)
            self.send_response(out.status)
            for name, value in out.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(out.body)))
            self.end_headers()
            try:
                if out.trickle > 0:
                    for i in range(len(out.body)):
                        self.wfile.write(out.body[i:i + 1])
                        self.wfile.flush()
                        time.sleep(out.trickle)
                else:
                    self.wfile.write(out.body)
            except OSError:
                pass  # the client gave up: what a bounded client does

        do_GET = do_POST = do_PUT = do_HEAD = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    holder.append(Scripted(server))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()


def redirect_to(location: str, status: int = 302) -> Callable[[Hit], Answer]:
    return lambda hit: Answer(status, b"", {"Location": location})
