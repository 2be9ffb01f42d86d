"""Scrapy settings of a crawlfleet worker (deployment values come from crawlbase.config).

Redirects, retries, cookies, depth and offsite handling are off here because the frontier
does them for every worker at once: a redirect target is a discovered URL (scope,
dedupe and politeness apply), a failed download goes back to the queue with a try
counted, and scope is the crawl's, not the spider's.
"""

BOT_NAME = "crawlfleet"
SPIDER_MODULES = ["spiders.fleet"]
NEWSPIDER_MODULE = "spiders"

SCHEDULER = "spiders.scheduler.FrontierScheduler"
ITEM_PIPELINES = {"spiders.pipelines.CommitPipeline": 100}
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "spiders.netguard.NetGuardMiddleware": 50,
    "spiders.middlewares.PoliteRobotsTxtMiddleware": 100,
    "spiders.proxies.ProxyPoolMiddleware": 700,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "spiders.extensions.FetchMetrics": 950,  # next to the downloader: sees every response and download error
}
EXTENSIONS = {"spiders.extensions.Telemetry": 500}  # /metrics and /healthz on CRAWLFLEET_METRICS_PORT
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
}
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# The guarded resolver under both names: Scrapy 2.13-2.14 read DNS_RESOLVER, later versions
# TWISTED_DNS_RESOLVER. The worker checks the installed one at start-up (spiders.runner).
TWISTED_DNS_RESOLVER = DNS_RESOLVER = "spiders.netguard.GuardedResolver"
ROBOTSTXT_OBEY = True
ROBOTSTXT_PARSER = "scrapy.robotstxt.ProtegoRobotParser"
COOKIES_ENABLED = False
HTTPERROR_ALLOW_ALL = True
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # an open control port on every worker is not something to ship by default
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_ENABLED = False
DNSCACHE_ENABLED = True
# One item per page: Scrapy would otherwise start CONCURRENT_ITEMS (100) asyncio tasks for
# every response to process its output, which costs more than parsing the page.
CONCURRENT_ITEMS = 1
LOG_LEVEL = "INFO"
LOGSTATS_INTERVAL = 60.0
