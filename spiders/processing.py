"""External processing services: an apiUrl that is not a Diffbot API is a service called the way
Diffbot's APIs are, `GET {apiUrl}&url={pageUrl}` (crawlcore.api_url.service_url), returning
`{"objects": [...]}`, a list of objects, or one object.

Calls block, so they never run on the reactor thread: `ProcessingClient.submit` hands them to a
bounded thread pool (the concurrency cap) and returns a future. Calls go through
crawlbase.outbound: one deadline for each try (connect, redirects, whole response), a size cap,
at most MAX_REDIRECTS redirects, and retries of connection errors, timeouts, 408, 429 and 5xx
with the one backoff policy (crawlcore.webhook.retry_delay). A failure is never raised: the
result carries the text for the URL report's "Process Response" and the client counts it.

    client = ProcessingClient(concurrency=8, timeout=30.0, tries=3)
    future = client.submit("http://127.0.0.1:9000/extract?key=k", "https://example.com/page")
    result = future.result()          # ProcessResult(objects=[...], error="", status=200, tries=1)
    client.close()

Errors (ProcessResult.error), by cause:

    "HTTP 404 from processing service"                       a status that is not retried
    "HTTP 503 from processing service after 3 tries"         retried statuses, tries exhausted
    "processing service unreachable: connection failed after 3 tries"   refused, reset, DNS, TLS
    "processing service timed out after 3 tries"             no (complete) answer within the timeout
    "processing service error 500: <its message>"            {"error": ..., "errorCode": ...} (Diffbot's shape)
    "invalid response from processing service: ..."          not JSON, or JSON of another shape, or too large
    "processing service blocked: private network address ..." the deployment's NetGuard refuses its address

With a `guard` (the deployment's NetGuard, CRAWLFLEET_ALLOW_NETWORKS), the service's host and
every redirect's are resolved once and checked, and the call connects to the address checked, as
crawled URLs are: a service on a private network must be allowlisted.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import lxml.html

from crawlbase.outbound import (
    RETRY_STATUSES,
    InvalidUrl,
    Outbound,
    OutboundError,
    Refused,
    Resolver,
    TimedOut,
    TooLarge,
    resolve,
)
from crawlcore.api_url import ApiSpec, parse_api_url, service_url
from crawlcore.errors import InvalidParameter
from crawlcore.netguard import NetGuard

from .extractors import ExtractionError, custom_fields, extract, finish_objects
from .extractors.sandbox import DEFAULT_SELECTOR_TIMEOUT, SelectorResult, SelectorSandbox

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_TIMEOUT",
    "DEFAULT_TRIES",
    "PageProcessor",
    "ProcessResult",
    "Processed",
    "ProcessingClient",
    "parse_response",
]

DEFAULT_CONCURRENCY = 8  # calls in flight per worker process
DEFAULT_TIMEOUT = 30.0  # seconds, per call
DEFAULT_TRIES = 3
DEFAULT_BACKOFF = 0.5  # seconds before the first retry, doubling
MAX_BACKOFF = 10.0
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
MAX_REDIRECTS = 3  # a service may redirect a few times; every hop is checked by the guard
MAX_OBJECTS = 1000


@dataclass(frozen=True)
class ProcessResult:
    """What a service call produced: objects, or the error text for "Process Response"."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    status: int = 0  # the last HTTP status (0: none arrived)
    tries: int = 1

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def response(self) -> str:
        """The URL report's Process Response."""
        return self.error or "Success"


def parse_response(body: bytes) -> tuple[list[dict[str, Any]], str]:
    """(objects, error) from a service's 2xx body.

    >>> parse_response(b'{"objects": [{"type": "article", "title": "T"}]}')
    ([{'type': 'article', 'title': 'T'}], '')
    >>> parse_response(b'[{"title": "A"}, 7]')
    ([{'title': 'A'}], '')
    >>> parse_response(b'{"error": "Could not download page", "errorCode": 500}')
    ([], 'processing service error 500: Could not download page')
    >>> parse_response(b'<html>')[1]
    'invalid response from processing service: not JSON'
    """
    try:
        data = json.loads(body)
    except ValueError:
        return [], "invalid response from processing service: not JSON"
    if isinstance(data, dict) and "error" in data and "objects" not in data:
        code = data.get("errorCode")
        prefix = f"processing service error {code}" if code is not None else "processing service error"
        return [], f"{prefix}: {str(data['error'])[:500]}"
    if isinstance(data, dict) and "objects" in data:
        data = data["objects"]
    elif isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        return [], "invalid response from processing service: expected objects"
    return [o for o in data if isinstance(o, dict)][:MAX_OBJECTS], ""


class ProcessingClient:
    """Calls external processing services from a bounded thread pool, through the guarded
    outbound client. Constructing it starts nothing; threads start with the first call."""

    def __init__(self, *, concurrency: int = DEFAULT_CONCURRENCY, timeout: float = DEFAULT_TIMEOUT,
                 tries: int = DEFAULT_TRIES, backoff: float = DEFAULT_BACKOFF, user_agent: str = "crawlfleet",
                 max_bytes: int = MAX_RESPONSE_BYTES, guard: NetGuard | None = None,
                 sleep: Callable[[float], None] = time.sleep, resolver: Resolver = resolve) -> None:
        if concurrency < 1 or tries < 1 or timeout <= 0:
            raise ValueError("concurrency and tries must be at least 1, timeout positive")
        self.concurrency = concurrency
        self.timeout = timeout
        self.tries = tries
        self.backoff = backoff
        self.max_bytes = max_bytes
        self.guard = guard
        self._http = Outbound(guard, timeout=timeout, max_bytes=max_bytes, max_redirects=MAX_REDIRECTS,
                              user_agent=user_agent, resolver=resolver, sleep=sleep)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._in_flight = 0
        self.stats = {"calls": 0, "succeeded": 0, "failed": 0, "retries": 0}

    # ---------------------------------------------------------------- public

    @property
    def in_flight(self) -> int:
        """Calls submitted and not finished (queued ones included): for back-pressure."""
        return self._in_flight

    def submit(self, api_url: str, page_url: str) -> Future[ProcessResult]:
        """Queue a call; its future always completes with a ProcessResult."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="processing")
            self._in_flight += 1
            pool = self._pool
        future = pool.submit(self.call, api_url, page_url)
        future.add_done_callback(self._done)
        return future

    def call(self, api_url: str, page_url: str) -> ProcessResult:
        """One call with its retries, blocking (what the pool runs)."""
        outcome = self._http.fetch("GET", service_url(api_url, page_url), tries=self.tries, backoff=self.backoff,
                                   max_delay=MAX_BACKOFF, headers={"Accept": "application/json"},
                                   retried=self._retried)
        suffix = f" after {outcome.tries} tries" if outcome.tries > 1 else ""
        if outcome.error is not None:
            return self._finish(ProcessResult([], _error_text(outcome.error, suffix), 0, outcome.tries))
        reply = outcome.reply
        assert reply is not None
        if not 200 <= reply.status < 300:
            retried = suffix if reply.status in RETRY_STATUSES else ""
            return self._finish(ProcessResult([], f"HTTP {reply.status} from processing service{retried}",
                                              reply.status, outcome.tries))
        objects, problem = parse_response(reply.body)
        return self._finish(ProcessResult(objects, problem, reply.status, outcome.tries))

    def close(self, wait: bool = True) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=not wait)
        if wait or pool is None:
            self._http.close()

    # ---------------------------------------------------------------- helpers

    def _retried(self) -> None:
        with self._lock:
            self.stats["retries"] += 1

    def _done(self, _future: Future[ProcessResult]) -> None:
        with self._lock:
            self._in_flight -= 1

    def _finish(self, result: ProcessResult) -> ProcessResult:
        with self._lock:
            self.stats["calls"] += 1
            self.stats["succeeded" if result.ok else "failed"] += 1
        return result


def _error_text(error: OutboundError, suffix: str) -> str:
    """The Process Response of a call that got no answer (`suffix`: " after N tries", if retried)."""
    if isinstance(error, Refused):
        return f"processing service blocked: {error.reason}"
    if isinstance(error, TooLarge):
        return f"invalid response from processing service: {error}"
    if isinstance(error, InvalidUrl):
        return f"invalid processing service URL: {error}"
    if isinstance(error, TimedOut):
        return f"processing service timed out{suffix}"
    return f"processing service unreachable: {error}{suffix}"


# ---------------------------------------------------------------------------------------------
# A crawl's page processing in the worker: built-in extractors run at once (on the tree Scrapy
# parsed), external services through the ProcessingClient's pool.


@dataclass
class Processed:
    """What processing a page gave: the stored objects and the URL report's "Process Response";
    for an external service, `pending` is the call's future and `complete` finishes the output."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    response: str = ""
    pending: Future[ProcessResult] | None = None
    resolved_url: str = ""  # the page's final URL, for the objects of a pending call
    handoff: bool = False  # a crawl-role worker hands the page to process workers (spiders.handoff)

    @property
    def deferred(self) -> bool:
        """The objects come later: from a service call, or from a process worker."""
        return self.pending is not None or self.handoff


@functools.lru_cache(maxsize=1024)
def _spec(api_url: str) -> ApiSpec:
    return parse_api_url(api_url)


class PageProcessor:
    """Turns a processed page into objects under its crawl's apiUrl and `selectors`.

    Custom selectors run in `sandbox` (a child process under a per-page deadline of
    `selector_timeout` seconds, started by the first page that has selectors); a timeout or failure
    there is the page's Process Response, and the page keeps its object with the fields evaluated."""

    def __init__(self, client: ProcessingClient | None = None, *, handoff: bool = False,
                 selector_timeout: float = DEFAULT_SELECTOR_TIMEOUT) -> None:
        self.client = client or ProcessingClient()
        self.handoff = handoff  # built-in extraction is left to process workers (CRAWLFLEET_ROLE=crawl)
        self.sandbox = SelectorSandbox(selector_timeout)  # CRAWLFLEET_SELECTOR_TIMEOUT

    @property
    def in_flight(self) -> int:
        """External calls not finished: pages the worker holds while a service works on them."""
        return self.client.in_flight

    def close(self) -> None:
        self.client.close(wait=False)
        self.sandbox.close()

    def _custom(self, selectors: str, root: Any) -> SelectorResult:
        html = lxml.html.tostring(root, encoding="utf-8") if root is not None else b""
        return self.sandbox.evaluate(selectors, html)

    def process(self, *, api_url: str, selectors: str, root: Any, url: str, resolved_url: str, fp: bytes,
                crawl_id: str, crawl_name: str, crawl_round: int, crawled: float) -> Processed:
        """Process one page; never raises (a failure is the Process Response)."""
        try:
            spec = _spec(api_url)
            has_custom = bool(selectors.strip()) and bool(custom_fields(selectors))  # compiles: checks them
        except InvalidParameter as exc:  # a definition stored before it was validated
            return Processed([], f"Invalid processing settings: {exc}")
        finish = functools.partial(finish_objects, url=url, resolved_url=resolved_url, fp=fp, crawl_id=crawl_id,
                                   crawl_name=crawl_name, crawl_round=crawl_round, crawled=crawled)
        if spec.external:
            future = self.client.submit(spec.external_url, url)
            if not has_custom or root is None:
                return Processed([], "", future)
            extra = self._custom(selectors, root)
            return Processed([{"custom": extra.custom}], extra.error, future)
        if self.handoff:
            return Processed([], "", None, resolved_url, handoff=True)
        try:
            objects = extract(spec, url=url, resolved_url=resolved_url, root=root)
        except ExtractionError as exc:
            return Processed([], str(exc))
        if not objects:
            return Processed([], "Could not parse the page as HTML")
        note = ""
        if has_custom:
            result = self._custom(selectors, root)
            for obj in objects:
                obj["custom"] = result.custom
            note = result.error
        return Processed(finish(objects), note or "Success")

    @staticmethod
    def complete(processed: Processed, result: ProcessResult, *, url: str, resolved_url: str, fp: bytes,
                 crawl_id: str, crawl_name: str, crawl_round: int, crawled: float) -> Processed:
        """The objects of an external call's result (custom fields added to each), once it is done."""
        if not result.ok:
            return Processed([], result.response)
        extra = processed.objects[0]["custom"] if processed.objects else None
        raw = [{**o, "custom": extra} if extra is not None else o for o in result.objects]
        objects = finish_objects(raw, url=url, resolved_url=resolved_url, fp=fp, crawl_id=crawl_id,
                                 crawl_name=crawl_name, crawl_round=crawl_round, crawled=crawled)
        if not objects:
            return Processed([], "Processing service returned no objects")
        return Processed(objects, processed.response or "Success")  # a selectors timeout, when there was one
