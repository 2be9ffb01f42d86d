"""Webhook signatures and retry timing (pure).

An /api/v1 delivery carries `X-Crawlfleet-Signature: t=<unix time>,v1=<hex HMAC-SHA256>` over
`"<t>." + body` with the webhook's secret, so a receiver can check both origin and age:

    >>> header = sign("s3cret", 1700000000, b'{"event":"crawl.completed"}')
    >>> header[:13]
    't=1700000000,'
    >>> verify("s3cret", header, b'{"event":"crawl.completed"}', now=1700000100)
    True
    >>> [retry_delay(n, 10.0) for n in (1, 2, 3, 4)]
    [10.0, 40.0, 160.0, 640.0]

A /v3 notifyWebhook delivery signs the same message, `"<t>." + body`, keyed with the crawl's
signing key, in Diffbot-style headers of its own: `X-Crawlfleet-Timestamp: <t>` and
`X-Crawlfleet-Signature: sha256=<hex>` (notify_signature).
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "notify_signature", "retry_delay", "sign", "verify"]

SIGNATURE_HEADER = "X-Crawlfleet-Signature"
TIMESTAMP_HEADER = "X-Crawlfleet-Timestamp"
MAX_DELAY = 3600.0


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def notify_signature(key: str, timestamp: int, body: bytes) -> str:
    """The X-Crawlfleet-Signature of a /v3 notification sent at `timestamp` (X-Crawlfleet-Timestamp).

    >>> notify_signature("0" * 64, 1700000000, b'{"name":"docs"}')[:15]
    'sha256=39bb2347'
    """
    return "sha256=" + _digest(key, timestamp, body)


def verify(secret: str, header: str, body: bytes, *, now: float, tolerance: float = 300.0) -> bool:
    """True when `header` signs `body` with `secret` and is at most `tolerance` seconds old."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(parts.get("v1", ""), _digest(secret, timestamp, body))


def retry_delay(attempt: int, base: float, factor: float = 4.0, cap: float = MAX_DELAY) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): base * factor^(attempt-1),
    at most `cap` (an hour unless the caller waits in place, like crawlbase.outbound's retries).
    The one backoff policy: webhooks, notifications and processing-service calls all use it.

    >>> [retry_delay(n, 2.0, factor=2.0) for n in (1, 2, 3, 12)]
    [2.0, 4.0, 8.0, 3600.0]
    >>> [retry_delay(n, 0.5, factor=2.0, cap=10.0) for n in (1, 2, 6)]
    [0.5, 1.0, 10.0]
    """
    return float(min(cap, base * factor ** (attempt - 1)))
