"""crawlcore.job: JobState from the Redis hash, download links and Diffbot's job JSON."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from crawlcore.definition import CrawlDefinition
from crawlcore.job import JobState, download_urls, job_json
from crawlcore.status import Status

# The job object of Diffbot's sample /v3/crawl response (shared/seeds/002), verbatim.
SAMPLE: dict[str, Any] = json.loads((Path(__file__).parent / "cases" / "diffbot_sample_job.json").read_text())

SAMPLE_DEFINITION = CrawlDefinition(
    name="crawlJob",
    seeds=("http://support.diffbot.com",),
    api_url="https://api.diffbot.com/v3/analyze",
    notify_email="support@diffbot.com",
    notify_webhook="http://www.diffbot.com",
)
SAMPLE_STATE = JobState(
    status=Status.COMPLETED, created=1427410692.4, completed=1427410798.9, notified=1, objects=177,
    harvested=2152, attempts=367, crawl_ok=365, crawl_ok_round=365, proc_attempts=210, proc_ok=210,
    proc_ok_round=210,
)
SAMPLE_NOW = 1443822683.6
SAMPLE_DOWNLOADS = download_urls("http://api.diffbot.com", "sampletoken", "crawlJob")


def render(state: JobState = SAMPLE_STATE, definition: CrawlDefinition = SAMPLE_DEFINITION,
           now: float = SAMPLE_NOW) -> dict[str, Any]:
    return job_json("c0ffee", definition, state, now=now, downloads=SAMPLE_DOWNLOADS)


def json_type(value: object) -> str:
    """The JSON type a value serialises to (bool is not int, int is not float)."""
    return {bool: "bool", int: "int", float: "float", str: "str", dict: "dict", list: "list"}[type(value)]


# ------------------------------------------------------------------ shape

@pytest.mark.parametrize("key", list(SAMPLE))
def test_job_json_has_sample_key_with_sample_type(key: str) -> None:
    job = render()
    assert key in job
    assert json_type(job[key]) == json_type(SAMPLE[key])


@pytest.mark.parametrize("key", list(SAMPLE["jobStatus"]))
def test_job_status_has_sample_key_with_sample_type(key: str) -> None:
    assert json_type(render()["jobStatus"][key]) == json_type(SAMPLE["jobStatus"][key])


@pytest.mark.parametrize(
    "definition",
    [
        pytest.param(SAMPLE_DEFINITION, id="defaults"),
        pytest.param(dataclasses.replace(SAMPLE_DEFINITION, repeat=7, crawl_delay=2, obey_robots=False,
                                         only_process_if_new=False, seed_recrawl_frequency=1),
                     id="integral-floats"),
    ],
)
def test_job_json_types_hold_for_any_definition(definition: CrawlDefinition) -> None:
    job = render(definition=definition)
    assert {k: json_type(job[k]) for k in SAMPLE} == {k: json_type(v) for k, v in SAMPLE.items()}


@pytest.mark.parametrize("key", list(SAMPLE))
def test_job_json_reproduces_diffbots_sample(key: str) -> None:
    assert render()[key] == SAMPLE[key]


def test_job_json_is_json_serialisable() -> None:
    job = render(definition=dataclasses.replace(SAMPLE_DEFINITION, custom_headers=(("A", "1"),)))
    assert json.loads(json.dumps(job)) == job


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param("id", "c0ffee", id="id"),
        pytest.param("restrictDomain", 1, id="restrictDomain"),
        pytest.param("useCanonical", 1, id="useCanonical"),
        pytest.param("useProxies", 0, id="useProxies"),
        pytest.param("maxToCrawlPerSubdomain", -1, id="maxToCrawlPerSubdomain"),
        pytest.param("maxToProcessPerSubdomain", -1, id="maxToProcessPerSubdomain"),
        pytest.param("seedRecrawlFrequency", -1.0, id="seedRecrawlFrequency"),
        pytest.param("customHeaders", [], id="customHeaders"),
    ],
)
def test_job_json_extra_settings(key: str, expected: object) -> None:
    value = render()[key]
    assert value == expected
    assert json_type(value) == json_type(expected)


def test_job_json_custom_headers_as_name_colon_value() -> None:
    d = dataclasses.replace(SAMPLE_DEFINITION, custom_headers=(("Accept-Language", "en-us"), ("X-A", "b:c")))
    assert render(definition=d)["customHeaders"] == ["Accept-Language:en-us", "X-A:b:c"]


def test_job_json_seeds_space_separated() -> None:
    d = dataclasses.replace(SAMPLE_DEFINITION, seeds=("https://a.com/", "http://b.org/x"))
    assert render(definition=d)["seeds"] == "https://a.com/ http://b.org/x"


# ------------------------------------------------------------------ live values

LIVE = JobState(
    status=Status.IN_PROGRESS, created=1000.9, completed=0.0, round=4, round_start=2000.7, notified=0,
    attempts=11, crawled=12, crawl_ok=13, crawl_ok_round=14, proc_attempts=15, processed=16, proc_ok=17,
    proc_ok_round=18, objects=19, harvested=20, seeds_ok=1, queued=21, leased=22,
)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param("jobCreationTimeUTC", 1000, id="created-truncated"),
        pytest.param("jobCompletionTimeUTC", 0, id="completed"),
        pytest.param("sentJobDoneNotification", 0, id="notified"),
        pytest.param("objectsFound", 19, id="objects"),
        pytest.param("urlsHarvested", 20, id="harvested"),
        pytest.param("pageCrawlAttempts", 11, id="attempts"),
        pytest.param("pageCrawlSuccesses", 13, id="crawl_ok"),
        pytest.param("pageCrawlSuccessesThisRound", 14, id="crawl_ok_round"),
        pytest.param("pageProcessAttempts", 15, id="proc_attempts"),
        pytest.param("pageProcessSuccesses", 17, id="proc_ok"),
        pytest.param("pageProcessSuccessesThisRound", 18, id="proc_ok_round"),
        pytest.param("roundsCompleted", 4, id="round"),
        pytest.param("roundStartTime", 2000, id="round_start-truncated"),
        pytest.param("currentTime", 5000, id="now"),
        pytest.param("currentTimeUTC", 5000, id="now-utc"),
        pytest.param("jobStatus", {"status": 7, "message": "Job in progress"}, id="status"),
    ],
)
def test_job_json_live_values_come_from_state(key: str, expected: object) -> None:
    assert render(state=LIVE, now=5000.2)[key] == expected


@pytest.mark.parametrize(
    ("next_round", "now", "text"),
    [
        pytest.param(1042.0, 1000.0, "Next round to start in 42 seconds", id="42"),
        pytest.param(1042.4, 1000.0, "Next round to start in 42 seconds", id="rounded-down"),
        pytest.param(1042.6, 1000.0, "Next round to start in 43 seconds", id="rounded-up"),
        pytest.param(990.0, 1000.0, "Next round to start in 0 seconds", id="overdue"),
    ],
)
def test_job_json_next_round_seconds(next_round: float, now: float, text: str) -> None:
    state = JobState(status=Status.NEXT_ROUND, next_round=next_round)
    assert render(state=state, now=now)["jobStatus"] == {"status": 4, "message": text}


# ------------------------------------------------------------------ download links

@pytest.mark.parametrize(
    ("base", "token", "name", "expected"),
    [
        pytest.param("http://api.diffbot.com", "sampletoken", "crawlJob",
                     ("http://api.diffbot.com/v3/crawl/download/sampletoken-crawlJob_data.json",
                      "http://api.diffbot.com/v3/crawl/download/sampletoken-crawlJob_urls.csv"),
                     id="diffbot-sample"),
        pytest.param("http://h:8000/", "t0k", "my crawl",
                     ("http://h:8000/v3/crawl/download/t0k-my%20crawl_data.json",
                      "http://h:8000/v3/crawl/download/t0k-my%20crawl_urls.csv"),
                     id="trailing-slash-and-space"),
        pytest.param("https://h", "a/b", "x?y#z&",
                     ("https://h/v3/crawl/download/a%2Fb-x%3Fy%23z%26_data.json",
                      "https://h/v3/crawl/download/a%2Fb-x%3Fy%23z%26_urls.csv"),
                     id="reserved-characters-quoted"),
        pytest.param("http://h", "t", "caf\u00e9",
                     ("http://h/v3/crawl/download/t-caf%C3%A9_data.json",
                      "http://h/v3/crawl/download/t-caf%C3%A9_urls.csv"), id="non-ascii-utf8"),
    ],
)
def test_download_urls(base: str, token: str, name: str, expected: tuple[str, str]) -> None:
    assert download_urls(base, token, name) == expected


# ------------------------------------------------------------------ JobState.from_hash

HASH_FIELDS = {
    "status": "7", "created": "1700000000.5", "completed": "0", "round": "2", "round_start": "1700000100.25",
    "next_round": "0", "notified": "1", "attempts": "30", "crawled": "25", "crawl_ok": "28",
    "crawl_ok_round": "9", "proc_attempts": "12", "processed": "11", "proc_ok": "10", "proc_ok_round": "4",
    "objects": "10", "harvested": "300", "seeds_ok": "1", "queued": "40",
}
EXPECTED_STATE = JobState(
    status=Status.IN_PROGRESS, created=1700000000.5, completed=0.0, round=2, round_start=1700000100.25,
    next_round=0.0, notified=1, attempts=30, crawled=25, crawl_ok=28, crawl_ok_round=9, proc_attempts=12,
    processed=11, proc_ok=10, proc_ok_round=4, objects=10, harvested=300, seeds_ok=1, queued=40, leased=3,
)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(HASH_FIELDS, id="str"),
        pytest.param({k.encode(): v.encode() for k, v in HASH_FIELDS.items()}, id="bytes"),
        pytest.param({k.encode(): v for k, v in HASH_FIELDS.items()}, id="bytes-keys-str-values"),
    ],
)
def test_from_hash(raw: dict[Any, Any]) -> None:
    assert JobState.from_hash(raw, leased=3) == EXPECTED_STATE


def test_from_hash_ignores_unknown_fields() -> None:
    raw: dict[Any, Any] = {**HASH_FIELDS, "def": '{"name":"x"}', "v": "4", b"dm": b"e", "tok": "t"}
    assert JobState.from_hash(raw, leased=3) == EXPECTED_STATE


def test_from_hash_takes_leased_from_argument_not_hash() -> None:
    assert JobState.from_hash({"leased": "99"}, leased=2).leased == 2


def test_from_hash_empty_is_default_state() -> None:
    assert JobState.from_hash({}) == JobState()


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        pytest.param("crawled", "5.0", 5, id="int-field-from-float-text"),
        pytest.param("attempts", 7, 7, id="int-value"),
        pytest.param("created", b"12", 12.0, id="float-field-from-int-text"),
        pytest.param("status", b"10", Status.SEEDS_FAILED, id="status-code"),
    ],
)
def test_from_hash_field_types(field: str, raw: object, expected: object) -> None:
    value = getattr(JobState.from_hash({field: raw}), field)
    assert value == expected
    assert type(value) is type(expected)


def test_job_state_reads_the_queue_length_the_scripts_keep_in_q() -> None:
    assert JobState.from_hash({b"q": b"3", b"status": b"7"}).queued == 3
