"""Worker liveness is the age of a heartbeat written by the event loop: a stuck reactor fails
/healthz (and the exec probe) while the telemetry thread still serves /metrics."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

from spiders import health
from tests.ops.conftest import ROOT


def status(url: str) -> tuple[int, dict[str, object] | str]:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            body = resp.read().decode()
            return resp.status, json.loads(body) if url.endswith("/healthz") else body
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read().decode())


def test_a_stuck_reactor_fails_liveness_while_metrics_still_answer(redis_url: str) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "tests.ops.stuck_reactor", "2", "2", redis_url], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base = f"http://127.0.0.1:{int(proc.stdout.readline())}"
        code, body = status(base + "/healthz")
        assert code == 200 and isinstance(body, dict) and body["status"] == "ok"
        assert health.main(["--url", base + "/healthz"]) == 0
        deadline = time.monotonic() + 20
        while status(base + "/healthz")[0] == 200:
            assert time.monotonic() < deadline, "/healthz still says ok with the reactor blocked"
            time.sleep(0.2)
        code, body = status(base + "/healthz")
        assert code == 503 and isinstance(body, dict) and body["status"] == "stuck"
        assert float(body["heartbeat_age_seconds"]) > 2  # type: ignore[arg-type]
        code, text = status(base + "/metrics")
        assert code == 200 and "crawlfleet_worker_heartbeat_age_seconds" in str(text)
        assert "crawlfleet_active_crawls 0.0" in str(text)  # the frontier collector read Redis from the thread
        assert health.main(["--url", base + "/healthz"]) == 1
    finally:
        proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
