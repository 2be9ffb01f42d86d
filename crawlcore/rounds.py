"""Repeating crawls: when the next round starts, whether it is full, and what a job reports.

A crawl with `repeat` > 0 starts a full round every `repeat` days (counted from the start of
the previous full round). With `seedRecrawlFrequency` > 0 and shorter than `repeat`, seeds-only
rounds come in between, every `seedRecrawlFrequency` days: the seeds are fetched again and
only URLs never seen before are crawled from them. Every round counts toward `maxRounds`.

    >>> d = CrawlDefinition("c", ("https://x.com/",), repeat=7.0, seed_recrawl_frequency=1.0)
    >>> next_round(d, round_start=0.0, full_start=0.0)
    (86400.0, False)
    >>> next_round(d, round_start=6 * DAY, full_start=0.0)
    (604800.0, True)
"""

from __future__ import annotations

from .definition import CrawlDefinition

__all__ = ["DAY", "is_last_round", "next_round"]

DAY = 86400.0


def next_round(d: CrawlDefinition, *, round_start: float, full_start: float) -> tuple[float, bool] | None:
    """(start time, full?) of the round after the current one; None for a crawl that does not repeat."""
    if d.repeat <= 0:
        return None
    full_at = full_start + d.repeat * DAY
    if 0 < d.seed_recrawl_frequency < d.repeat:
        seeds_at = round_start + d.seed_recrawl_frequency * DAY
        if seeds_at < full_at:
            return seeds_at, False
    return full_at, True


def is_last_round(d: CrawlDefinition, round_index: int) -> bool:
    """True when the round `round_index` (from 0) is the last maxRounds allows (0: no limit)."""
    return d.max_rounds > 0 and round_index + 1 >= d.max_rounds

