"""The worker's catalog of crawl definitions, on the session's real Redis."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from crawlcore.definition import CrawlDefinition
from crawlstore.connection import connect_redis
from crawlstore.keys import CrawlKeys
from spiders.catalog import Catalog

pytestmark = pytest.mark.servers


def _store(client: object, keys: CrawlKeys, definition: dict[str, object]) -> None:
    client.hset(keys.job, mapping={"v": 1, "round": 0, "name": "old", "def": json.dumps(definition)})  # type: ignore[attr-defined]


def test_a_stored_definition_that_no_longer_compiles_is_skipped_not_raised(
        redis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """A crawl stored before regexes ran on RE2 may carry a lookahead: that crawl is not served
    (one error logged), and the catalog goes on serving the others."""
    prefix = "cat" + uuid.uuid4().hex[:6]
    client = connect_redis(redis_url)
    catalog = Catalog(client, lambda crawl_id: CrawlKeys(prefix, crawl_id), refresh=0.0)
    good = CrawlDefinition(name="good", seeds=("http://127.0.0.1/",)).to_dict()
    bad = {**good, "name": "old", "url_crawl_regex": "^(?!.*logout)"}
    _store(client, CrawlKeys(prefix, "bad"), bad)
    _store(client, CrawlKeys(prefix, "good"), good)
    with caplog.at_level(logging.ERROR, logger="spiders.catalog"):
        assert catalog.get("bad") is None
        assert catalog.get("bad") is None
    assert [r.getMessage() for r in caplog.records if "not served" in r.getMessage()] == [
        caplog.records[0].getMessage()]
    assert "urlCrawlRegEx" in caplog.records[0].getMessage()
    info = catalog.get("good")
    assert info is not None and info.definition.name == "good"
