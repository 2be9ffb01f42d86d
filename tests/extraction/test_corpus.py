"""Extraction quality on the fixture corpus: 60 pages written for these tests (news articles with
and without JSON-LD, product pages with and without schema.org offers, index pages, forum
threads, image and video pages, and pages of no particular type; in English, German and French),
each beside the JSON of what it should yield.

Every page goes through analyze (no apiUrl), so `type` checks the classifier and the other fields
check the extractor it chose. The test prints per-field accuracy and fails below the bars.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crawlcore.api_url import parse_api_url
from spiders.extractors import extract

CORPUS = Path(__file__).with_name("corpus")
#: Share of pages that must be exactly right, per field; at least 90% for type, title, price and date.
BARS = {"type": 0.95, "title": 0.95, "price": 0.95, "date": 0.95}
DEFAULT_BAR = 0.85
#: Pages written after the extractors were tuned on the others, reported apart. h01..h08 came first
#: (7 of 8 typed right, posts and items each wrong once); the rules they showed missing were added
#: (usernames in headings, headings inside card links); then h09..h12 (3 of 4 fully right: h10's
#: WordPress archive was not seen as a list until record ids in classes were ignored).
HELD_OUT = ("h",)


@dataclass(frozen=True)
class Case:
    name: str
    html: bytes
    expected: dict[str, Any]


def load_cases() -> list[Case]:
    return [Case(p.stem, p.read_bytes(), json.loads(p.with_suffix(".json").read_text(encoding="utf-8")))
            for p in sorted(CORPUS.glob("*.html"))]


def _amount(obj: dict[str, Any], key: str) -> Any:
    return (obj.get(key) or {}).get("amount")


def _text_ok(obj: dict[str, Any], exp: dict[str, Any]) -> bool:
    text = obj.get("text") or ""
    return all(s in text for s in exp["text_contains"]) and not any(s in text for s in exp.get("text_excludes", []))


def _first(obj: dict[str, Any], key: str) -> dict[str, Any]:
    values = obj.get(key) or [{}]
    return values[0] if isinstance(values[0], dict) else {}


#: field -> (expected key, whether the extracted object is right)
Check = Callable[[dict[str, Any], dict[str, Any]], bool]
CHECKS: dict[str, tuple[str, Check]] = {
    "type": ("type", lambda o, e: o.get("type") == e["type"]),
    "title": ("title", lambda o, e: o.get("title") == e["title"]),
    "date": ("date", lambda o, e: o.get("date") == e["date"]),
    "estimatedDate": ("estimatedDate", lambda o, e: o.get("estimatedDate") == e["estimatedDate"]),
    "author": ("author", lambda o, e: o.get("author") == e["author"]),
    "siteName": ("siteName", lambda o, e: o.get("siteName") == e["siteName"]),
    "humanLanguage": ("humanLanguage", lambda o, e: o.get("humanLanguage") == e["humanLanguage"]),
    "tags": ("tags", lambda o, e: [t.get("label") for t in o.get("tags") or []] == e["tags"]),
    "text": ("text_contains", _text_ok),
    "price": ("price", lambda o, e: _amount(o, "offerPriceDetails") == e["price"]),
    "regularPrice": ("regularPrice", lambda o, e: _amount(o, "regularPriceDetails") == e["regularPrice"]),
    "currency": ("currency", lambda o, e: o.get("currency") == e["currency"]),
    "availability": ("availability", lambda o, e: o.get("availability") == e["availability"]),
    "brand": ("brand", lambda o, e: o.get("brand") == e["brand"]),
    "sku": ("sku", lambda o, e: o.get("sku") == e["sku"]),
    "specs": ("specs", lambda o, e: all((o.get("specs") or {}).get(k) == v for k, v in e["specs"].items())),
    "items": ("items_count", lambda o, e: o.get("numItems") == e["items_count"]
              and {k: _first(o, "items").get(k) for k in ("title", "link")} == e["first_item"]),
    "posts": ("posts_count", lambda o, e: o.get("numPosts") == e["posts_count"]
              and _first(o, "posts").get("author") == e["first_post_author"]),
    "image": ("image_url", lambda o, e: _first(o, "images").get("url") == e["image_url"]),
}


@pytest.fixture(scope="module")
def results() -> list[tuple[Case, dict[str, Any]]]:
    api = parse_api_url("")
    out = []
    for case in load_cases():
        objects = extract(api, html=case.html, url=case.expected["url"])
        assert len(objects) == 1, case.name
        out.append((case, objects[0]))
    return out


def accuracy(results: list[tuple[Case, dict[str, Any]]]) -> dict[str, tuple[int, int, list[str]]]:
    """field -> (right, checked, names of the pages it was wrong on)."""
    table: dict[str, tuple[int, int, list[str]]] = {}
    for field, (key, check) in CHECKS.items():
        right, total, wrong = 0, 0, []
        for case, obj in results:
            if key not in case.expected:
                continue
            total += 1
            if check(obj, case.expected):
                right += 1
            else:
                wrong.append(case.name)
        table[field] = (right, total, wrong)
    return table


def test_the_corpus_is_large_and_varied() -> None:
    cases = load_cases()
    kinds = [c.expected["type"] for c in cases]
    assert len(cases) >= 40
    assert kinds.count("article") >= 12 and kinds.count("product") >= 10 and kinds.count("list") >= 5
    assert kinds.count("discussion") >= 4
    assert {c.expected["humanLanguage"] for c in cases} >= {"en", "de"}
    with_jsonld = [c for c in cases if b"application/ld+json" in c.html]
    assert 10 <= len(with_jsonld) <= len(cases) - 10  # pages with and without schema.org


def test_per_field_accuracy_meets_the_bars(results: list[tuple[Case, dict[str, Any]]],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    table = accuracy(results)
    lines = [f"{'field':<15}{'right':>7}{'pages':>7}{'accuracy':>10}  wrong on"]
    for field, (right, total, wrong) in table.items():
        lines.append(f"{field:<15}{right:>7}{total:>7}{right / total:>10.1%}  {', '.join(wrong)}")
    report = "\n".join(lines)
    held_out = [(c, o) for c, o in results if c.name.startswith(HELD_OUT)]
    held = accuracy(held_out)
    held_lines = [f"{f:<15}{r:>7}{t:>7}{r / t:>10.1%}  {', '.join(w)}" for f, (r, t, w) in held.items() if t]
    with capsys.disabled():
        print(f"\nExtraction accuracy on {len(results)} pages (analyze, no apiUrl):\n{report}")
        print(f"\nof which the held-out pages ({len(held_out)}, {HELD_OUT[0]}*: written after the extractors were "
              "tuned):\n" + "\n".join(held_lines))
    below = {f: f"{r}/{t}" for f, (r, t, _) in table.items() if t and r / t < BARS.get(f, DEFAULT_BAR)}
    assert not below, f"below the bar: {below}\n{report}"
    assert all(table[f][1] >= 10 for f in BARS), "each barred field is checked on at least 10 pages"


@pytest.mark.parametrize("kind", ["article", "product"])
def test_a_kinds_own_api_agrees_with_analyze(results: list[tuple[Case, dict[str, Any]]], kind: str) -> None:
    """apiUrl=article (or product) on pages of that type gives what analyze gave."""
    api = parse_api_url(f"https://api.diffbot.com/v3/{kind}")
    for case, analyzed in results:
        if case.expected["type"] != kind:
            continue
        [obj] = extract(api, html=case.html, url=case.expected["url"])
        assert obj["type"] == kind
        same = {k: obj.get(k) == analyzed.get(k) for k in ("title", "date", "offerPriceDetails", "author")}
        assert all(same.values()), (case.name, same)
