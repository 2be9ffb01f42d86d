"""API tokens (API keys): stored only as SHA-256 digests in MongoDB.

A token is 32 lowercase hex characters, like a Diffbot token, so it never contains
the `-` that separates token and crawl name in Diffbot download URLs.

    >>> token_id("0" * 32)[:12]
    '84e0c0eafaa9'

Two kinds share the `tokens` collection and work the same way as a /v3 `token` and as
an /api/v1 `X-API-Key`:

- a standalone token (`crawlfleet token create`): its crawls are recorded under its digest;
- a user's API key (created through /api/v1, `owner` = the user's id): its crawls are
  recorded under the user's id, so every key of a user, and the user's JWT sessions,
  see the same crawls.

`TokenInfo.id` is that identity (what `crawls.token` holds); `TokenInfo.key` is always
the token's own digest.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

__all__ = ["TokenInfo", "TokenStore", "token_id"]


def token_id(token: str) -> str:
    """The stored identity of a token: its SHA-256 digest in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    id: str  # whose crawls: the owner's user id, or the token's digest for a standalone token
    name: str
    created: float
    revoked: bool
    hint: str  # first characters of the token, to tell tokens apart in listings
    key: str = ""  # the token's digest (the document id)
    owner: str = ""  # user id; "" for a standalone token
    expires: float = 0.0  # epoch seconds; 0: never
    admin: bool = False  # an administrator's token (`crawlfleet token create --admin`): may pause all crawls


class TokenStore:
    """Create, list, revoke and look up tokens in the `tokens` collection."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._tokens = db.tokens
        self._clock = clock

    def create(self, name: str, owner: str = "", expires: float = 0.0, *, admin: bool = False) -> str:
        """Create a token and return it; only its digest is kept."""
        token = secrets.token_hex(16)
        doc: dict[str, Any] = {"_id": token_id(token), "name": name, "created": self._clock(), "revoked": False,
                               "hint": token[:6]}
        if owner:
            doc["owner"] = owner
        if expires:
            doc["expires"] = float(expires)
        if admin:
            doc["admin"] = True
        self._tokens.insert_one(doc)
        return token

    def list(self, owner: str | None = None) -> list[TokenInfo]:
        """Every token (owner None), or the keys of one user."""
        query = {} if owner is None else {"owner": owner}
        return [self._info(doc) for doc in self._tokens.find(query).sort("created", 1)]

    def get(self, key: str) -> TokenInfo | None:
        """A token by its digest, revoked or not."""
        doc = self._tokens.find_one({"_id": key})
        return None if doc is None else self._info(doc)

    def revoke(self, name_or_hint: str) -> int:
        """Revoke the tokens with this name or hint; return how many were revoked."""
        result = self._tokens.update_many(
            {"$or": [{"name": name_or_hint}, {"hint": name_or_hint}], "revoked": False},
            {"$set": {"revoked": True}},
        )
        return int(result.modified_count)

    def revoke_key(self, key: str, owner: str | None = None) -> bool:
        """Revoke one token by digest (only if it belongs to `owner`, when given)."""
        query: dict[str, Any] = {"_id": key, "revoked": False}
        if owner is not None:
            query["owner"] = owner
        return bool(self._tokens.update_one(query, {"$set": {"revoked": True, "revoked_at": self._clock()}})
                    .modified_count)

    def revoke_owner(self, owner: str) -> int:
        """Revoke every key of a user (the user is deleted or disabled)."""
        result = self._tokens.update_many({"owner": owner, "revoked": False}, {"$set": {"revoked": True}})
        return int(result.modified_count)

    def lookup(self, token: str) -> TokenInfo | None:
        """The live token with this value, or None when unknown, revoked or expired."""
        doc = self._tokens.find_one({"_id": token_id(token)})
        if doc is None or doc.get("revoked"):
            return None
        info = self._info(doc)
        if info.expires and info.expires <= self._clock():
            return None
        return info

    @staticmethod
    def _info(doc: dict) -> TokenInfo:
        owner = doc.get("owner", "")
        return TokenInfo(owner or doc["_id"], doc["name"], doc["created"], bool(doc.get("revoked")),
                         doc.get("hint", ""), doc["_id"], owner, float(doc.get("expires", 0.0)),
                         bool(doc.get("admin")))
