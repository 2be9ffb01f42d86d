"""Refuse to start on a credential that was never set: empty, a placeholder, or a well-known default.

Deployment files ship no working passwords (deploy/k8s/base/secret.yaml has empty values), so a
deployment that forgot to fill them in must not come up talking to open stores. The controller and
the workers check them before they connect to anything:

    >>> from crawlbase.config import Config
    >>> config = Config.from_env({"REDIS_URL": "redis://:@redis:6379/0", "MONGO_URL": "mongodb://db/"})
    >>> credential_problems(config)
    ['REDIS_URL has an empty password']

`refuse_unset_credentials(config)` raises ConfigError with these, and the CLI exits with status 2.

Store URLs without any credentials (`redis://127.0.0.1:6379/0`) are accepted: a store without
authentication is a deployment's own choice, and `crawlfleet up` and the tests run that way.
Pure: no I/O. Messages name the setting, never the value.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from crawlbase.config import Config, ConfigError

__all__ = ["credential_problems", "refuse_unset_credentials", "secret_problem"]

# Text in a secret that says it was never replaced (compared without case and punctuation).
PLACEHOLDER_MARKERS = ("changeme", "replaceme", "placeholder", "yourpassword")
# Secrets that products ship as defaults, or that people type when asked for one.
WELL_KNOWN = frozenset({"admin", "changeit", "default", "password", "secret", "test"})
# A reference the deployment tool left unexpanded: $(VAR) in Kubernetes, ${VAR} or $VAR in a shell.
_UNEXPANDED = re.compile(r"\$(\(|\{|[A-Za-z_])")


def secret_problem(secret: str) -> str | None:
    """Why `secret` is not a real secret (empty, placeholder, well known), or None.

    >>> secret_problem("change-me-redis"), secret_problem("3f9a01bc77d2"), secret_problem("")
    ('is a placeholder', None, 'is empty')
    """
    if secret == "":
        return "is empty"
    if _UNEXPANDED.search(secret):
        return "is an unexpanded variable reference"
    folded = re.sub(r"[^a-z0-9]", "", secret.lower())
    if any(marker in folded for marker in PLACEHOLDER_MARKERS):
        return "is a placeholder"
    if folded in WELL_KNOWN:
        return "is a well-known default"
    return None


def _url_problem(url: str) -> str | None:
    """Why the password in `url` is not a real one, or None (also when the URL carries none)."""
    netloc = urlsplit(url.strip()).netloc
    if "@" not in netloc:
        return None  # no credentials at all
    userinfo = netloc.rpartition("@")[0]
    user, colon, password = userinfo.partition(":")
    if not colon:
        return None if user else "has an empty user name and no password"
    problem = secret_problem(unquote(password))
    if problem is None:
        return None
    return "has an empty password" if password == "" else f"has a password that {problem}"


def credential_problems(config: Config) -> list[str]:
    """One sentence per setting whose credential was never set, naming the setting."""
    urls = [("REDIS_URL", config.redis_url), ("MONGO_URL", config.mongo_url),
            ("CRAWLFLEET_SMTP_URL", config.smtp_url)]
    urls += [("CRAWLFLEET_PROXIES", proxy) for proxy in config.proxies.split(",") if proxy.strip()]
    found = []
    for name, url in urls:
        problem = _url_problem(url)
        if problem is not None:
            found.append(f"{name} {problem}")
    if config.jwt_secret:  # empty: a random key is made and kept in MongoDB
        problem = secret_problem(config.jwt_secret)
        if problem is not None:
            found.append(f"CRAWLFLEET_JWT_SECRET {problem}")
    return found


def refuse_unset_credentials(config: Config) -> None:
    """Raise ConfigError (exit status 2 from the CLI) when any credential was never set."""
    problems = credential_problems(config)
    if problems:
        raise ConfigError(
            "; ".join(problems) + ". Refusing to start with a credential that was never set: "
            "put a real one in its place (e.g. `openssl rand -hex 24`)."
        )
