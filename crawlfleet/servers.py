"""Start Redis and the MongoDB-wire server as child processes that cannot outlive their parent.

Used by `crawlfleet up` (embedded stores) and by the test suite (one pair per session):

    >>> with start_redis(free_port(), data_dir=None) as redis:      # doctest: +SKIP
    ...     print(redis.url)
    redis://127.0.0.1:41873/0

Every child is started in its own session (so a terminal's Ctrl-C reaches only the supervisor,
which then stops the children in order) and, on Linux, with PR_SET_PDEATHSIG=SIGKILL, so the
kernel kills it when the process that started it dies, even by SIGKILL. Note that the death
signal is tied to the *thread* that started the child: start children from a long-lived
thread (the main thread), never from a short-lived helper thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType

__all__ = [
    "MONGO_SEARCH_NAME",
    "REDIS_SEARCH_DIRS",
    "ManagedProcess",
    "ServerError",
    "find_redis_server",
    "find_secantusd",
    "free_port",
    "log_tail",
    "mongo_url",
    "port_is_free",
    "redis_url",
    "spawn",
    "start_mongo",
    "start_redis",
    "stop_all",
    "wait_for_port",
]

# Where Debian puts redis-server when it is not on PATH (e.g. a minimal PATH under sudo/cron).
REDIS_SEARCH_DIRS: tuple[str, ...] = ("/usr/bin", "/usr/sbin", "/usr/local/bin")
# The console script of the `secantusdb` PyPI package.
MONGO_SEARCH_NAME = "secantusd-py"

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_LOG_TAIL_LINES = 25


class ServerError(RuntimeError):
    """A child server could not be found, did not come up, or exited early."""


# --------------------------------------------------------------------------- processes


class ManagedProcess:
    """A child process with a URL, a log file and an orderly `stop()`.

    Example:

        >>> proc = spawn("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"],
        ...              log_path="/tmp/sleeper.log")            # doctest: +SKIP
        >>> proc.stop(timeout=5)                                 # doctest: +SKIP
        -15
    """

    def __init__(
        self,
        name: str,
        popen: subprocess.Popen[bytes],
        *,
        url: str = "",
        log_path: Path,
        owns_log: bool = False,
    ) -> None:
        self.name = name
        self.popen = popen
        self.url = url
        self.log_path = log_path
        self.started_at = time.monotonic()
        # A log we created in the temp dir is ours to delete after a clean stop.
        self._owns_log = owns_log

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        """The exit code once the process has ended (negative: killed by that signal), else None."""
        return self.popen.poll()

    def alive(self) -> bool:
        """True while the process runs (it is reaped as a side effect once it has exited)."""
        return self.popen.poll() is None

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines of the process's log, for error messages."""
        return log_tail(self.log_path, lines)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, wait up to `timeout` seconds, then SIGKILL; return the exit code.

        Idempotent: stopping a process that already ended just returns its exit code.
        """
        if self.popen.poll() is None:
            self.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        code = self.popen.wait()
        if self._owns_log:
            with contextlib.suppress(OSError):
                self.log_path.unlink()
            self._owns_log = False
        return code

    def terminate(self) -> None:
        """Send SIGTERM (to the main thread, see `_signal_main_thread`) unless the process has ended."""
        if self.popen.poll() is None:
            _signal_main_thread(self.popen.pid, signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL the process and everything left in its process group (e.g. a forked helper)."""
        if self.popen.poll() is not None:
            return
        # The child is a session (and group) leader and is not yet reaped, so its pid is still
        # its group id: killing the group cannot hit an unrelated process.
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                self.popen.kill()
        self.popen.wait()

    def __enter__(self) -> ManagedProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.popen.returncode is None else f"exited {self.popen.returncode}"
        return f"<ManagedProcess {self.name} pid={self.pid} {state} {self.url}>"


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    log_path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    url: str = "",
) -> ManagedProcess:
    """Start `argv` as a child that dies with us; stdout and stderr are appended to `log_path`.

    Without `log_path` the log goes to a temp file that is deleted after `stop()`.

        >>> spawn("worker-1", [sys.executable, "-m", "crawlfleet", "worker"],
        ...       log_path="data/logs/worker-1.log", env=os.environ | config.as_env())  # doctest: +SKIP
    """
    owns_log = log_path is None
    if log_path is None:
        fd, tmp = tempfile.mkstemp(prefix=f"crawlfleet-{name}-", suffix=".log")
        os.close(fd)
        log_path = tmp
    path = Path(log_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as log:
        # A header per start, so restarts are easy to find in an appended log.
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        log.write(f"--- {stamp} crawlfleet: starting {name}: {shlex.join(argv)}\n".encode())
        log.flush()
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=None if env is None else dict(env),
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent_hook(),
            close_fds=True,
        )
    return ManagedProcess(name, popen, url=url, log_path=path, owns_log=owns_log)


def stop_all(procs: Iterable[ManagedProcess], timeout: float = 10.0) -> None:
    """Stop several processes in parallel: SIGTERM all, wait up to `timeout` in total, SIGKILL the rest.

    >>> stop_all(workers, timeout=10)                         # doctest: +SKIP
    """
    procs = list(procs)
    for proc in procs:
        proc.terminate()
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.popen.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
        proc.stop()  # reaps and removes an owned temp log


def _signal_main_thread(pid: int, sig: int) -> None:
    """Send `sig` to the main thread of `pid` (Linux), else to the process.

    Why: the kernel hands a process-directed signal to any thread that does not block it. A
    Python program runs its signal handlers only in its main thread, and when that thread is
    blocked in an untimed lock wait (SecantusDB's `Event.wait()`), a signal delivered to one of
    its native threads (WiredTiger's) never wakes it: SIGTERM is then ignored forever.
    Addressed to the main thread, the signal interrupts the wait and the handler runs.
    """
    if _tgkill is not None and _tgkill(pid, pid, int(sig)) == 0:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _load_tgkill() -> Callable[[int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        tgkill: Callable[[int, int, int], int] = ctypes.CDLL(None, use_errno=True).tgkill
        return tgkill
    except (OSError, AttributeError):  # glibc < 2.30 or another libc
        return None


_tgkill = _load_tgkill()


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A preexec_fn that makes the kernel SIGKILL the child when its parent dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        # Resolved here, in the parent: loading a library in the forked child is not fork-safe.
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    sigkill = int(signal.SIGKILL)

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, sigkill, 0, 0, 0)
        # The parent may have died between fork and prctl; then nobody would ever signal us.
        if os.getppid() != parent:
            os.kill(os.getpid(), sigkill)

    return hook


# --------------------------------------------------------------------------- ports


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now (the OS picks it).

    >>> 1024 <= free_port() < 65536
    True
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port and we could bind it.

    >>> port_is_free("127.0.0.1", free_port())
    True
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # Same option servers use, so a port in TIME_WAIT after a restart still counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_for_port(host: str, port: int, timeout: float, *, process: ManagedProcess | None = None) -> None:
    """Block until host:port accepts TCP connections; raise ServerError after `timeout` seconds.

    With `process`, fail at once if it exits, and put its log tail in the error.

        >>> wait_for_port("127.0.0.1", redis.port, timeout=10, process=redis)   # doctest: +SKIP
    """
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and not process.alive():
            raise ServerError(
                f"{process.name} (pid {process.pid}) exited with code {process.returncode} "
                f"before listening on {host}:{port}.{_tail_for(process)}"
            )
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            pass
        if time.monotonic() >= deadline:
            what = f"{process.name} (pid {process.pid})" if process is not None else "server"
            raise ServerError(
                f"{what} did not listen on {host}:{port} within {timeout:g} s."
                + (_tail_for(process) if process is not None else "")
            )
        time.sleep(0.05)


def log_tail(path: str | os.PathLike[str], lines: int = _LOG_TAIL_LINES) -> str:
    """The last `lines` lines of a text file ('' when it cannot be read)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def _tail_for(process: ManagedProcess) -> str:
    tail = process.log_tail()
    if not tail:
        return f" Its log {process.log_path} is empty."
    return f"\nLast lines of {process.log_path}:\n{tail}"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def redis_url(host: str, port: int) -> str:
    """The URL clients use for a local Redis.

    >>> redis_url("127.0.0.1", 6380)
    'redis://127.0.0.1:6380/0'
    """
    return f"redis://{_url_host(host)}:{port}/0"


def mongo_url(host: str, port: int) -> str:
    """The URL clients use for a single local MongoDB-wire server.

    directConnection: SecantusDB advertises a one-node replica set; talk to it directly instead
    of discovering members by the name it advertises.

        >>> mongo_url("127.0.0.1", 27018)
        'mongodb://127.0.0.1:27018/?directConnection=true'
    """
    return f"mongodb://{_url_host(host)}:{port}/?directConnection=true"


# --------------------------------------------------------------------------- redis


def find_redis_server() -> str:
    """The path of Debian's `redis-server`; ServerError saying how to install it when absent."""
    found = shutil.which("redis-server")
    if found:
        return found
    for folder in REDIS_SEARCH_DIRS:
        candidate = Path(folder) / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise ServerError(
        "redis-server was not found on PATH or in " + ", ".join(REDIS_SEARCH_DIRS) + ". "
        "Install it with `sudo apt-get install redis-server`, or point REDIS_URL at a running Redis."
    )


def start_redis(
    port: int,
    *,
    data_dir: str | os.PathLike[str] | None,
    host: str = "127.0.0.1",
    log_path: str | os.PathLike[str] | None = None,
    timeout: float = 15.0,
) -> ManagedProcess:
    """Start redis-server on host:port and return once it answers PING.

    With `data_dir`, data persists there (append-only file plus Redis' default RDB snapshots);
    without, nothing is ever written to disk. The log goes to `log_path`, by default
    `<data_dir>/redis.log`, or a temp file deleted after `stop()`.

        >>> redis = start_redis(free_port(), data_dir="crawlfleet-data/redis")   # doctest: +SKIP
        >>> redis.url                                                             # doctest: +SKIP
        'redis://127.0.0.1:40211/0'
    """
    argv = [
        find_redis_server(),
        "--bind", host,
        "--port", str(port),
        "--protected-mode", "no",
        "--daemonize", "no",
    ]  # fmt: skip
    if data_dir is not None:
        data = Path(data_dir).resolve()
        data.mkdir(parents=True, exist_ok=True)
        argv += ["--dir", str(data), "--appendonly", "yes"]
        if log_path is None:
            log_path = data / "redis.log"
    else:
        argv += ["--save", "", "--appendonly", "no"]
    proc = spawn("redis", argv, log_path=log_path, url=redis_url(host, port))
    with _stopped_on_failure(proc):
        wait_for_port(host, port, timeout, process=proc)
        _wait_for_redis_ping(proc, timeout)
    return proc


def _wait_for_redis_ping(proc: ManagedProcess, timeout: float) -> None:
    # Imported here: `crawlfleet` commands that never start Redis should not pay for redis-py.
    import redis

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    client = redis.Redis.from_url(proc.url, socket_timeout=2, socket_connect_timeout=2)
    try:
        while time.monotonic() < deadline:
            if not proc.alive():
                break
            try:
                if client.ping():
                    return
            except redis.RedisError as exc:  # e.g. BusyLoadingError while it replays a big AOF
                last = exc
            time.sleep(0.05)
    finally:
        client.close()
    if not proc.alive():
        raise ServerError(f"redis-server exited with code {proc.returncode} while starting.{_tail_for(proc)}")
    raise ServerError(f"redis-server at {proc.url} did not answer PING within {timeout:g} s ({last}).")


# --------------------------------------------------------------------------- mongo


def find_secantusd() -> str:
    """The path of SecantusDB's `secantusd-py`: next to this Python first, then on PATH."""
    beside = Path(sys.executable).parent / MONGO_SEARCH_NAME
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(MONGO_SEARCH_NAME)
    if found:
        return found
    raise ServerError(
        f"{MONGO_SEARCH_NAME} (the SecantusDB MongoDB-wire server) was not found next to "
        f"{sys.executable} or on PATH. Install it with `pip install 'secantusdb==0.7.0b3'`, "
        "or point MONGO_URL at a running MongoDB."
    )


def start_mongo(
    port: int,
    *,
    storage_path: str | os.PathLike[str] | None,
    host: str = "127.0.0.1",
    log_path: str | os.PathLike[str] | None = None,
    timeout: float = 30.0,
    cache_size: str | None = None,
) -> ManagedProcess:
    """Start SecantusDB on host:port and return once it answers a pymongo `ping`.

    `cache_size` is WiredTiger's cache ('1G' by default); large crawls want more.

    With `storage_path`, data persists there; without, it lives in a temp dir that SecantusDB
    removes on shutdown. The log goes to `log_path`, by default `<storage_path>/../mongo.log`
    (next to, not inside, the WiredTiger home), or a temp file deleted after `stop()`.

        >>> mongo = start_mongo(free_port(), storage_path=None)                  # doctest: +SKIP
        >>> mongo.url                                                             # doctest: +SKIP
        'mongodb://127.0.0.1:40212/?directConnection=true'
    """
    # --standalone: crawlfleet needs no replica-set features (no change streams, no
    # transactions), and without them SecantusDB spends about a third less CPU per write.
    argv = [find_secantusd(), "--host", host, "--port", str(port), "--standalone"]
    if storage_path is not None:
        storage = Path(storage_path).resolve()
        storage.mkdir(parents=True, exist_ok=True)
        argv += ["--storage-path", str(storage)]
        if log_path is None:
            log_path = storage.parent / "mongo.log"
    else:
        argv += ["--storage-path", ":memory:"]
    if cache_size is not None:
        argv += ["--cache-size", cache_size]
    # Run it from the log's directory: SecantusDB auto-loads ./secantusd.toml, and a stray one
    # in the user's working directory must not change how the embedded server behaves.
    cwd = Path(log_path).parent if log_path is not None else Path(tempfile.gettempdir())
    proc = spawn("mongo", argv, log_path=log_path, cwd=cwd, url=mongo_url(host, port))
    with _stopped_on_failure(proc):
        wait_for_port(host, port, timeout, process=proc)
        _wait_for_mongo_ping(proc, timeout)
    return proc


def _wait_for_mongo_ping(proc: ManagedProcess, timeout: float) -> None:
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline and proc.alive():
        client: MongoClient = MongoClient(proc.url, serverSelectionTimeoutMS=2000, connectTimeoutMS=2000)
        try:
            client.admin.command("ping")
            return
        except PyMongoError as exc:
            last = exc
        finally:
            client.close()
        time.sleep(0.1)
    if not proc.alive():
        raise ServerError(
            f"{MONGO_SEARCH_NAME} exited with code {proc.returncode} while starting.{_tail_for(proc)}"
        )
    raise ServerError(f"MongoDB at {proc.url} did not answer ping within {timeout:g} s ({last}).")


@contextlib.contextmanager
def _stopped_on_failure(proc: ManagedProcess) -> Iterator[None]:
    """Stop `proc` if start-up fails or is interrupted (KeyboardInterrupt, a shutdown signal)."""
    try:
        yield
    except BaseException:
        # Gracefully if it can: a store killed while opening its files may need a recovery.
        proc.stop(timeout=5.0)
        raise
