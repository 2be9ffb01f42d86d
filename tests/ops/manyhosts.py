"""Serve a tiny site on each of N loopback addresses (127.0.1.1, 127.0.1.2, ...), one port.

    python -m tests.ops.manyhosts 500      # prints the port, then serves until killed

Every host has /robots.txt (allow all), / linking to /a and /b, and those two leaves: N
distinct hosts for the tests that check a worker's series do not grow with the hosts it
visits. Linux routes all of 127.0.0.0/8 to the loopback interface, so no setup is needed.
"""

from __future__ import annotations

import asyncio
import socket
import sys

PAGES = {
    "/robots.txt": ("text/plain", "User-agent: *\nAllow: /\n"),
    "/": ("text/html", '<html><head><title>home</title></head><body><a href="/a">a</a> <a href="/b">b</a>'
                       "</body></html>"),
    "/a": ("text/html", "<html><head><title>a</title></head><body>leaf a</body></html>"),
    "/b": ("text/html", "<html><head><title>b</title></head><body>leaf b</body></html>"),
}


def address(i: int) -> str:
    """The i-th host: 127.0.1.1 ... 127.0.1.250, 127.0.2.1, ..."""
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        request = await reader.readuntil(b"\r\n\r\n")
        path = request.split(b" ", 2)[1].decode("latin-1").split("?", 1)[0]
        content_type, body = PAGES.get(path, ("text/plain", "not found"))
        status = "200 OK" if path in PAGES else "404 Not Found"
        data = body.encode()
        writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(data)}\r\n"
                     f"Connection: close\r\n\r\n".encode() + data)
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, IndexError):
        pass
    finally:
        writer.close()


async def serve(count: int) -> None:
    with socket.socket() as probe:  # a port that is free on the first address; the others share it
        probe.bind((address(0), 0))
        port = probe.getsockname()[1]
    servers = [await asyncio.start_server(handle, address(i), port) for i in range(count)]
    print(port, flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
