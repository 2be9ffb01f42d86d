"""What /api/v1 handlers use: its stores (built by the app's lifespan from the app's services),
the caller's identity, and authentication.

A caller is a `Principal`: who owns the crawls it sees (`owner`, what `crawls.token` holds),
its role and its rate-limit bucket. Credentials, checked in this order:

- `X-API-Key: <key>`: a user's API key (the user's role) or a standalone token (role user;
  admin for `crawlfleet token create --admin`);
- `Authorization: Bearer <JWT>` from /auth/login or /auth/guest (HS256, `sub` = user id);
- none: anonymous (public endpoints only).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from starlette.requests import Request

from crawlbase.config import Config
from crawlcore.client_address import Network, client_address, parse_proxies
from crawlstore.cancel import Canceller
from crawlstore.keys import V1Keys
from crawlstore.ratelimit import GuestQuota, RateLimiter
from crawlstore.reports import Reports
from crawlstore.sessions import Sessions
from crawlstore.settings_store import SettingsStore
from crawlstore.tokens import TokenInfo, TokenStore, token_id
from crawlstore.users import ROLES, User, UserStore
from crawlstore.webhooks import DeliveryStore, WebhookStore

from ..auth import CACHE_TTL, TTLCache
from ..services import Services
from .aredis import AsyncRedis
from .errors import Forbidden, Unauthorized

__all__ = ["V1", "CacheMiss", "Principal", "authenticate", "bucket", "build", "need"]

@dataclass(frozen=True)
class Principal:
    owner: str  # the crawls it sees: crawls.token == owner (admins see every crawl)
    role: str
    bucket: str  # rate-limit bucket
    user: User | None = None
    key: str = ""  # digest of the API key used, if any
    jti: str = ""  # id of the JWT used, if any
    exp: float = 0.0
    signing_key: str = ""  # SHA-256 hex digest of the credential used (API key or JWT): signs its crawls' webhooks

    def at_least(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def admin(self) -> bool:
        return self.role == "admin"


ANONYMOUS_ROLE = "anonymous"


@dataclass
class V1:
    """The stores and helpers of /api/v1 for one controller (one app lifespan)."""

    svc: Services
    config: Config
    users: UserStore
    settings: SettingsStore
    reports: Reports
    canceller: Canceller
    hooks: WebhookStore
    deliveries: DeliveryStore
    limiter: RateLimiter
    quota: GuestQuota
    sessions: Sessions
    proxies: tuple[Network, ...]
    jwt_secret: str
    aredis: AsyncRedis
    user_cache: TTLCache[str, User | None] = field(default_factory=lambda: TTLCache(CACHE_TTL))
    record_cache: TTLCache[str, dict[str, Any] | None] = field(default_factory=lambda: TTLCache(CACHE_TTL))
    worker_samples: dict[str, tuple[float, int]] = field(default_factory=dict)

    @property
    def clock(self) -> Callable[[], float]:
        return self.svc.clock

    async def aclose(self) -> None:
        """Close what the context opened itself: its asyncio Redis client."""
        await self.aredis.aclose()

    @property
    def keys(self) -> TokenStore:
        return self.svc.tokens.store

    @property
    def key_cache(self) -> TTLCache[str, TokenInfo | None]:
        """The controller's one token cache, /v3's too (controller.auth)."""
        return self.svc.tokens.cache

    # ------------------------------------------------------------------ JWT

    def issue(self, user: User) -> tuple[str, float]:
        now = self.clock()
        exp = now + self.config.jwt_ttl
        claims = {"sub": user.id, "role": user.role, "iat": int(now), "exp": int(exp), "jti": uuid.uuid4().hex,
                  "iss": "crawlfleet"}
        return jwt.encode(claims, self.jwt_secret, algorithm="HS256"), exp

    def revoke_jwt(self, jti: str, exp: float) -> None:
        self.sessions.revoke(jti, int(exp - self.clock()) + 1)

    # ------------------------------------------------------------------ cached lookups

    def user(self, user_id: str) -> User | None:
        hit, user = self.user_cache.get(user_id)
        if not hit:
            user = self.user_cache.put(user_id, self.users.get(user_id))
        return user

    def key(self, token: str) -> TokenInfo | None:
        return self.svc.tokens.lookup(token)

    def record(self, crawl_id: str, fresh: bool = False) -> dict[str, Any] | None:
        hit, rec = (False, None) if fresh else self.record_cache.get(crawl_id)
        if not hit:
            rec = self.record_cache.put(crawl_id, self.reports.record(crawl_id))
        return rec


def build(svc: Services) -> V1:
    """The /api/v1 context over the app's services; creates its MongoDB indexes (blocking). The
    app's lifespan builds it once and closes it (`V1.aclose`) before it closes the services."""
    config = svc.config
    db, redis = svc.db, svc.redis
    users = UserStore(db, clock=svc.clock)
    users.ensure_indexes()
    reports = Reports(db, svc.crawls.frontier)
    reports.ensure_indexes()
    hooks, deliveries = WebhookStore(db, svc.clock), DeliveryStore(db, svc.clock)
    hooks.ensure_indexes()
    deliveries.ensure_indexes()
    settings = SettingsStore(db, redis, config.key_prefix, svc.clock)
    return V1(
        svc=svc, config=config, users=users, settings=settings, reports=reports,
        canceller=Canceller(svc.crawls), hooks=hooks, deliveries=deliveries,
        limiter=RateLimiter(redis, V1Keys(config.key_prefix).base, config.rate_window),
        quota=GuestQuota(redis, V1Keys(config.key_prefix).base, config.guest_crawls),
        sessions=Sessions(redis, config.key_prefix),
        proxies=parse_proxies(config.trusted_proxies), jwt_secret=config.jwt_secret or settings.jwt_secret(),
        aredis=AsyncRedis(config.redis_url, config.redis_cluster),
    )


# ---------------------------------------------------------------------- authentication

def address_of(ctx: V1, request: Request) -> str:
    peer = request.client.host if request.client else ""
    return client_address(peer, request.headers, ctx.proxies)


class CacheMiss(Exception):
    """Authenticating needs a store: do it in a worker thread."""


def _cached_key(ctx: V1, token: str) -> TokenInfo | None:
    hit, info = ctx.svc.tokens.cached(token)
    if not hit:
        raise CacheMiss
    return info


def _cached_user(ctx: V1, user_id: str) -> User | None:
    hit, user = ctx.user_cache.get(user_id)
    if not hit:
        raise CacheMiss
    return user


def _from_key(ctx: V1, token: str, cached: bool) -> Principal:
    info = _cached_key(ctx, token) if cached else ctx.key(token)
    if info is None:
        raise Unauthorized("Unknown, revoked or expired API key.")
    if info.expires and info.expires <= ctx.clock():
        raise Unauthorized("Unknown, revoked or expired API key.")
    if info.owner:
        user = _cached_user(ctx, info.owner) if cached else ctx.user(info.owner)
        if user is None or user.disabled:
            raise Unauthorized("The API key's user no longer exists or is disabled.")
        return Principal(user.id, user.role, f"key:{info.key}", user, key=info.key, signing_key=info.key)
    return Principal(info.id, "admin" if info.admin else "user", f"key:{info.key}", key=info.key,
                     signing_key=info.key)


def _from_jwt(ctx: V1, token: str, address: str, cached: bool) -> Principal:
    try:
        # exp is checked below against the controller's clock, the one that issued it
        claims = jwt.decode(token, ctx.jwt_secret, algorithms=["HS256"], issuer="crawlfleet",
                            options={"require": ["exp", "sub", "jti"], "verify_exp": False, "verify_iat": False})
    except jwt.InvalidTokenError:
        raise Unauthorized("Invalid login token.") from None
    if claims["exp"] <= ctx.clock():  # our clock, not the system's (tests move it)
        raise Unauthorized("The login token has expired: log in again.")
    user = _cached_user(ctx, str(claims["sub"])) if cached else ctx.user(str(claims["sub"]))
    if user is None or user.disabled:
        raise Unauthorized("The login token's user no longer exists or is disabled.")
    bucket = f"addr:{address}" if user.role == "guest" else f"user:{user.id}"
    return Principal(user.id, user.role, bucket, user, jti=str(claims["jti"]), exp=float(claims["exp"]),
                     signing_key=token_id(token))


def authenticate(ctx: V1, request: Request, address: str, *, cached: bool = False) -> Principal | None:
    """The caller, None when anonymous; Unauthorized for bad credentials. Blocking (run it in a
    thread) unless `cached`, which answers from the caches or raises CacheMiss. A logged-out JWT
    is refused later, by the gate (crawlstore.gate)."""
    key = request.headers.get("x-api-key")
    if key:
        return _from_key(ctx, key.strip(), cached)
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("Authorization must be 'Bearer <token>'.")
        return _from_jwt(ctx, value.strip(), address, cached)
    return None


def bucket(ctx: V1, principal: Principal | None, address: str) -> tuple[str, int]:
    """The rate-limit bucket of a caller and its limit."""
    if principal is None or principal.role == "guest":
        return f"addr:{address}", ctx.config.rate_limit_anonymous
    return principal.bucket, ctx.config.rate_limit


def need(request: Request, role: str = "guest") -> Principal:
    """The caller, who must be at least `role`."""
    principal: Principal | None = request.scope.get("crawlfleet.principal")
    if principal is None:
        raise Unauthorized("This endpoint needs credentials: X-API-Key or Authorization: Bearer.")
    if not principal.at_least(role):
        raise Forbidden(f"This needs the {role} role; you are {principal.role}.")
    return principal
