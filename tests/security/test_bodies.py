"""Attack: a huge request body, sent before any authentication.

The controller must refuse a body over CRAWLFLEET_MAX_BODY (1 MiB) with 413 naming the body,
at once when Content-Length says so and the moment a chunked body passes the limit, without
holding the body in memory. The attacks go over raw sockets to a real controller process, so
that nothing on the client side buffers, completes or corrects the body.
"""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Cluster, base_env, unique

MIB = 1 << 20
LIMIT = MIB  # the default of CRAWLFLEET_MAX_BODY
ATTACK = 64 * MIB
CHUNK = 64 * 1024
PATHS = {"/v3/crawl": "v3", "/api/v1/crawls": "v1", "/api/v1/auth/login": "v1"}


@pytest.fixture(scope="module")
def controller(redis_url: str, mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A controller process of its own, so that its memory is only these tests'."""
    c = Cluster(base_env(redis_url, mongo_url, "bod"), tmp_path_factory.mktemp("bodies"))
    try:
        yield c
    finally:
        c.stop()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _connect(c: Cluster) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", int(c.env["CRAWLFLEET_PORT"])), timeout=30)
    return sock


def _head(path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/x-www-form-urlencoded",
             *headers, "", ""]
    return "\r\n".join(lines).encode()


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            raise AssertionError(f"connection closed before a response: {data!r}")
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return int(status_line.split()[1]), headers, body[:length]


def _answered(sock: socket.socket) -> bool:
    return bool(select.select([sock], [], [], 0)[0])


def send_declared(c: Cluster, path: str, size: int) -> tuple[int, dict[str, str], bytes]:
    """Declare a body of `size` bytes; send nothing of it until the controller has answered."""
    with _connect(c) as sock:
        sock.sendall(_head(path, f"Content-Length: {size}"))
        return _read_response(sock)


def send_chunked(c: Cluster, path: str, size: int) -> tuple[int, dict[str, str], bytes, int]:
    """Stream up to `size` bytes chunked, stopping when the controller answers; also how much was sent."""
    chunk = b"%x\r\n" % CHUNK + b"a" * CHUNK + b"\r\n"
    sent = 0
    with _connect(c) as sock:
        sock.sendall(_head(path, "Transfer-Encoding: chunked"))
        while sent < size and not _answered(sock):
            try:
                sock.sendall(chunk)
            except OSError:
                break  # closed on us: the answer is already on its way
            sent += CHUNK
            if sent == 2 * LIMIT:  # well past the limit: give the controller time to answer before sending on
                select.select([sock], [], [], 5.0)
        return (*_read_response(sock), sent)


def assert_refused(kind: str, status: int, headers: dict[str, str], body: bytes) -> None:
    assert status == 413, body
    doc = json.loads(body)
    if kind == "v3":
        assert doc["errorCode"] == 413 and "body" in doc["error"], doc
    else:
        assert headers["content-type"].startswith("application/problem+json")
        assert doc["status"] == 413 and doc["code"] == "payload_too_large", doc
        assert doc["errors"][0]["field"] == "body", doc


def test_a_declared_oversized_body_is_refused_before_it_is_sent(controller: Cluster) -> None:
    for path, kind in PATHS.items():
        status, headers, body = send_declared(controller, path, ATTACK)
        assert_refused(kind, status, headers, body)
        assert headers.get("connection") == "close"


def test_a_chunked_body_is_refused_the_moment_it_passes_the_limit(controller: Cluster) -> None:
    for path, kind in PATHS.items():
        status, headers, body, sent = send_chunked(controller, path, ATTACK)
        assert_refused(kind, status, headers, body)
        assert sent < ATTACK, "the controller read the whole 64 MiB before answering"


def test_huge_bodies_leave_the_controllers_memory_alone(controller: Cluster) -> None:
    pid = controller.controller.popen.pid
    for path in PATHS:  # warm up every code path once (a body just past the limit)
        send_declared(controller, path, LIMIT + 1)
        send_chunked(controller, path, 2 * LIMIT)
    before = rss_kib(pid)
    for path in PATHS:
        send_declared(controller, path, ATTACK)
        send_chunked(controller, path, ATTACK)
    time.sleep(0.5)
    grown = rss_kib(pid) - before
    assert grown < 2 * 1024, f"the controller's RSS grew by {grown} KiB"


def test_a_normal_create_still_works(controller: Cluster) -> None:
    name = unique("bodies")
    job = controller.create(name, "http://127.0.0.1:9/")
    assert job["name"] == name


def test_a_body_just_under_the_limit_is_parsed(controller: Cluster) -> None:
    filler = "x=" + "a" * (LIMIT - 200)
    form = f"token={controller.token}&name=under-limit&{filler}"
    resp = controller.http.post("/v3/crawl", content=form.encode(),
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 404, resp.text  # parsed: it names a crawl that does not exist
    assert "under-limit" in resp.json()["error"], resp.text
    resp = controller.http.post("/api/v1/auth/login", content=b" " * (LIMIT - 100) + b'{"username": "nobody"}',
                                headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text  # parsed: no password
    assert resp.json()["errors"][0]["field"] == "password", resp.text


def send_long_head(c: Cluster, size: int) -> tuple[int, int]:
    """Stream a header of `size` bytes that never ends, stopping when the controller answers or closes;
    (the status, or 0 for a close without one; the bytes sent)."""
    sent = 0
    with _connect(c) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ")
        while sent < size and not _answered(sock):
            try:
                sock.sendall(b"a" * CHUNK)
            except OSError:
                return 0, sent
            sent += CHUNK
            if sent == 2 * LIMIT:
                select.select([sock], [], [], 5.0)
        try:
            first = sock.recv(65536)
        except OSError:  # reset, or no answer at all (the socket's timeout)
            return 0, sent
        return (int(first.split()[1]) if first else 0), sent


def test_an_endless_request_head_is_cut_off(controller: Cluster) -> None:
    pid = controller.controller.popen.pid
    send_long_head(controller, 2 * LIMIT)  # warm up
    before = rss_kib(pid)
    status, sent = send_long_head(controller, ATTACK)
    assert status in (0, 400, 431) and sent < ATTACK, (status, sent)
    assert rss_kib(pid) - before < 2 * 1024
    ok = controller.http.get("/healthz", headers={"X-Filler": "a" * 8000})  # a large but sane header
    assert ok.status_code == 200
