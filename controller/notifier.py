"""Delivers crawl notifications: notifyWebhook (POST of the job JSON) and notifyEmail (SMTP).

Entries come from the outbox (crawlstore.notify). A webhook gets the job object alone as its
body, Diffbot's headers `X-Crawl-Name` and `X-Crawl-Status`, and `X-Crawlfleet-Timestamp: <unix
seconds>` with `X-Crawlfleet-Signature: sha256=<hex>`: the HMAC-SHA256 of `"<timestamp>." + body`
keyed with the SHA-256 hex digest of the API token the crawl was created with (a /v3 token or an
/api/v1 key; for a crawl created in an /api/v1 login session, of that session's Bearer token),
so a receiver can check it came from us, and recently (a replayed one is old):

    >>> import hashlib, hmac
    >>> key = hashlib.sha256(b"0" * 32).hexdigest()   # the token's digest
    >>> header = notify_signature(key, 1700000000, b'{"name":"docs"}')
    >>> header == "sha256=" + hmac.new(key.encode(), b'1700000000.{"name":"docs"}', hashlib.sha256).hexdigest()
    True

Deliveries go through the controller's guarded client (controller.services.webhook_client): the
address is checked at every try (the name may resolve elsewhere than when the crawl was made),
redirects are not followed. A failed delivery is retried with exponential backoff (2 s, 4 s, ...
up to an hour) up to MAX_ATTEMPTS times. Delivering a completion notification sets sentJobDoneNotification.
Email goes through CRAWLFLEET_SMTP_URL: smtp://host:port, smtps:// (TLS) or smtp+starttls://.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

from crawlbase.outbound import Outbound
from crawlcore.job import download_urls, job_json
from crawlcore.status import Status, message
from crawlcore.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, notify_signature, retry_delay
from crawlstore.crawls import CrawlStore
from crawlstore.notify import COMPLETION_STATUSES, Notice

__all__ = ["MAX_ATTEMPTS", "Notifier"]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
SMTP_TIMEOUT = 10.0


def _backoff(attempt: int) -> float:
    """Seconds before retrying after failed attempt `attempt` (0-based): 2 s doubling, up to an hour."""
    return retry_delay(attempt + 1, 2.0, factor=2.0)


class Notifier(threading.Thread):
    def __init__(self, crawls: CrawlStore, http: Outbound, *, public_url: str, smtp_url: str, smtp_from: str,
                 clock: Callable[[], float], poll: float = 0.5) -> None:
        super().__init__(name="notifier", daemon=True)
        self.crawls = crawls
        self.public_url = public_url
        self.smtp_url = smtp_url
        self.smtp_from = smtp_from
        self.clock = clock
        self.poll = poll
        self.halt = threading.Event()
        self.http = http  # the app's (controller.services.webhook_client); the app closes it

    def run(self) -> None:
        while not self.halt.wait(self.poll):
            try:
                self.deliver_due()
            except Exception:  # a store outage must not end deliveries for good
                log.warning("notification delivery round failed", exc_info=True)

    def deliver_due(self) -> int:
        notices = self.crawls.outbox.due(self.clock())
        for notice in notices:
            self._deliver(notice)
        return len(notices)

    def _deliver(self, notice: Notice) -> None:
        crawl = self.crawls.registry.get(notice.crawl_id)
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
                self._post(crawl.definition.notify_webhook, job, crawl.signing_key)
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
            self.crawls.lifecycle.sync_record(crawl.id)

    def _post(self, url: str, job: dict[str, Any], key: str) -> None:
        """One try; raises when it failed (crawlbase.outbound's errors: refused, connection, timeout)."""
        body = json.dumps(job, separators=(",", ":")).encode()
        timestamp = int(self.clock())
        reply = self.http.request("POST", url, content=body, read_body=False, headers={
            "Content-Type": "application/json",
            "X-Crawl-Name": job["name"],
            "X-Crawl-Status": str(job["jobStatus"]["status"]),
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: notify_signature(key, timestamp, body),
        })
        if not 200 <= reply.status < 300:
            raise RuntimeError(f"webhook answered HTTP {reply.status}")

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
        with smtp_class(parts.hostname or "localhost", parts.port or 25, timeout=SMTP_TIMEOUT) as smtp:
            if parts.scheme == "smtp+starttls":
                smtp.starttls(context=ssl.create_default_context())
            if parts.username:
                smtp.login(unquote(parts.username), unquote(parts.password or ""))
            smtp.send_message(mail)
