"""The OpenAPI document matches the implementation: every route is documented (and nothing
else), the docs pages and their assets are served by us, and Schemathesis finds no 5xx and no
response that does not conform to the document."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import OpenAPIV31SpecValidator
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from controller import api_v1
from controller.api_v1.openapi import document
from controller.app import create_app
from crawlbase.config import Config
from crawlfleet.servers import free_port
from crawlstore.mongo import connect
from crawlstore.tokens import TokenStore
from tests.api_v1.conftest import Api


def _routes() -> set[tuple[str, str]]:
    found = set()
    for route in api_v1.ENDPOINTS:
        for method in route.methods or ():
            if method != "HEAD":
                found.add((route.path, method.lower()))
    return found


def test_every_route_is_documented_and_nothing_else() -> None:
    doc = document()
    documented = {(p, m) for p, item in doc["paths"].items() for m in item}
    undocumented_ok = {("/openapi.json", "get"), ("/docs", "get"), ("/redoc", "get"),
                       ("/docs/static/{bundle}/{name}", "get")}
    assert _routes() - undocumented_ok == documented


def test_document_is_valid_openapi_31() -> None:
    doc = document()
    assert doc["openapi"] == "3.1.0"
    OpenAPIV31SpecValidator(doc).validate()  # the OAS 3.1 schema, $refs resolved, no duplicate parameters
    ids = [o["operationId"] for item in doc["paths"].values() for o in item.values()]
    assert len(ids) == len(set(ids))


def test_the_validator_catches_a_broken_document() -> None:
    doc = document()
    listing = doc["paths"]["/crawls"]["get"]
    listing["parameters"].append(dict(listing["parameters"][0]))  # `limit` twice
    with pytest.raises(OpenAPIValidationError):
        OpenAPIV31SpecValidator(doc).validate()


def test_docs_and_assets_are_served_locally(api: Api) -> None:
    spec = api.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.json()["openapi"] == "3.1.0"
    for page in ("/api/v1/docs", "/api/v1/redoc"):
        html = api.get(page)
        assert html.status_code == 200 and "text/html" in html.headers["content-type"]
        assert "http://" not in html.text and "https://" not in html.text  # no CDN
        for asset in re.findall(r'(?:src|href)="([^"]+)"', html.text):
            got = api.get("/api/v1/" + asset)
            assert got.status_code == 200, asset
            assert got.headers["cache-control"] == "no-store" and "x-ratelimit-limit" in got.headers
            assert len(got.content) > 1000, asset
    assert api.get("/api/v1/docs/static/redoc/nope.js").status_code == 404


# ---------------------------------------------------------------------- schemathesis


@pytest.fixture
def live(config: Config) -> Iterator[tuple[str, str, str]]:
    """A controller on loopback (uvicorn in a thread) and an admin API key."""
    port = free_port()
    cfg = config.replace(rate_limit=1_000_000, rate_limit_anonymous=1_000_000, port=port)
    server = uvicorn.Server(uvicorn.Config(create_app(cfg), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "controller did not start"
        time.sleep(0.05)
    db = connect(config.mongo_url, config.mongo_db)
    token = TokenStore(db).create("schemathesis", admin=True)
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base) as client:  # a crawl, so that some crawl-shaped paths exist
        resp = client.post("/api/v1/crawls", json={"name": "st", "seeds": ["https://example.com/"]},
                           headers={"X-API-Key": token})
        assert resp.status_code == 201, resp.text
    try:
        yield base, token, resp.json()["id"]
    finally:
        server.should_exit = True
        thread.join(10)
        db.client.close()


def test_schemathesis_no_5xx_and_conforming_responses(live: tuple[str, str, str]) -> None:
    base, token, crawl_id = live
    with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=5):
        pass
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
    schema.config.update(base_url=f"{base}/api/v1")
    failures: list[str] = []
    calls: list[int] = []
    checks: list[Any] = [schemathesis.checks.not_a_server_error, response_schema_conformance,
                         status_code_conformance, content_type_conformance]

    for operation in schema.get_all_operations():
        op = cast(Any, operation).ok()
        strategies = [op.as_strategy(GenerationMode.POSITIVE), op.as_strategy(GenerationMode.NEGATIVE)]
        if "{crawl_id}" in op.path:  # also the real crawl, so that more than 404s come back
            strategies.append(op.as_strategy(GenerationMode.POSITIVE, path_parameters={"crawl_id": crawl_id}))

        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), derandomize=True)
        def run(case: Any) -> None:
            response = case.call_and_validate(headers={"X-API-Key": token}, checks=checks)
            calls.append(response.status_code)

        try:
            given(st.one_of(strategies))(run)()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{op.method.upper()} {op.path}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
    assert len(calls) > 10 * len(list(schema.get_all_operations())), len(calls)
    print(sorted(Counter(calls).items()))
