"""Test websites with known link graphs, servers for them, and the crawl's ground truth.

Modules: `model` (Site/Page/Link data), `render` (HTML), `fixtures` (the e2e site, its
neighbour, `generate_site`), `truth` (expected report), `server` (threaded HTTP server
process), `process` (`SiteProcess`, `serve_fixture`), `nginx` (static serving for benchmarks).
"""
