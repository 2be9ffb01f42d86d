"""A small forwarding HTTP proxy on loopback, for useProxies tests.

It answers absolute-URI requests (`GET http://host:port/path HTTP/1.1`) by fetching the URL
itself and logs every request it forwards. `ForwardingProxy(fail=True)` refuses everything
with 502, to stand in for a broken proxy.
"""

from __future__ import annotations

import http.client
import http.server
import threading
from typing import Any
from urllib.parse import urlsplit

__all__ = ["ForwardingProxy"]


class ForwardingProxy:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.requests: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                owner.requests.append(self.path)
                if owner.fail:
                    self.send_response(502)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                target = urlsplit(self.path)
                conn = http.client.HTTPConnection(target.hostname or "", target.port or 80, timeout=10)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
                conn.request("GET", target.path + (f"?{target.query}" if target.query else ""), headers=headers)
                upstream = conn.getresponse()
                body = upstream.read()
                self.send_response(upstream.status)
                for name, value in upstream.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                conn.close()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ForwardingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
