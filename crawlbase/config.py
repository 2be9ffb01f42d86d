"""Deployment configuration, read once from the environment.

Every setting has one default, one line of documentation and a typed value.
A missing required setting or a value that does not cast fails loudly:

    >>> Config.from_env({"REDIS_URL": "redis://x", "MONGO_URL": "mongodb://y",
    ...                  "CRAWLFLEET_PORT": "eighty"})
    Traceback (most recent call last):
    ...
    crawlbase.config.ConfigError: Config 'CRAWLFLEET_PORT' has value 'eighty', which is not an int.

The README's configuration table is checked against `SETTINGS` by a test.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["SETTINGS", "Config", "ConfigError", "Setting", "redact"]

# A URL's user info: scheme://USER:PASSWORD@host, or scheme://TOKEN@host.
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#@\s]+)@")
REDACTED = "***"


def _masked(match: re.Match[str]) -> str:
    user, colon, _ = match["userinfo"].partition(":")
    return match["scheme"] + (f"{user}:{REDACTED}" if colon else REDACTED) + "@"


def redact(text: str) -> str:
    """`text` with the password of every URL in it replaced by *** (a user info without a password,
    which may be a token, entirely): for logs and messages that show REDIS_URL, MONGO_URL,
    CRAWLFLEET_SMTP_URL or proxy URLs. The one place this is done.

        >>> redact("redis://:s3cret@db:6379/0, http://bob:pw@proxy:3128 and mongodb://u:p@a,b/?x=1")
        'redis://:***@db:6379/0, http://bob:***@proxy:3128 and mongodb://u:***@a,b/?x=1'
        >>> redact("redis://db:6379/0 http://host:8080/a?b=c@d http://T0KEN@proxy")
        'redis://db:6379/0 http://host:8080/a?b=c@d http://***@proxy'
    """
    return _URL_USERINFO.sub(_masked, text)


class ConfigError(ValueError):
    """A setting is missing or does not have the right type."""


def _bool(raw: str) -> bool:
    low = raw.strip().lower()
    if low in {"1", "true", "yes", "on"}:
        return True
    if low in {"0", "false", "no", "off"}:
        return False
    raise ValueError(raw)


def _choice(*allowed: str) -> Callable[[str], str]:
    def cast(raw: str) -> str:
        if raw not in allowed:
            raise ValueError(raw)
        return raw

    cast.__name__ = "one of " + "|".join(allowed)
    return cast


def _positive(cast: Callable[[str], Any]) -> Callable[[str], Any]:
    def checked(raw: str) -> Any:
        value = cast(raw)
        if value <= 0:
            raise ValueError(raw)
        return value

    checked.__name__ = f"positive {cast.__name__}"
    return checked


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 65535:
        raise ValueError(raw)
    return value


_port.__name__ = "port number"


def _natural(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError(raw)
    return value


_natural.__name__ = "non-negative int"


def _networks(raw: str) -> str:
    for part in raw.replace(",", " ").split():
        ipaddress.ip_network(part, strict=False)  # ValueError names the setting
    return raw


_networks.__name__ = "list of IP addresses or networks"



#: Settings an earlier release read, and what replaced them: set, they stop the process rather than
#: being ignored (an operator who opened registration the old way must not silently get it closed).
RENAMED = {"CRAWLFLEET_OPEN_REGISTRATION": "CRAWLFLEET_REGISTRATION"}

@dataclasses.dataclass(frozen=True)
class Setting:
    """One environment setting: its attribute, variable, cast, default and doc line."""

    attr: str
    env: str
    cast: Callable[[str], Any]
    default: Any  # None means: required
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting("redis_url", "REDIS_URL", str, None,
            "Redis holding definitions, frontier, dedupe and counters (`crawlfleet up` starts one if unset)."),
    Setting("redis_cluster", "CRAWLFLEET_REDIS_CLUSTER", _bool, False,
            "REDIS_URL points at a Redis Cluster (each crawl's keys share one hash slot)."),
    Setting("mongo_url", "MONGO_URL", str, None,
            "MongoDB (or a MongoDB-wire server) holding objects, URL reports, job records and tokens."),
    Setting("mongo_db", "CRAWLFLEET_MONGO_DB", str, "crawlfleet", "MongoDB database name."),
    Setting("key_prefix", "CRAWLFLEET_KEY_PREFIX", str, "cf",
            "Prefix of every Redis key, so deployments can share one Redis."),
    Setting("host", "CRAWLFLEET_HOST", str, "127.0.0.1", "Address the controller listens on."),
    Setting("port", "CRAWLFLEET_PORT", int, 8000, "Port the controller listens on."),
    Setting("max_body", "CRAWLFLEET_MAX_BODY", _positive(int), 1 << 20,
            "Largest request body, in bytes, the controller accepts (larger: 413, before authentication)."),
    Setting("max_header_bytes", "CRAWLFLEET_MAX_HEADER_BYTES", _positive(int), 16 * 1024,
            "Largest request head (request line and headers), in bytes, the controller's HTTP parser buffers."),
    Setting("max_connections", "CRAWLFLEET_MAX_CONNECTIONS", _positive(int), 1024,
            "Connections and requests the controller serves at once; beyond it answers 503."),
    Setting("keep_alive_timeout", "CRAWLFLEET_KEEP_ALIVE_TIMEOUT", _positive(int), 5,
            "Seconds the controller keeps an idle connection open."),
    Setting("public_url", "CRAWLFLEET_PUBLIC_URL", str, "",
            "Base URL used in downloadJson/downloadUrls links (default: the request's own base URL)."),
    Setting("concurrency", "CRAWLFLEET_CONCURRENCY", _positive(int), 32,
            "Requests one worker downloads at the same time."),
    Setting("host_concurrency", "CRAWLFLEET_HOST_CONCURRENCY", _positive(int), 8,
            "Requests to one host in flight across the whole cluster (1 whenever a crawl delay applies)."),
    Setting("pop_batch", "CRAWLFLEET_POP_BATCH", _positive(int), 32,
            "Most requests a worker leases in one frontier call."),
    Setting("prefetch", "CRAWLFLEET_PREFETCH", _positive(int), 16,
            "Leased requests a worker keeps ready beyond those downloading."),
    Setting("lease_seconds", "CRAWLFLEET_LEASE_SECONDS", _positive(float), 60.0,
            "A leased request not renewed for this long goes back to the queue (worker presumed dead)."),
    Setting("max_tries", "CRAWLFLEET_MAX_TRIES", _positive(int), 3,
            "Tries per URL (download errors, 5xx, lost leases) before it is recorded as failed."),
    Setting("robots_delay_cap", "CRAWLFLEET_ROBOTS_DELAY_CAP", float, 30.0,
            "Upper bound, in seconds, on a robots.txt Crawl-delay."),
    Setting("download_timeout", "CRAWLFLEET_DOWNLOAD_TIMEOUT", _positive(float), 30.0,
            "Seconds before a download is abandoned (and retried)."),
    Setting("download_maxsize", "CRAWLFLEET_DOWNLOAD_MAXSIZE", _positive(int), 10 * 1024 * 1024,
            "Largest response body, in bytes, that is downloaded."),
    Setting("user_agent", "CRAWLFLEET_USER_AGENT", str,
            "crawlfleet/0.1 (+https://github.com/crawlfleet/crawlfleet)",
            "User-Agent sent with every request and matched against robots.txt."),
    Setting("dedupe", "CRAWLFLEET_DEDUPE", _choice("exact", "bloom"), "exact",
            "Seen-URL store for new crawls: exact fingerprints or a Bloom filter in Redis bitmaps."),
    Setting("bloom_error_rate", "CRAWLFLEET_BLOOM_ERROR_RATE", _positive(float), 0.001,
            "Target false-positive rate of the Bloom filter."),
    Setting("allow_networks", "CRAWLFLEET_ALLOW_NETWORKS", str, "",
            "Private networks (CIDRs) and host names crawls may fetch; all other non-public addresses are refused."),
    Setting("proxies", "CRAWLFLEET_PROXIES", str, "",
            "Comma-separated proxy URLs for crawls with useProxies=1, used in turn."),
    Setting("proxy_bench_seconds", "CRAWLFLEET_PROXY_BENCH_SECONDS", _positive(float), 60.0,
            "How long a proxy that failed is left out of the rotation."),
    Setting("max_crawls_per_token", "CRAWLFLEET_MAX_CRAWLS_PER_TOKEN", _positive(int), 1000,
            "Crawls one token may have; the next create fails with Too Many Collections."),
    Setting("smtp_url", "CRAWLFLEET_SMTP_URL", str, "",
            "SMTP server for notifyEmail, as smtp://[user:password@]host:port (smtps:// for TLS)."),
    Setting("smtp_from", "CRAWLFLEET_SMTP_FROM", str, "crawlfleet@localhost", "Sender of notification emails."),
    Setting("clock", "CRAWLFLEET_CLOCK", _choice("system", "redis"), "system",
            "system; or redis: system time plus an offset kept in Redis that tests advance (not for production)."),
    Setting("data_dir", "CRAWLFLEET_DATA_DIR", str, "crawlfleet-data",
            "Where `crawlfleet up` keeps the embedded Redis and MongoDB data."),
    Setting("workers", "CRAWLFLEET_WORKERS", _positive(int), 2, "Worker processes `crawlfleet up` starts."),
    Setting("log_level", "CRAWLFLEET_LOG_LEVEL", _choice("DEBUG", "INFO", "WARNING", "ERROR"), "INFO",
            "Log level of controller and workers."),
    Setting("metrics_host", "CRAWLFLEET_METRICS_HOST", str, "127.0.0.1",
            "Address a worker serves /metrics and /healthz on."),
    Setting("metrics_port", "CRAWLFLEET_METRICS_PORT", _port, 9410,
            "Port a worker serves /metrics and /healthz on (0: off); `crawlfleet up` gives its workers this "
            "and the next free ports, and prints them."),
    Setting("heartbeat_timeout", "CRAWLFLEET_HEARTBEAT_TIMEOUT", _positive(float), 30.0,
            "A worker whose event loop has not beaten for this many seconds fails /healthz."),
    Setting("jwt_secret", "CRAWLFLEET_JWT_SECRET", str, "",
            "Key that signs /api/v1 login tokens (JWT, HS256); empty: a random key made once and kept in MongoDB."),
    Setting("jwt_ttl", "CRAWLFLEET_JWT_TTL", _positive(float), 3600.0,
            "Seconds an /api/v1 login token stays valid."),
    Setting("trusted_proxies", "CRAWLFLEET_TRUSTED_PROXIES", _networks, "",
            "Reverse proxies (addresses, CIDRs) whose X-Forwarded-For, X-Real-IP or CF-Connecting-IP are believed."),
    Setting("rate_limit", "CRAWLFLEET_RATE_LIMIT", _positive(int), 600,
            "/api/v1 requests per window per API key or user."),
    Setting("rate_limit_anonymous", "CRAWLFLEET_RATE_LIMIT_ANONYMOUS", _positive(int), 120,
            "/api/v1 requests per window per client address, for guests and requests without credentials."),
    Setting("rate_window", "CRAWLFLEET_RATE_WINDOW", _positive(float), 60.0,
            "Length of an /api/v1 rate-limit window, in seconds."),
    Setting("guest_crawls", "CRAWLFLEET_GUEST_CRAWLS", _natural, 3,
            "Crawls guests may create per client address in any 24 hours."),
    Setting("registration", "CRAWLFLEET_REGISTRATION", _choice("closed", "open", "first-admin"), "closed",
            "Who may register an /api/v1 account: closed (admins, or `crawlfleet user create`); open (anyone, "
            "as a user); first-admin (anyone; the first account is the admin: `crawlfleet up` on loopback)."),
    Setting("webhook_attempts", "CRAWLFLEET_WEBHOOK_ATTEMPTS", _positive(int), 6,
            "Tries of a webhook delivery before it is marked failed."),
    Setting("webhook_backoff", "CRAWLFLEET_WEBHOOK_BACKOFF", _positive(float), 10.0,
            "Seconds before a webhook delivery's first retry; each later retry waits four times longer (1 h at most)."),
    Setting("process_concurrency", "CRAWLFLEET_PROCESS_CONCURRENCY", _positive(int), 8,
            "Calls to external processing services (an apiUrl that is not a Diffbot API) one worker has in flight."),
    Setting("process_timeout", "CRAWLFLEET_PROCESS_TIMEOUT", _positive(float), 30.0,
            "Seconds a processing service has to answer one call before it is retried."),
    Setting("process_tries", "CRAWLFLEET_PROCESS_TRIES", _positive(int), 3,
            "Tries of a processing-service call (connection errors, timeouts, 408, 429, 5xx) before the page's "
            "processing is recorded as failed."),
    Setting("selector_timeout", "CRAWLFLEET_SELECTOR_TIMEOUT", _positive(float), 1.0,
            "Seconds a page's custom selectors (`selectors`) may run in the worker's selector process; one still "
            "running then is stopped, and the page's Process Response names it."),
    Setting("role", "CRAWLFLEET_ROLE", _choice("both", "crawl", "process"), "both",
            "What a worker does: both (crawl and process pages); crawl (fetch, and hand pages to process workers "
            "through Redis); process (run the built-in extractors on pages crawl workers handed over)."),
)


@dataclasses.dataclass(frozen=True)
class Config:
    """The typed settings of one process. Build it with `Config.from_env`."""

    redis_url: str
    redis_cluster: bool
    mongo_url: str
    mongo_db: str
    key_prefix: str
    host: str
    port: int
    public_url: str
    concurrency: int
    host_concurrency: int
    pop_batch: int
    prefetch: int
    lease_seconds: float
    max_tries: int
    robots_delay_cap: float
    download_timeout: float
    download_maxsize: int
    user_agent: str
    dedupe: str
    bloom_error_rate: float
    allow_networks: str
    proxies: str
    proxy_bench_seconds: float
    max_crawls_per_token: int
    smtp_url: str
    smtp_from: str
    clock: str
    data_dir: str
    workers: int
    log_level: str
    metrics_host: str
    metrics_port: int
    heartbeat_timeout: float
    jwt_secret: str
    jwt_ttl: float
    trusted_proxies: str
    rate_limit: int
    rate_limit_anonymous: int
    rate_window: float
    guest_crawls: int
    registration: str
    webhook_attempts: int
    webhook_backoff: float
    process_concurrency: int = 8
    process_timeout: float = 30.0
    process_tries: int = 3
    selector_timeout: float = 1.0
    role: str = "both"
    max_body: int = 1 << 20
    max_header_bytes: int = 16 * 1024
    max_connections: int = 1024
    keep_alive_timeout: int = 5

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, require_stores: bool = True) -> Config:
        """Read and cast every setting; raise ConfigError naming the first bad one."""
        env = os.environ if environ is None else environ
        for old, new in RENAMED.items():
            if env.get(old):
                raise ConfigError(f"Config '{old}' is no longer read: use '{new}' instead.")
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = env.get(setting.env)
            if raw is None or raw == "":
                if setting.default is None and require_stores:
                    raise ConfigError(f"Config '{setting.env}' is missing, and has no default.")
                values[setting.attr] = "" if setting.default is None else setting.default
                continue
            try:
                values[setting.attr] = setting.cast(raw)
            except ValueError:
                kind = getattr(setting.cast, "__name__", "value")
                expected = f"{_article(kind)} {kind}".strip()
                raise ConfigError(f"Config '{setting.env}' has value {raw!r}, which is not {expected}.") from None
        return cls(**values)

    def __repr__(self) -> str:  # Scrapy logs its settings, this among them: no passwords in logs
        shown = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if shown["jwt_secret"]:
            shown["jwt_secret"] = REDACTED
        fields = ", ".join(f"{name}={value!r}" for name, value in shown.items())
        return redact(f"Config({fields})")

    def replace(self, **changes: Any) -> Config:
        """A copy with some settings changed (used by `crawlfleet up` and tests)."""
        return dataclasses.replace(self, **changes)

    def as_env(self) -> dict[str, str]:
        """The settings as environment variables, to hand to child processes."""
        out: dict[str, str] = {}
        for setting in SETTINGS:
            value = getattr(self, setting.attr)
            out[setting.env] = ("1" if value else "0") if isinstance(value, bool) else str(value)
        return out


def _article(word: str) -> str:
    if word.startswith("one of"):
        return ""
    return "an" if word[:1] in "aeiou" else "a"
