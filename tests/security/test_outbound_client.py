"""crawlbase.outbound against real loopback servers: the guard on every hop, one DNS answer used
for both the check and the connection, the size cap, the total deadline, retries with backoff."""

from __future__ import annotations

import gzip
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from crawlbase.outbound import ConnectionFailed, InvalidUrl, Outbound, Refused, TimedOut, TooLarge
from crawlcore.netguard import NetGuard
from tests.security.conftest import GUARD, INTERNAL_HOST, Internal
from tests.security.support_outbound import Answer, redirect_to, scripted

pytestmark = pytest.mark.servers

GUARDED = NetGuard.parse(GUARD)


@pytest.fixture
def client() -> Iterator[Outbound]:
    c = Outbound(GUARDED, timeout=10.0, max_bytes=10_000, max_redirects=3)
    yield c
    c.close()


def test_a_plain_request_is_answered(client: Outbound) -> None:
    with scripted(lambda hit: Answer(200, b'{"ok": 1}')) as server:
        reply = client.request("POST", server.url + "/x", content=b"body", headers={"X-A": "1"})
    assert (reply.status, reply.body) == (200, b'{"ok": 1}')
    (hit,) = server.hits
    assert (hit.method, hit.path, hit.body, hit.headers["X-A"]) == ("POST", "/x", b"body", "1")


def test_a_private_address_is_refused_before_any_connection(client: Outbound, internal: Internal) -> None:
    before = len(internal.hits)
    with pytest.raises(Refused) as refused:
        client.request("GET", internal.url + "/")
    assert str(refused.value) == "refused: private network address 127.0.0.2"
    assert internal.hits[before:] == []


def test_a_redirect_to_a_private_address_is_refused(client: Outbound, internal: Internal) -> None:
    before = len(internal.hits)
    with scripted(redirect_to(internal.url + "/secret")) as server, pytest.raises(Refused):
        client.request("GET", server.url + "/")
    assert len(server.hits) == 1 and internal.hits[before:] == []


def test_a_cookie_one_receiver_sets_is_never_sent(client: Outbound) -> None:
    """Threads share one client: a Set-Cookie from one webhook receiver must not ride along on a
    later request (to it or to anyone)."""
    answer = Answer(200, b"{}", {"Content-Type": "application/json", "Set-Cookie": "session=stolen; Path=/"})
    with scripted(lambda hit: answer) as server:
        client.request("GET", server.url + "/first")
        client.request("GET", server.url + "/second")
    assert [h.headers.get("Cookie") for h in server.hits] == [None, None]


def test_allowed_redirects_are_followed_up_to_the_cap() -> None:
    with scripted(lambda hit: Answer(200, b"end")) as target, scripted(redirect_to(target.url + "/end")) as hop:
        follows = Outbound(GUARDED, timeout=10.0, max_bytes=100, max_redirects=1)
        none = Outbound(GUARDED, timeout=10.0, max_bytes=100, max_redirects=0)
        try:
            reply = follows.request("GET", hop.url + "/")
            assert (reply.status, reply.body, reply.url) == (200, b"end", target.url + "/end")
            assert none.request("GET", hop.url + "/").status == 302  # a redirect is the answer
        finally:
            follows.close()
            none.close()
    assert len(target.hits) == 1 and len(hop.hits) == 2


def _listener(host: str, port: int) -> tuple[socket.socket, list[object]]:
    """A bare listening socket that records the connections it accepts."""
    sock = socket.socket()
    sock.bind((host, port))
    sock.listen(8)
    accepted: list[object] = []

    def run() -> None:
        while True:
            try:
                conn, peer = sock.accept()
            except OSError:
                return
            accepted.append(peer)
            conn.close()

    threading.Thread(target=run, daemon=True).start()
    return sock, accepted


def test_the_address_checked_is_the_address_connected_to() -> None:
    """DNS rebinding: a name that answers an allowed address to the check and a private one to
    any later lookup. The client looks up once and connects where it checked."""
    answers = iter([["127.0.0.1"]])
    lookups: list[tuple[str, int]] = []

    def rebinding(host: str, port: int) -> list[str]:
        lookups.append((host, port))
        return next(answers, [INTERNAL_HOST])

    with scripted(lambda hit: Answer(200, b"public")) as public:
        port = public.server.server_address[1]
        sock, accepted = _listener(INTERNAL_HOST, port)
        client = Outbound(GUARDED, timeout=10.0, max_bytes=100, resolver=rebinding)
        try:
            reply = client.request("GET", f"http://rebind.test:{port}/page")
            with pytest.raises(Refused):  # the second request's lookup answers the private address
                client.request("GET", f"http://rebind.test:{port}/page")
        finally:
            client.close()
            sock.close()
    assert reply.body == b"public" and public.hits[0].headers["Host"] == f"rebind.test:{port}"
    assert lookups == [("rebind.test", port)] * 2 and accepted == []


def test_a_name_with_one_private_address_among_public_ones_is_refused() -> None:
    client = Outbound(GUARDED, timeout=10.0, max_bytes=100, resolver=lambda h, p: ["127.0.0.1", INTERNAL_HOST])
    try:
        with pytest.raises(Refused):
            client.request("GET", "http://mixed.test/")
    finally:
        client.close()


def test_bodies_past_the_cap_are_refused_compressed_or_not(client: Outbound) -> None:
    big = b"x" * 20_000
    with scripted(lambda hit: Answer(200, big)) as plain, pytest.raises(TooLarge) as too_large:
        client.request("GET", plain.url)
    assert str(too_large.value) == "larger than 10000 bytes"
    bomb = gzip.compress(b"\0" * 1_000_000)
    assert len(bomb) < 10_000
    with scripted(lambda hit: Answer(200, bomb, {"Content-Encoding": "gzip"})) as zipped, pytest.raises(TooLarge):
        client.request("GET", zipped.url)


def test_one_deadline_for_the_whole_request_however_slowly_bytes_trickle() -> None:
    client = Outbound(GUARDED, timeout=1.0, max_bytes=10_000)
    try:
        with scripted(lambda hit: Answer(200, b"y" * 100, trickle=0.1)) as slow:
            started = time.monotonic()
            with pytest.raises(TimedOut):
                client.request("GET", slow.url)
            assert time.monotonic() - started < 3.0  # the bound itself: 1 s, plus scheduling on a busy machine
        sock = socket.socket()  # a server trickling its status line and headers
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        stop = threading.Event()

        def trickle_headers() -> None:
            conn, _ = sock.accept()
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.wait(0.05):
                try:
                    conn.sendall(b"X")
                except OSError:
                    return
            conn.close()

        threading.Thread(target=trickle_headers, daemon=True).start()
        started = time.monotonic()
        with pytest.raises(TimedOut):
            client.request("GET", f"http://127.0.0.1:{sock.getsockname()[1]}/")
        assert time.monotonic() - started < 3.0
        stop.set()
        sock.close()
    finally:
        client.close()


def test_retries_back_off_by_the_one_policy_with_an_injected_sleep() -> None:
    answers = iter([503, 429, 200])
    slept: list[float] = []
    retried: list[int] = []
    client = Outbound(GUARDED, timeout=10.0, max_bytes=100, sleep=slept.append)
    try:
        with scripted(lambda hit: Answer(next(answers), b"{}")) as flaky:
            outcome = client.fetch("GET", flaky.url, tries=3, backoff=0.5, max_delay=10.0,
                                   retried=lambda: retried.append(1))
        assert outcome.reply is not None and (outcome.reply.status, outcome.tries) == (200, 3)
        assert slept == [0.5, 1.0] and len(retried) == 2
        slept.clear()
        with scripted(lambda hit: Answer(404, b"")) as missing:
            outcome = client.fetch("GET", missing.url, tries=3, backoff=0.5, max_delay=10.0)
        assert outcome.reply is not None and (outcome.reply.status, outcome.tries, slept) == (404, 1, [])
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        closed.close()
        outcome = client.fetch("GET", f"http://127.0.0.1:{port}/", tries=4, backoff=4.0, max_delay=10.0)
        assert isinstance(outcome.error, ConnectionFailed) and outcome.tries == 4 and slept == [4.0, 8.0, 10.0]
        slept.clear()
        outcome = client.fetch("GET", "http://127.0.0.2/", tries=3, backoff=1.0, max_delay=10.0)
        assert isinstance(outcome.error, Refused) and outcome.tries == 1 and slept == []  # never retried
    finally:
        client.close()


def test_no_proxy_from_the_environment_and_only_http(monkeypatch: pytest.MonkeyPatch, client: Outbound) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    with scripted(lambda hit: Answer(200, b"direct")) as server:
        fresh = Outbound(GUARDED, timeout=10.0, max_bytes=100)
        try:
            assert fresh.request("GET", server.url).body == b"direct"
            with pytest.raises(InvalidUrl):
                fresh.request("GET", "file:///etc/passwd")
        finally:
            fresh.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for the name svc.test: (certificate file, key file)."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = str(directory / "cert.pem"), str(directory / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=svc.test",
                    "-addext", "subjectAltName=DNS:svc.test", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_https_connects_to_the_checked_address_and_verifies_the_real_name(certificate: tuple[str, str]) -> None:
    cert, key = certificate
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    names: list[str | None] = []

    def sni(sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        names.append(name)

    served.sni_callback = sni
    trusted = ssl.create_default_context(cafile=cert)
    with scripted(lambda hit: Answer(200, b"secure")) as server:
        server.server.socket = served.wrap_socket(server.server.socket, server_side=True)
        port = server.server.server_address[1]
        client = Outbound(GUARDED, timeout=10.0, max_bytes=100, resolver=lambda h, p: ["127.0.0.1"],
                          ssl_context=trusted)
        try:
            assert client.request("GET", f"https://svc.test:{port}/").body == b"secure"
            with pytest.raises(ConnectionFailed):  # the certificate is checked against the name, not the address
                client.request("GET", f"https://other.test:{port}/")
        finally:
            client.close()
    assert names[0] == "svc.test" and server.hits[0].headers["Host"] == f"svc.test:{port}"
