"""Delivers crawl notifications: notifyWebhook (POST of the job JSON) and notifyEmail (SMTP).

Entries come from the outbox (crawlstore.notify). A webhook gets the job object alone as its
body, the headers `X-Crawl-Name` and `X-Crawl-Status`, and `X-Crawlfleet-Signature:
sha256=<hex>`: the HMAC-SHA256 of the body keyed with the SHA-256 hex digest of the crawl's
API token, so a receiver can check it came from us:

    >>> signature(b'{"name":"docs"}', "0" * 32)
    'sha256=34ed280bf551ae89048db6f12170596be4c63e88442cfe42fe28a7046446a195'

A failed delivery is retried with exponential backoff (2 s, 4 s, ... up to an hour) up to
MAX_ATTEMPTS times. Delivering a completion notification sets sentJobDoneNotification.
Email goes through CRAWLFLEET_SMTP_URL: smtp://host:port, smtps:// (TLS) or smtp+starttls://.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from crawlcore.job import download_urls, job_json
from crawlcore.status import Status, message
from crawlcore.webhook import retry_delay
from crawlstore.crawls import CrawlStore
from crawlstore.notify import COMPLETION_STATUSES, Notice

__all__ = ["MAX_ATTEMPTS", "Notifier", "signature"]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
TIMEOUT = 10.0


def signature(body: bytes, token_id: str) -> str:
    return "sha256=" + hmac.new(token_id.encode(), body, hashlib.sha256).hexdigest()


def _backoff(attempt: int) -> float:
    """Seconds before retrying after failed attempt `attempt` (0-based): 2 s doubling, up to an hour."""
    return retry_delay(attempt + 1, 2.0, factor=2.0)


class Notifier(threading.Thread):
    def __init__(self, crawls: CrawlStore, *, public_url: str, smtp_url: str, smtp_from: str,
                 clock: Callable[[], float], poll: float = 0.5) -> None:
        super().__init__(name="notifier", daemon=True)
        self.crawls = crawls
        self.public_url = public_url
        self.smtp_url = smtp_url
        self.smtp_from = smtp_from
        self.clock = clock
        self.poll = poll
        self.halt = threading.Event()
        self.http = httpx.Client(timeout=TIMEOUT, follow_redirects=False)

    def run(self) -> None:
        try:
            while not self.halt.wait(self.poll):
                try:
                    self.deliver_due()
                except Exception:  # a store outage must not end deliveries for good
                    log.warning("notification delivery round failed", exc_info=True)
        finally:
            self.http.close()

    def deliver_due(self) -> int:
        notices = self.crawls.outbox.due(self.clock())
        for notice in notices:
            self._deliver(notice)
        return len(notices)

    def _deliver(self, notice: Notice) -> None:
        crawl = self.crawls.get(notice.crawl_id)
        if crawl is None:
            return  # deleted meanwhile: nothing to tell
        if not notice.channel:  # fan out: one entry per channel, retried on its own
            for channel, wanted in (("webhook", crawl.definition.notify_webhook),
                                    ("email", crawl.definition.notify_email)):
                if wanted:
                    self._deliver(Notice(notice.id, notice.crawl_id, notice.status, notice.created, channel))
            return
        status = Status(notice.status)
        job = job_json(crawl.id, crawl.definition, crawl.state, now=self.clock(),
                       downloads=download_urls(self.public_url or "", "TOKEN", crawl.definition.name))
        job["jobStatus"] = {"status": int(status), "message": message(status)}
        try:
            if notice.channel == "webhook":
                self._post(crawl.definition.notify_webhook, job, crawl.token_id)
            else:
                self._mail(crawl.definition.notify_email, job)
        except Exception as exc:  # any failure of the receiver: retry later
            if notice.attempt + 1 >= MAX_ATTEMPTS:
                log.warning("giving up %s notification of crawl %s after %d attempts: %s",
                            notice.channel, crawl.id, notice.attempt + 1, exc)
                return
            retry = Notice(notice.id, notice.crawl_id, notice.status, notice.created, notice.channel,
                           notice.attempt + 1)
            self.crawls.outbox.schedule(retry, self.clock() + _backoff(notice.attempt))
            return
        if status in COMPLETION_STATUSES:
            self.crawls.frontier.update_job(crawl.id, {"notified": 1})
            self.crawls.sync_record(crawl.id)

    def _post(self, url: str, job: dict[str, Any], token_id: str) -> None:
        body = json.dumps(job, separators=(",", ":")).encode()
        response = self.http.post(url, content=body, headers={
            "Content-Type": "application/json",
            "X-Crawl-Name": job["name"],
            "X-Crawl-Status": str(job["jobStatus"]["status"]),
            "X-Crawlfleet-Signature": signature(body, token_id),
        })
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"webhook answered {response.status_code}")

    def _mail(self, to: str, job: dict[str, Any]) -> None:
        if not self.smtp_url:
            raise RuntimeError("no CRAWLFLEET_SMTP_URL configured")
        parts = urlsplit(self.smtp_url)
        mail = EmailMessage()
        mail["From"] = self.smtp_from
        mail["To"] = to
        mail["Subject"] = f"crawlfleet: {job['name']}: {job['jobStatus']['message']}"
        mail["X-Crawl-Name"] = job["name"]
        mail["X-Crawl-Status"] = str(job["jobStatus"]["status"])
        mail.set_content(json.dumps(job, indent=2))
        smtp_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
        with smtp_class(parts.hostname or "localhost", parts.port or 25, timeout=TIMEOUT) as smtp:
            if parts.scheme == "smtp+starttls":
                smtp.starttls(context=ssl.create_default_context())
            if parts.username:
                smtp.login(unquote(parts.username), unquote(parts.password or ""))
            smtp.send_message(mail)
