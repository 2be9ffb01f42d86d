"""crawlcore.status: Diffbot jobStatus codes, messages, the transition table pair by pair, observe()."""

from __future__ import annotations

from typing import Any

import pytest

from crawlcore.status import ACTIVE, Event, Snapshot, Status, message, observe, transition

# ------------------------------------------------------------------ codes and messages

# Diffbot Crawlbot API, "Status Codes" table (shared/seeds/002); status 9 as in the sample job.
DIFFBOT_STATUSES = [
    (0, "INITIALIZING", "Job is initializing"),
    (1, "MAX_ROUNDS", "Job has reached maxRounds limit"),
    (2, "MAX_TO_CRAWL", "Job has reached maxToCrawl limit"),
    (3, "MAX_TO_PROCESS", "Job has reached maxToProcess limit"),
    (4, "NEXT_ROUND", "Next round to start in 0 seconds"),
    (5, "NO_URLS", "No URLs were added to the crawl"),
    (6, "PAUSED", "Job paused"),
    (7, "IN_PROGRESS", "Job in progress"),
    (8, "ADMIN_PAUSED", "All crawling temporarily paused by root administrator for maintenance"),
    (9, "COMPLETED", "Job has completed and no repeat is scheduled."),
    (10, "SEEDS_FAILED", "Failed to crawl any seed"),
]


def test_status_codes_are_diffbots() -> None:
    assert [(s.value, s.name) for s in Status] == [(code, name) for code, name, _ in DIFFBOT_STATUSES]


@pytest.mark.parametrize(("code", "text"), [(c, t) for c, _, t in DIFFBOT_STATUSES],
                         ids=[n for _, n, _ in DIFFBOT_STATUSES])
def test_message(code: int, text: str) -> None:
    assert message(Status(code)) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        pytest.param(42, "Next round to start in 42 seconds", id="42"),
        pytest.param(0, "Next round to start in 0 seconds", id="0"),
        pytest.param(86400, "Next round to start in 86400 seconds", id="a-day"),
        pytest.param(-5, "Next round to start in 0 seconds", id="overdue-clamped-to-0"),
    ],
)
def test_message_next_round_seconds(seconds: int, text: str) -> None:
    assert message(Status.NEXT_ROUND, seconds) == text


@pytest.mark.parametrize("status", [s for s in Status if s is not Status.NEXT_ROUND], ids=lambda s: s.name)
def test_message_ignores_seconds_for_other_statuses(status: Status) -> None:
    assert message(status, 42) == message(status)


def test_completed_message_does_not_read_as_a_failure() -> None:
    # Clients grep messages for failure; a finished crawl must not look like one.
    text = message(Status.COMPLETED).lower()
    assert "error" not in text
    assert "fail" not in text


def test_only_in_progress_is_active() -> None:
    assert frozenset({Status.IN_PROGRESS}) == ACTIVE


# ------------------------------------------------------------------ transitions, pair by pair

# Rows: statuses 0-10. Columns: events, in this order. Each cell is the status code after the
# event; a cell equal to its row's own code means "the event changes nothing in this status".
#
#   init  seeds in frontier -> 7; every seed filtered -> 5; pausable; admin-pausable; restart -> 7
#   1,2,3,5,9,10  ended: roundStart=1 or restart -> 7; 2 and 3 also resume when their limit is raised,
#                 5, 9 and 10 when an update adds seeds
#   4 next round  waiting: pausable, admin-pausable, the round starts -> 7, restart -> 7
#   6 paused      only resume (pause=0) or restart -> 7
#   7 running     every drain/limit outcome, pause, admin pause; restart keeps it running
#   8 admin       only the administrator resumes it; nothing else, not even restart
#
#   SED seeded  NOU no_urls  PAU pause  RES resume  CLM crawl_limit  PLM process_limit  DRN drained
#   SFL seeds_failed  RDN round_done  RSD rounds_done  RST round_start  LRS limits_raised
#   APS admin_pause  ARS admin_resume  RTA restart
COLUMNS = (
    Event.SEEDED, Event.NO_URLS, Event.PAUSE, Event.RESUME, Event.CRAWL_LIMIT, Event.PROCESS_LIMIT,
    Event.DRAINED, Event.SEEDS_FAILED, Event.ROUND_DONE, Event.ROUNDS_DONE, Event.ROUND_START,
    Event.LIMITS_RAISED, Event.ADMIN_PAUSE, Event.ADMIN_RESUME, Event.RESTART,
)
GRID = {
    #                       SED NOU PAU RES CLM PLM DRN SFL RDN RSD RST LRS APS ARS RTA
    Status.INITIALIZING:   ( 7,  5,  6,  0,  0,  0,  0,  0,  0,  0,  0,  0,  8,  0,  7),
    Status.MAX_ROUNDS:     ( 1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  7,  1,  1,  1,  7),
    Status.MAX_TO_CRAWL:   ( 2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  7,  7,  2,  2,  7),
    Status.MAX_TO_PROCESS: ( 3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  7,  7,  3,  3,  7),
    Status.NEXT_ROUND:     ( 4,  4,  6,  4,  4,  4,  4,  4,  4,  4,  7,  4,  8,  4,  7),
    Status.NO_URLS:        ( 7,  5,  5,  5,  5,  5,  5,  5,  5,  5,  7,  5,  5,  5,  7),
    Status.PAUSED:         ( 6,  6,  6,  7,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  7),
    Status.IN_PROGRESS:    ( 7,  7,  6,  7,  2,  3,  9, 10,  4,  1,  7,  7,  8,  7,  7),
    Status.ADMIN_PAUSED:   ( 8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  7,  8),
    Status.COMPLETED:      ( 7,  9,  9,  9,  9,  9,  9,  9,  9,  9,  7,  9,  9,  9,  7),
    Status.SEEDS_FAILED:   ( 7, 10, 10, 10, 10, 10, 10, 10, 10, 10,  7, 10, 10, 10,  7),
}
PAIRS = [(status, event, Status(row[i])) for status, row in GRID.items() for i, event in enumerate(COLUMNS)]


def test_grid_covers_every_status_and_event() -> None:
    assert set(GRID) == set(Status)
    assert set(COLUMNS) == set(Event) and len(COLUMNS) == len(Event)
    assert all(len(row) == len(COLUMNS) for row in GRID.values())
    assert len(PAIRS) == len(Status) * len(Event)


@pytest.mark.parametrize(("status", "event", "expected"), PAIRS,
                         ids=[f"{s.name}-{e.value}->{x.name}" for s, e, x in PAIRS])
def test_transition(status: Status, event: Event, expected: Status) -> None:
    assert transition(status, event) is expected


def test_transition_returns_status_members() -> None:
    assert all(isinstance(transition(s, e), Status) for s in Status for e in Event)


# ------------------------------------------------------------------ observe

def snap(**fields: Any) -> Snapshot:
    base: dict[str, Any] = dict(crawled=3, processed=1, queued=0, leased=0, seeds_fetched=1,
                                       max_to_crawl=100, max_to_process=100)
    base.update(fields)
    return Snapshot(Status.IN_PROGRESS, **base)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"queued": 5}, None, id="queued-work"),
        pytest.param({"leased": 2}, None, id="in-flight-work"),
        pytest.param({"queued": 1, "leased": 1, "seeds_fetched": 0}, None, id="busy-before-any-seed"),
        pytest.param({"crawled": 100, "queued": 7}, Event.CRAWL_LIMIT, id="crawl-limit-before-drain"),
        pytest.param({"crawled": 101}, Event.CRAWL_LIMIT, id="crawl-limit-overshoot"),
        pytest.param({"crawled": 99}, Event.DRAINED, id="one-below-crawl-limit"),
        pytest.param({"processed": 100, "leased": 3}, Event.PROCESS_LIMIT, id="process-limit-before-drain"),
        pytest.param({"crawled": 100, "processed": 100}, Event.CRAWL_LIMIT, id="both-limits-crawl-first"),
        pytest.param({"crawled": 100, "seeds_fetched": 0}, Event.CRAWL_LIMIT, id="limit-before-seed-failure"),
        pytest.param({}, Event.DRAINED, id="drained"),
        pytest.param({"seeds_fetched": 0}, Event.SEEDS_FAILED, id="drained-no-seed-fetched"),
        pytest.param({"seeds_fetched": 0, "repeats": True}, Event.SEEDS_FAILED,
                     id="seed-failure-beats-repeat"),
        pytest.param({"repeats": True}, Event.ROUND_DONE, id="drained-repeating"),
        pytest.param({"repeats": True, "last_round": True}, Event.ROUNDS_DONE, id="drained-last-round"),
        pytest.param({"last_round": True}, Event.DRAINED, id="last-round-without-repeat"),
        pytest.param({"repeats": True, "queued": 1}, None, id="repeating-busy"),
    ],
)
def test_observe(fields: dict[str, int | bool], expected: Event | None) -> None:
    assert observe(snap(**fields)) is expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, Status.COMPLETED, id="drained->completed"),
        pytest.param({"seeds_fetched": 0}, Status.SEEDS_FAILED, id="no-seed->failed"),
        pytest.param({"repeats": True}, Status.NEXT_ROUND, id="repeat->next-round"),
        pytest.param({"repeats": True, "last_round": True}, Status.MAX_ROUNDS, id="last-round->max-rounds"),
        pytest.param({"crawled": 100}, Status.MAX_TO_CRAWL, id="crawl-limit"),
        pytest.param({"processed": 100}, Status.MAX_TO_PROCESS, id="process-limit"),
    ],
)
def test_observe_then_transition_from_in_progress(fields: dict[str, int | bool], expected: Status) -> None:
    event = observe(snap(**fields))
    assert event is not None
    assert transition(Status.IN_PROGRESS, event) is expected
