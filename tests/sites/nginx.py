"""Serve a `Site` as static files with nginx (for benchmarks), when nginx is installed.

Only what static files can express is served: 2xx pages (by path; query-keyed
pages are skipped), 301/302/303/307/308 redirects, robots.txt; anything else is a
404 and `Page.delay` is ignored. Content types come from the file extension
(html, pdf, png, txt, json; anything else is text/html). No request log.

    >>> import tempfile, urllib.request
    >>> from tests.sites.fixtures import generate_site
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     server = start_nginx(generate_site(10), tmp)
    ...     if server is None:                      # no nginx: fall back to SiteProcess
    ...         ok = True
    ...     else:
    ...         with server:
    ...             ok = urllib.request.urlopen(server.base_url + "/").status == 200
    >>> ok
    True
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.sites.model import REDIRECTS, Site, substitute
from tests.sites.render import render_body

__all__ = ["NginxProcess", "find_nginx", "nginx_conf", "start_nginx", "write_static"]

_TYPES = {"text/html": "html htm", "application/pdf": "pdf", "image/png": "png", "text/plain": "txt",
          "application/json": "json"}


def find_nginx() -> str | None:
    """The nginx binary on PATH or in /usr/sbin, or None."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def write_static(site: Site, root: Path, base_url: str) -> dict[str, tuple[int, str]]:
    """Write the site's files under `root`; return {path: (status, location)} of its redirects."""
    redirects: dict[str, tuple[int, str]] = {}
    if site.robots_txt is not None:
        (root / "robots.txt").write_text(site.robots_txt, encoding="utf-8")
    for path, page in site.pages.items():
        if "?" in path or not path.startswith("/"):
            continue
        if page.status in REDIRECTS and page.redirect_to is not None:
            location = substitute(page.redirect_to, base_url)
            if not any(ch in location + path for ch in '"$;{}\\ '):
                redirects[path] = (page.status, location)
            continue
        if not 200 <= page.status < 300:
            continue
        target = root / (path.lstrip("/") + ("index.html" if path.endswith("/") else ""))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(render_body(page, base_url))
    return redirects


def nginx_conf(directory: Path, host: str, port: int, redirects: dict[str, tuple[int, str]],
               workers: int = 2) -> str:
    """An nginx.conf keeping pid, logs and temp files inside `directory`, serving `directory`/root."""
    d = directory.resolve()
    temps = "\n".join(f"    {name}_temp_path {d}/tmp/{name};" for name in
                      ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    types = "\n".join(f"        {ctype} {exts};" for ctype, exts in _TYPES.items())
    locations = "\n".join(f'        location = {path} {{ return {status} "{loc}"; }}'
                          for path, (status, loc) in redirects.items())
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return f"""{user}daemon off;
worker_processes {workers};
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
{temps}
    types {{
{types}
    }}
    default_type text/html;
    charset utf-8;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 100000;
    open_file_cache max=100000 inactive=60s;
    server {{
        listen {host}:{port};
        server_name _;
        root {d}/root;
        index index.html;
{locations}
    }}
}}
"""


class NginxProcess:
    """A running ``nginx -c CONF -p DIR``; stop() (or leaving the with block) ends it."""

    def __init__(self, proc: subprocess.Popen[bytes], directory: Path, host: str, port: int) -> None:
        self.proc, self.directory, self.host, self.port = proc, directory, host, port

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Terminate (then kill) nginx."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> NginxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start_nginx(site: Site, directory: str | Path, host: str = "127.0.0.1", port: int = 0,
                workers: int = 2, timeout: float = 10.0) -> NginxProcess | None:
    """Write `site` under `directory` and start nginx on it; None when nginx is not installed.

    Port 0 picks a free port first (``{base}`` must be known to render). Raises
    RuntimeError (with nginx's error log) if nginx does not come up.
    """
    binary = find_nginx()
    if binary is None:
        return None
    d = Path(directory).resolve()
    port = port or _free_port(host)
    for sub in ("root", "tmp"):
        shutil.rmtree(d / sub, ignore_errors=True)
        (d / sub).mkdir(parents=True)
    redirects = write_static(site, d / "root", f"http://{host}:{port}")
    conf = d / "nginx.conf"
    conf.write_text(nginx_conf(d, host, port, redirects, workers), encoding="utf-8")
    log = d / "error.log"
    proc = subprocess.Popen([binary, "-c", str(conf), "-p", f"{d}/", "-e", str(log)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = NginxProcess(proc, d, host, port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return server
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"nginx did not start: {log.read_text(errors='replace') if log.exists() else ''}")
