"""`crawlfleet up`: a whole cluster on one machine, supervised by one foreground process.

Starts (unless REDIS_URL / MONGO_URL point at existing stores) redis-server and SecantusDB with
their data under the data dir, creates the MongoDB indexes and a fresh API token, then starts
the controller and N workers, restarts them when they die, and on SIGINT/SIGTERM/SIGHUP stops
workers, controller and stores in that order:

    >>> run_up(Config.from_env(require_stores=False).replace(port=8001))   # doctest: +SKIP
    0

While it runs, `<data_dir>/cluster.env` tells other `crawlfleet` commands (in other shells)
where the stores are; see `running_cluster_env`. Every child gets PR_SET_PDEATHSIG (see
`crawlfleet.servers`), so none outlives this process, not even when it is SIGKILLed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import logging
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Container, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TextIO

import crawlfleet
from crawlbase.config import SETTINGS, Config, redact
from crawlfleet.servers import (
    ManagedProcess,
    ServerError,
    free_port,
    port_is_free,
    spawn,
    start_mongo,
    start_redis,
    stop_all,
)

__all__ = [
    "CLUSTER_ENV",
    "CLUSTER_ENV_KEYS",
    "Cluster",
    "Service",
    "Supervisor",
    "UpError",
    "loopback_defaults",
    "read_cluster_env",
    "run_up",
    "running_cluster_env",
]

log = logging.getLogger("crawlfleet.up")

CLUSTER_ENV = "cluster.env"  # in the data dir, while `up` runs
LOCK_FILE = "up.lock"  # held (flock) by the running `up`: one cluster per data dir
CLUSTER_ENV_KEYS = ("REDIS_URL", "MONGO_URL", "CRAWLFLEET_MONGO_DB", "CRAWLFLEET_KEY_PREFIX")

STARTUP_TIMEOUT = 60.0  # seconds for the controller to answer /healthz
STOP_TIMEOUT = 10.0  # seconds a worker or the controller gets between SIGTERM and SIGKILL
STORE_STOP_TIMEOUT = 30.0  # stores get longer: a SIGKILLed store may lose its last writes
POLL_SECONDS = 0.25
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class UpError(RuntimeError):
    """`crawlfleet up` cannot start or keep the cluster running (the message says why)."""


class _Shutdown(BaseException):
    """Raised by the signal handler to abandon start-up (BaseException: nothing may swallow it)."""


# --------------------------------------------------------------------------- cluster.env


def read_cluster_env(data_dir: str | os.PathLike[str]) -> dict[str, str]:
    """The settings in `<data_dir>/cluster.env` ({} when there is none).

    >>> read_cluster_env("/nonexistent")
    {}
    """
    try:
        text = (Path(data_dir) / CLUSTER_ENV).read_text(encoding="utf-8")
    except OSError:
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def running_cluster_env(data_dir: str | os.PathLike[str]) -> dict[str, str]:
    """`read_cluster_env`, but {} unless a `crawlfleet up` still holds the data dir's lock.

    Why: an `up` that was SIGKILLed cannot remove its cluster.env, and its URLs would point
    at stores that are gone (its children died with it).
    """
    lock = Path(data_dir) / LOCK_FILE
    if not lock.exists():
        return {}
    with lock.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return read_cluster_env(data_dir)  # locked: an `up` is running
        fcntl.flock(fh, fcntl.LOCK_UN)
    return {}


def _write_cluster_env(path: Path, values: Mapping[str, str]) -> None:
    lines = [f"# Written by `crawlfleet up` (pid {os.getpid()}); removed when it stops.", ""]
    lines += [f"{key}={values[key]}" for key in CLUSTER_ENV_KEYS]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)  # atomic: readers never see half a file


@contextlib.contextmanager
def _data_dir_lock(data_dir: Path) -> Iterator[None]:
    """Hold `<data_dir>/up.lock` so a second `up` cannot share the embedded stores' files."""
    with (data_dir / LOCK_FILE).open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise UpError(
                f"another `crawlfleet up` is already running with data dir {data_dir} "
                f"(its settings are in {data_dir / CLUSTER_ENV}); stop it or pass --data-dir."
            ) from None
        yield  # the kernel releases the lock when this process exits, however it exits


# --------------------------------------------------------------------------- supervision


@dataclasses.dataclass
class Service:
    """One supervised child: how to start it, and its restart history.

    >>> Service("worker-1", lambda: spawn("worker-1", ["sleep", "60"]))   # doctest: +SKIP
    """

    name: str
    start: Callable[[], ManagedProcess]
    proc: ManagedProcess | None = None
    failures: int = 0  # exits in a row that came soon after a start
    next_start: float = 0.0  # monotonic time of the next restart attempt


class Supervisor:
    """Restart services that exit, with exponential backoff; give up after repeated rapid failures.

    A service that ran for `stable_after` seconds before exiting is restarted after
    `backoff` seconds; each further exit within `stable_after` of a start doubles the delay
    (capped at `max_backoff`), and the `max_failures`-th such exit in a row makes `poll`
    return that service: the caller then shuts the cluster down.

        >>> sup = Supervisor([Service("w", start_worker)])          # doctest: +SKIP
        >>> sup.start_all(); sup.poll()                              # doctest: +SKIP
    """

    def __init__(
        self,
        services: list[Service],
        *,
        stable_after: float = 30.0,
        max_failures: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
    ) -> None:
        self.services = services
        self.stable_after = stable_after
        self.max_failures = max_failures
        self.backoff = backoff
        self.max_backoff = max_backoff

    def start_all(self) -> None:
        """Start every service that is not running yet (errors propagate: this is start-up)."""
        for service in self.services:
            if service.proc is not None:
                continue
            service.proc = service.start()
            log.info("started %s (pid %d) %s", service.name, service.proc.pid, service.proc.url)

    def processes(self) -> list[ManagedProcess]:
        return [s.proc for s in self.services if s.proc is not None]

    def poll(self) -> Service | None:
        """Notice exits and do due restarts; return a service it gave up on, else None."""
        now = time.monotonic()
        for service in self.services:
            proc = service.proc
            if proc is not None and proc.alive():
                continue
            if proc is not None and self._exited(service, proc, now):
                return service
            if service.proc is None and now >= service.next_start and self._restart(service):
                return service
        return None

    def _exited(self, service: Service, proc: ManagedProcess, now: float) -> bool:
        """Record an exit and schedule the restart; True when it is time to give up."""
        code = proc.stop()  # already ended: this reaps it
        service.proc = None
        uptime = now - proc.started_at
        service.failures = service.failures + 1 if uptime < self.stable_after else 0
        tail = "\n".join(proc.log_tail(8).splitlines()[-8:])
        if service.failures >= self.max_failures:
            log.error(
                "%s (pid %d) %s after %.1f s, %d times in a row soon after starting: giving up. "
                "Its log %s ends with:\n%s",
                service.name, proc.pid, describe_exit(code), uptime, service.failures, proc.log_path, tail,
            )  # fmt: skip
            return True
        delay = min(self.max_backoff, self.backoff * 2 ** max(0, service.failures - 1))
        service.next_start = now + delay
        log.warning(
            "%s (pid %d) %s after %.1f s; restarting in %.0f s. Its log %s ends with:\n%s",
            service.name, proc.pid, describe_exit(code), uptime, delay, proc.log_path, tail,
        )  # fmt: skip
        return False

    def _restart(self, service: Service) -> bool:
        """Start the service again; True when it cannot be started and it is time to give up."""
        try:
            service.proc = service.start()
        except (ServerError, OSError) as exc:  # e.g. a store's port was taken meanwhile
            service.failures += 1
            if service.failures >= self.max_failures:
                log.error("cannot restart %s, giving up: %s", service.name, exc)
                return True
            delay = min(self.max_backoff, self.backoff * 2 ** (service.failures - 1))
            service.next_start = time.monotonic() + delay
            log.warning("cannot restart %s (retrying in %.0f s): %s", service.name, delay, exc)
            return False
        log.info("restarted %s (pid %d)", service.name, service.proc.pid)
        return False


def describe_exit(code: int | None) -> str:
    """Words for a Popen return code.

    >>> describe_exit(-9), describe_exit(3)
    ('was killed by SIGKILL', 'exited with code 3')
    """
    if code is None:
        return "is running"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


# --------------------------------------------------------------------------- the cluster


class Cluster:
    """Start, supervise and stop one single-machine cluster. Use `run_up`, or:

    >>> Cluster(config, out=sys.stdout).run()                   # doctest: +SKIP
    0
    """

    def __init__(self, config: Config, *, out: TextIO | None = None) -> None:
        self.config = config
        self.out = out if out is not None else sys.stdout
        self.data_dir = Path(config.data_dir).resolve()
        self.logs_dir = self.data_dir / "logs"
        self.stores: list[Service] = []  # embedded redis / mongo, in start order
        self.controller: Service | None = None
        self.workers: list[Service] = []
        self.metrics_ports: list[int] = []  # worker i serves /metrics and /healthz on metrics_ports[i - 1] (0: off)
        self.token = ""
        self.supervisor = Supervisor([])
        self._phase = "starting"  # -> "running" -> "stopping"
        self._stop_signal: int | None = None
        self._wrote_env = False

    # -- the whole life cycle

    def run(self) -> int:
        """Start everything, supervise until a signal, stop everything; return the exit code."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(exist_ok=True)
        with _data_dir_lock(self.data_dir), self._signals_handled():
            code = 0
            try:
                try:
                    self._start()
                except (ServerError, UpError, OSError) as exc:
                    code = 1
                    log.error("%s", exc)
                except Exception as exc:  # a bug, or a library error we did not foresee
                    code = 1
                    log.exception("start-up failed: %s: %s", type(exc).__name__, exc)
                else:
                    self._phase = "running"
                    code = self._supervise()
            except _Shutdown:
                log.info("start-up interrupted by %s", signal.Signals(self._stop_signal or 15).name)
            finally:
                self._phase = "stopping"
                self._stop_everything()
            return code

    @contextlib.contextmanager
    def _signals_handled(self) -> Iterator[None]:
        handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stop_signal is None:
            self._stop_signal = signum
        if self._phase == "starting":
            # Abandon start-up at once (it may be waiting 60 s for /healthz); the phase
            # changes first, so a second signal cannot interrupt the clean-up.
            self._phase = "stopping"
            raise _Shutdown(signum)
        if self._phase == "stopping" and signum == signal.SIGINT:
            log.info("already stopping; children that do not stop are killed after %.0f s", STOP_TIMEOUT)

    # -- start-up

    def _start(self) -> None:
        cfg = self.config
        if not port_is_free(cfg.host, cfg.port):
            raise UpError(
                f"port {cfg.port} on {cfg.host} is already in use, so the controller could not listen "
                "there; pass --port or set CRAWLFLEET_PORT."
            )
        redis_url = cfg.redis_url or self._start_store("redis")
        if cfg.redis_url:
            log.info("using Redis at %s (REDIS_URL); starting no redis-server", redact(redis_url))
            _check_redis(redis_url)
        mongo_url = cfg.mongo_url or self._start_store("mongo")
        if cfg.mongo_url:
            log.info("using MongoDB at %s (MONGO_URL); starting no MongoDB server", redact(mongo_url))
        self.config = cfg.replace(redis_url=redis_url, mongo_url=mongo_url, data_dir=str(self.data_dir),
                                  allow_networks=_local_allowlist(cfg))
        if cfg.registration == "first-admin":
            log.info("registration is open and the first account registered on /api/v1 becomes the admin "
                     "(CRAWLFLEET_REGISTRATION=first-admin)")
        self.token = self._prepare_database()
        _write_cluster_env(self.data_dir / CLUSTER_ENV, self.config.as_env())
        self._wrote_env = True
        self.controller = self._python_service("controller", ["controller"])
        self.metrics_ports = _metrics_ports(cfg.metrics_host, cfg.metrics_port, cfg.workers, avoid={cfg.port})
        self.workers = [
            self._python_service(f"worker-{i}", ["worker"], {"CRAWLFLEET_METRICS_PORT": str(port)})
            for i, port in enumerate(self.metrics_ports, 1)
        ]
        self.supervisor = Supervisor([*self.stores, self.controller, *self.workers])
        self.supervisor.start_all()  # the stores are running already
        self._wait_until_healthy(STARTUP_TIMEOUT)
        self._print_summary()

    def _start_store(self, kind: str) -> str:
        """Start an embedded store on a free port; return its URL. It restarts on the same port."""
        host, port = "127.0.0.1", free_port()  # loopback only: the embedded stores have no auth
        if kind == "redis":
            data, logfile = self.data_dir / "redis", self.logs_dir / "redis.log"

            def start() -> ManagedProcess:
                return start_redis(port, data_dir=data, host=host, log_path=logfile)

        else:
            data, logfile = self.data_dir / "mongo", self.logs_dir / "mongo.log"

            def start() -> ManagedProcess:
                return start_mongo(port, storage_path=data, host=host, log_path=logfile)

        service = Service(kind, start)
        self.stores.append(service)  # before starting: a failed start is still cleaned up
        service.proc = start()
        log.info("started %s (pid %d) %s, data in %s", kind, service.proc.pid, service.proc.url, data)
        return service.proc.url

    def _prepare_database(self) -> str:
        """Create the MongoDB indexes and a fresh API token; return the token."""
        from pymongo.errors import PyMongoError

        from crawlstore.mongo import connect, ensure_indexes
        from crawlstore.tokens import TokenStore

        db = connect(self.config.mongo_url, self.config.mongo_db)
        try:
            ensure_indexes(db)
            return TokenStore(db).create("up-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
        except PyMongoError as exc:
            raise UpError(redact(f"cannot prepare MongoDB at {self.config.mongo_url}: {exc}")) from None
        finally:
            db.client.close()

    def _python_service(self, name: str, args: list[str], extra_env: Mapping[str, str] | None = None) -> Service:
        argv = [sys.executable, "-m", "crawlfleet", *args]
        env = self._child_env() | dict(extra_env or {})
        logfile = self.logs_dir / f"{name}.log"
        return Service(name, lambda: spawn(name, argv, env=env, log_path=logfile))

    def _child_env(self) -> dict[str, str]:
        env = os.environ | self.config.as_env()
        # Children must import this very crawlfleet (and its sibling packages) even when it is
        # not installed and they run from another working directory.
        root = str(Path(crawlfleet.__file__).resolve().parent.parent)
        paths = env.get("PYTHONPATH", "").split(os.pathsep) if env.get("PYTHONPATH") else []
        env["PYTHONPATH"] = os.pathsep.join([root, *[p for p in paths if p != root]])
        env["PYTHONUNBUFFERED"] = "1"  # log lines reach the log files as they happen
        return env

    def _wait_until_healthy(self, timeout: float) -> None:
        assert self.controller is not None and self.controller.proc is not None
        proc = self.controller.proc
        url = f"{self.controller_url}/healthz"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
        deadline = time.monotonic() + timeout
        while True:
            if not proc.alive():
                raise UpError(
                    f"the controller (pid {proc.pid}) {describe_exit(proc.returncode)} while starting. "
                    f"Its log {proc.log_path} ends with:\n{proc.log_tail()}"
                )
            try:
                with opener.open(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass  # not listening yet, or not healthy yet (HTTPError is a URLError)
            if time.monotonic() >= deadline:
                raise UpError(
                    f"the controller did not answer GET {url} with 200 within {timeout:.0f} s. "
                    f"Its log {proc.log_path} ends with:\n{proc.log_tail()}"
                )
            time.sleep(0.1)

    @property
    def controller_url(self) -> str:
        # A wildcard listen address is not something a client can connect to.
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.config.host, self.config.host)
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.config.port}"

    def _metrics_lines(self) -> list[str]:
        if not any(self.metrics_ports):
            return ["  Metrics:      workers serve none (CRAWLFLEET_METRICS_PORT=0)"]
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.config.metrics_host,
                                                                          self.config.metrics_host)
        host = f"[{host}]" if ":" in host else host
        lines = [f"  Metrics:      {self.controller_url}/metrics  (controller)"]
        lines += [f"                http://{host}:{port}/metrics  ({service.name}; liveness on /healthz)"
                  for service, port in zip(self.workers, self.metrics_ports, strict=True)]
        return lines

    def _print_summary(self) -> None:
        cfg = self.config
        embedded = {s.name for s in self.stores}
        redis_note = (
            f"(embedded, data in {self.data_dir / 'redis'})" if "redis" in embedded else "(REDIS_URL)"
        )
        mongo_note = (
            f"(embedded, data in {self.data_dir / 'mongo'})" if "mongo" in embedded else "(MONGO_URL)"
        )
        url = self.controller_url
        lines = [
            "",
            "crawlfleet is up.",
            "",
            f"  Controller:   {url}",
            f"  Redis:        {redact(cfg.redis_url)}  {redis_note}",
            f"  MongoDB:      {redact(cfg.mongo_url)}  {mongo_note}",
            f"  Database:     {cfg.mongo_db}",
            f"  Workers:      {len(self.workers)}",
            *self._metrics_lines(),
            f"  API token:    {self.token}",
            f"  Logs:         {self.logs_dir}",
            f"  Cluster env:  {self.data_dir / CLUSTER_ENV}  (other crawlfleet commands read it)",
            "",
            "Start a crawl:",
            "",
            f"  curl '{url}/v3/crawl' -d token={self.token} -d name=docs "
            "-d seeds=https://example.com/ -d maxHops=2",
            "",
            "Press Ctrl-C to stop.",
            "",
        ]
        print("\n".join(lines), file=self.out, flush=True)

    # -- running

    def _supervise(self) -> int:
        while self._stop_signal is None:
            time.sleep(POLL_SECONDS)
            if self._stop_signal is not None:
                break
            failed = self.supervisor.poll()
            if failed is not None:
                log.error("stopping the cluster because %s keeps failing", failed.name)
                return 1
        log.info("received %s, stopping", signal.Signals(self._stop_signal).name)
        return 0

    # -- shutdown

    def _stop_everything(self) -> None:
        """Workers, then the controller, then the stores; then remove cluster.env."""
        tiers = [
            ("workers", self.workers, STOP_TIMEOUT),
            ("controller", [self.controller] if self.controller else [], STOP_TIMEOUT),
            ("stores", list(reversed(self.stores)), STORE_STOP_TIMEOUT),
        ]
        for label, services, timeout in tiers:
            procs = [s.proc for s in services if s.proc is not None]
            if not procs:
                continue
            log.info("stopping %s: %s", label, ", ".join(f"{p.name} (pid {p.pid})" for p in procs))
            stop_all(procs, timeout)
            for proc in procs:
                if proc.returncode == -signal.SIGKILL:
                    log.warning("%s did not stop within %.0f s and was killed", proc.name, timeout)
        if self._wrote_env:
            with contextlib.suppress(FileNotFoundError):
                (self.data_dir / CLUSTER_ENV).unlink()
        log.info("stopped")


def _check_redis(url: str) -> None:
    """Fail start-up clearly when REDIS_URL points nowhere (workers would only crash-loop)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise UpError(redact(f"cannot reach Redis at {url} (REDIS_URL): {exc}")) from None
    finally:
        client.close()


def _metrics_ports(host: str, first: int, count: int, avoid: Container[int] = ()) -> list[int]:
    """Distinct telemetry ports for `count` workers on this machine: the first free ones from
    `first` up (CRAWLFLEET_METRICS_PORT, 9410 by default) but those in `avoid` (the controller's,
    not bound yet), so every worker can be scraped; all 0 when it is 0 (telemetry off).

    >>> _metrics_ports("127.0.0.1", 0, 2)
    [0, 0]
    """
    if first == 0:
        return [0] * count
    ports: list[int] = []
    port = first
    while len(ports) < count:
        if port > 65535:
            raise UpError(f"no {count} free ports from CRAWLFLEET_METRICS_PORT={first} up for the workers' metrics")
        if port not in avoid and port_is_free(host, port):
            ports.append(port)
        else:
            log.info("port %d on %s is in use: a worker's metrics go to the next free port", port, host)
        port += 1
    return ports


def _local_allowlist(cfg: Config) -> str:
    """A cluster whose API only this machine can reach may crawl this machine's own sites
    (loopback), unless CRAWLFLEET_ALLOW_NETWORKS says otherwise; any other stays guarded."""
    if cfg.allow_networks or cfg.host not in LOOPBACK_HOSTS:
        return cfg.allow_networks
    log.info("the controller listens on loopback only: crawls may fetch loopback sites (127.0.0.0/8, ::1)")
    return "127.0.0.0/8,::1/128"


def loopback_defaults(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of `crawlfleet up`, with the ease a cluster only this machine can reach may have:
    open registration whose first account is the admin, unless CRAWLFLEET_REGISTRATION says otherwise.

        >>> loopback_defaults({})["CRAWLFLEET_REGISTRATION"]
        'first-admin'
        >>> "CRAWLFLEET_REGISTRATION" in loopback_defaults({"CRAWLFLEET_HOST": "0.0.0.0"})
        False
    """
    env = dict(environ)
    host = env.get("CRAWLFLEET_HOST") or next(s.default for s in SETTINGS if s.attr == "host")
    if host in LOOPBACK_HOSTS and not env.get("CRAWLFLEET_REGISTRATION"):
        env["CRAWLFLEET_REGISTRATION"] = "first-admin"
    return env


def run_up(config: Config, *, out: TextIO | None = None) -> int:
    """Run a single-machine cluster in the foreground until SIGINT/SIGTERM; return the exit code.

    Logs go to stderr (`crawlfleet up: ...`); the summary with URLs and token goes to `out`.

        >>> run_up(Config.from_env(require_stores=False))           # doctest: +SKIP
    """
    _configure_logging()
    try:
        return Cluster(config, out=out).run()
    except (UpError, OSError) as exc:  # before anything started: the lock, an unusable data dir
        log.error("%s", exc)
        return 1


def _configure_logging() -> None:
    if log.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s crawlfleet up: %(message)s", "%H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
