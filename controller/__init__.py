"""The control API: Diffbot-compatible /v3 endpoints over the crawl store."""
