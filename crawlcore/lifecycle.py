"""A crawl's life as /api/v1 shows it: status names, the PATCH actions and webhook events.

Diffbot's numeric `jobStatus` stays the truth (crawlcore.status); /api/v1 names it, and
adds what only /api/v1 can ask for: stopping (pending work dropped, the crawl ends now)
and sealing (stopped and frozen: no further change).

    >>> status_name(Status.IN_PROGRESS)
    'running'
    >>> status_name(Status.COMPLETED, stopped=True)
    'stopped'
    >>> check_action("pause", Status.COMPLETED, sealed=False)
    Traceback (most recent call last):
    ...
    crawlcore.errors.InvalidTransition: cannot pause a crawl that is completed
    >>> event_for("running", "limit_reached")
    'crawl.limit_reached'
"""

from __future__ import annotations

from .errors import InvalidTransition
from .status import Status

__all__ = [
    "ACTIONS",
    "EVENTS",
    "FINISHED",
    "RUNNABLE",
    "STATUS_NAMES",
    "check_action",
    "event_for",
    "events_for",
    "status_name",
]

STATUS_NAMES: dict[Status, str] = {
    Status.INITIALIZING: "queued",
    Status.MAX_ROUNDS: "completed",
    Status.MAX_TO_CRAWL: "limit_reached",
    Status.MAX_TO_PROCESS: "limit_reached",
    Status.NEXT_ROUND: "waiting",
    Status.NO_URLS: "failed",
    Status.PAUSED: "paused",
    Status.IN_PROGRESS: "running",
    Status.ADMIN_PAUSED: "paused",
    Status.COMPLETED: "completed",
    Status.SEEDS_FAILED: "failed",
}
#: Every name `status_name` can return, for documentation and filters.
ALL_NAMES = ("queued", "running", "paused", "waiting", "stopping", "stopped", "sealed", "completed",
             "limit_reached", "failed")
RUNNABLE = frozenset({Status.INITIALIZING, Status.IN_PROGRESS, Status.NEXT_ROUND})
FINISHED = frozenset({Status.MAX_ROUNDS, Status.MAX_TO_CRAWL, Status.MAX_TO_PROCESS, Status.NO_URLS,
                      Status.COMPLETED, Status.SEEDS_FAILED})

#: PATCH {"status": target} -> the action it asks for.
ACTIONS = {"paused": "pause", "running": "resume", "stopped": "stop", "sealed": "seal"}

EVENTS = ("crawl.created", "crawl.paused", "crawl.completed", "crawl.failed", "crawl.limit_reached")
_EVENT_OF_STATUS = {
    "paused": "crawl.paused",
    "completed": "crawl.completed",
    "stopped": "crawl.completed",
    "failed": "crawl.failed",
    "limit_reached": "crawl.limit_reached",
    "sealed": "crawl.completed",
}


def status_name(code: Status, *, sealed: bool = False, stopping: bool = False, stopped: bool = False) -> str:
    """The /api/v1 name of a crawl's status."""
    if stopping:
        return "stopping"
    if sealed and code not in RUNNABLE:
        return "sealed"
    if stopped and code in FINISHED:
        return "stopped"
    return STATUS_NAMES[code]


def check_action(action: str, code: Status, *, sealed: bool) -> None:
    """Raise InvalidTransition when `action` makes no sense in status `code`."""
    if sealed:
        raise InvalidTransition("the crawl is sealed: it cannot change any more")
    if action == "pause" and code not in RUNNABLE:
        raise InvalidTransition(f"cannot pause a crawl that is {STATUS_NAMES[code]}")
    if action == "resume" and code is not Status.PAUSED:
        raise InvalidTransition(f"cannot resume a crawl that is {STATUS_NAMES[code]}")
    if action not in ("pause", "resume", "stop", "seal"):
        raise InvalidTransition(f"unknown action {action!r}")


def events_for(previous: str | None, current: str) -> tuple[str, ...]:
    """Every webhook event a change of status name means, in order. A crawl first seen already
    ended (it failed or hit a limit before anyone looked) is created and then ended.

    >>> events_for(None, "failed")
    ('crawl.created', 'crawl.failed')
    >>> events_for("running", "running")
    ()
    """
    first = event_for(previous, current)
    if first is None:
        return ()
    if previous is None and current in _EVENT_OF_STATUS:
        return first, _EVENT_OF_STATUS[current]
    return (first,)


def event_for(previous: str | None, current: str) -> str | None:
    """The webhook event a change of status name means (None: nothing to tell)."""
    if previous is None:
        return "crawl.created"
    if previous == current:
        return None
    return _EVENT_OF_STATUS.get(current)
