"""The bounded selector evaluator (spiders.extractors.sandbox): custom selectors run in a child
process that is killed when a page's selectors overrun the deadline; the worker gets the fields
evaluated in time and a Process Response naming the others."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator

import lxml.html
import pytest

from spiders.extractors.sandbox import MAX_OVERRUNS, SelectorResult, SelectorSandbox
from spiders.processing import PageProcessor

HOSTILE = "//*[count(//*[count(//*)>0])>0]"  # cubic in the page's elements
BIG = ("<html><body>" + "<div><p>x</p><span>y</span></div>" * 1500 + "</body></html>").encode()  # 4500 elements
SMALL = b"<html><body><h1>Blue mug</h1><p class='tag'>a</p><p class='tag'>b</p></body></html>"
TIMEOUT = 0.5
BOUND = 15.0  # seconds: far above the deadline, far below the hostile selector on BIG unbounded (~45 min here)


@pytest.fixture
def sandbox() -> Iterator[SelectorSandbox]:
    box = SelectorSandbox(TIMEOUT)
    yield box
    box.close()


def timed(box: SelectorSandbox, selectors: dict[str, object], html: bytes) -> tuple[SelectorResult, float]:
    start = time.monotonic()
    result = box.evaluate(json.dumps(selectors), html)
    return result, time.monotonic() - start


@pytest.mark.parametrize(("selectors", "html", "custom"), [
    pytest.param({"h": "h1::text"}, SMALL, {"h": "Blue mug"}, id="css-text"),
    pytest.param({"tags": ["p.tag::text"], "h": "//h1/text()"}, SMALL, {"tags": ["a", "b"], "h": "Blue mug"},
                 id="list-and-xpath-in-order"),
    pytest.param({"missing": "#nope", "many": ["#nope"]}, SMALL, {"missing": None, "many": []}, id="no-match"),
    pytest.param({"h": "h1::text"}, "<h1>Café ☕</h1>".encode(), {"h": "Café ☕"}, id="utf-8"),
    pytest.param({"n": "xpath:count(//p)"}, SMALL, {"n": "2.0"}, id="xpath-number"),
    pytest.param({"h": "h1::text"}, b"", {"h": None}, id="empty-page"),
])
def test_fields_are_evaluated_in_the_child(sandbox: SelectorSandbox, selectors: dict[str, object], html: bytes,
                                          custom: dict[str, object]) -> None:
    result = sandbox.evaluate(json.dumps(selectors), html)
    assert result == SelectorResult(custom, "")
    assert list(result.custom) == list(selectors)


def test_a_hostile_selector_is_stopped_at_the_deadline_and_named(sandbox: SelectorSandbox) -> None:
    selectors = {"first": "p::text", "slow": HOSTILE, "after": "span::text"}
    result, took = timed(sandbox, selectors, BIG)
    assert took < BOUND
    assert result.error == "Selectors timed out after 0.5 s: slow (not evaluated: after)"
    assert result.custom == {"first": "x", "slow": None, "after": None}  # what was evaluated in time is kept


def test_the_child_is_replaced_and_an_overrunning_field_goes_last_on_later_pages(sandbox: SelectorSandbox) -> None:
    selectors = {"slow": HOSTILE, "after": "span::text"}
    first, _ = timed(sandbox, selectors, BIG)
    assert first.error == "Selectors timed out after 0.5 s: slow (not evaluated: after)"
    second, took = timed(sandbox, selectors, BIG)
    assert took < BOUND
    assert second.error == "Selectors timed out after 0.5 s: slow" and second.custom == {"slow": None, "after": "y"}
    assert list(second.custom) == ["slow", "after"]  # the object keeps the order the crawl gave
    small = sandbox.evaluate(json.dumps(selectors), SMALL)  # cheap on a small page: every field evaluated
    assert small.error == "" and small.custom["slow"] == "Blue mug a b"


def test_a_field_that_keeps_overrunning_is_no_longer_evaluated(sandbox: SelectorSandbox) -> None:
    """A hostile field costs a worker at most MAX_OVERRUNS deadlines, not one per page for ever."""
    selectors = {"slow": HOSTILE, "after": "span::text"}
    for _ in range(MAX_OVERRUNS):
        assert timed(sandbox, selectors, BIG)[0].error.startswith("Selectors timed out after 0.5 s: slow")
    result, _ = timed(sandbox, selectors, BIG)  # not evaluated: no "timed out" in the response
    assert result.error == f"Selectors skipped after timing out on {MAX_OVERRUNS} pages: slow"
    assert result.custom == {"slow": None, "after": "y"}
    only = {"slow": HOSTILE}
    for _ in range(MAX_OVERRUNS):
        timed(sandbox, only, BIG)
    assert timed(sandbox, only, BIG)[0] == SelectorResult({"slow": None}, result.error)


def test_a_child_that_dies_is_reported_and_replaced(sandbox: SelectorSandbox) -> None:
    assert sandbox.evaluate('{"h": "h1::text"}', SMALL).custom == {"h": "Blue mug"}
    assert sandbox._child is not None
    os.kill(sandbox._child.proc.pid, signal.SIGKILL)
    sandbox._child.proc.wait()
    died = sandbox.evaluate('{"h": "h1::text"}', SMALL)
    assert died.error.startswith("Selectors failed: the selector process stopped") and died.custom == {"h": None}
    assert sandbox.evaluate('{"h": "h1::text"}', SMALL) == SelectorResult({"h": "Blue mug"}, "")


def test_close_stops_the_child(sandbox: SelectorSandbox) -> None:
    assert not sandbox.running
    sandbox.evaluate('{"h": "h1::text"}', SMALL)
    assert sandbox.running
    child = sandbox._child
    sandbox.close()
    assert not sandbox.running and child is not None and child.proc.returncode is not None


# ---------------------------------------------------------------- PageProcessor: the page's report and object

def process(processor: PageProcessor, selectors: str, html: bytes) -> tuple[str, list[dict[str, object]]]:
    done = processor.process(api_url="", selectors=selectors, root=lxml.html.document_fromstring(html),
                             url="https://shop.example/p", resolved_url="https://shop.example/p", fp=bytes(8),
                             crawl_id="c1", crawl_name="shop", crawl_round=0, crawled=1_700_000_000.0)
    return done.response, done.objects


def test_a_page_whose_selectors_time_out_keeps_its_object_and_says_so() -> None:
    processor = PageProcessor(selector_timeout=TIMEOUT)
    try:
        selectors = json.dumps({"heading": "p::text", "slow": HOSTILE})
        response, [obj] = process(processor, selectors, BIG)
        assert response == "Selectors timed out after 0.5 s: slow"
        assert obj["custom"] == {"heading": "x", "slow": None} and obj["type"]
        response, [obj] = process(processor, json.dumps({"heading": "h1::text"}), SMALL)  # the next page: fine
        assert response == "Success" and obj["custom"] == {"heading": "Blue mug"}
    finally:
        processor.close()


def test_pages_without_selectors_start_no_child() -> None:
    processor = PageProcessor()
    try:
        response, [obj] = process(processor, "", SMALL)
        assert response == "Success" and "custom" not in obj and not processor.sandbox.running
    finally:
        processor.close()
