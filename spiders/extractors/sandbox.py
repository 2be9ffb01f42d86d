"""Custom selectors under a deadline: evaluated in a child process that is killed when it overruns.

lxml evaluates XPath in C and nothing in the worker can interrupt it, while a selector like
`//*[count(//*[count(//*)>0])>0]` is cubic in the page's elements. So the selectors of a page run
in a child process (`python -m spiders.extractors.sandbox`, one per worker, started when the first
page with selectors comes): the worker sends it the page's HTML and the crawl's `selectors` and
waits at most the deadline (CRAWLFLEET_SELECTOR_TIMEOUT, 1 s by default) for the fields. A child
that overruns is killed. Fields the child gave before the deadline keep their
values, the others are null, and the page's Process Response names them:

    Selectors timed out after 1.0 s: slow (not evaluated: after)

A field that overran is evaluated last on the crawl's later pages, and one that overran on
MAX_OVERRUNS pages is no longer evaluated for that crawl's selectors (null, and the Process
Response says so), so a hostile field costs a worker at most MAX_OVERRUNS deadlines in all:

    Selectors skipped after timing out on 3 pages: slow

The page's thread (a crawl worker's reactor) waits for the child, so a hostile page costs a worker
at most the deadline; a normal page costs it the HTML's serialisation, the child's parse and the
fields, a few milliseconds. A new child's start (loading lxml and parsel) is not counted in any
page's deadline; one killed for overrunning is replaced at once. Crawls without selectors never
start the child.

    sandbox = SelectorSandbox(timeout=1.0)
    sandbox.evaluate('{"h": "h1::text"}', b"<h1>Hi</h1>")   # SelectorResult(custom={'h': 'Hi'}, error='')
    sandbox.close()

Wire format (the child's stdin and stdout), every frame a 4-byte big-endian length and its bytes:
the worker sends two frames, the selectors' JSON and the page's HTML (UTF-8); the child answers a
JSON frame `"ready"` once started, then for each page one `[name, value]` per field, in order,
and `null` when done (or `{"error": text}`).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from crawlcore.selectors import FieldSelector, parse_selectors

__all__ = ["DEFAULT_SELECTOR_TIMEOUT", "SelectorResult", "SelectorSandbox", "main"]

DEFAULT_SELECTOR_TIMEOUT = 1.0  # seconds a page's selectors may run (CRAWLFLEET_SELECTOR_TIMEOUT)
STARTUP_TIMEOUT = 60.0  # seconds a new child may take to load lxml and parsel (not counted in a page's deadline)
CHILD_MEMORY = 2 * 1024**3  # bytes of address space the child may use (a selector building huge node sets)
MAX_FRAME = 64 * 1024 * 1024
MAX_REMEMBERED = 1024  # selectors texts whose overrunning fields are remembered
MAX_OVERRUNS = 3  # pages a field may overrun the deadline on before it is no longer evaluated
_LENGTH = struct.Struct(">I")
_ROOT = str(Path(__file__).resolve().parents[2])  # the directory holding `spiders`, for the child's imports


@dataclass(frozen=True)
class SelectorResult:
    """A page's custom fields, and what went wrong for the Process Response ('' when nothing did)."""

    custom: dict[str, Any] = field(default_factory=dict)
    error: str = ""


class _ChildGone(Exception):
    """The child exited or broke the wire format."""


def _raw(selector: FieldSelector) -> Any:
    """A parsed field as it is written in `selectors` (explicit syntax, so it reads back the same)."""
    text = f"{selector.syntax}:{selector.query}"
    return [text] if selector.many else text


def _frame(data: bytes) -> bytes:
    return _LENGTH.pack(len(data)) + data


class _Child:
    """One child process and a reader of its frames with a deadline."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p)}
        self.proc = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=env, bufsize=0)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in: IO[bytes] = self.proc.stdin
        self._fd = self.proc.stdout.fileno()
        self._buffer = bytearray()
        self.ready = False

    def wait_ready(self) -> None:
        """Until the child has loaded its imports (a started child is not waited for until needed)."""
        if not self.ready:
            try:
                started = self.read(time.monotonic() + STARTUP_TIMEOUT)
            except TimeoutError:
                raise _ChildGone(f"it did not start within {STARTUP_TIMEOUT:g} s") from None
            if started != "ready":
                raise _ChildGone("it did not start")
            self.ready = True

    def send(self, selectors: str, html: bytes) -> None:
        try:
            self._in.write(_frame(selectors.encode("utf-8")) + _frame(html))
            self._in.flush()
        except OSError as exc:  # BrokenPipeError: it died
            raise _ChildGone(f"it exited ({exc})") from None

    def _fill(self, size: int, deadline: float) -> None:
        while len(self._buffer) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._fd], [], [], remaining)[0]:
                raise TimeoutError
            chunk = os.read(self._fd, max(size - len(self._buffer), 65536))
            if not chunk:
                raise _ChildGone(f"it exited with status {self.proc.wait()}")
            self._buffer += chunk

    def read(self, deadline: float) -> Any:
        """The next JSON frame, or TimeoutError when none is complete by `deadline` (monotonic)."""
        self._fill(_LENGTH.size, deadline)
        (size,) = _LENGTH.unpack_from(self._buffer)
        if size > MAX_FRAME:
            raise _ChildGone("it sent an oversized frame")
        self._fill(_LENGTH.size + size, deadline)
        data = bytes(self._buffer[_LENGTH.size:_LENGTH.size + size])
        del self._buffer[:_LENGTH.size + size]
        return json.loads(data)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self._in.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class SelectorSandbox:
    """Evaluates custom selectors in a child process under a per-page deadline; thread-safe (one
    page at a time). `evaluate` never raises: a failure is the result's `error`.

    A child killed for overrunning is replaced at once (its imports load while the crawl goes on).
    Fields that overran are evaluated last on the crawl's later pages, so that one hostile field
    does not keep the others from their values."""

    def __init__(self, timeout: float = DEFAULT_SELECTOR_TIMEOUT) -> None:
        self.timeout = timeout
        self._child: _Child | None = None
        self._lock = threading.Lock()
        self._slow: dict[str, dict[str, int]] = {}  # selectors text -> {field: pages it overran on}

    @property
    def running(self) -> bool:
        """True while a child process is up (it starts with the first page that has selectors)."""
        return self._child is not None and self._child.proc.poll() is None

    def evaluate(self, selectors: str, html: bytes) -> SelectorResult:
        """The custom fields of a page (`html` in UTF-8) under `selectors` (already validated)."""
        fields = parse_selectors(selectors)
        slow = self._slow.get(selectors, {})
        skipped = [n for n in fields if slow.get(n, 0) >= MAX_OVERRUNS]
        order = [n for n in fields if n not in slow] + [n for n in fields if 0 < slow.get(n, 0) < MAX_OVERRUNS]
        sent = selectors if not slow else json.dumps({n: _raw(fields[n]) for n in order})
        custom: dict[str, Any] = dict.fromkeys(fields)
        done: set[str] = set()
        note = f"Selectors skipped after timing out on {MAX_OVERRUNS} pages: {', '.join(skipped)}" if skipped else ""
        if not order:
            return SelectorResult(custom, note)
        result = self._run(selectors, sent, html, order, custom, done)
        if note:
            return SelectorResult(result.custom, f"{result.error}; {note}" if result.error else note)
        return result

    def _run(self, selectors: str, sent: str, html: bytes, order: list[str], custom: dict[str, Any],
             done: set[str]) -> SelectorResult:
        with self._lock:
            try:
                if self._child is None:
                    self._child = _Child()
                self._child.wait_ready()
                self._child.send(sent, html)
                deadline = time.monotonic() + self.timeout
                while (frame := self._child.read(deadline)) is not None:
                    if isinstance(frame, dict):
                        return SelectorResult(custom, f"Selectors failed: {frame.get('error')}")
                    name, value = frame
                    custom[name] = value
                    done.add(name)
                return SelectorResult(custom)
            except TimeoutError:
                self._replace()
                late = [n for n in order if n not in done]
                if not late:  # every field arrived; only the closing frame was late
                    return SelectorResult(custom)
                self._remember(selectors, late[0])
                rest = f" (not evaluated: {', '.join(late[1:])})" if late[1:] else ""
                return SelectorResult(custom, f"Selectors timed out after {float(self.timeout)} s: {late[0]}{rest}")
            except (_ChildGone, OSError, ValueError) as exc:
                self._stop()
                return SelectorResult(custom, f"Selectors failed: the selector process stopped: {exc}")

    def _remember(self, selectors: str, name: str) -> None:
        if len(self._slow) >= MAX_REMEMBERED and selectors not in self._slow:
            self._slow.clear()
        counts = self._slow.setdefault(selectors, {})
        counts[name] = counts.get(name, 0) + 1

    def _stop(self) -> None:
        if self._child is not None:
            self._child.kill()
            self._child = None

    def _replace(self) -> None:
        self._stop()
        self._child = _Child()

    def close(self) -> None:
        with self._lock:
            self._stop()


# ------------------------------------------------------------------------------------ the child

def _read_frame(stream: IO[bytes]) -> bytes | None:
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(header)
    data = stream.read(size)
    return data if len(data) == size else None


def _orphan_watch(parent: int) -> None:
    """Exit when the worker is gone, even in the middle of a selector (XPath runs without the GIL)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def main() -> None:
    """The child: answer pages until stdin closes."""
    out = os.fdopen(os.dup(1), "wb", buffering=0)  # frames only: anything printed goes to stderr
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the worker's group: the worker stops this child
    with contextlib.suppress(ValueError, OSError):  # where the platform refuses the limit, the deadline still holds
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
    threading.Thread(target=_orphan_watch, args=(os.getppid(),), daemon=True).start()
    import lxml.html
    from lxml import etree

    from .custom import custom_fields

    def send(value: Any) -> None:
        out.write(_frame(json.dumps(value, ensure_ascii=False).encode("utf-8")))

    parser = lxml.html.HTMLParser(encoding="utf-8")
    send("ready")
    stdin = sys.stdin.buffer
    while (selectors := _read_frame(stdin)) is not None and (html := _read_frame(stdin)) is not None:
        try:
            fields = custom_fields(selectors.decode("utf-8"))
            try:
                root = lxml.html.document_fromstring(html, parser=parser)
            except (etree.ParserError, ValueError):
                root = None
            for name, value in fields.values(root):
                send([name, value])
            send(None)
        except Exception as exc:  # a bad definition or a bug: the page's error, and the child goes on
            send({"error": f"{type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    main()
