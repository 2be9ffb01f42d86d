"""Users of /api/v1: accounts with argon2-hashed passwords and a role.

Roles, least to most: `guest` (read-only, a few crawls a day per client address; made by
a guest login, no password), `user`, `admin`. Only when asked (`first_admin`, for a cluster
nobody else can reach) does the first account registered become the admin, decided atomically
so two replicas cannot both make one; an admin made any other way settles it too.

    users = UserStore(db)
    alice = users.register("alice", "correct horse")
    assert users.authenticate("alice", "correct horse") == alice
"""

from __future__ import annotations

import contextlib
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

__all__ = ["ROLES", "User", "UserExists", "UserStore", "check_password", "check_username"]

ROLES = ("guest", "user", "admin")
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}")
MIN_PASSWORD, MAX_PASSWORD = 8, 256
_FIRST_ADMIN = "first_admin"  # marker document in `meta`: the first admin account claims it


class UserExists(Exception):
    """The username is taken."""


@dataclass(frozen=True)
class User:
    id: str
    username: str
    role: str
    created: float
    disabled: bool = False

    def at_least(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def check_username(name: str) -> str | None:
    """None when acceptable, else what is wrong."""
    if not USERNAME.fullmatch(name):
        return "must be 3-64 characters: letters, digits, _ . @ - (starting with a letter or digit)"
    return None


def check_password(password: str) -> str | None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return f"must be {MIN_PASSWORD}-{MAX_PASSWORD} characters"
    return None


class UserStore:
    """The `users` collection. Constructing it does no I/O."""

    def __init__(self, db: Database, *, hasher: PasswordHasher | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._users = db.users
        self._meta = db.meta
        self._hasher = hasher or PasswordHasher()
        self._clock = clock
        self._dummy = ""

    def ensure_indexes(self) -> None:
        self._users.create_index([("username", ASCENDING)], name="username", unique=True)
        self._users.create_index([("created", ASCENDING)], name="created")

    # ------------------------------------------------------------------ creating

    def register(self, username: str, password: str, role: str | None = None, *,
                 first_admin: bool = False) -> User:
        """A new account of `role` (default user); with `first_admin` and no role, the admin when
        no admin account was ever made."""
        user_id = uuid.uuid4().hex
        doc = {"_id": user_id, "username": username, "password": self._hasher.hash(password),
               "role": role or "user", "created": self._clock(), "disabled": False}
        try:
            self._users.insert_one(doc)
        except DuplicateKeyError:
            raise UserExists(username) from None
        if role == "admin":
            self._claim_first_admin(user_id)  # so that no later account becomes admin by being first
        elif role is None and first_admin and self._claim_first_admin(user_id):
            self._users.update_one({"_id": user_id}, {"$set": {"role": "admin"}})
            doc["role"] = "admin"
        return self._user(doc)

    def _claim_first_admin(self, user_id: str) -> bool:
        """True for the one caller that records the deployment's first admin."""
        try:
            self._meta.insert_one({"_id": _FIRST_ADMIN, "user": user_id})
        except DuplicateKeyError:
            return False
        return True

    def create_guest(self, address: str) -> User:
        doc = {"_id": uuid.uuid4().hex, "username": f"guest-{secrets.token_hex(4)}", "password": "",
               "role": "guest", "created": self._clock(), "disabled": False, "address": address}
        self._users.insert_one(doc)
        return self._user(doc)

    # ------------------------------------------------------------------ reading

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password matches (and the account is enabled), else None."""
        doc = self._users.find_one({"username": username})
        if doc is None or not doc.get("password"):
            self._burn(password)  # as slow as a real check: do not reveal which usernames exist
            return None
        try:
            self._hasher.verify(doc["password"], password)
        except (VerificationError, InvalidHashError):
            return None
        if self._hasher.check_needs_rehash(doc["password"]):
            self._users.update_one({"_id": doc["_id"]}, {"$set": {"password": self._hasher.hash(password)}})
        user = self._user(doc)
        return None if user.disabled else user

    def _burn(self, password: str) -> None:
        if not self._dummy:
            self._dummy = self._hasher.hash(secrets.token_hex(8))
        with contextlib.suppress(VerificationError, InvalidHashError):
            self._hasher.verify(self._dummy, password)

    def get(self, user_id: str) -> User | None:
        doc = self._users.find_one({"_id": user_id}, {"password": 0})
        return None if doc is None else self._user(doc)

    def find(self, username: str) -> User | None:
        doc = self._users.find_one({"username": username}, {"password": 0})
        return None if doc is None else self._user(doc)

    def names(self, user_ids: list[str]) -> dict[str, str]:
        """Usernames of some users, by id."""
        if not user_ids:
            return {}
        return {d["_id"]: d["username"] for d in self._users.find({"_id": {"$in": user_ids}}, {"username": 1})}

    def list(self, offset: int, limit: int, role: str | None = None) -> tuple[int, list[User]]:
        query = {} if role is None else {"role": role}
        total = self._users.count_documents(query)
        docs = self._users.find(query, {"password": 0}).sort("created", ASCENDING).skip(offset).limit(limit)
        return total, [self._user(d) for d in docs]

    # ------------------------------------------------------------------ changing

    def update(self, user_id: str, *, role: str | None = None, disabled: bool | None = None,
               password: str | None = None) -> User | None:
        changes: dict[str, Any] = {}
        if role is not None:
            changes["role"] = role
        if disabled is not None:
            changes["disabled"] = disabled
        if password is not None:
            changes["password"] = self._hasher.hash(password)
        if changes:
            self._users.update_one({"_id": user_id}, {"$set": changes})
        return self.get(user_id)

    def delete(self, user_id: str) -> bool:
        return bool(self._users.delete_one({"_id": user_id}).deleted_count)

    @staticmethod
    def _user(doc: dict[str, Any]) -> User:
        return User(doc["_id"], doc["username"], doc.get("role", "user"), float(doc.get("created", 0.0)),
                    bool(doc.get("disabled")))
