"""crawlfleet installed the way users install it.

* setup.py's install_requires declares the distribution of every third-party module the
  installed packages import (read with ast, mapped with importlib.metadata);
* `pip install .` with no extras, into a fresh virtualenv, of exactly what the Dockerfile's build
  context holds, runs a controller (/readyz 200) and a worker (/healthz 200) on the session's
  stores: started from that virtualenv, outside the repository and without PYTHONPATH, so only
  the installed package is used;
* `scripts/up` in a fresh clone of the committed HEAD bootstraps its own .venv and brings a
  whole cluster up, then stops cleanly on SIGTERM.

The two that install are marked `install` (deselect with `-m "not install"`); they take a minute
or two each with a warm pip cache.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.metadata
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from crawlfleet.servers import free_port
from tests.test_deploy_static import dockerignored, package_dirs
from tests.test_up import MARKER, STARTED, alive, marked

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = package_dirs()  # crawlfleet's top-level packages, from setup.py's find_packages(include=...)
# Scrapy settings name classes by dotted path; the modules they name are imports too.
DOTTED_PATH_MODULES = [ROOT / "spiders" / "settings.py"]
_DOTTED = re.compile(r"[a-z_][a-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
# Third-party modules imported only where their absence is handled: {module: why}. None today;
# an import in try/except ImportError or under TYPE_CHECKING counts like any other unless listed.
OPTIONAL: dict[str, str] = {}
# A cold pip cache downloads every dependency: well past pytest's default timeout.
INSTALL_TIMEOUT = 1800


# --------------------------------------------------------------------------- declared requirements


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def install_requires() -> dict[str, Requirement]:
    """setup.py's install_requires (no extras), by normalised distribution name."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setup":
            value = next(kw.value for kw in node.keywords if kw.arg == "install_requires")
            return {_normal(r.name): r for r in map(Requirement, ast.literal_eval(value))}
    raise AssertionError("no setup() call in setup.py")


def imported_modules(path: Path) -> set[str]:
    """Top-level names of the absolute imports in one source file (all of them: in functions,
    under TYPE_CHECKING, in try blocks), and of the dotted paths in Scrapy settings."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif path in DOTTED_PATH_MODULES and isinstance(node, ast.Constant) and isinstance(node.value, str):
            names |= {node.value} if _DOTTED.fullmatch(node.value) else set()
    return {name.split(".")[0] for name in names}


def third_party_imports() -> dict[str, list[str]]:
    """Third-party top-level modules the installed packages import: {module: files importing it}."""
    found: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for module in imported_modules(path):
                if module not in sys.stdlib_module_names and module not in PACKAGES and module != "__future__":
                    found.setdefault(module, []).append(str(path.relative_to(ROOT)))
    return found


def test_third_party_imports_are_found() -> None:
    """The walk sees imports at module level, in functions, and Scrapy's dotted paths."""
    imports = third_party_imports()
    assert {"scrapy", "starlette", "pymongo", "redis", "httpx", "uvicorn", "twisted"} <= set(imports)
    assert "crawlfleet" not in imports and "json" not in imports


def test_install_requires_declares_every_third_party_import() -> None:
    """`pip install .` (the Dockerfile, scripts/up) installs install_requires only: a module that
    only an extra or a transitive dependency brings is a crash waiting for a clean install."""
    declared = install_requires()
    distributions = importlib.metadata.packages_distributions()
    missing, unknown = {}, {}
    for module, files in sorted(third_party_imports().items()):
        if module in OPTIONAL:
            continue
        names = {_normal(d) for d in distributions.get(module, [])}
        if not names:
            unknown[module] = files[:3]
        elif not names & set(declared):
            missing[f"{module} (from {'/'.join(sorted(names))})"] = files[:3]
    assert unknown == {}, "imported but not installed here: no distribution provides them"
    assert missing == {}, "imported but not in setup.py's install_requires"


# --------------------------------------------------------------------------- a fresh virtualenv


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: no PYTHONPATH, no virtualenv, no crawlfleet settings."""
    test_venv = str(Path(sys.executable).parent)
    env = {
        k: v for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "REDIS_URL", "MONGO_URL"}
        and not k.startswith("CRAWLFLEET_")
    }  # fmt: skip
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != test_venv)
    return env | extra


def copy_build_context(destination: Path) -> None:
    """What `docker build .` sends (what .dockerignore keeps), as the Dockerfile's `pip install .` sees it."""
    for directory, subdirs, files in os.walk(ROOT):
        relative = Path(directory).relative_to(ROOT)
        subdirs[:] = [d for d in subdirs if not dockerignored((relative / d).as_posix())]
        for name in files:
            if not dockerignored((relative / name).as_posix()):
                (destination / relative).mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(directory) / name, destination / relative / name)


def run(argv: list[str], *, timeout: float, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run a command and return its output; fail the test with the output when it fails."""
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd, env=env)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{argv[:4]} did not finish within {timeout} s:\n{exc.stdout!r}\n{exc.stderr!r}")
    if result.returncode != 0:
        pytest.fail(f"{argv[:4]} exited with {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with `pip install .` of the build context: no extras, not editable."""
    root = tmp_path_factory.mktemp("fresh-install")
    context = root / "context"
    copy_build_context(context)
    venv = root / "venv"
    run([sys.executable, "-m", "venv", str(venv)], timeout=300, cwd=root, env=clean_env())
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-input", "--disable-pip-version-check",
         "-q", str(context)], timeout=1200, cwd=root, env=clean_env())
    shutil.rmtree(context)  # nothing may come from the copied sources from here on
    return venv


def get_status(url: str) -> int | None:
    """HTTP status of GET url, None when nothing answers."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def wait_for_200(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while (status := get_status(url)) != 200:
        if proc.poll() is not None:
            pytest.fail(f"exited ({proc.returncode}) before {url} answered 200:\n{log.read_text()[-4000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"{url} answered {status}, not 200, within {timeout} s:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """launch(argv, env) starts a process logging to tmp_path; every one is stopped afterwards."""
    started: list[subprocess.Popen[bytes]] = []

    def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            started.append(subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT))
        return started[-1]

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


@pytest.mark.install
@pytest.mark.timeout(INSTALL_TIMEOUT)
def test_fresh_install_runs_a_controller_and_a_worker(
    fresh_venv: Path, launch: Callable[..., subprocess.Popen[bytes]], redis_url: str, mongo_url: str,
    unique_prefix: str, tmp_path: Path,
) -> None:
    python, crawlfleet = fresh_venv / "bin" / "python", fresh_venv / "bin" / "crawlfleet"
    where = run([str(python), "-c", "import controller, spiders; print(controller.__file__, spiders.__file__)"],
                timeout=120, cwd=tmp_path, env=clean_env())
    assert all(path.startswith(str(fresh_venv)) for path in where.split()), where
    port, metrics_port = free_port(), free_port()
    env = clean_env(
        PATH=f"{fresh_venv / 'bin'}{os.pathsep}{clean_env()['PATH']}",
        REDIS_URL=redis_url, MONGO_URL=mongo_url,
        CRAWLFLEET_KEY_PREFIX=unique_prefix, CRAWLFLEET_MONGO_DB=unique_prefix,
        CRAWLFLEET_PORT=str(port), CRAWLFLEET_METRICS_PORT=str(metrics_port),
    )  # fmt: skip
    controller = launch([str(crawlfleet), "controller"], env, tmp_path / "controller.log")
    worker = launch([str(crawlfleet), "worker"], env, tmp_path / "worker.log")
    wait_for_200(f"http://127.0.0.1:{port}/readyz", controller, tmp_path / "controller.log")
    wait_for_200(f"http://127.0.0.1:{metrics_port}/healthz", worker, tmp_path / "worker.log")
    for proc, name in ((worker, "worker"), (controller, "controller")):
        proc.send_signal(signal.SIGTERM)
        log = (tmp_path / f"{name}.log").read_text
        # uvicorn shuts down cleanly, then re-raises the signal: -SIGTERM is a clean stop too
        assert proc.wait(90) in (0, -signal.SIGTERM), log()[-4000:]
        assert "Traceback" not in log(), log()[-4000:]


# --------------------------------------------------------------------------- scripts/up on a clean clone


@pytest.mark.install
@pytest.mark.timeout(INSTALL_TIMEOUT)
def test_scripts_up_works_on_a_clean_clone(tmp_path: Path) -> None:
    """What the README tells a new user to run, on the committed HEAD and nothing else."""
    head = run(["git", "rev-parse", "HEAD"], timeout=60, cwd=ROOT).strip()
    clone = tmp_path / "clone"
    run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(clone)], timeout=300)
    run(["git", "checkout", "--quiet", head], timeout=120, cwd=clone)
    port, marker = free_port(), uuid.uuid4().hex
    env = clean_env(**{MARKER: marker, "CRAWLFLEET_METRICS_PORT": str(free_port())})
    out = tmp_path / "up.out"
    with out.open("wb") as log:
        proc = subprocess.Popen(
            ["scripts/up", "--port", str(port), "--workers", "1", "--data-dir", str(tmp_path / "data")],
            cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + INSTALL_TIMEOUT - 300  # the first bootstrap installs everything
        while "crawlfleet is up." not in out.read_text(errors="replace"):
            if proc.poll() is not None:
                pytest.fail(f"scripts/up exited ({proc.returncode}) before it was up:\n{out.read_text()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"scripts/up was not up in time:\n{out.read_text()[-4000:]}")
            time.sleep(0.5)
        assert (clone / ".venv" / "bin" / "crawlfleet").exists(), "it bootstraps its own virtualenv"
        assert get_status(f"http://127.0.0.1:{port}/readyz") == 200, out.read_text()[-4000:]
        proc.send_signal(signal.SIGTERM)  # scripts/up execs `crawlfleet up`: the signal reaches it
        assert proc.wait(120) == 0, out.read_text()[-4000:]
        assert "Traceback" not in out.read_text(errors="replace")
        deadline = time.monotonic() + 10
        while (left := children_left(out, marker)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert left == [], "processes outlived scripts/up"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        for pid in children_left(out, marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def children_left(out: Path, marker: str) -> list[int]:
    """Live processes `up` started: by the marker in their environment, or by the pids it logged
    (redis-server overwrites its environment with its process title)."""
    logged = {int(m.group(2)) for m in STARTED.finditer(out.read_text(errors="replace"))}
    return sorted(pid for pid in logged | set(marked(marker)) if alive(pid))
