"""Finishing an /api/v1 stop or seal, shared by PATCH /crawls/{id} (the first pass) and the
Housekeeper (the passes after, on any replica): see crawlstore.cancel."""

from __future__ import annotations

from typing import Any

from .context import V1

__all__ = ["finish_stop"]


def finish_stop(ctx: V1, crawl_id: str, seal: bool) -> bool:
    """One pass of a stop in progress; True when the crawl has ended (and is marked so)."""
    result = ctx.canceller.stop(crawl_id)
    if result.done:
        marks: dict[str, Any] = {"stopped": True}
        if seal:
            marks["sealed"] = True
        ctx.reports.set_meta(crawl_id, ctx.clock(), marks, unset=["stop"])
        ctx.record_cache.drop(crawl_id)
    return result.done
