"""RFC 9309's reading of a robots.txt answer (crawlcore.robots), table-driven."""

from __future__ import annotations

import pytest

from crawlcore.robots import MAX_REDIRECTS, MAX_ROBOTS_BYTES, Verdict, unreachable_reason, verdict

CASES = [  # (status, redirects so far, verdict)
    (200, 0, Verdict.RULES), (204, 0, Verdict.RULES), (299, 3, Verdict.RULES),
    (301, 0, Verdict.FOLLOW), (302, MAX_REDIRECTS - 1, Verdict.FOLLOW), (307, 0, Verdict.FOLLOW),
    (308, MAX_REDIRECTS, Verdict.ALLOW_ALL),  # more than five: unavailable
    (400, 0, Verdict.ALLOW_ALL), (401, 0, Verdict.ALLOW_ALL), (403, 0, Verdict.ALLOW_ALL),
    (404, 0, Verdict.ALLOW_ALL), (410, 0, Verdict.ALLOW_ALL), (499, 0, Verdict.ALLOW_ALL),
    (429, 0, Verdict.UNREACHABLE),  # too many requests: come back later, like a 5xx
    (500, 0, Verdict.UNREACHABLE), (502, 0, Verdict.UNREACHABLE), (503, 0, Verdict.UNREACHABLE),
    (599, 0, Verdict.UNREACHABLE), (100, 0, Verdict.UNREACHABLE), (600, 0, Verdict.UNREACHABLE),
    (None, 0, Verdict.UNREACHABLE),  # no answer: refused, reset, timed out
]


@pytest.mark.parametrize(("status", "redirects", "expected"), CASES)
def test_verdict(status: int | None, redirects: int, expected: Verdict) -> None:
    assert verdict(status, redirects) is expected


@pytest.mark.parametrize(("status", "error", "text"), [
    (503, "", "robots.txt unreachable (HTTP 503)"),
    (None, "DownloadTimeoutError", "robots.txt unreachable (DownloadTimeoutError)"),
    (None, "", "robots.txt unreachable (no answer)"),
])
def test_unreachable_reason(status: int | None, error: str, text: str) -> None:
    assert unreachable_reason(status, error) == text


def test_the_rfc_bounds() -> None:
    assert MAX_ROBOTS_BYTES == 500 * 1024 and MAX_REDIRECTS == 5
