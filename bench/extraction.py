"""Extraction benchmark: milliseconds per page and pages per second per core for each built-in
extractor, on the test corpus (tests/extraction/corpus), as the worker calls them.

    .venv/bin/python -m bench.extraction                  # corpus pages as written, and padded
    .venv/bin/python -m bench.extraction --rounds 50 --processes 1,2

The worker hands the extractors the tree Scrapy already parsed, so extraction is timed on a
parsed tree; parsing is timed apart ("parse"). Each extractor runs on the pages of its type
(analyze on every page); "basic" is today's object (spiders.objects.build_object), the cost of
processing before this issue. Figures are medians over rounds of the mean per page, one thread.

Real pages carry far more markup than the corpus's hand-written ones, so every page is also
measured padded to about 100 KB with typical boilerplate (menus, scripts, styles, a footer of
links, related-story cards): the "padded" columns.

Then the crawl throughput this leaves: a worker that crawls C pages/s without processing
crawls about 1 / (1/C + t) pages/s when each page costs t more, and `--processes` shows how
analyze (parse + extract, from HTML, as a separate processing worker would run it) scales with
worker processes.

Last (`--crawl N`, 0 to skip), real crawls of a generated N-page site on loopback (fresh Redis,
MongoDB-wire server and controller, as bench/frontier.py runs them), timed from the create to
completion: one worker with processing off (urlProcessPattern matching no URL), one worker
processing every page (analyze, no apiUrl), and one crawl worker handing pages to 1 and 2 process
workers (CRAWLFLEET_ROLE=crawl / process, spiders/handoff.py).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lxml.html

from crawlcore.api_url import ApiSpec, parse_api_url
from crawlcore.urls import fingerprint
from spiders.extract import read_page
from spiders.extractors import extract
from spiders.objects import build_object

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "extraction" / "corpus"
#: Pages per second of one crawlfleet worker without processing (bench/RESULTS.md, frontier benchmark).
CRAWL_PAGES_PER_SECOND = 519.0  # processing off, run of 2026-12-01
KINDS = {"article": "article", "product": "product", "list": "list", "discussion": "discussion",
         "image": "image", "video": "video"}

Page = tuple[str, bytes, str]  # (url, html, expected type)


def load_pages() -> list[Page]:
    pages = []
    for path in sorted(CORPUS.glob("*.html")):
        expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        pages.append((expected["url"], path.read_bytes(), expected["type"]))
    return pages


def _boilerplate(size: int) -> bytes:
    """Markup real sites wrap around their content: menus, a cookie banner, inline scripts and
    styles, related-story cards, a footer full of links."""
    menu = "".join(f'<li class="menu-item"><a href="/section/{i}/">Section {i}</a>'
                   f'<ul class="sub-menu"><li><a href="/section/{i}/a/">Topic A {i}</a></li>'
                   f'<li><a href="/section/{i}/b/">Topic B {i}</a></li></ul></li>' for i in range(60))
    cards = "".join(f'<div class="related-card"><a href="/story/{i}/"><img src="/img/{i}.jpg" alt="">'
                    f'<h4>Related story number {i} with a longer headline</h4></a><span>3 min read</span></div>'
                    for i in range(30))
    footer = "".join(f'<a href="/footer/{i}/">Footer link {i}</a> ' for i in range(120))
    script = "<script>window.__STATE__=" + json.dumps({"k": ["x" * 40] * 200}) + ";</script>"
    style = "<style>" + ".c{color:#333;margin:0 auto;padding:4px}" * 200 + "</style>"
    block = (f'<nav class="mega-menu"><ul>{menu}</ul></nav><div class="cookie-banner">We use cookies.'
             f'<button>Accept</button></div>{script}{style}<aside class="related">{cards}</aside>'
             f'<footer class="site-footer">{footer}</footer>')
    repeat = max(1, size // len(block))
    return (block * repeat).encode()


def pad(html: bytes, size: int = 100_000) -> bytes:
    """The page with boilerplate added inside <body>, to about `size` bytes."""
    extra = _boilerplate(max(0, size - len(html)))
    head, sep, tail = html.partition(b"</body>")
    return head + extra + sep + tail if sep else html + extra


def _time(fn: Callable[[], Any], pages: int, rounds: int) -> float:
    """Median over rounds of the mean milliseconds per page."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000 / pages)
    return statistics.median(samples)


def measure(pages: list[Page], rounds: int) -> dict[str, tuple[int, float]]:
    """name -> (pages, ms/page) on parsed trees (parse timed apart)."""
    roots = [(url, lxml.html.document_fromstring(html), kind, html) for url, html, kind in pages]
    results: dict[str, tuple[int, float]] = {}

    def parse_all() -> None:
        for _, html, _ in pages:
            lxml.html.document_fromstring(html)

    results["parse (lxml)"] = (len(pages), _time(parse_all, len(pages), rounds))

    def basic() -> None:
        for url, root, _, html in roots:
            build_object(read_page(html, url, root=root), url=url, resolved_url=url, fp=fingerprint(url),
                         crawl_name="b", crawl_round=0, crawled=0.0)

    results["basic (before)"] = (len(roots), _time(basic, len(roots), rounds))

    def run(spec: ApiSpec, subset: list[tuple[str, Any, str, bytes]]) -> Callable[[], None]:
        def go() -> None:
            for url, root, _, _ in subset:
                extract(spec, root=root, url=url)
        return go

    for kind, api in KINDS.items():
        subset = [r for r in roots if r[2] == kind]
        if subset:
            results[kind] = (len(subset), _time(run(parse_api_url(api), subset), len(subset), rounds))
    results["analyze (all pages)"] = (len(roots), _time(run(parse_api_url(""), roots), len(roots), rounds))
    return results


def _analyze_html(batch: list[tuple[str, bytes]]) -> int:
    api = parse_api_url("")
    for url, html in batch:
        extract(api, html=html, url=url)
    return len(batch)


def scaling(pages: list[Page], processes: list[int], seconds: float) -> dict[int, float]:
    """Pages per second of analyze from HTML (parse included) with N worker processes."""
    batch = [(url, html) for url, html, _ in pages]
    out: dict[int, float] = {}
    ctx = multiprocessing.get_context("fork")
    for n in processes:
        with ctx.Pool(n) as pool:
            pool.map(_analyze_html, [batch] * n)  # warm-up: imports, language model
            done = 0
            started = time.perf_counter()
            while time.perf_counter() - started < seconds:
                done += sum(pool.map(_analyze_html, [batch] * (n * 2)))
            out[n] = done / (time.perf_counter() - started)
    return out


#: (label, crawl parameters, worker roles) of the real crawls.
CRAWL_RUNS: tuple[tuple[str, dict[str, Any], tuple[str, ...]], ...] = (
    ("processing off, 1 worker", {"urlProcessPattern": "no-url-has-this"}, ("both",)),
    ("processing on, 1 worker", {}, ("both",)),
    ("processing on, 1 crawl + 1 process", {}, ("crawl", "process")),
    ("processing on, 1 crawl + 2 process", {}, ("crawl", "process", "process")),
)


def crawl_throughput(pages: int) -> dict[str, float]:
    """Pages per second of real crawls with processing off and on, and with separate process workers."""
    import tempfile

    from bench.frontier import REPO, Bench
    from crawlcore.status import Status
    from tests.sites.fixtures import generate_site
    from tests.sites.nginx import start_nginx
    from tests.sites.process import SiteProcess

    workdir = REPO / "bench" / "out" / time.strftime("extraction-%Y%m%d-%H%M%S")
    workdir.mkdir(parents=True)
    site = generate_site(pages, links_per_page=10, seed=1, page_bytes=6000)
    nginx = start_nginx(site, tempfile.mkdtemp(prefix="bench-site-"))
    python_server = SiteProcess(site).start() if nginx is None else None
    base = nginx.base_url if nginx is not None else python_server.base_url  # type: ignore[union-attr]
    bench = Bench(argparse.Namespace(), workdir)
    rates: dict[str, float] = {}
    print(f"\nReal crawls of {pages} pages ({'nginx' if nginx else 'python http.server'}, loopback), "
          "one controller, workers as listed:")
    try:
        for label, params, roles in CRAWL_RUNS:
            procs = [bench._spawn(f"worker-{i}-{role}", ["worker"], CRAWLFLEET_ROLE=role)
                     for i, role in enumerate(roles)]
            try:
                deadline = time.monotonic() + 60
                while bench.client.hlen("cf:workers") < len(roles):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"workers did not start; see {workdir}")
                    time.sleep(0.2)
                name, started = bench.create(base + "/", **params)
                job = bench.wait(name)
                seconds = time.time() - started
                assert job["jobStatus"]["status"] == Status.COMPLETED, job["jobStatus"]
                assert job["pageCrawlAttempts"] >= pages, job
                if not params:
                    assert job["pageProcessSuccesses"] >= pages * 0.99, job
                rates[label] = job["pageCrawlAttempts"] / seconds
                print(f"  {label:<38}{rates[label]:7.0f} pages/s  ({rates[label] / next(iter(rates.values())):.2f}x "
                      f"of processing off; {job['pageProcessSuccesses']} pages processed)", flush=True)
                bench.api.post("/v3/crawl", data={"token": bench.token, "name": name, "delete": 1})
            finally:
                bench.stop_workers(procs)
    finally:
        bench.close()
        if nginx is not None:
            nginx.stop()
        if python_server is not None:
            python_server.stop()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--padded-size", type=int, default=100_000)
    parser.add_argument("--processes", default="1,2", help="worker process counts for the scaling run ('' to skip)")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each scaling run")
    parser.add_argument("--crawl", type=int, default=3000, help="pages of the real crawls (0 to skip them)")
    args = parser.parse_args()

    pages = load_pages()
    for url, html, _ in pages[:3]:  # warm-up: imports, caches, the language model
        extract(parse_api_url(""), html=html, url=url)
    plain = measure(pages, args.rounds)
    padded_pages = [(url, pad(html, args.padded_size), kind) for url, html, kind in pages]
    padded = measure(padded_pages, max(3, args.rounds // 3))
    avg_plain = statistics.mean(len(h) for _, h, _ in pages) / 1024
    avg_padded = statistics.mean(len(h) for _, h, _ in padded_pages) / 1024

    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"Corpus: {len(pages)} pages, {avg_plain:.1f} KB on average; padded: {avg_padded:.0f} KB\n")
    print(f"{'extractor':<22}{'pages':>6}{'ms/page':>10}{'pages/s/core':>14}{'padded ms':>11}{'padded p/s':>12}")
    for name, (count, ms) in plain.items():
        pms = padded[name][1]
        print(f"{name:<22}{count:>6}{ms:>10.2f}{1000 / ms:>14.0f}{pms:>11.2f}{1000 / pms:>12.0f}")

    base = 1000 / CRAWL_PAGES_PER_SECOND
    print(f"\nCrawl throughput per worker, from {CRAWL_PAGES_PER_SECOND:.0f} pages/s without processing "
          f"({base:.2f} ms/page):")
    for label, table in (("corpus pages", plain), ("padded pages", padded)):
        extra = table["analyze (all pages)"][1] - table["basic (before)"][1]
        with_processing = 1000 / (base + max(extra, 0.0))
        print(f"  {label:<13} analyze adds {extra:5.2f} ms/page -> about {with_processing:4.0f} pages/s "
              f"({with_processing / CRAWL_PAGES_PER_SECOND:.0%} of processing off)")

    if args.crawl:
        crawl_throughput(args.crawl)

    counts = [int(n) for n in args.processes.split(",") if n.strip()]
    if counts:
        print(f"\nanalyze from HTML (parse + extract) in N processes, {args.seconds:.0f} s each, padded pages:")
        rates = scaling(padded_pages, counts, args.seconds)
        for n, rate in rates.items():
            print(f"  {n} process{'es' if n > 1 else ''}: {rate:6.0f} pages/s  ({rate / rates[counts[0]]:.2f}x)")


if __name__ == "__main__":
    main()
