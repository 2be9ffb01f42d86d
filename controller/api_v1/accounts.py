"""/api/v1/auth (register, login, guest login, logout, me), /api/v1/keys and /api/v1/users."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from crawlcore.errors import InvalidParameter
from crawlcore.pagination import envelope, parse_window
from crawlstore.tokens import TokenInfo
from crawlstore.users import ROLES, User, UserExists, check_password, check_username

from .context import V1, Principal
from .crawlspec import iso
from .errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from .http import caller, ctx, integer, json_body, ok, query, resource, text_field

__all__ = ["routes", "user_view"]

MAX_KEY_LIFETIME = 10 * 365 * 86400


def user_view(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "role": user.role, "created_at": iso(user.created),
            "disabled": user.disabled}


def key_view(info: TokenInfo) -> dict[str, Any]:
    return {"id": info.key, "name": info.name, "hint": info.hint, "created_at": iso(info.created),
            "expires_at": iso(info.expires), "revoked": info.revoked}


def _credentials(body: dict[str, Any]) -> tuple[str, str]:
    username = text_field(body, "username", max_length=64) or ""
    password = text_field(body, "password", max_length=256) or ""
    return username, password


def _session(v1: V1, user: User) -> dict[str, Any]:
    token, exp = v1.issue(user)
    return {"access_token": token, "token_type": "bearer", "expires_in": int(v1.config.jwt_ttl),
            "expires_at": iso(exp), "user": user_view(user)}


# ---------------------------------------------------------------------- auth

async def register(request: Request) -> Response:
    v1 = ctx(request)
    principal: Principal | None = request.scope.get("crawlfleet.principal")
    body = await json_body(request, form=True)
    username, password = _credentials(body)
    role = body.get("role")

    mode = v1.config.registration  # closed | open | first-admin
    admin = principal is not None and principal.admin

    def work() -> dict[str, Any]:
        if mode == "closed" and not admin:
            raise Forbidden("Registration is closed (CRAWLFLEET_REGISTRATION=closed): an admin creates accounts, "
                            "here or with `crawlfleet user create`.")
        problem = check_username(username)
        if problem:
            raise InvalidParameter("username", problem)
        problem = check_password(password)
        if problem:
            raise InvalidParameter("password", problem)
        if role is not None and (role not in ROLES or role == "guest"):
            raise InvalidParameter("role", "must be user or admin")
        if role is not None and not admin:
            raise Forbidden("Only admins can choose a new account's role.")
        try:
            user = v1.users.register(username, password, role, first_admin=mode == "first-admin")
        except UserExists:
            raise Conflict(f"The username {username!r} is taken.") from None
        return user_view(user)

    out = await run_in_threadpool(work)
    return ok(out, 201, {"Location": f"/api/v1/users/{out['id']}"})


async def login(request: Request) -> Response:
    v1 = ctx(request)
    body = await json_body(request, form=True)
    username, password = _credentials(body)

    def work() -> dict[str, Any]:
        user = v1.users.authenticate(username, password)
        if user is None:
            raise Unauthorized("Wrong username or password.")
        return _session(v1, user)

    return ok(await run_in_threadpool(work))


async def guest_login(request: Request) -> Response:
    v1 = ctx(request)
    address = request.scope["crawlfleet.address"]

    def work() -> dict[str, Any]:
        session = _session(v1, v1.users.create_guest(address))
        session["crawls_left_today"] = max(0, v1.config.guest_crawls - v1.quota.used(address, v1.clock()))
        return session

    return ok(await run_in_threadpool(work))


async def logout(request: Request) -> Response:
    v1, principal = caller(request)
    if not principal.jti:
        raise BadRequest("Only a login token (Authorization: Bearer) can log out; revoke an API key instead.")
    await run_in_threadpool(v1.revoke_jwt, principal.jti, principal.exp)
    return Response(status_code=204)


async def me(request: Request) -> Response:
    v1, principal = caller(request)

    def work() -> dict[str, Any]:
        out: dict[str, Any] = {"owner_id": principal.owner, "role": principal.role,
                               "user": user_view(principal.user) if principal.user else None,
                               "auth": "api_key" if principal.key else "jwt",
                               "rate_limit": {"limit": v1.config.rate_limit if principal.role != "guest"
                                              else v1.config.rate_limit_anonymous,
                                              "window_seconds": v1.config.rate_window}}
        if principal.role == "guest":
            address = request.scope["crawlfleet.address"]
            out["crawls_left_today"] = max(0, v1.config.guest_crawls - v1.quota.used(address, v1.clock()))
        return out

    return ok(await run_in_threadpool(work))


# ---------------------------------------------------------------------- keys

def _key_owner(principal: Principal) -> str:
    if principal.user is None:
        raise Forbidden("API keys belong to users: log in (or use a user's key) to manage them.")
    return principal.user.id


async def list_keys(request: Request) -> Response:
    v1, principal = caller(request, "user")
    params = query(request)

    def work() -> dict[str, Any]:
        window = parse_window(params)
        keys = v1.keys.list(_key_owner(principal))
        return envelope(len(keys), window, [key_view(k) for k in keys[window.offset:window.offset + window.limit]])

    return ok(await run_in_threadpool(work))


async def create_key(request: Request) -> Response:
    v1, principal = caller(request, "user")
    body = await json_body(request)
    name = text_field(body, "name", required=False, max_length=100) or "api-key"
    lifetime = integer({"expires_in": str(body["expires_in"])} if "expires_in" in body else {}, "expires_in",
                       None, 60, MAX_KEY_LIFETIME)

    def work() -> dict[str, Any]:
        owner = _key_owner(principal)
        expires = v1.clock() + lifetime if lifetime else 0.0
        token = v1.keys.create(name, owner=owner, expires=expires)
        info = v1.keys.lookup(token)
        assert info is not None
        return {**key_view(info), "key": token}

    out = await run_in_threadpool(work)
    return ok(out, 201, {"Location": f"/api/v1/keys/{out['id']}"})


async def revoke_key(request: Request) -> Response:
    v1, principal = caller(request, "user")
    key = request.path_params["key_id"]

    def work() -> None:
        owner = None if principal.admin else _key_owner(principal)
        if not v1.keys.revoke_key(key, owner):
            raise NotFound("No live API key with this id for this user.")
        v1.key_cache.clear()  # this replica forgets it now; others within a couple of seconds

    await run_in_threadpool(work)
    return Response(status_code=204)


# ---------------------------------------------------------------------- users (admin)

def _user_or_404(v1: V1, user_id: str) -> User:
    user = v1.users.get(user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


async def list_users(request: Request) -> Response:
    v1, _ = caller(request, "admin")
    params = query(request)

    def work() -> dict[str, Any]:
        window = parse_window(params)
        role = params.get("role")
        if role is not None and role not in ROLES:
            raise InvalidParameter("role", f"must be one of {', '.join(ROLES)}")
        total, users = v1.users.list(window.offset, window.limit, role)
        return envelope(total, window, [user_view(u) for u in users])

    return ok(await run_in_threadpool(work))


async def get_user(request: Request) -> Response:
    v1, principal = caller(request, "guest")
    user_id = request.path_params["user_id"]
    if not principal.admin and (principal.user is None or principal.user.id != user_id):
        raise Forbidden("Only admins can see other users.")
    return ok(user_view(await run_in_threadpool(_user_or_404, v1, user_id)))


async def patch_user(request: Request) -> Response:
    v1, principal = caller(request, "user")
    user_id = request.path_params["user_id"]
    body = await json_body(request)
    own = principal.user is not None and principal.user.id == user_id
    if not principal.admin and not own:
        raise Forbidden("Only admins can change other users.")
    unknown = set(body) - {"role", "disabled", "password"}
    if unknown:
        raise InvalidParameter(sorted(unknown)[0], "is not a user field (role, disabled, password)")
    role, disabled, password = body.get("role"), body.get("disabled"), body.get("password")
    if role is not None and (role not in ROLES or not isinstance(role, str)):
        raise InvalidParameter("role", f"must be one of {', '.join(ROLES)}")
    if disabled is not None and not isinstance(disabled, bool):
        raise InvalidParameter("disabled", "must be true or false")
    if password is not None:
        problem = check_password(password) if isinstance(password, str) else "must be a string"
        if problem:
            raise InvalidParameter("password", problem)
    if (role is not None or disabled is not None) and not principal.admin:
        raise Forbidden("Only admins can change roles or disable accounts.")

    def work() -> dict[str, Any]:
        _user_or_404(v1, user_id)
        user = v1.users.update(user_id, role=role, disabled=disabled, password=password)
        v1.user_cache.drop(user_id)
        if disabled:
            v1.keys.revoke_owner(user_id)
            v1.key_cache.clear()
        assert user is not None
        return user_view(user)

    return ok(await run_in_threadpool(work))


async def delete_user(request: Request) -> Response:
    v1, principal = caller(request, "admin")
    user_id = request.path_params["user_id"]

    def work() -> None:
        if principal.user is not None and principal.user.id == user_id:
            raise Conflict("You cannot delete your own account.")
        _user_or_404(v1, user_id)
        v1.keys.revoke_owner(user_id)
        v1.users.delete(user_id)
        v1.user_cache.drop(user_id)
        v1.key_cache.clear()

    await run_in_threadpool(work)
    return Response(status_code=204)


routes = [
    resource("/auth/register", POST=register),
    resource("/auth/login", POST=login),
    resource("/auth/guest", POST=guest_login),
    resource("/auth/logout", POST=logout),
    resource("/auth/me", GET=me),
    resource("/keys", GET=list_keys, POST=create_key),
    resource("/keys/{key_id}", DELETE=revoke_key),
    resource("/users", GET=list_users),
    resource("/users/{user_id}", GET=get_user, PATCH=patch_user, DELETE=delete_user),
]
