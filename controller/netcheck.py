"""Seeds that point into private networks are refused when a crawl is created or updated.

The rule is crawlcore.netguard's; this module resolves the seeds' host names (the same
check runs again in the workers, after every DNS lookup, for every URL they fetch).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

from crawlcore.errors import InvalidParameter
from crawlcore.netguard import NetGuard, ip_literal
from crawlcore.urls import host_of

__all__ = ["check_seeds"]


def _addresses(host: str) -> list[str]:
    literal = ip_literal(host)
    if literal is not None:
        return [literal]
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})
    except (socket.gaierror, UnicodeError):
        return []  # unknown name: nothing to refuse here; the fetch will fail and say so


def check_seeds(guard: NetGuard, seeds: Iterable[str]) -> None:
    """InvalidParameter naming `seeds` when one resolves to a refused address."""
    for seed in seeds:
        host = host_of(seed)
        reason = guard.refusal(host, _addresses(host))
        if reason is not None:
            raise InvalidParameter(
                "seeds", f"{seed} is refused: {reason} (the deployment's CRAWLFLEET_ALLOW_NETWORKS can allow it)"
            )
