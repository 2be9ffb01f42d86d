"""Downloader middleware: robots.txt per RFC 9309, with politeness.

Scrapy's RobotsTxtMiddleware (Protego: honours Allow as well as Disallow, and wildcards),
with the fetch itself following RFC 9309 (the rule is `crawlcore.robots.verdict`):

- redirects are followed (up to 5), a body is parsed up to 500 KiB (the download stops there);
- 4xx means no rules; 5xx, 429, a timeout or a failed connection mean robots.txt is
  unreachable: the page is not fetched (RobotsUnreachable: the frontier retries it). After
  the last try the URL report says "Blocked: robots.txt unreachable (HTTP 503)" when the
  server answered, and "Failed after 3 tries: robots.txt unreachable (<error>)" when it did
  not (the host is down: nothing of it could be fetched).
  Nothing is remembered of an unreachable robots.txt: the host's next page, on whichever
  worker leases it, fetches it again, so every worker decides from the same kind of answer;

plus three things a shared, long-running crawler needs:

- the robots.txt fetch is a fetch of the host too: the first page of a host waits the
  host's delay after it, so no two requests to a host are closer than the delay;
- the Crawl-delay it finds (capped) travels with the page to the frontier, which applies
  it to every worker, and into the URL report;
- parsed robots.txt files expire, so a worker running for weeks sees changes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from crawlcore.robots import MAX_ROBOTS_BYTES, Verdict, unreachable_reason, verdict

__all__ = ["PoliteRobotsTxtMiddleware", "RobotsDisallowed", "RobotsUnreachable"]

ROBOTS_TTL = 6 * 3600.0  # seconds a parsed robots.txt is trusted


class RobotsDisallowed(IgnoreRequest):
    """robots.txt disallows the page."""


class RobotsUnreachable(IgnoreRequest):
    """The host's robots.txt could not be read (5xx, 429, no answer): no page of it is fetched.
    `answered`: the server answered (with a 5xx or 429), rather than not at all."""

    def __init__(self, reason: str, answered: bool) -> None:
        super().__init__(reason)
        self.answered = answered


class PoliteRobotsTxtMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._delay_cap = float(crawler.settings.getfloat("CRAWLFLEET_ROBOTS_DELAY_CAP", 30.0))
        self._fetched: dict[str, float] = {}
        crawler.signals.connect(self._bytes_received, signal=signals.bytes_received)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get("dont_obey_robotstxt"):
            return
        netloc = urlparse_cached(request).netloc
        fetched = self._fetched.get(netloc)
        if fetched is not None and time.monotonic() - fetched > ROBOTS_TTL:
            self._parsers.pop(netloc, None)
        first = netloc not in self._parsers
        if first:
            self._fetched[netloc] = time.monotonic()
        parser: Any = await self.robot_parser(request)
        if isinstance(parser, RobotsUnreachable):
            raise RobotsUnreachable(str(parser), parser.answered)
        robots_delay = 0.0
        if parser is not None:
            delay = parser.crawl_delay(self._robotstxt_useragent or self._default_useragent)
            robots_delay = min(float(delay or 0.0), self._delay_cap)
        request.meta["cf_robots_delay_ms"] = int(robots_delay * 1000)
        if first:
            wait = max(robots_delay, float(request.meta.get("cf_crawl_delay", 0.0)))
            if wait > 0:
                await asyncio.sleep(wait)
        self.process_request_2(parser, request)

    def process_request_2(self, rp: Any, request: Request) -> None:
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:
            raise RobotsDisallowed("Forbidden by robots.txt") from None

    async def robot_parser(self, request: Request) -> Any:
        """The host's parser; None (no rules); or, when robots.txt is unreachable, a
        RobotsUnreachable, which is not kept (the next request fetches robots.txt again).
        Requests arriving while the fetch is under way wait for it."""
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            waiting: Deferred[Any] = Deferred()
            self._parsers[netloc] = waiting
            try:
                result = await self._read_robots(f"{url.scheme}://{netloc}/robots.txt", request)
            except Exception as exc:  # whatever went wrong, the requests waiting on it must go on
                result = RobotsUnreachable(unreachable_reason(None, type(exc).__name__), answered=False)
            if isinstance(result, RobotsUnreachable):
                del self._parsers[netloc]
            else:
                self._parsers[netloc] = result
            waiting.callback(result)
            return result
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    async def _read_robots(self, url: str, request: Request) -> Any:
        """Fetch robots.txt (following redirects) and do what crawlcore.robots.verdict says."""
        redirects = 0
        while True:
            try:
                robots_request = Request(url, priority=self.DOWNLOAD_PRIORITY, callback=NO_CALLBACK, meta={
                    "dont_obey_robotstxt": True, "dont_redirect": True, "handle_httpstatus_all": True,
                    "download_maxsize": 0, "cf_robots": True,  # the download stops at MAX_ROBOTS_BYTES
                })
            except ValueError:  # a redirect to a URL no request can be made for (a port out of range)
                if redirects:
                    return None  # as a redirect to nowhere: no robots.txt to be had
                raise
            self._stats.inc_value("robotstxt/request_count")
            try:
                response = await self._download(robots_request)
            except Exception as exc:  # no answer: refused, reset, timed out, or a refused address
                self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
                return RobotsUnreachable(unreachable_reason(None, type(exc).__name__), answered=False)
            self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
            answer = verdict(response.status, redirects)
            if answer is Verdict.FOLLOW:
                location = (response.headers.get(b"Location") or b"").decode("latin-1").strip()
                try:
                    target = urljoin(response.url, location) if location else ""
                except ValueError:  # not a URL (e.g. a broken IPv6 literal)
                    target = ""
                if urlsplit(target).scheme not in ("http", "https"):
                    return None  # a redirect to nowhere, or off the web: no robots.txt to be had
                url, redirects = target, redirects + 1
                continue
            if answer is Verdict.UNREACHABLE:
                return RobotsUnreachable(unreachable_reason(response.status), answered=True)
            if answer is Verdict.ALLOW_ALL:
                return None
            parser = build_from_crawler(self._parserimpl, self.crawler, response.body[:MAX_ROBOTS_BYTES])
            await self.crawler.signals.send_catch_log_async(
                signal=signals.robots_parsed, robotparser=parser, request=request)
            return parser

    async def _download(self, request: Request) -> Response:
        engine: Any = self.crawler.engine
        if hasattr(engine, "download_async"):  # newer Scrapy; older ones return a Deferred
            return await engine.download_async(request)
        return await maybe_deferred_to_future(engine.download(request))

    def _bytes_received(self, data: bytes, request: Request, spider: Spider | None = None) -> None:
        """Stop a robots.txt download at MAX_ROBOTS_BYTES: the rest is not read, nor parsed."""
        if request.meta.get("cf_robots"):
            received = request.meta.get("cf_robots_bytes", 0) + len(data)
            request.meta["cf_robots_bytes"] = received
            if received >= MAX_ROBOTS_BYTES:
                raise StopDownload(fail=False)
