"""Diffbot jobStatus codes and the pure transition table between them.

Something happens to a crawl (an `Event`); `transition` says what its status becomes:

    >>> transition(Status.IN_PROGRESS, Event.PAUSE)
    <Status.PAUSED: 6>
    >>> transition(Status.COMPLETED, Event.PAUSE)  # not in the table: nothing changes
    <Status.COMPLETED: 9>

`observe` turns a consistent snapshot of a crawl's counters into the event it implies,
so every process that looks at a crawl (a worker after a commit or an empty pop, the
controller after a resume) reaches the same conclusion.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["ACTIVE", "Event", "Snapshot", "Status", "message", "observe", "transition"]


class Status(enum.IntEnum):
    INITIALIZING = 0
    MAX_ROUNDS = 1
    MAX_TO_CRAWL = 2
    MAX_TO_PROCESS = 3
    NEXT_ROUND = 4
    NO_URLS = 5
    PAUSED = 6
    IN_PROGRESS = 7
    ADMIN_PAUSED = 8
    COMPLETED = 9
    SEEDS_FAILED = 10


_MESSAGES = {
    Status.INITIALIZING: "Job is initializing",
    Status.MAX_ROUNDS: "Job has reached maxRounds limit",
    Status.MAX_TO_CRAWL: "Job has reached maxToCrawl limit",
    Status.MAX_TO_PROCESS: "Job has reached maxToProcess limit",
    Status.NEXT_ROUND: "Next round to start in {seconds} seconds",
    Status.NO_URLS: "No URLs were added to the crawl",
    Status.PAUSED: "Job paused",
    Status.IN_PROGRESS: "Job in progress",
    Status.ADMIN_PAUSED: "All crawling temporarily paused by root administrator for maintenance",
    Status.COMPLETED: "Job has completed and no repeat is scheduled.",
    Status.SEEDS_FAILED: "Failed to crawl any seed",
}

#: Statuses in which workers take new requests of a crawl.
ACTIVE = frozenset({Status.IN_PROGRESS})


def message(status: Status, seconds_to_next_round: int = 0) -> str:
    """Diffbot's message for a status.

    >>> message(Status.NEXT_ROUND, 42)
    'Next round to start in 42 seconds'
    """
    return _MESSAGES[status].format(seconds=max(0, seconds_to_next_round))


class Event(enum.Enum):
    SEEDED = "seeded"  # seeds are in the frontier (a new crawl, or seeds added by an update)
    NO_URLS = "no_urls"  # every seed was filtered out
    PAUSE = "pause"  # pause=1
    RESUME = "resume"  # pause=0
    CRAWL_LIMIT = "crawl_limit"  # maxToCrawl pages crawled
    PROCESS_LIMIT = "process_limit"  # maxToProcess pages processed
    DRAINED = "drained"  # nothing queued, nothing in flight, some seed fetched
    SEEDS_FAILED = "seeds_failed"  # drained without fetching any seed
    ROUND_DONE = "round_done"  # drained, and another round is due later
    ROUNDS_DONE = "rounds_done"  # drained, and that was round maxRounds
    ROUND_START = "round_start"  # a new round starts (scheduled or roundStart=1)
    LIMITS_RAISED = "limits_raised"  # an update raised the limit the crawl had reached
    ADMIN_PAUSE = "admin_pause"
    ADMIN_RESUME = "admin_resume"  # back to IN_PROGRESS; the caller restores an earlier status
    RESTART = "restart"  # restart=1: data removed, settings kept


S, E = Status, Event
_RUNNABLE = (S.INITIALIZING, S.IN_PROGRESS, S.NEXT_ROUND)
_ENDED = (S.MAX_ROUNDS, S.MAX_TO_CRAWL, S.MAX_TO_PROCESS, S.NO_URLS, S.COMPLETED, S.SEEDS_FAILED)

_TABLE: dict[tuple[Status, Event], Status] = {
    (S.INITIALIZING, E.SEEDED): S.IN_PROGRESS,
    # an update that adds seeds to a crawl that ran out of URLs crawls them
    **{(s, E.SEEDED): S.IN_PROGRESS for s in (S.NO_URLS, S.COMPLETED, S.SEEDS_FAILED)},
    (S.INITIALIZING, E.NO_URLS): S.NO_URLS,
    **{(s, E.PAUSE): S.PAUSED for s in _RUNNABLE},
    (S.PAUSED, E.RESUME): S.IN_PROGRESS,
    (S.IN_PROGRESS, E.CRAWL_LIMIT): S.MAX_TO_CRAWL,
    (S.IN_PROGRESS, E.PROCESS_LIMIT): S.MAX_TO_PROCESS,
    (S.IN_PROGRESS, E.DRAINED): S.COMPLETED,
    (S.IN_PROGRESS, E.SEEDS_FAILED): S.SEEDS_FAILED,
    (S.IN_PROGRESS, E.ROUND_DONE): S.NEXT_ROUND,
    (S.IN_PROGRESS, E.ROUNDS_DONE): S.MAX_ROUNDS,
    **{(s, E.ROUND_START): S.IN_PROGRESS for s in (S.NEXT_ROUND, *_ENDED)},
    (S.MAX_TO_CRAWL, E.LIMITS_RAISED): S.IN_PROGRESS,
    (S.MAX_TO_PROCESS, E.LIMITS_RAISED): S.IN_PROGRESS,
    **{(s, E.ADMIN_PAUSE): S.ADMIN_PAUSED for s in _RUNNABLE},
    (S.ADMIN_PAUSED, E.ADMIN_RESUME): S.IN_PROGRESS,
    **{(s, E.RESTART): S.IN_PROGRESS for s in Status if s != S.ADMIN_PAUSED},
}
del S, E


def transition(status: Status, event: Event) -> Status:
    """The status after `event`; events the table does not list for `status` change nothing."""
    return _TABLE.get((status, event), status)


@dataclass(frozen=True)
class Snapshot:
    """Counters of one crawl read atomically from the frontier."""

    status: Status
    crawled: int  # pages crawled this round (toward maxToCrawl)
    processed: int  # pages processed this round (toward maxToProcess)
    queued: int  # requests waiting in the frontier
    leased: int  # requests in flight on some worker
    seeds_fetched: int  # seeds fetched with a status below 400 this round
    max_to_crawl: int
    max_to_process: int
    repeats: bool = False  # another round is scheduled after this one
    last_round: bool = False  # this round is round maxRounds


def observe(snap: Snapshot) -> Event | None:
    """The event a snapshot implies, if any.

    >>> observe(Snapshot(Status.IN_PROGRESS, 3, 0, 0, 0, 1, 100, 100))
    <Event.DRAINED: 'drained'>
    """
    if snap.crawled >= snap.max_to_crawl:
        return Event.CRAWL_LIMIT
    if snap.processed >= snap.max_to_process:
        return Event.PROCESS_LIMIT
    if snap.queued > 0 or snap.leased > 0:
        return None
    if snap.seeds_fetched == 0:
        return Event.SEEDS_FAILED
    if snap.repeats:
        return Event.ROUNDS_DONE if snap.last_round else Event.ROUND_DONE
    return Event.DRAINED
