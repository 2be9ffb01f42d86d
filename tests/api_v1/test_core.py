"""Pure helpers of /api/v1, table-driven: pagination, client addresses, statuses and events,
webhook signatures, export rendering and JSON settings."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from controller.api_v1.crawlspec import to_params
from controller.api_v1.render import render
from crawlcore.audit import Exclusions
from crawlcore.client_address import client_address, parse_proxies
from crawlcore.errors import InvalidParameter, InvalidTransition
from crawlcore.lifecycle import check_action, event_for, events_for, status_name
from crawlcore.pagination import envelope, parse_window
from crawlcore.status import Status
from crawlcore.webhook import retry_delay, sign, verify


@pytest.mark.parametrize(("params", "expected"), [
    ({}, (50, 0, 0)),
    ({"limit": "10"}, (10, 0, 0)),
    ({"limit": "10", "offset": "25"}, (10, 25, 2)),
    ({"limit": "10", "page": "3"}, (10, 30, 3)),
    ({"skip": "7"}, (50, 7, 0)),
    ({"limit": "500"}, (500, 0, 0)),
])
def test_windows(params: dict[str, str], expected: tuple[int, int, int]) -> None:
    w = parse_window(params)
    assert (w.limit, w.offset, w.page) == expected


@pytest.mark.parametrize(("params", "param"), [
    ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"), ({"limit": "x"}, "limit"),
    ({"offset": "-1"}, "offset"), ({"page": "1", "offset": "1"}, "page"), ({"skip": "1", "offset": "2"}, "skip"),
])
def test_bad_windows(params: dict[str, str], param: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_window(params)
    assert info.value.param == param


def test_envelope() -> None:
    assert envelope(0, parse_window({}), []) == {"total_items": 0, "total_pages": 0, "page": 0, "limit": 50,
                                                 "offset": 0, "num_items": 0, "items": []}
    assert envelope(101, parse_window({"page": "2"}), [1])["total_pages"] == 3


PROXIES = parse_proxies("10.0.0.0/8 ::1")


@pytest.mark.parametrize(("peer", "headers", "expected"), [
    ("203.0.113.5", {"x-forwarded-for": "1.2.3.4"}, "203.0.113.5"),  # untrusted peer: headers ignored
    ("10.0.0.1", {"x-forwarded-for": "1.2.3.4"}, "1.2.3.4"),
    ("10.0.0.1", {"x-forwarded-for": "6.6.6.6, 1.2.3.4, 10.0.0.9"}, "1.2.3.4"),  # right-most untrusted
    ("10.0.0.1", {"x-real-ip": "1.2.3.4"}, "1.2.3.4"),
    ("10.0.0.1", {"cf-connecting-ip": "2001:db8::1", "x-forwarded-for": "1.2.3.4"}, "2001:db8::1"),
    ("10.0.0.1", {"x-forwarded-for": "junk"}, "10.0.0.1"),
    ("10.0.0.1", {}, "10.0.0.1"),
    ("::1", {"x-forwarded-for": "[2001:db8::2]:443"}, "2001:db8::2"),
    ("testclient", {"x-forwarded-for": "1.2.3.4"}, "testclient"),
])
def test_client_address(peer: str, headers: dict[str, str], expected: str) -> None:
    assert client_address(peer, headers, PROXIES) == expected


def test_bad_proxy_setting() -> None:
    with pytest.raises(InvalidParameter):
        parse_proxies("10.0.0.0/8, nonsense")


@pytest.mark.parametrize(("code", "flags", "name"), [
    (Status.IN_PROGRESS, {}, "running"), (Status.INITIALIZING, {}, "queued"), (Status.PAUSED, {}, "paused"),
    (Status.MAX_TO_CRAWL, {}, "limit_reached"), (Status.SEEDS_FAILED, {}, "failed"), (Status.NO_URLS, {}, "failed"),
    (Status.COMPLETED, {"stopped": True}, "stopped"), (Status.COMPLETED, {"sealed": True}, "sealed"),
    (Status.PAUSED, {"stopping": True}, "stopping"), (Status.IN_PROGRESS, {"stopped": True}, "running"),
])
def test_status_names(code: Status, flags: dict[str, bool], name: str) -> None:
    assert status_name(code, **flags) == name


@pytest.mark.parametrize(("action", "code", "sealed", "ok"), [
    ("pause", Status.IN_PROGRESS, False, True), ("pause", Status.COMPLETED, False, False),
    ("resume", Status.PAUSED, False, True), ("resume", Status.IN_PROGRESS, False, False),
    ("stop", Status.COMPLETED, False, True), ("seal", Status.IN_PROGRESS, False, True),
    ("pause", Status.IN_PROGRESS, True, False),
])
def test_actions(action: str, code: Status, sealed: bool, ok: bool) -> None:
    if ok:
        check_action(action, code, sealed=sealed)
    else:
        with pytest.raises(InvalidTransition):
            check_action(action, code, sealed=sealed)


@pytest.mark.parametrize(("before", "after", "event"), [
    (None, "running", "crawl.created"), ("running", "paused", "crawl.paused"),
    ("running", "completed", "crawl.completed"), ("stopping", "stopped", "crawl.completed"),
    ("running", "failed", "crawl.failed"), ("running", "limit_reached", "crawl.limit_reached"),
    ("paused", "running", None), ("running", "running", None), ("stopping", "sealed", "crawl.completed"),
])
def test_events(before: str | None, after: str, event: str | None) -> None:
    assert event_for(before, after) == event


@pytest.mark.parametrize(("before", "after", "events"), [
    (None, "running", ("crawl.created",)), (None, "failed", ("crawl.created", "crawl.failed")),
    (None, "limit_reached", ("crawl.created", "crawl.limit_reached")), (None, "paused", ("crawl.created",
                                                                                        "crawl.paused")),
    ("running", "completed", ("crawl.completed",)), ("paused", "running", ()), ("running", "running", ()),
])
def test_every_event_of_a_change(before: str | None, after: str, events: tuple[str, ...]) -> None:
    assert events_for(before, after) == events


def test_signatures() -> None:
    header = sign("k" * 16, 1000, b"{}")
    assert verify("k" * 16, header, b"{}", now=1000)
    assert not verify("k" * 16, header, b"{ }", now=1000)
    assert not verify("x" * 16, header, b"{}", now=1000)
    assert not verify("k" * 16, header, b"{}", now=2000)  # too old: replayed
    assert not verify("k" * 16, "garbage", b"{}", now=1000)
    assert retry_delay(10, 10.0) == 3600.0


def test_exclusions() -> None:
    ex = Exclusions(["/tag/", "https://x/*.pdf", " "])
    assert ex.excluded("https://x/tag/a") and ex.excluded("https://x/a/b.pdf")
    assert not ex.excluded("https://x/a") and ex.patterns == ("/tag/", "https://x/*.pdf")


DOCS: list[dict[str, Any]] = [{"title": "a<b&\x01", "n": 1, "meta": {"k": [1, None]}, "9bad key": True}]


def test_render_xml_and_rss_escape_everything() -> None:
    xml = "".join(render("xml", iter(DOCS), fields=[], title='t"<', link=""))
    item = ET.fromstring(xml).find("item")
    assert item is not None and item.findtext("title") == "a<b&" and item.findtext("_9bad_key") == "true"
    rss = "".join(render("rss", iter([{"url": "https://x/?a=1&b=2", "crawled": 1.7e9}]), fields=[], title="t",
                         link="https://x/"))
    channel = ET.fromstring(rss).find("channel")
    assert channel is not None and channel.findtext("item/link") == "https://x/?a=1&b=2"
    assert "GMT" in (channel.findtext("item/pubDate") or "")
    assert json.loads("".join(render("json", iter([]), fields=[], title="", link=""))) == []


@pytest.mark.parametrize(("body", "expected"), [
    ({"seeds": "a.com b.com"}, {"seeds": ["a.com b.com"]}),
    ({"restrictDomain": True, "crawlDelay": 0.5}, {"restrictDomain": ["1"], "crawlDelay": ["0.5"]}),
    ({"customHeaders": {"A": "b"}}, {"customHeaders": ["A:b"]}),
    ({"selectors": {"t": "h1"}}, {"selectors": ['{"t": "h1"}']}),
    ({"name": "x", "tags": ["a"]}, {}),
])
def test_json_settings_become_v3_parameters(body: dict[str, Any], expected: dict[str, list[str]]) -> None:
    assert to_params(body) == expected


@pytest.mark.parametrize("body", [{"unknown": 1}, {"maxHops": None}, {"maxHops": {"a": 1}},
                                  {"seeds": [["nested"]]}, {"selectors": "h1"}, {"crawlDelay": float("nan")}])
def test_bad_json_settings(body: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameter):
        to_params(body)


def test_an_expired_cache_entry_is_reloaded_by_one_caller_while_others_get_the_old_value() -> None:
    from controller.auth import TTLCache

    now = [0.0]
    cache: TTLCache[str, int] = TTLCache(2.0, clock=lambda: now[0])
    assert cache.get("k") == (False, None)
    cache.put("k", 1)
    assert cache.get("k") == (True, 1)
    now[0] = 3.0  # expired
    assert cache.get("k") == (False, None)  # this caller reloads
    assert [cache.get("k") for _ in range(5)] == [(True, 1)] * 5  # the others meanwhile: the old value
    cache.put("k", 2)
    assert cache.get("k") == (True, 2)
    now[0] = 10.0  # expired again: the next caller reloads
    assert cache.get("k") == (False, None)
    cache.drop("k")
    assert cache.get("k") == (False, None)
