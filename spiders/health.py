"""A worker's HTTP port: `/metrics` (Prometheus) and `/healthz` (liveness), and the exec probe.

`/healthz` answers 200 while the worker's event loop has beaten within the heartbeat timeout
and 503 once it has not: the server runs in its own thread, so it keeps answering when the
Twisted reactor is stuck, and that is exactly what it reports. Redis and MongoDB are not
checked: a worker cannot fix a store outage by restarting (it retries and keeps its leases).

    $ curl -s localhost:9410/healthz
    {"status": "ok", "heartbeat_age_seconds": 0.4, "timeout_seconds": 30.0}
    $ python -m spiders.health          # exec probe: exit 0 when healthy, 1 otherwise
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client.exposition import choose_encoder

from .metrics import WorkerMetrics

__all__ = ["TelemetryServer", "main", "probe"]

log = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            self._send(200, content_type, encoder(self.server.metrics.registry))
        elif path == "/healthz":
            age = self.server.metrics.heartbeat_age()
            ok = age <= self.server.timeout_seconds
            body = {"status": "ok" if ok else "stuck", "heartbeat_age_seconds": round(age, 3),
                    "timeout_seconds": self.server.timeout_seconds}
            self._send(200 if ok else 503, "application/json", json.dumps(body).encode())
        else:
            self._send(404, "text/plain; charset=utf-8", b"not found: try /metrics or /healthz\n")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # scrapes every few seconds: not worth a log line
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], metrics: WorkerMetrics, timeout_seconds: float) -> None:
        self.metrics = metrics
        self.timeout_seconds = timeout_seconds
        super().__init__(address, _Handler)


class TelemetryServer:
    """Serves a worker's metrics and liveness from a daemon thread.

        >>> server = TelemetryServer(WorkerMetrics(), "127.0.0.1", 0, timeout_seconds=30)
        >>> server.start(); server.port > 0                          # doctest: +SKIP
        True
        >>> server.stop()                                            # doctest: +SKIP
    """

    def __init__(self, metrics: WorkerMetrics, host: str, port: int, *, timeout_seconds: float) -> None:
        self.metrics = metrics
        self.host = host
        self.port = port
        self.timeout_seconds = timeout_seconds
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind and serve; raises OSError when the port cannot be bound."""
        self._server = _Server((self.host, self.port), self.metrics, self.timeout_seconds)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.5},
                                        name="crawlfleet-telemetry", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def probe(url: str, timeout: float) -> tuple[bool, str]:
    """GET a /healthz URL: (healthy, what it said)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return False, exc.read().decode(errors="replace")
    except OSError as exc:
        return False, f"{type(exc).__name__}: {exc}"


def main(argv: Sequence[str] | None = None) -> int:
    """Exec liveness probe for containers: exit 0 when the worker's /healthz says so."""
    parser = argparse.ArgumentParser(prog="python -m spiders.health", description=main.__doc__)
    port = os.environ.get("CRAWLFLEET_METRICS_PORT") or "9410"
    parser.add_argument("--url", default=f"http://127.0.0.1:{port}/healthz",
                        help="the worker's /healthz (default: port CRAWLFLEET_METRICS_PORT on loopback)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for an answer")
    args = parser.parse_args(argv)
    healthy, said = probe(args.url, args.timeout)
    print(said.strip())
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
