"""Turn what happened to a leased request into its output: a URL-report row, the objects of a
processed page, and the frontier result (outcome, counters, links found).

This module translates Scrapy responses and failures into plain values and calls the core
for every decision (scope, links, patterns, report fields).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawlcore.links import follow
from crawlcore.patterns import page_matches
from crawlcore.report import Outcome, UrlRecord
from crawlcore.urls import doc_id, fingerprint, host_of, normalize
from crawlstore.frontier import Discovery, PageResult
from crawlstore.frontier import Outcome as Kind
from crawlstore.output import url_id

from .catalog import CrawlInfo
from .extract import read_page
from .leases import Lease
from .middlewares import RobotsDisallowed, RobotsUnreachable
from .netguard import BlockedAddress
from .processing import PageProcessor, Processed, ProcessResult

__all__ = ["PageBuilder", "PageOutput"]

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 522, 524})


@dataclass
class PageOutput:
    """Everything one lease produced, ready for the committer."""

    lease: Lease
    result: PageResult
    url_doc: dict[str, Any] | None = None
    object_docs: list[dict[str, Any]] = field(default_factory=list)
    filtered: int = 0  # distinct links found that the crawl's scope or patterns left out (a metric)
    pending: Processed | None = None  # an external processing call to wait for (PageBuilder.completed)


def content_fingerprint(body: bytes) -> bytes:
    """Identity of a page's bytes: pages with equal fingerprints are duplicates."""
    return hashlib.blake2b(body, digest_size=8).digest()


def _is_html(content_type: str) -> bool:
    return content_type.lower().startswith(_HTML_TYPES)


def _error_text(failure: Failure) -> str:
    exc = failure.value
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text and text != name else name


class PageBuilder:
    def __init__(self, max_tries: int, clock: Callable[[], float] = time.time,
                 processor: PageProcessor | None = None) -> None:
        self.max_tries = max_tries
        self.clock = clock
        self.processor = processor or PageProcessor()

    # ------------------------------------------------------------------ helpers

    def _discovery(self, crawl: CrawlInfo, url: str, delta: int = 1) -> Discovery:
        return Discovery(url, fingerprint(url), host_of(url), crawl.scope.processes(url), delta)

    def _record(self, crawl: CrawlInfo, lease: Lease, outcome: Outcome, **fields: Any) -> UrlRecord:
        req = lease.request
        return UrlRecord(
            url=req.url, fp=fingerprint(req.url).hex(), round=lease.round, hop=req.hop,
            tries=req.tries + 1, discovered=float(req.discovered), crawled=self.clock(), outcome=outcome, **fields,
        )

    def _output(self, crawl: CrawlInfo, lease: Lease, kind: str, record: UrlRecord | None = None,
                links: list[Discovery] | None = None, objects: list[dict[str, Any]] | None = None,
                delay_ms: int = -1, content_fp: bytes = b"") -> PageOutput:
        objects = objects or []
        url_doc = None
        if record is not None:
            url_doc = {**record.to_doc(), "_id": url_id(crawl.id, lease.round, record.fp), "_c": crawl.id,
                       "_r": lease.round}
        ok = record is not None and record.outcome is Outcome.FETCHED and record.http_status < 400
        result = PageResult(
            member=lease.member, fp=fingerprint(lease.request.url), outcome=kind, ok=ok,
            processed=bool(record and record.process_attempted), process_ok=bool(objects),
            objects=len(objects), delay_ms=delay_ms, links=links or [], content_fp=content_fp,
        )
        return PageOutput(lease, result, url_doc, objects)

    # ------------------------------------------------------------------ outcomes

    def from_response(self, crawl: CrawlInfo, lease: Lease, response: Response) -> PageOutput:
        req = lease.request
        status = response.status
        delay_ms = int(response.meta.get("cf_robots_delay_ms", -1))
        if status in _RETRY_STATUSES and req.tries + 1 < self.max_tries:
            return self._output(crawl, lease, Kind.RETRY, delay_ms=delay_ms)
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1").strip()
        record = self._record(
            crawl, lease, Outcome.FETCHED, http_status=status, content_type=content_type,
            content_length=len(response.body), robots_delay_ms=max(delay_ms, 0),
            proxy=str(response.meta.get("proxy") or ""),
        )
        links: list[Discovery] = []
        objects: list[dict[str, Any]] = []
        rejected: list[str] = []
        content_fp = content_fingerprint(response.body) if 200 <= status < 300 else b""
        if 300 <= status < 400:
            location = (response.headers.get(b"Location") or b"").decode("latin-1")
            target = normalize(location, req.url) if location else None
            if target:
                record.redirected_to = target
                if target != req.url and crawl.scope.follows(req.url, target):
                    links.append(self._discovery(crawl, target, delta=0))
                elif target != req.url:
                    rejected.append(target)
        elif 200 <= status < 300 and isinstance(response, TextResponse) and _is_html(content_type):
            page = read_page(response.body, req.url, root=response.selector.root)
            followed = follow(crawl.scope, req.url, page.base, page.hrefs, rejected)
            record.links = followed
            record.title = page.title
            links = [self._discovery(crawl, url) for url in followed]
            canonical = normalize(page.canonical, page.base) if crawl.definition.use_canonical else None
            if canonical and canonical != req.url:
                # a duplicate of the page it names: recorded as such, not processed; the canonical
                # page itself is crawled (a canonical link is not a hop)
                record.duplicate_of = str(doc_id(fingerprint(canonical)))
                if crawl.scope.follows(req.url, canonical):
                    links.append(self._discovery(crawl, canonical, delta=0))
            elif req.processable and page_matches(crawl.definition.page_process_pattern, response.text):
                record.process_attempted = True
                processed = self.processor.process(
                    api_url=crawl.scope.api_for(req.url, crawl.definition.api_url),
                    selectors=crawl.definition.selectors, root=response.selector.root, url=req.url,
                    resolved_url=response.url, fp=bytes.fromhex(record.fp), crawl_id=crawl.id, crawl_name=crawl.name,
                    crawl_round=lease.round, crawled=record.crawled)
                record.process_response = processed.response
                objects = [] if processed.deferred else processed.objects
                record.diffbot_uri = objects[0]["diffbotUri"] if objects else ""
                if processed.deferred:  # an external service or a process worker: Fleet finishes it
                    processed.resolved_url = response.url
                    out = self._output(crawl, lease, Kind.FETCHED, record, links, [], delay_ms, content_fp)
                    out.filtered, out.pending = len(rejected), processed
                    return out
        out = self._output(crawl, lease, Kind.FETCHED, record, links, objects, delay_ms, content_fp)
        out.filtered = len(rejected)
        return out

    def completed(self, crawl: CrawlInfo, output: PageOutput, result: ProcessResult) -> PageOutput:
        """The output of a page once its external processing call (`output.pending`) has finished."""
        assert output.pending is not None and output.url_doc is not None
        record = UrlRecord.from_doc(output.url_doc)
        processed = self.processor.complete(
            output.pending, result, url=record.url, resolved_url=output.pending.resolved_url,
            fp=bytes.fromhex(record.fp), crawl_id=crawl.id, crawl_name=crawl.name, crawl_round=output.lease.round,
            crawled=record.crawled)
        return self.finished(crawl, output, processed)

    def finished(self, crawl: CrawlInfo, output: PageOutput, processed: Processed) -> PageOutput:
        """A deferred page's output with its processing done (objects and Process Response)."""
        assert output.url_doc is not None
        record = UrlRecord.from_doc(output.url_doc)
        record.process_response = processed.response
        record.diffbot_uri = processed.objects[0]["diffbotUri"] if processed.objects else ""
        res = output.result
        done = self._output(crawl, output.lease, res.outcome, record, list(res.links), processed.objects,
                            res.delay_ms, res.content_fp)
        done.filtered = output.filtered
        return done

    def from_failure(self, crawl: CrawlInfo, lease: Lease, failure: Failure, meta: dict[str, Any]) -> PageOutput:
        delay_ms = int(meta.get("cf_robots_delay_ms", -1))
        if failure.check(BlockedAddress):  # the private-network guard refused it
            record = self._record(crawl, lease, Outcome.BLOCKED, error=str(failure.value))
            return self._output(crawl, lease, Kind.BLOCKED, record, delay_ms=delay_ms)
        if failure.check(RobotsDisallowed):
            record = self._record(crawl, lease, Outcome.BLOCKED, robots_delay_ms=max(delay_ms, 0))
            return self._output(crawl, lease, Kind.BLOCKED, record, delay_ms=delay_ms)
        if failure.check(RobotsUnreachable) and lease.request.tries + 1 >= self.max_tries:
            # retried like a download error; then blocked saying why, or failed if the host never answered
            if failure.value.answered:  # type: ignore[union-attr]
                record = self._record(crawl, lease, Outcome.BLOCKED, error=str(failure.value))
                return self._output(crawl, lease, Kind.BLOCKED, record, delay_ms=delay_ms)
            record = self._record(crawl, lease, Outcome.FAILED, error=str(failure.value))
            return self._output(crawl, lease, Kind.FETCHED, record, delay_ms=delay_ms)
        if lease.request.tries + 1 < self.max_tries:
            return self._output(crawl, lease, Kind.RETRY, delay_ms=delay_ms)
        record = self._record(crawl, lease, Outcome.FAILED, error=_error_text(failure))
        return self._output(crawl, lease, Kind.FETCHED, record, delay_ms=delay_ms)

    def exhausted(self, crawl: CrawlInfo, lease: Lease) -> PageOutput:
        """A request whose leases kept expiring (its worker died each time): record it as failed."""
        record = self._record(crawl, lease, Outcome.FAILED, error="lease expired")
        record.tries = lease.request.tries
        return self._output(crawl, lease, Kind.FETCHED, record)

    def expansion(self, crawl: CrawlInfo, lease: Lease, links: list[str]) -> PageOutput:
        """Re-send a crawled page's links now that its hop count is smaller."""
        return self._output(crawl, lease, Kind.EXPANDED, links=[self._discovery(crawl, url) for url in links])
