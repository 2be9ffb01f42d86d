"""The one client for requests crawlfleet makes on a user's behalf that are not crawl fetches:
external processing services (spiders.processing), /v3 notifyWebhook (controller.notifier) and
/api/v1 webhooks (controller.api_v1.housekeeper).

A user chooses where these go, so each is guarded like a crawl fetch, and bounded:

- the host is resolved once (`resolve`, injectable), every address it resolves to is checked
  with the deployment's guard (crawlcore.netguard), and the connection goes to exactly the
  address checked: the URL's host is rewritten to it, the Host header kept, and for https the
  real name is sent as SNI and verified (no second lookup that could answer otherwise: no DNS
  rebinding);
- every redirect hop it follows is checked the same way; a caller says how many it follows
  (`max_redirects`, 0: a redirect is the answer);
- one deadline for the whole request (connect, every hop, headers and body), enforced on every
  socket operation, so a server trickling bytes cannot hold it longer;
- the body is streamed and refused past `max_bytes` (decoded size: no compression bombs);
- no proxies or certificates from the environment (trust_env=False), no cookies kept;
- retries (`fetch`) follow one backoff policy, crawlcore.webhook.retry_delay.

Failures are exceptions of one family, OutboundError, whose text is coarse on purpose (a
webhook's delivery log must not tell a refused port from a reset one):

    >>> str(Refused("private network address 10.0.0.1")), str(ConnectionFailed()), str(TimedOut())
    ('refused: private network address 10.0.0.1', 'connection failed', 'timed out')

    client = Outbound(guard, timeout=10.0, max_bytes=1 << 20, max_redirects=0)
    reply = client.request("POST", "https://hooks.example.com/x", content=b"{}")   # Reply(status=204, ...)
"""

from __future__ import annotations

import http.cookiejar
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from crawlcore.netguard import NetGuard, ip_literal
from crawlcore.webhook import retry_delay

__all__ = [
    "RETRY_STATUSES",
    "ConnectionFailed",
    "InvalidUrl",
    "Outbound",
    "OutboundError",
    "Outcome",
    "Refused",
    "Reply",
    "Resolver",
    "TimedOut",
    "TooLarge",
    "resolve",
]

#: Answers worth another try: the service is busy or briefly broken.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, in the resolver's order (the system resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# ---------------------------------------------------------------------- errors


class OutboundError(Exception):
    """No usable answer. `str()` is the coarse text callers may record; `retry`: worth another try."""

    retry = False
    text = "request failed"

    def __str__(self) -> str:
        return self.text


class Refused(OutboundError):
    """The guard refused an address the request (or one of its redirects) would have gone to."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"refused: {self.reason}"


class ConnectionFailed(OutboundError):
    """Unknown name, refused or reset connection, TLS or protocol failure: one text for all."""

    retry = True
    text = "connection failed"


class TimedOut(OutboundError):
    retry = True
    text = "timed out"


class TooLarge(OutboundError):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit

    def __str__(self) -> str:
        return f"larger than {self.limit} bytes"


class InvalidUrl(OutboundError):
    text = "not an http(s) URL"


# ---------------------------------------------------------------------- the deadline, on every socket operation

_current = threading.local()  # the deadline of the request this thread is making


def _left(deadline: float | None, timeout: float | None) -> float | None:
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: float | None) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(self._deadline, timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(self._deadline, timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(ssl_context, server_hostname, _left(self._deadline, timeout))
        return _DeadlineStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """TCP connections whose every operation ends by the deadline of the request that opened them
    (connections are never reused, so a connection serves one request)."""

    def __init__(self) -> None:
        self._sync = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        deadline = getattr(_current, "deadline", None)
        stream = self._sync.connect_tcp(host, port, _left(deadline, timeout), local_address, socket_options)
        return _DeadlineStream(stream, deadline)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not used")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


# ---------------------------------------------------------------------- the transport: resolve once, check, connect


def _translate(exc: Exception) -> OutboundError:
    if isinstance(exc, OutboundError):
        return exc
    if isinstance(exc, httpcore.TimeoutException | httpx.TimeoutException | TimeoutError):
        return TimedOut()
    if isinstance(exc, httpcore.UnsupportedProtocol | httpx.UnsupportedProtocol | httpx.InvalidURL):
        return InvalidUrl()
    return ConnectionFailed()


class _Body(httpx.SyncByteStream):
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._stream
        except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError, OSError) as exc:
            raise _translate(exc) from exc

    def close(self) -> None:
        self._stream.close()


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport that connects only to addresses the guard allows, and to exactly those."""

    def __init__(self, guard: NetGuard | None, resolver: Resolver = resolve,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.guard = guard
        self.resolver = resolver
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=None, max_keepalive_connections=0,
            network_backend=_DeadlineBackend(),
        )

    def address(self, host: str, port: int) -> str:
        """The one address to connect to for `host`: Refused when the guard refuses any of them."""
        literal = ip_literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                addresses = self.resolver(host, port)
            except (OSError, UnicodeError):
                raise ConnectionFailed() from None
        if not addresses:
            raise ConnectionFailed()
        if self.guard is not None:
            reason = self.guard.refusal(host, addresses)
            if reason is not None:
                raise Refused(reason)
        return addresses[0]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https") or not url.host:
            raise InvalidUrl()
        port = url.port or (443 if url.scheme == "https" else 80)
        address = self.address(url.host, port)
        extensions: dict[str, Any] = {"timeout": request.extensions.get("timeout", {})}
        if url.scheme == "https" and ip_literal(url.host) is None:
            extensions["sni_hostname"] = url.host  # TLS sends and verifies the real name
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=address.encode("ascii"), port=port, target=url.raw_path),
            headers=request.headers.raw,  # Host: the name, as httpx set it from the URL
            content=request.stream,
            extensions=extensions,
        )
        try:
            response = self._pool.handle_request(core)
        except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError,
                httpcore.UnsupportedProtocol, OSError) as exc:
            raise _translate(exc) from exc
        return httpx.Response(response.status, headers=response.headers, stream=_Body(response.stream),
                              extensions=response.extensions)

    def close(self) -> None:
        self._pool.close()


# ---------------------------------------------------------------------- the client


@dataclass(frozen=True)
class Reply:
    status: int
    headers: httpx.Headers
    body: bytes
    url: str  # where the answer came from (after the redirects followed)


@dataclass(frozen=True)
class Outcome:
    """What `fetch` got after its tries: a reply (any status) or the last error."""

    reply: Reply | None
    error: OutboundError | None
    tries: int


class Outbound:
    """Guarded, bounded HTTP requests (thread-safe: one client serves a thread pool)."""

    def __init__(self, guard: NetGuard | None, *, timeout: float, max_bytes: int, max_redirects: int = 0,
                 user_agent: str = "crawlfleet", resolver: Resolver = resolve,
                 sleep: Callable[[float], None] = time.sleep, ssl_context: ssl.SSLContext | None = None) -> None:
        """`ssl_context`: the certificates trusted (default: certifi's, never the environment's)."""
        if timeout <= 0 or max_bytes < 1 or max_redirects < 0:
            raise ValueError("timeout and max_bytes must be positive, max_redirects at least 0")
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.sleep = sleep
        self.transport = GuardedTransport(guard, resolver, ssl_context)
        # a jar that accepts no cookie: nothing one receiver sets rides along to another request
        # (threads share this client; clearing after each request would leave a window)
        no_cookies = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        self.http = httpx.Client(transport=self.transport, trust_env=False, follow_redirects=False, timeout=timeout,
                                 headers={"User-Agent": user_agent}, cookies=no_cookies)

    def request(self, method: str, url: str, *, content: bytes | None = None,
                headers: Mapping[str, str] | None = None, read_body: bool = True) -> Reply:
        """One request (and the redirects it may follow), within `timeout` seconds in all.
        `read_body=False`: only the status matters (the body is left unread, Reply.body empty)."""
        previous = getattr(_current, "deadline", None)
        _current.deadline = deadline = time.monotonic() + self.timeout
        try:
            try:
                request = self.http.build_request(method, url, content=content, headers=headers)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
                raise InvalidUrl() from exc
            for hop in range(self.max_redirects + 1):
                try:
                    response = self.http.send(request, stream=True)
                except httpx.HTTPError as exc:
                    raise _translate(exc) from exc
                try:
                    follow = response.next_request
                    if response.is_redirect and follow is not None and hop < self.max_redirects:
                        request = follow
                        continue
                    body = self._body(response, deadline) if read_body else b""
                    return Reply(response.status_code, response.headers, body, str(request.url))
                finally:
                    response.close()
            raise AssertionError("unreachable")  # the last hop returns
        finally:
            _current.deadline = previous

    def fetch(self, method: str, url: str, *, tries: int, backoff: float, max_delay: float,
              content: bytes | None = None, headers: Mapping[str, str] | None = None,
              retried: Callable[[], None] | None = None) -> Outcome:
        """`request` up to `tries` times while it fails retryably (connection, timeout) or answers
        a RETRY_STATUSES status; waits retry_delay(n, backoff, factor=2) (at most `max_delay`)
        before try n + 1, calling `retried` first."""
        outcome = Outcome(None, None, 0)
        for attempt in range(1, tries + 1):
            if attempt > 1:
                if retried is not None:
                    retried()
                self.sleep(retry_delay(attempt - 1, backoff, factor=2.0, cap=max_delay))
            try:
                reply = self.request(method, url, content=content, headers=headers)
            except OutboundError as exc:
                outcome = Outcome(None, exc, attempt)
                if not exc.retry:
                    return outcome
                continue
            outcome = Outcome(reply, None, attempt)
            if reply.status not in RETRY_STATUSES:
                return outcome
        return outcome

    def _body(self, response: httpx.Response, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise TooLarge(self.max_bytes)
                if time.monotonic() > deadline:
                    raise TimedOut()
                chunks.append(chunk)
        except httpx.HTTPError as exc:  # a body httpx cannot decode
            raise _translate(exc) from exc
        return b"".join(chunks)

    def close(self) -> None:
        self.http.close()
