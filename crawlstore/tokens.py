"""API tokens: created by the CLI, stored only as SHA-256 digests in MongoDB.

A token is 32 lowercase hex characters, like a Diffbot token, so it never contains
the `-` that separates token and crawl name in Diffbot download URLs.

    >>> token_id("0" * 32)[:12]
    '84e0c0eafaa9'
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from pymongo.database import Database

__all__ = ["TokenInfo", "TokenStore", "token_id"]


def token_id(token: str) -> str:
    """The stored identity of a token: its SHA-256 digest in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    created: float
    revoked: bool
    hint: str  # first characters of the token, to tell tokens apart in listings


class TokenStore:
    """Create, list, revoke and look up tokens in the `tokens` collection."""

    def __init__(self, db: Database) -> None:
        self._tokens = db.tokens

    def create(self, name: str) -> str:
        """Create a token and return it; only its digest is kept."""
        token = secrets.token_hex(16)
        self._tokens.insert_one(
            {"_id": token_id(token), "name": name, "created": time.time(), "revoked": False, "hint": token[:6]}
        )
        return token

    def list(self) -> list[TokenInfo]:
        return [self._info(doc) for doc in self._tokens.find().sort("created", 1)]

    def revoke(self, name_or_hint: str) -> int:
        """Revoke the tokens with this name or hint; return how many were revoked."""
        result = self._tokens.update_many(
            {"$or": [{"name": name_or_hint}, {"hint": name_or_hint}], "revoked": False},
            {"$set": {"revoked": True}},
        )
        return int(result.modified_count)

    def lookup(self, token: str) -> TokenInfo | None:
        """The live token with this value, or None when unknown or revoked."""
        doc = self._tokens.find_one({"_id": token_id(token)})
        if doc is None or doc.get("revoked"):
            return None
        return self._info(doc)

    @staticmethod
    def _info(doc: dict) -> TokenInfo:
        return TokenInfo(doc["_id"], doc["name"], doc["created"], bool(doc.get("revoked")), doc.get("hint", ""))
