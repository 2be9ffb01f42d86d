"""A fast, quiet, threaded HTTP server for a `Site` stored as JSON.

Run it as its own process (from the repository root):

    python -m tests.sites.server --site site.json --host 127.0.0.1 --port 0 --log fetches.jsonl

It prints ``LISTENING <port>`` once ready, replaces ``{base}`` in hrefs by its own
``http://HOST:PORT``, reloads the JSON when the file changes, honours `Page.delay`,
and appends one JSON line per request to the log: ``{"t", "method", "host", "path",
"status", "ua", "headers"}`` (``t`` is time.time() at arrival). In-process use:

    >>> import threading, urllib.request
    >>> from tests.sites.model import Page, Site
    >>> server = make_server(Site("s", {"/": Page("/", title="Hi")}), "127.0.0.1", 0)
    >>> threading.Thread(target=server.serve_forever, daemon=True).start()
    >>> with urllib.request.urlopen(server.base_url + "/") as resp:
    ...     b"<title>Hi</title>" in resp.read()
    True
    >>> server.shutdown(); server.server_close()
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

from tests.sites.model import REDIRECTS, Site, substitute
from tests.sites.render import render_body

__all__ = ["Response", "SiteServer", "SiteState", "main", "make_server"]


@dataclasses.dataclass(frozen=True)
class Response:
    """A pre-rendered answer."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    delay: float = 0.0


def build_response(site: Site, path: str, base_url: str) -> Response:
    """The answer of `site` served at `base_url` to a GET of `path` (with query)."""
    if path.split("?", 1)[0] == "/robots.txt" and site.robots_txt is not None:
        return Response(200, (("Content-Type", "text/plain; charset=utf-8"),), site.robots_txt.encode())
    page = site.lookup(path)
    if page is None:
        body = (b'<!DOCTYPE html>\n<html lang="en"><head><title>Not found</title></head>'
                b"<body>Not found</body></html>\n")
        return Response(404, (("Content-Type", "text/html; charset=utf-8"),), body)
    headers = [("Content-Type", page.content_type)]
    if page.status in REDIRECTS and page.redirect_to is not None:
        headers.append(("Location", substitute(page.redirect_to, base_url)))
    return Response(page.status, tuple(headers), render_body(page, base_url), page.delay)


class SiteState:
    """The site behind a JSON file, reloaded when the file changes, with a response cache."""

    def __init__(self, site: Site, base_url: str, path: str | Path | None = None) -> None:
        self.site = site
        self.base_url = base_url
        self.path = Path(path) if path is not None else None
        self._signature = self._stat()
        self._cache: dict[str, Response] = {}
        self._lock = threading.Lock()

    def _stat(self) -> tuple[int, int, int] | None:
        if self.path is None:
            return None
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _maybe_reload(self) -> None:
        signature = self._stat()
        if signature is None or signature == self._signature:
            return
        with self._lock:
            if signature == self._signature:
                return
            try:
                assert self.path is not None
                site = Site.from_json(self.path.read_bytes())
            except (OSError, ValueError, KeyError, TypeError):
                return  # half-written file: keep serving the old site, retry next request
            self.site, self._cache, self._signature = site, {}, signature

    def response(self, path: str) -> Response:
        """The (cached) response for `path`."""
        self._maybe_reload()
        cache = self._cache
        resp = cache.get(path)
        if resp is None:
            resp = cache[path] = build_response(self.site, path, self.base_url)
        return resp


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 120
    server: SiteServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        arrived = time.time()
        resp = self.server.state.response(self.path)
        headers = self.headers
        self.server.log_request_line({
            "t": arrived, "method": self.command, "host": headers.get("Host", ""), "path": self.path,
            "status": resp.status, "ua": headers.get("User-Agent", ""), "headers": dict(headers.items()),
        })
        if resp.delay > 0:
            time.sleep(resp.delay)
        self.send_response(resp.status)
        for name, value in resp.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if not head:
            self.wfile.write(resp.body)


class SiteServer(ThreadingHTTPServer):
    """ThreadingHTTPServer serving a `SiteState`, logging requests as JSON lines."""

    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], site: Site, site_path: str | Path | None = None,
                 log: IO[str] | None = None) -> None:
        super().__init__(address, _Handler)
        self.base_url = f"http://{address[0]}:{self.server_address[1]}"
        self.state = SiteState(site, self.base_url, site_path)
        self._log = log
        self._log_lock = threading.Lock()

    def log_request_line(self, record: dict[str, Any]) -> None:
        """Append one JSON line to the log (flushed) if there is a log."""
        if self._log is None:
            return
        line = json.dumps(record) + "\n"
        with self._log_lock:
            self._log.write(line)
            self._log.flush()

    def handle_error(self, request: Any, client_address: Any) -> None:  # quiet: clients hang up
        pass


def make_server(site: Site, host: str, port: int, site_path: str | Path | None = None,
                log: IO[str] | None = None) -> SiteServer:
    """Bind a `SiteServer` (port 0 picks a free one); call serve_forever() to run it."""
    return SiteServer((host, port), site, site_path, log)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", required=True, help="site JSON file (reloaded when it changes)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", help="JSON-lines request log")
    args = parser.parse_args(argv)
    site = Site.from_json(Path(args.site).read_bytes())
    log = open(args.log, "a", encoding="utf-8") if args.log else None  # noqa: SIM115
    server = make_server(site, args.host, args.port, args.site, log)
    print(f"LISTENING {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if log is not None:
            log.close()


if __name__ == "__main__":
    main(sys.argv[1:])
