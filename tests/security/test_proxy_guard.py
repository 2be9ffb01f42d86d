"""useProxies=1 does not open a way around the guard: the target of every link and redirect is
resolved and checked before the request goes to the proxy (which would resolve and fetch it).

`127.2` is a host name to the guard's IP-literal check but resolves to 127.0.0.2 (the internal
service), the way any DNS name pointing at a private address would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Cluster, unique
from tests.security.conftest import Internal, guarded_base
from tests.sites.model import Page, Site
from tests.sites.process import SiteProcess
from tests.sites.proxy import ForwardingProxy


@pytest.fixture(scope="module")
def proxy() -> Iterator[ForwardingProxy]:
    with ForwardingProxy() as live:
        yield live


@pytest.fixture(scope="module")
def proxied(redis_url: str, mongo_url: str, proxy: ForwardingProxy,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A controller and a worker under the 127.0.0.1-only guard, with a proxy pool."""
    env = {**guarded_base(redis_url, mongo_url, "secproxy"), "CRAWLFLEET_PROXIES": proxy.url}
    c = Cluster(env, tmp_path_factory.mktemp("proxied"))
    c.add_worker()
    try:
        yield c
    finally:
        c.stop()


@pytest.mark.parametrize("use_proxies", [1, 0])  # without the proxy: blocked too, not a failed DNS lookup
def test_a_proxied_crawl_never_sends_a_private_target_to_the_proxy(proxied: Cluster, proxy: ForwardingProxy,
                                                                   internal: Internal, use_proxies: int) -> None:
    by_name = f"http://127.2:{internal.port}/named"  # resolves to 127.0.0.2
    literal = f"{internal.url}/literal"
    redirected = f"http://127.2:{internal.port}/redirected"
    pages = {"/": Page("/", links=[by_name, literal, "/moved", "/ok"], title="root"),
             "/moved": Page("/moved", status=302, redirect_to=redirected),
             "/ok": Page("/ok", title="ok")}
    with SiteProcess(Site("proxied", pages)) as server:
        name = unique("proxyguard")
        hits_before = len(internal.hits)
        proxied.create(name, server.url("/"), useProxies=use_proxies, restrictDomain=0)
        proxied.wait(name, {9}, timeout=120)
        rows = {r["Url"]: r for r in proxied.url_report(name)}
    for url in (by_name, literal, redirected):
        assert rows[url]["Crawl Status"] == "Blocked: private network address 127.0.0.2", rows[url]
    assert rows[server.url("/moved")]["Redirected To"] == redirected
    if use_proxies:
        assert rows[server.url("/ok")]["Proxy Used"] == proxy.url  # the proxy is used for what is allowed
        assert server.url("/ok") in proxy.requests
    sent = [r for r in proxy.requests if "127.2" in r or "127.0.0.2" in r]
    assert sent == [], f"the proxy was asked for private targets: {sent}"
    assert len(internal.hits) == hits_before
