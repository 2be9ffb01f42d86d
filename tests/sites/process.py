"""Run a `Site` in its own server process, and the two-host e2e fixture.

    >>> from tests.sites.model import Page, Site
    >>> with SiteProcess(Site("s", {"/": Page("/", links=["{base}/x.html"])})) as proc:
    ...     import urllib.request
    ...     body = urllib.request.urlopen(proc.base_url + "/").read()
    ...     (proc.base_url + "/x.html").encode() in body, [f["path"] for f in proc.fetches()]
    (True, ['/'])

    >>> with serve_fixture(slow_delay=0) as fx:
    ...     len(fx.report(max_hops=1)), fx.seeds == [fx.main.base_url + "/"]
    (10, True)
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.sites.fixtures import fixture_site, other_site
from tests.sites.model import Site
from tests.sites.truth import expected_entries, expected_report

__all__ = ["REPO_ROOT", "FixtureServers", "SiteProcess", "serve_fixture"]

REPO_ROOT = Path(__file__).resolve().parents[2]


class SiteProcess:
    """A `python -m tests.sites.server` subprocess serving `site` on `host` (port 0 = a free port).

    Use as a context manager (or call start()/stop()). Files live in `workdir`
    (a temporary directory removed on stop when not given).
    """

    def __init__(self, site: Site, host: str = "127.0.0.1", port: int = 0,
                 workdir: str | Path | None = None, startup_timeout: float = 20.0) -> None:
        self.site = site
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix=f"site-{site.name}-")
            workdir = self._tmp.name
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.site_path = self.workdir / "site.json"
        self.log_path = self.workdir / "fetches.jsonl"
        self.stderr_path = self.workdir / "server.stderr"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        """The absolute URL of `path` on this server."""
        return self.base_url + path

    def start(self) -> SiteProcess:
        """Write the site, start the server and wait for its LISTENING line."""
        self._write(self.site)
        self.log_path.touch()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                                           os.environ.get("PYTHONPATH")])))
        cmd = [sys.executable, "-m", "tests.sites.server", "--site", str(self.site_path), "--host", self.host,
               "--port", str(self.port), "--log", str(self.log_path)]
        with open(self.stderr_path, "wb") as err:
            self._proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=err,
                                          stdin=subprocess.DEVNULL)
        lines: queue.Queue[bytes] = queue.Queue()
        stdout = self._proc.stdout
        assert stdout is not None
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=self.startup_timeout)
        except queue.Empty:
            line = b""
        if not line.startswith(b"LISTENING "):
            self.stop()
            raise RuntimeError(f"site server did not start: {self.stderr_path.read_text(errors='replace')}")
        self.port = int(line.split()[1])
        return self

    def stop(self) -> None:
        """Terminate (then kill) the server and remove the temporary directory."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SiteProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def update(self, site: Site) -> None:
        """Atomically rewrite the site JSON; the server serves it from its next request on."""
        self.site = site
        self._write(site)

    def fetches(self) -> list[dict[str, Any]]:
        """The request log so far: one dict per request, in log order."""
        out = []
        for line in self.log_path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    def _write(self, site: Site) -> None:
        tmp = self.site_path.with_suffix(".tmp")
        tmp.write_text(site.to_json(), encoding="utf-8")
        os.replace(tmp, self.site_path)


@dataclasses.dataclass
class FixtureServers:
    """The fixture site on 127.0.0.1 and `other_site` on 127.0.0.2, both running."""

    main: SiteProcess
    other: SiteProcess

    @property
    def sites(self) -> dict[str, Site]:
        """{base URL: Site} for the ground truth."""
        return {self.main.base_url: self.main.site, self.other.base_url: self.other.site}

    @property
    def seeds(self) -> list[str]:
        """The crawl's seed: the fixture's root."""
        return [self.main.url("/")]

    def report(self, max_hops: int = -1, obey_robots: bool = True,
               restrict_to_seed_hosts: bool = True, use_canonical: bool = True) -> dict[str, int]:
        """`expected_report` for the fixture seeded at its root."""
        return expected_report(self.sites, self.seeds, max_hops, obey_robots, restrict_to_seed_hosts, use_canonical)

    def entries(self, max_hops: int = -1, obey_robots: bool = True,
                restrict_to_seed_hosts: bool = True, use_canonical: bool = True) -> dict[str, Any]:
        """`expected_entries` for the fixture seeded at its root."""
        return expected_entries(self.sites, self.seeds, max_hops, obey_robots, restrict_to_seed_hosts,
                                use_canonical)


@contextlib.contextmanager
def serve_fixture(slow_delay: float = 1.0, main_host: str = "127.0.0.1",
                  other_host: str = "127.0.0.2") -> Iterator[FixtureServers]:
    """Start `other_site` on `other_host`, then `fixture_site` (linking to it) on `main_host`."""
    with contextlib.ExitStack() as stack:
        other = stack.enter_context(SiteProcess(other_site(), other_host))
        main = stack.enter_context(SiteProcess(fixture_site(other.base_url + "/", slow_delay), main_host))
        yield FixtureServers(main, other)
