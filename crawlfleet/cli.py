"""The `crawlfleet` console script (also `python -m crawlfleet`).

    $ crawlfleet up --workers 4 --port 8000 --data-dir ./crawlfleet-data
    $ crawlfleet controller            # one controller, configured by the environment
    $ crawlfleet worker                # one worker, configured by the environment
    $ TOKEN=$(crawlfleet token create --name ci)
    $ crawlfleet token list
    $ crawlfleet token revoke ci
    $ crawlfleet user create --username root --role admin   # password from stdin, or a prompt

All settings come from the environment (see `crawlbase.config`). Commands other than `up`
that find neither REDIS_URL nor MONGO_URL use the stores of the `crawlfleet up` running with
the same data dir (it writes them to `<data_dir>/cluster.env`). A configuration error prints
`crawlfleet: <message>` to stderr and exits with status 2; other failures exit with 1.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import re
import secrets
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from crawlbase.config import SETTINGS, Config, ConfigError, redact
from crawlfleet.credentials import refuse_unset_credentials

if TYPE_CHECKING:
    from pymongo.database import Database

    from crawlstore.crawls import CrawlStore
    from crawlstore.tokens import TokenStore

__all__ = ["CommandError", "build_parser", "cluster_environ", "main"]

_DEFAULT_DATA_DIR: str = next(s.default for s in SETTINGS if s.attr == "data_dir")
_EXAMPLE_URLS = {"REDIS_URL": "redis://127.0.0.1:6379/0", "MONGO_URL": "mongodb://127.0.0.1:27017/"}


class CommandError(Exception):
    """A command failed for a reason the message explains (exit status 1, no traceback)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `crawlfleet` command; return its exit status.

    >>> main(["token", "list"])                                  # doctest: +SKIP
    HINT    NAME               CREATED               REVOKED
    0
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(redact(f"crawlfleet: {exc}"), file=sys.stderr)
        return 2
    except CommandError as exc:
        print(redact(f"crawlfleet: {exc}"), file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="crawlfleet",
        description="Self-hosted, horizontally scalable web crawling. Settings come from the environment.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser(
        "up",
        help="run a whole cluster on this machine (stores, controller, workers)",
        description="Run a cluster in the foreground: embedded Redis and MongoDB unless REDIS_URL / "
        "MONGO_URL are set, the controller and N workers. Ctrl-C stops everything.",
    )
    # Values stay strings: Config casts and checks them, with its usual error messages.
    up.add_argument("--workers", metavar="N", help="worker processes (CRAWLFLEET_WORKERS, default 2)")
    up.add_argument("--port", metavar="P", help="controller port (CRAWLFLEET_PORT, default 8000)")
    up.add_argument(
        "--data-dir", metavar="D", help="data and logs (CRAWLFLEET_DATA_DIR, default ./crawlfleet-data)"
    )
    up.set_defaults(func=_cmd_up)

    controller = commands.add_parser("controller", help="run one controller (the HTTP API)")
    controller.set_defaults(func=_cmd_controller)
    worker = commands.add_parser("worker", help="run one crawl worker")
    worker.set_defaults(func=_cmd_worker)

    token = commands.add_parser("token", help="create, list and revoke API tokens")
    data_dir_help = "find a running `crawlfleet up` here when MONGO_URL is not set"
    token.add_argument("--data-dir", metavar="D", help=data_dir_help)
    # Also accepted after the action; SUPPRESS keeps a value given before it.
    after = argparse.ArgumentParser(add_help=False)
    after.add_argument("--data-dir", metavar="D", default=argparse.SUPPRESS, help=data_dir_help)
    actions = token.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", parents=[after], help="create a token and print it (only the token)"
    )
    create.add_argument("--name", help="a name to find it by later (default: token-<UTC time>)")
    create.add_argument("--admin", action="store_true",
                        help="an administrator's token: may pause and resume every crawl")
    create.set_defaults(func=_cmd_token_create)
    listing = actions.add_parser(
        "list", parents=[after], help="list tokens: hint, name, creation time, revoked"
    )
    listing.set_defaults(func=_cmd_token_list)
    revoke = actions.add_parser("revoke", parents=[after], help="revoke the tokens with this name or hint")
    revoke.add_argument("name_or_hint", metavar="NAME_OR_HINT")
    revoke.set_defaults(func=_cmd_token_revoke)

    user = commands.add_parser("user", help="create /api/v1 accounts (the first administrator, for one)")
    user_actions = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    user_create = user_actions.add_parser(
        "create", parents=[after], help="create an account; the password is read from stdin (or a prompt)",
        description="Create an /api/v1 account. The password is the first line of stdin, or asked for "
        "twice on a terminal; --generate-password makes one and prints it.",
    )
    user_create.add_argument("--username", required=True, help="the name to log in with")
    user_create.add_argument("--role", choices=("user", "admin"), default="user", help="default: user")
    user_create.add_argument("--generate-password", action="store_true",
                             help="make a random password and print it (instead of reading one)")
    user_create.set_defaults(func=_cmd_user_create)

    admin = commands.add_parser("admin", help="administer all crawls: pause or resume them for maintenance")
    admin_actions = admin.add_subparsers(dest="action", required=True, metavar="ACTION")
    admin_actions.add_parser("pause", help="pause every crawl (jobStatus 8); new crawls start paused") \
        .set_defaults(func=_cmd_admin_pause)
    admin_actions.add_parser("resume", help="give every crawl the status it had before the pause") \
        .set_defaults(func=_cmd_admin_resume)
    return parser


# --------------------------------------------------------------------------- environment


def cluster_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment, completed from a running `crawlfleet up` when it names no store.

    When neither REDIS_URL nor MONGO_URL is set, the settings of the `up` running with the
    data dir CRAWLFLEET_DATA_DIR (default ./crawlfleet-data) fill in what is unset.

        >>> cluster_environ({"MONGO_URL": "mongodb://db/"})["MONGO_URL"]
        'mongodb://db/'
    """
    from crawlfleet.up import running_cluster_env

    env = dict(os.environ if environ is None else environ)
    if env.get("REDIS_URL") or env.get("MONGO_URL"):
        return env  # the user chose stores: never mix in another cluster's settings
    for key, value in running_cluster_env(_data_dir(env)).items():
        if not env.get(key):
            env[key] = value
    return env


def _data_dir(env: Mapping[str, str]) -> str:
    return env.get("CRAWLFLEET_DATA_DIR") or _DEFAULT_DATA_DIR


def _require(env: Mapping[str, str], *keys: str) -> None:
    """ConfigError saying how to point at stores when some of `keys` are unset."""
    missing = [key for key in keys if not env.get(key)]
    if not missing:
        return
    from crawlfleet.up import CLUSTER_ENV

    names = " and ".join(missing)
    example = " ".join(f"{key}={_EXAMPLE_URLS[key]}" for key in missing)
    data_dir = Path(_data_dir(env)).resolve()
    stale = (
        f" (its {CLUSTER_ENV} is left over from an `up` that did not stop cleanly)"
        if (data_dir / CLUSTER_ENV).exists()
        else ""
    )
    raise ConfigError(
        f"{names} {'is' if len(missing) == 1 else 'are'} not set, and no `crawlfleet up` is running "
        f"with data dir {data_dir}{stale}. Start a cluster with `crawlfleet up`, "
        f"or set {names} (e.g. {example})."
    )


def _overridden(env: Mapping[str, str], **flags: str | None) -> dict[str, str]:
    """`env` with the command-line flags that were given (flag values win)."""
    return dict(env) | {key: value for key, value in flags.items() if value is not None}


# --------------------------------------------------------------------------- up, controller, worker


def _cmd_up(args: argparse.Namespace) -> int:
    from crawlfleet.up import loopback_defaults, run_up

    # `up` never reads cluster.env: it may be its own stale file, and `up` starts stores itself.
    env = _overridden(
        loopback_defaults(os.environ),
        CRAWLFLEET_WORKERS=args.workers,
        CRAWLFLEET_PORT=args.port,
        CRAWLFLEET_DATA_DIR=args.data_dir,
    )
    return run_up(Config.from_env(env, require_stores=False))


def _cmd_controller(args: argparse.Namespace) -> int:
    env = cluster_environ()
    _require(env, "REDIS_URL", "MONGO_URL")
    config = Config.from_env(env)
    refuse_unset_credentials(config)
    # Imported here: the controller pulls in the web stack, which other commands do not need.
    from controller.server import serve

    serve(config)
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    env = cluster_environ()
    _require(env, "REDIS_URL", "MONGO_URL")
    config = Config.from_env(env)
    refuse_unset_credentials(config)
    # Imported here: the worker pulls in Scrapy and Twisted, which other commands do not need.
    from spiders.runner import run

    return run(config)


# --------------------------------------------------------------------------- token


@contextlib.contextmanager
def _database(args: argparse.Namespace) -> Iterator[Database]:
    """The configured MongoDB database; connection problems become CommandError."""
    from pymongo.errors import PyMongoError

    from crawlstore.mongo import connect

    env = cluster_environ(_overridden(os.environ, CRAWLFLEET_DATA_DIR=getattr(args, "data_dir", None)))
    _require(env, "MONGO_URL")
    config = Config.from_env(env, require_stores=False)
    db = connect(config.mongo_url, config.mongo_db)
    try:
        yield db
    except PyMongoError as exc:
        raise CommandError(
            redact(f"cannot use MongoDB at {config.mongo_url} (database {config.mongo_db!r}): {_short(exc)}")
        ) from None
    finally:
        db.client.close()


@contextlib.contextmanager
def _token_store(args: argparse.Namespace) -> Iterator[TokenStore]:
    from crawlstore.tokens import TokenStore

    with _database(args) as db:
        yield TokenStore(db)


def _cmd_token_create(args: argparse.Namespace) -> int:
    name = args.name or "token-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    with _token_store(args) as tokens:
        token = tokens.create(name, admin=args.admin)
    print(token)  # the token alone, so `TOKEN=$(crawlfleet token create)` works
    return 0


def _cmd_token_list(args: argparse.Namespace) -> int:
    with _token_store(args) as tokens:
        infos = tokens.list()
    rows = [("HINT", "NAME", "CREATED", "REVOKED")]
    rows += [(i.hint, i.name, _iso(i.created), "yes" if i.revoked else "no") for i in infos]
    widths = [max(len(row[col]) for row in rows) for col in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[3])
    return 0


def _cmd_token_revoke(args: argparse.Namespace) -> int:
    with _token_store(args) as tokens:
        count = tokens.revoke(args.name_or_hint)
    if count == 0:
        raise CommandError(
            f"no live token has the name or hint {args.name_or_hint!r} (see `crawlfleet token list`)."
        )
    print(f"revoked {count} token{'s' if count != 1 else ''} matching {args.name_or_hint!r}")
    return 0


# --------------------------------------------------------------------------- user


def _cmd_user_create(args: argparse.Namespace) -> int:
    from crawlstore.users import UserExists, UserStore, check_password, check_username

    problem = check_username(args.username)
    if problem:
        raise CommandError(f"the username {problem}.")
    password = secrets.token_urlsafe(18) if args.generate_password else _read_password()
    problem = check_password(password)
    if problem:
        raise CommandError(f"the password {problem}.")
    with _database(args) as db:
        users = UserStore(db)
        users.ensure_indexes()  # the controller may never have run on this database
        try:
            user = users.register(args.username, password, args.role)
        except UserExists:
            raise CommandError(f"the username {args.username!r} is taken.") from None
    print(f"created {user.role} {user.username!r} (id {user.id})")
    if args.generate_password:
        print(f"password: {password}")
    return 0


def _read_password() -> str:
    """The first line of stdin, or a password typed twice on a terminal."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise CommandError("the passwords differ.")
    return password


# --------------------------------------------------------------------------- admin


@contextlib.contextmanager
def _crawl_store() -> Iterator[CrawlStore]:
    from crawlstore.clock import make_clock
    from crawlstore.connection import connect_redis
    from crawlstore.crawls import CrawlStore
    from crawlstore.frontier import Frontier
    from crawlstore.mongo import connect

    env = cluster_environ()
    _require(env, "REDIS_URL", "MONGO_URL")
    config = Config.from_env(env)
    client = connect_redis(config.redis_url, cluster=config.redis_cluster)
    db = connect(config.mongo_url, config.mongo_db)
    try:
        yield CrawlStore(Frontier(client, config.key_prefix, config.host_concurrency), db,
                         lease_seconds=config.lease_seconds, clock=make_clock(config.clock, client, config.key_prefix))
    finally:
        client.close()
        db.client.close()


def _cmd_admin_pause(args: argparse.Namespace) -> int:
    with _crawl_store() as crawls:
        count = crawls.admin.pause()
    print(f"paused {count} crawl{'s' if count != 1 else ''} for maintenance (jobStatus 8)")
    return 0


def _cmd_admin_resume(args: argparse.Namespace) -> int:
    with _crawl_store() as crawls:
        count = crawls.admin.resume()
    print(f"resumed {count} crawl{'s' if count != 1 else ''}")
    return 0


def _short(exc: Exception) -> str:
    """The gist of a pymongo error, without its topology dump.

    >>> _short(Exception("h:1: [Errno 111] Connection refused (configured timeouts: x), Timeout: 5s"))
    'h:1: [Errno 111] Connection refused'
    """
    text = re.split(r" \(configured timeouts|, Timeout: ", str(exc), maxsplit=1)[0].strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _iso(timestamp: float) -> str:
    """UTC ISO 8601 to the second.

    >>> _iso(0)
    '1970-01-01T00:00:00Z'
    """
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
