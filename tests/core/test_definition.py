"""crawlcore.definition: Diffbot crawl parameters parsed, validated, updated and stored."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from crawlcore.definition import (
    CONTROL_PARAMS,
    PARAMS,
    CrawlDefinition,
    Params,
    has_settings,
    parse_create,
    parse_update,
)
from crawlcore.errors import CoreError, InvalidParameter


def create(**params: str | list[str]) -> CrawlDefinition:
    """parse_create with a valid name and seed unless given; single values become one-item lists."""
    full: dict[str, list[str]] = {"name": ["docs"], "seeds": ["example.com"]}
    full.update({k: [v] if isinstance(v, str) else v for k, v in params.items()})
    return parse_create(full)


# ------------------------------------------------------------------ defaults

@pytest.mark.parametrize(
    ("attr", "expected"),
    [
        # Diffbot Crawlbot API documentation (shared/seeds/002): documented defaults.
        pytest.param("max_hops", -1, id="maxHops=-1"),
        pytest.param("max_to_crawl", 100_000, id="maxToCrawl=100000"),
        pytest.param("max_to_process", 100_000, id="maxToProcess=100000"),
        pytest.param("max_to_crawl_per_subdomain", -1, id="maxToCrawlPerSubdomain=-1"),
        pytest.param("max_to_process_per_subdomain", -1, id="maxToProcessPerSubdomain=-1"),
        pytest.param("restrict_domain", True, id="restrictDomain=1"),
        pytest.param("obey_robots", True, id="obeyRobots=1"),
        pytest.param("only_process_if_new", True, id="onlyProcessIfNew=1"),
        pytest.param("use_canonical", True, id="useCanonical=1"),
        pytest.param("use_proxies", False, id="useProxies=0"),
        pytest.param("max_rounds", 0, id="maxRounds=0"),
        pytest.param("repeat", 0.0, id="repeat=0"),
        pytest.param("seed_recrawl_frequency", -1.0, id="seedRecrawlFrequency=-1"),
        # The sample job's value.
        pytest.param("crawl_delay", 0.25, id="crawlDelay=0.25"),
        pytest.param("api_url", "", id="apiUrl-empty"),
        pytest.param("url_crawl_pattern", "", id="urlCrawlPattern-empty"),
        pytest.param("url_crawl_regex", "", id="urlCrawlRegEx-empty"),
        pytest.param("url_process_pattern", "", id="urlProcessPattern-empty"),
        pytest.param("url_process_regex", "", id="urlProcessRegEx-empty"),
        pytest.param("page_process_pattern", "", id="pageProcessPattern-empty"),
        pytest.param("custom_headers", (), id="customHeaders-none"),
        pytest.param("notify_email", "", id="notifyEmail-empty"),
        pytest.param("notify_webhook", "", id="notifyWebhook-empty"),
    ],
)
def test_parse_create_defaults_are_diffbots(attr: str, expected: object) -> None:
    value = getattr(create(), attr)
    assert value == expected
    assert type(value) is type(expected)


def test_parse_create_sets_name_and_seeds() -> None:
    d = parse_create({"name": ["docs"], "seeds": ["example.com http://b.org/x"]})
    assert d.name == "docs"
    assert d.seeds == ("https://example.com/", "http://b.org/x")


# ------------------------------------------------------------------ each parameter

@pytest.mark.parametrize(
    ("param", "raw", "attr", "expected"),
    [
        pytest.param("apiUrl", " https://api.diffbot.com/v3/analyze?mode=auto ", "api_url",
                     "https://api.diffbot.com/v3/analyze?mode=auto", id="apiUrl"),
        pytest.param("maxHops", "0", "max_hops", 0, id="maxHops-0"),
        pytest.param("maxHops", " 3 ", "max_hops", 3, id="maxHops-padded"),
        pytest.param("maxHops", "-1", "max_hops", -1, id="maxHops-unlimited"),
        pytest.param("maxToCrawl", "0", "max_to_crawl", 0, id="maxToCrawl-0"),
        pytest.param("maxToCrawl", "250", "max_to_crawl", 250, id="maxToCrawl"),
        pytest.param("maxToProcess", "10", "max_to_process", 10, id="maxToProcess"),
        pytest.param("maxToCrawlPerSubdomain", "5", "max_to_crawl_per_subdomain", 5,
                     id="maxToCrawlPerSubdomain"),
        pytest.param("maxToProcessPerSubdomain", "-1", "max_to_process_per_subdomain", -1,
                     id="maxToProcessPerSubdomain"),
        pytest.param("restrictDomain", "0", "restrict_domain", False, id="restrictDomain-0"),
        pytest.param("restrictDomain", "false", "restrict_domain", False, id="restrictDomain-false"),
        pytest.param("urlCrawlPattern", "/blog/||!/tag/", "url_crawl_pattern", "/blog/||!/tag/",
                     id="urlCrawlPattern"),
        pytest.param("urlCrawlRegEx", r"/\d+$", "url_crawl_regex", r"/\d+$", id="urlCrawlRegEx"),
        pytest.param("urlProcessPattern", "/product/", "url_process_pattern", "/product/",
                     id="urlProcessPattern"),
        pytest.param("urlProcessRegEx", "p[0-9]", "url_process_regex", "p[0-9]", id="urlProcessRegEx"),
        pytest.param("pageProcessPattern", "price||<article", "page_process_pattern", "price||<article",
                     id="pageProcessPattern"),
        pytest.param("obeyRobots", "0", "obey_robots", False, id="obeyRobots-0"),
        pytest.param("obeyRobots", "TRUE", "obey_robots", True, id="obeyRobots-TRUE"),
        pytest.param("crawlDelay", "0", "crawl_delay", 0.0, id="crawlDelay-0"),
        pytest.param("crawlDelay", "2", "crawl_delay", 2.0, id="crawlDelay-integer"),
        pytest.param("crawlDelay", "0.5", "crawl_delay", 0.5, id="crawlDelay-float"),
        pytest.param("crawlDelay", "3600", "crawl_delay", 3600.0, id="crawlDelay-max"),
        pytest.param("useCanonical", "0", "use_canonical", False, id="useCanonical-0"),
        pytest.param("useProxies", "1", "use_proxies", True, id="useProxies-1"),
        pytest.param("repeat", "7.0", "repeat", 7.0, id="repeat"),
        pytest.param("maxRounds", "3", "max_rounds", 3, id="maxRounds"),
        pytest.param("onlyProcessIfNew", "0", "only_process_if_new", False, id="onlyProcessIfNew-0"),
        pytest.param("seedRecrawlFrequency", "1.5", "seed_recrawl_frequency", 1.5, id="seedRecrawlFrequency"),
        pytest.param("notifyEmail", "support@diffbot.com", "notify_email", "support@diffbot.com",
                     id="notifyEmail"),
        pytest.param("notifyWebhook", "http://www.diffbot.com", "notify_webhook", "http://www.diffbot.com",
                     id="notifyWebhook"),
        pytest.param("selectors", '{"price": ".price::text"}', "selectors", '{"price":".price::text"}',
                     id="selectors"),
    ],
)
def test_parse_create_parameter(param: str, raw: str, attr: str, expected: object) -> None:
    value = getattr(create(**{param: raw}), attr)
    assert value == expected
    assert type(value) is type(expected)


def test_every_parameter_has_a_case_above() -> None:
    covered = {
        "apiUrl", "maxHops", "maxToCrawl", "maxToProcess", "maxToCrawlPerSubdomain",
        "maxToProcessPerSubdomain",
        "restrictDomain", "urlCrawlPattern", "urlCrawlRegEx", "urlProcessPattern", "urlProcessRegEx",
        "pageProcessPattern", "obeyRobots", "crawlDelay", "useCanonical", "useProxies", "repeat", "maxRounds",
        "selectors",
        "onlyProcessIfNew", "seedRecrawlFrequency", "notifyEmail", "notifyWebhook",
    }
    assert {p.name for p in PARAMS} == covered


def test_every_parameter_sets_a_definition_field() -> None:
    fields = {f.name for f in dataclasses.fields(CrawlDefinition)}
    assert {p.attr for p in PARAMS} <= fields


def test_repeated_parameter_last_value_wins() -> None:
    assert create(maxHops=["1", "2"]).max_hops == 2


def test_unknown_parameters_are_ignored() -> None:
    assert create(token="t0k", format="json") == create()


# ------------------------------------------------------------------ seeds

@pytest.mark.parametrize(
    ("seeds", "expected"),
    [
        pytest.param(["example.com"], ("https://example.com/",), id="scheme-added"),
        pytest.param(["a.com b.com"], ("https://a.com/", "https://b.com/"), id="space"),
        pytest.param(["a.com\tb.com\nc.com\r\nd.com"],
                     ("https://a.com/", "https://b.com/", "https://c.com/", "https://d.com/"),
                     id="any-whitespace"),
        pytest.param(["  a.com   b.com  "], ("https://a.com/", "https://b.com/"), id="runs-of-whitespace"),
        pytest.param(["a.com", "b.com"], ("https://a.com/", "https://b.com/"), id="repeated-parameter"),
        pytest.param(["", "b.com"], ("https://b.com/",), id="leading-blank-value"),
        pytest.param(["a.com https://a.com/ HTTPS://A.COM:443"], ("https://a.com/",),
                     id="duplicates-dropped"),
        pytest.param(["b.com a.com b.com"], ("https://b.com/", "https://a.com/"),
                     id="first-occurrence-order"),
        pytest.param(["http://a.com https://a.com"], ("http://a.com/", "https://a.com/"),
                     id="schemes-are-different-seeds"),
        pytest.param(["http://Blog.Example.com/a/../b#x"], ("http://blog.example.com/b",), id="normalised"),
    ],
)
def test_seeds(seeds: list[str], expected: tuple[str, ...]) -> None:
    assert create(seeds=seeds).seeds == expected



def test_seeds_trailing_blank_value_is_ignored() -> None:
    # Seeds are the join of every `seeds` value (see the leading-blank-value case and
    # parse_update), but parse_create rejects the request when only the last one is blank.
    assert create(seeds=["https://a.com/", ""]).seeds == ("https://a.com/",)


# ------------------------------------------------------------------ invalid input

@pytest.mark.parametrize(
    ("params", "bad"),
    [
        pytest.param({"maxHops": "abc"}, "maxHops", id="maxHops-abc"),
        pytest.param({"maxHops": "-2"}, "maxHops", id="maxHops-minus-2"),
        pytest.param({"maxHops": "1.5"}, "maxHops", id="maxHops-float"),
        pytest.param({"maxHops": ""}, "maxHops", id="maxHops-empty"),
        pytest.param({"maxToCrawl": "-1"}, "maxToCrawl", id="maxToCrawl-negative"),
        pytest.param({"maxToCrawl": "lots"}, "maxToCrawl", id="maxToCrawl-word"),
        pytest.param({"maxToProcess": "-1"}, "maxToProcess", id="maxToProcess-negative"),
        pytest.param({"maxToCrawlPerSubdomain": "-2"}, "maxToCrawlPerSubdomain",
                     id="maxToCrawlPerSubdomain-minus-2"),
        pytest.param({"maxToProcessPerSubdomain": "x"}, "maxToProcessPerSubdomain",
                     id="maxToProcessPerSubdomain-x"),
        pytest.param({"maxRounds": "-1"}, "maxRounds", id="maxRounds-negative"),
        pytest.param({"crawlDelay": "-1"}, "crawlDelay", id="crawlDelay-negative"),
        pytest.param({"crawlDelay": "x"}, "crawlDelay", id="crawlDelay-x"),
        pytest.param({"crawlDelay": "nan"}, "crawlDelay", id="crawlDelay-nan"),
        pytest.param({"crawlDelay": "inf"}, "crawlDelay", id="crawlDelay-inf"),
        pytest.param({"crawlDelay": "-inf"}, "crawlDelay", id="crawlDelay-minus-inf"),
        pytest.param({"crawlDelay": "3601"}, "crawlDelay", id="crawlDelay-over-an-hour"),
        pytest.param({"repeat": "-1"}, "repeat", id="repeat-negative"),
        pytest.param({"repeat": "nan"}, "repeat", id="repeat-nan"),
        pytest.param({"seedRecrawlFrequency": "-2"}, "seedRecrawlFrequency",
                     id="seedRecrawlFrequency-minus-2"),
        pytest.param({"obeyRobots": "2"}, "obeyRobots", id="obeyRobots-2"),
        pytest.param({"obeyRobots": ""}, "obeyRobots", id="obeyRobots-empty"),
        pytest.param({"restrictDomain": "maybe"}, "restrictDomain", id="restrictDomain-maybe"),
        pytest.param({"useCanonical": "-1"}, "useCanonical", id="useCanonical-minus-1"),
        pytest.param({"useProxies": "on"}, "useProxies", id="useProxies-on"),
        pytest.param({"onlyProcessIfNew": "2"}, "onlyProcessIfNew", id="onlyProcessIfNew-2"),
        pytest.param({"seeds": "ftp://x"}, "seeds", id="seeds-ftp"),
        pytest.param({"seeds": "http://"}, "seeds", id="seeds-no-host"),
        pytest.param({"seeds": "a.com ftp://x"}, "seeds", id="seeds-one-bad"),
        pytest.param({"seeds": ""}, "seeds", id="seeds-empty"),
        pytest.param({"seeds": " \t\n"}, "seeds", id="seeds-blank"),
        pytest.param({"seeds": []}, "seeds", id="seeds-no-values"),
        pytest.param({"urlCrawlRegEx": "("}, "urlCrawlRegEx", id="urlCrawlRegEx-unbalanced"),
        pytest.param({"urlCrawlRegEx": "*a"}, "urlCrawlRegEx", id="urlCrawlRegEx-nothing-to-repeat"),
        pytest.param({"urlProcessRegEx": "["}, "urlProcessRegEx", id="urlProcessRegEx-unterminated-set"),
        # (Python's re refused flags after the start, `a(?i)`; RE2 accepts them: not an error any more)
        pytest.param({"urlProcessRegEx": r"(a)\1"}, "urlProcessRegEx", id="urlProcessRegEx-backreference"),
        pytest.param({"urlCrawlRegEx": "(?=a)"}, "urlCrawlRegEx", id="urlCrawlRegEx-lookahead"),
        pytest.param({"notifyWebhook": "not a url"}, "notifyWebhook", id="notifyWebhook-words"),
        pytest.param({"notifyWebhook": "ftp://x.com/"}, "notifyWebhook", id="notifyWebhook-ftp"),
        pytest.param({"notifyWebhook": "example.com/hook"}, "notifyWebhook", id="notifyWebhook-no-scheme"),
        pytest.param({"notifyWebhook": "http://"}, "notifyWebhook", id="notifyWebhook-no-host"),
        pytest.param({"notifyEmail": "bob"}, "notifyEmail", id="notifyEmail-no-at"),
        pytest.param({"notifyEmail": "a@b"}, "notifyEmail", id="notifyEmail-no-dot"),
        pytest.param({"notifyEmail": "a b@c.com"}, "notifyEmail", id="notifyEmail-space"),
        pytest.param({"notifyEmail": "a@b.com,c@d.com"}, "notifyEmail", id="notifyEmail-list"),
        pytest.param({"notifyEmail": "a@@b.com"}, "notifyEmail", id="notifyEmail-double-at"),
        pytest.param({"customHeaders": "NoColon"}, "customHeaders", id="customHeaders-no-colon"),
        pytest.param({"customHeaders": ":value"}, "customHeaders", id="customHeaders-no-name"),
        pytest.param({"customHeaders": "Bad Name:v"}, "customHeaders", id="customHeaders-space-in-name"),
        pytest.param({"customHeaders": "X-A:b\r\nX-B:c"}, "customHeaders", id="customHeaders-crlf"),
        pytest.param({"customHeaders": "X-A:b\nX-B:c"}, "customHeaders", id="customHeaders-lf"),
        pytest.param({"customHeaders": "X-A:b\rc"}, "customHeaders", id="customHeaders-cr"),
        pytest.param({"customHeaders": "X\r\nB:c"}, "customHeaders", id="customHeaders-crlf-in-name"),
        pytest.param({"customHeaders": ["A:1", "bad"]}, "customHeaders", id="customHeaders-second-bad"),
        pytest.param({"name": []}, "name", id="name-missing"),
        pytest.param({"name": ""}, "name", id="name-empty"),
        pytest.param({"name": "   "}, "name", id="name-blank"),
        pytest.param({"name": "x" * 201}, "name", id="name-too-long"),
        pytest.param({"name": "a/b"}, "name", id="name-slash"),
        pytest.param({"name": "a\tb"}, "name", id="name-tab"),
        pytest.param({"name": "a\x00b"}, "name", id="name-nul"),
    ],
)
def test_parse_create_invalid(params: dict[str, str | list[str]], bad: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        create(**params)
    assert info.value.param == bad
    assert str(info.value).startswith(f"Invalid parameter {bad}: ")


def test_parse_create_without_name_or_seeds_keys() -> None:
    with pytest.raises(InvalidParameter) as no_name:
        parse_create({"seeds": ["a.com"]})
    with pytest.raises(InvalidParameter) as no_seeds:
        parse_create({"name": ["n"]})
    assert (no_name.value.param, no_seeds.value.param) == ("name", "seeds")



@pytest.mark.parametrize("header", ["X-A:b\x00c", "X-A:b\x7fc"], ids=["nul", "del"])
def test_custom_header_value_with_control_character_is_invalid(header: str) -> None:
    # RFC 9110 5.5: field-value is VCHAR / obs-text / SP / HTAB; "Field values containing CR, LF,
    # or NUL characters are invalid and dangerous". CR and LF are rejected, NUL is not.
    with pytest.raises(InvalidParameter) as info:
        create(customHeaders=header)
    assert info.value.param == "customHeaders"


def test_name_of_maximum_length_is_valid() -> None:
    assert create(name="x" * 200).name == "x" * 200


def test_name_is_stripped() -> None:
    assert create(name="  my crawl  ").name == "my crawl"


def test_invalid_parameter_is_a_core_error() -> None:
    err = InvalidParameter("maxHops", "must be an integer, got 'abc'")
    assert isinstance(err, CoreError)
    assert str(err) == "Invalid parameter maxHops: must be an integer, got 'abc'"
    assert (err.param, err.problem) == ("maxHops", "must be an integer, got 'abc'")


# ------------------------------------------------------------------ customHeaders

@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(["Accept-Language:en-us"], (("Accept-Language", "en-us"),), id="one"),
        pytest.param(["A:1", "B: 2 "], (("A", "1"), ("B", "2")), id="two-stripped"),
        pytest.param(["A:1", "", "  "], (("A", "1"),), id="blank-values-skipped"),
        pytest.param(["Cookie:a=b:c"], (("Cookie", "a=b:c"),), id="colon-in-value"),
        pytest.param(["X-Empty:"], (("X-Empty", ""),), id="empty-value"),
        pytest.param(["X-A:b\r\n"], (("X-A", "b"),), id="trailing-crlf-stripped"),
        pytest.param([""], (), id="only-blank"),
    ],
)
def test_custom_headers(values: list[str], expected: tuple[tuple[str, str], ...]) -> None:
    assert create(customHeaders=values).custom_headers == expected


# ------------------------------------------------------------------ parse_update

BASE = parse_create({"name": ["docs"], "seeds": ["a.com"], "maxHops": ["2"], "urlCrawlPattern": ["/blog/"]})


@pytest.mark.parametrize(
    ("params", "changes"),
    [
        pytest.param({}, {}, id="nothing"),
        pytest.param({"maxHops": ["5"]}, {"max_hops": 5}, id="one-setting"),
        pytest.param({"maxToCrawl": ["10"], "obeyRobots": ["0"]}, {"max_to_crawl": 10, "obey_robots": False},
                     id="two-settings"),
        pytest.param({"urlCrawlPattern": [""]}, {"url_crawl_pattern": ""}, id="clear-pattern"),
        pytest.param({"customHeaders": ["A:1"]}, {"custom_headers": (("A", "1"),)}, id="headers"),
        pytest.param({"name": ["other"], "token": ["t"]}, {}, id="name-and-token-ignored"),
        pytest.param({"pause": ["1"]}, {}, id="control-ignored"),
    ],
)
def test_parse_update_changes_only_present_params(params: Params, changes: dict[str, Any]) -> None:
    updated, added = parse_update(BASE, params)
    assert updated == dataclasses.replace(BASE, **changes)
    assert added == ()


@pytest.mark.parametrize(
    ("seeds", "added"),
    [
        pytest.param(["b.com"], ("https://b.com/",), id="new-seed"),
        pytest.param(["a.com b.com"], ("https://b.com/",), id="existing-skipped"),
        pytest.param(["https://A.com:443/"], (), id="existing-after-normalisation"),
        pytest.param(["c.com", "b.com c.com"], ("https://c.com/", "https://b.com/"), id="repeated-values"),
        pytest.param([""], (), id="blank-keeps-seeds"),
        pytest.param(["  "], (), id="whitespace-keeps-seeds"),
    ],
)
def test_parse_update_adds_new_seeds_only(seeds: list[str], added: tuple[str, ...]) -> None:
    updated, got = parse_update(BASE, {"seeds": seeds})
    assert got == added
    assert updated.seeds == BASE.seeds + added


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        pytest.param({"maxHops": ["-5"]}, "maxHops", id="bad-setting"),
        pytest.param({"seeds": ["ftp://x"]}, "seeds", id="bad-seed"),
        pytest.param({"customHeaders": ["nocolon"]}, "customHeaders", id="bad-header"),
    ],
)
def test_parse_update_invalid(params: Params, bad: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_update(BASE, params)
    assert info.value.param == bad


def test_parse_update_does_not_mutate_current() -> None:
    before = dataclasses.replace(BASE)
    parse_update(BASE, {"maxHops": ["9"], "seeds": ["z.com"]})
    assert before == BASE


# ------------------------------------------------------------------ has_settings

@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({}, False, id="empty"),
        pytest.param({"token": ["t"], "name": ["n"]}, False, id="token-and-name"),
        *(pytest.param({c: ["1"], "name": ["n"]}, False, id=f"control-{c}") for c in CONTROL_PARAMS),
        pytest.param({"seeds": ["a.com"]}, True, id="seeds"),
        pytest.param({"customHeaders": ["A:1"]}, True, id="customHeaders"),
        *(pytest.param({p.name: ["1"]}, True, id=p.name) for p in PARAMS),
        pytest.param({"maxHops": []}, True, id="present-without-value"),
    ],
)
def test_has_settings(params: Params, expected: bool) -> None:
    assert has_settings(params) is expected


# ------------------------------------------------------------------ storage form

FULL = parse_create({
    "name": ["full"], "seeds": ["a.com http://b.org/x"], "apiUrl": ["https://api.diffbot.com/v3/article"],
    "maxHops": ["3"], "maxToCrawl": ["50"], "maxToProcess": ["40"], "maxToCrawlPerSubdomain": ["9"],
    "maxToProcessPerSubdomain": ["8"], "restrictDomain": ["0"], "urlCrawlPattern": ["/a/||!/b/"],
    "urlCrawlRegEx": ["x+"], "urlProcessPattern": ["^http"], "urlProcessRegEx": ["y?"],
    "pageProcessPattern": ["<article"], "obeyRobots": ["0"], "crawlDelay": ["1.5"], "useCanonical": ["0"],
    "useProxies": ["1"], "customHeaders": ["A:1", "B:2"], "repeat": ["7"], "maxRounds": ["2"],
    "onlyProcessIfNew": ["0"], "seedRecrawlFrequency": ["0.5"], "notifyEmail": ["me@example.com"],
    "notifyWebhook": ["https://hooks.example.com/x"],
})


@pytest.mark.parametrize("definition", [create(), FULL], ids=["defaults", "every-setting"])
def test_to_dict_from_dict_round_trip(definition: CrawlDefinition) -> None:
    assert CrawlDefinition.from_dict(definition.to_dict()) == definition


@pytest.mark.parametrize("definition", [create(), FULL], ids=["defaults", "every-setting"])
def test_to_dict_survives_json(definition: CrawlDefinition) -> None:
    assert CrawlDefinition.from_dict(json.loads(json.dumps(definition.to_dict()))) == definition


def test_to_dict_uses_lists_for_json() -> None:
    data = FULL.to_dict()
    assert data["seeds"] == ["https://a.com/", "http://b.org/x"]
    assert data["custom_headers"] == [["A", "1"], ["B", "2"]]


def test_from_dict_ignores_unknown_keys() -> None:
    data = {**FULL.to_dict(), "_id": "abc", "obsolete_setting": 1}
    assert CrawlDefinition.from_dict(data) == FULL


def test_from_dict_fills_defaults_for_missing_keys() -> None:
    assert CrawlDefinition.from_dict({"name": "docs", "seeds": ["https://example.com/"]}) == create()
