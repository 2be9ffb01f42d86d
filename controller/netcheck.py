"""URLs a crawl would make the deployment fetch or call are refused when they point into private
networks: seeds, notifyWebhook and /api/v1 webhooks, when they are set (a crawl created or
updated, a webhook registered or changed).

The rule is crawlcore.netguard's; this module resolves the URLs' host names. The same check runs
again, after every DNS lookup, for every URL the workers fetch, and in crawlbase.outbound for
every notification, webhook delivery and processing call (a name may resolve elsewhere later).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

from crawlcore.definition import CrawlDefinition
from crawlcore.errors import InvalidParameter
from crawlcore.netguard import NetGuard, ip_literal
from crawlcore.urls import host_of

__all__ = ["check_crawl", "check_url"]


def _addresses(host: str) -> list[str]:
    literal = ip_literal(host)
    if literal is not None:
        return [literal]
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})
    except (socket.gaierror, UnicodeError):
        return []  # unknown name: nothing to refuse here; the fetch will fail and say so


def check_url(guard: NetGuard, url: str, param: str) -> None:
    """InvalidParameter naming `param` when `url`'s host resolves to a refused address."""
    host = host_of(url)
    reason = guard.refusal(host, _addresses(host))
    if reason is not None:
        raise InvalidParameter(
            param, f"{url} is refused: {reason} (the deployment's CRAWLFLEET_ALLOW_NETWORKS can allow it)"
        )


def check_crawl(guard: NetGuard, definition: CrawlDefinition, seeds: Iterable[str],
                before: CrawlDefinition | None = None) -> None:
    """Check the `seeds` being added, and notifyWebhook when it is new (`before`: the crawl's
    definition before an update)."""
    for seed in seeds:
        check_url(guard, seed, "seeds")
    webhook = definition.notify_webhook
    if webhook and (before is None or webhook != before.notify_webhook):
        check_url(guard, webhook, "notifyWebhook")
