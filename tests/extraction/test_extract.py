"""The worker's entry points: extract (apiUrl kinds, fields, mode, custom fields, tree reuse)
and finish_objects (the stored document)."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from crawlcore.api_url import parse_api_url
from spiders.extractors import ExtractionError, custom_fields, extract, finish_objects

CORPUS = Path(__file__).with_name("corpus")
ARTICLE = (CORPUS / "a01-gazette-budget.html").read_bytes()
PRODUCT = (CORPUS / "p01-jsonld-offer-headphones.html").read_bytes()
ARTICLE_URL = "https://www.riversidegazette.com/news/local/2024/03/05/council-approves-budget/"
LEGACY_FIELDS = {"type", "title", "text", "humanLanguage", "meta", "links"}


def test_no_api_url_keeps_the_fields_objects_always_had() -> None:
    [obj] = extract(parse_api_url(""), html=ARTICLE, url=ARTICLE_URL)
    assert set(obj) >= LEGACY_FIELDS and obj["type"] == "article"
    assert set(obj["meta"]) >= {"description", "canonical", "language"}
    assert obj["meta"]["canonical"] == ARTICLE_URL and "https://www.riversidegazette.com/sports/" in obj["links"]


def test_other_pages_keep_them_too() -> None:
    [obj] = extract(parse_api_url(""), html=(CORPUS / "o01-contact-page.html").read_bytes(),
                    url="https://hartleyrowe.example.co.uk/contact/")
    assert obj["type"] == "other" and set(obj) >= LEGACY_FIELDS and "Questions about an order" in obj["text"]


def test_optional_fields_only_when_asked() -> None:
    [plain] = extract(parse_api_url("article"), html=ARTICLE, url=ARTICLE_URL)
    assert "links" not in plain and "meta" not in plain and "querystring" not in plain
    [asked] = extract(parse_api_url("https://api.diffbot.com/v3/article?fields=links,querystring"), html=ARTICLE,
                      url=ARTICLE_URL + "?utm_source=x")
    assert asked["links"] and asked["querystring"] == {"utm_source": "x"} and "meta" not in asked


def test_a_kind_is_extracted_as_asked_whatever_the_page() -> None:
    [obj] = extract(parse_api_url("product"), html=ARTICLE, url=ARTICLE_URL)
    assert obj["type"] == "product" and obj["title"]


def test_analyze_mode_extracts_only_that_type() -> None:
    mode = parse_api_url("https://api.diffbot.com/v3/analyze?mode=product")
    [article] = extract(mode, html=ARTICLE, url=ARTICLE_URL)
    assert article["type"] == "article" and "html" not in article and "author" not in article  # default fields
    [product] = extract(mode, html=PRODUCT, url="https://www.sounddepot.example.com/auralis-q40-midnight-blue")
    assert product["type"] == "product" and product["offerPriceDetails"]["amount"] == 149.99


def test_the_scrapy_tree_is_reused_and_left_as_it_was() -> None:
    root = lxml.html.document_fromstring(ARTICLE)
    before = lxml.html.tostring(root)
    [obj] = extract(parse_api_url(""), root=root, url=ARTICLE_URL)
    assert obj["title"].startswith("City council") and lxml.html.tostring(root) == before


def test_custom_fields_of_a_page() -> None:
    # (stored under `custom` by spiders.processing, which evaluates them under a deadline: test_processing.py)
    fields = custom_fields('{"kicker": ".kicker a::text", "tags": ["ul.tags a::text"], "missing": "#nope",'
                           ' "lead": "//figure//img/@src"}')
    custom = fields.apply(lxml.html.document_fromstring(ARTICLE))
    assert custom == {"kicker": "Local", "tags": ["city council", "budget"], "missing": None,
                             "lead": "https://cdn.riversidegazette.com/img/2024/03/council-chamber.jpg"}


@pytest.mark.parametrize("html", [b"", b"   ", ""])
def test_unparsable_pages_yield_nothing(html: bytes | str) -> None:
    assert extract(parse_api_url(""), html=html, url="https://a.example/") == []


def test_external_kinds_and_missing_input_are_refused() -> None:
    with pytest.raises(ValueError):
        extract(parse_api_url("http://127.0.0.1:9/x"), html=ARTICLE, url=ARTICLE_URL)
    with pytest.raises(ValueError):
        extract(parse_api_url(""), url=ARTICLE_URL)


def test_an_extractor_failure_is_an_extraction_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import spiders.extractors as extractors

    def broken(doc: object, spec: object) -> dict[str, object]:
        raise KeyError("boom")

    monkeypatch.setitem(extractors.EXTRACTORS, "article", broken)
    with pytest.raises(ExtractionError, match="article extraction failed: KeyError"):
        extract(parse_api_url("article"), html=ARTICLE, url=ARTICLE_URL)


def test_finish_objects_adds_the_crawl_fields_and_internal_ids() -> None:
    [obj] = extract(parse_api_url(""), html=ARTICLE, url=ARTICLE_URL)
    fp = bytes.fromhex("8000000000000001")
    [doc] = finish_objects([obj], url=ARTICLE_URL, resolved_url=ARTICLE_URL + "?r=1", fp=fp, crawl_id="c9",
                           crawl_name="news", crawl_round=2, crawled=1700000000.5)
    assert doc["_id"] == "c9:2:8000000000000001:0" and (doc["_c"], doc["_r"], doc["_t"]) == ("c9", 2, 1700000000.5)
    assert doc["pageUrl"] == ARTICLE_URL and doc["resolvedPageUrl"] == ARTICLE_URL + "?r=1"
    assert doc["docId"] == int.from_bytes(fp, "big") >> 1 and doc["diffbotUri"] == f"article|3|{doc['docId']}"
    assert (doc["crawlName"], doc["crawlRound"], doc["timestamp"]) == ("news", 2, 1700000000500)
    assert list(doc)[4:7] == ["type", "pageUrl", "resolvedPageUrl"]


def test_finish_objects_sanitises_service_objects() -> None:
    service = [{"title": "A", "_id": "evil", "_c": "other-crawl", "$where": 1, "a.b": {"c.d": 2}},
               {"type": "product", "pageUrl": "https://elsewhere.example/"}]
    docs = finish_objects(service, url="https://a.example/", resolved_url="https://a.example/", fp=bytes(8),
                          crawl_id="c1", crawl_name="n", crawl_round=0, crawled=1.0)
    assert [d["_id"] for d in docs] == ["c1:0:0000000000000000:0", "c1:0:0000000000000000:1"]
    assert docs[0]["_c"] == "c1" and docs[0]["type"] == "other" and docs[0]["a_b"] == {"c_d": 2}
    assert "$where" not in docs[0] and "\uff04where" in docs[0]
    assert docs[1]["pageUrl"] == "https://a.example/" and docs[1]["diffbotUri"] == "product|3|0-1"
