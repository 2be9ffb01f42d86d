"""A large export streams in constant memory: a real controller process (`crawlfleet
controller`, as deployed) exports a large crawl as JSON and CSV, and its resident memory grows
by far less than what it sends.

The size: 250,000 objects of about 800 bytes, so each export is about 200 MB, what a
1,000,000-object crawl of 200-byte objects weighs (`EXPORT_TEST_OBJECTS=1000000` runs that
crawl instead, with shorter objects: about 8 minutes on a 2-core machine, 190 MB of JSON and
a growth of 0.6 MiB when measured). Holding the export would cost at least its size (as
Python dicts, more), so a growth bound of 40 MiB fails any implementation that materializes
the objects, the rendered text or a quarter of either. The objects live in a MongoDB-wire server
of this test's own, so they are gone when it ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from crawlbase.config import Config
from crawlfleet.servers import free_port, start_mongo
from crawlstore.mongo import connect
from crawlstore.tokens import TokenStore

REPO = Path(__file__).resolve().parents[2]
OBJECTS = int(os.environ.get("EXPORT_TEST_OBJECTS", "250000"))
EXPORT_BYTES = 200_000_000  # about this much per format, whatever the number of objects
BATCH = 20_000
TEXT = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt. "
        * (1 + EXPORT_BYTES // OBJECTS // 92))[: max(80, EXPORT_BYTES // OBJECTS - 120)]
GROWTH_LIMIT = 40 * 2**20


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def wait_ready(client: httpx.Client, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if client.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
        time.sleep(0.1)


@pytest.mark.timeout(900)
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_a_large_export_streams_in_constant_memory(config: Config, tmp_path: Path) -> None:
    with start_mongo(free_port(), storage_path=None, log_path=tmp_path / "mongo.log") as mongo:
        port = free_port()
        cfg = config.replace(port=port, mongo_url=mongo.url, rate_limit=1_000_000, log_level="WARNING")
        log_path = tmp_path / "controller.log"
        log = log_path.open("wb")
        proc = subprocess.Popen([sys.executable, "-m", "crawlfleet", "controller"], env={**os.environ, **cfg.as_env()},
                                cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        db = connect(mongo.url, cfg.mongo_db)
        try:
            token = TokenStore(db).create("big")
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300,
                              headers={"X-API-Key": token}) as client:
                wait_ready(client, proc, log_path)
                crawl = client.post("/api/v1/crawls", json={"name": "big", "seeds": ["https://example.com/"]}).json()
                cid = crawl["id"]
                for start in range(0, OBJECTS, BATCH):
                    db.objects.insert_many([
                        {"_id": f"{cid}:0:{i:08x}:0", "_c": cid, "_r": 0, "_t": i, "type": "article",
                         "pageUrl": f"https://example.com/p/{i}", "title": f"page {i}", "text": TEXT}
                        for i in range(start, min(OBJECTS, start + BATCH))], ordered=False)
                assert client.get(f"/api/v1/crawls/{cid}/items", params={"limit": 1}).json()["total_items"] == OBJECTS
                client.get(f"/api/v1/crawls/{cid}/export", params={"format": "csv", "type": "none"})  # warm up
                before = rss(proc.pid)
                peak = [before]
                stop = threading.Event()

                def sample() -> None:
                    while not stop.is_set():
                        peak[0] = max(peak[0], rss(proc.pid))
                        time.sleep(0.02)

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                sizes: dict[str, int] = {}
                lines: dict[str, int] = {}
                try:
                    for fmt in ("json", "csv"):
                        received = newlines = 0
                        with client.stream("GET", f"/api/v1/crawls/{cid}/export", params={"format": fmt}) as resp:
                            assert resp.status_code == 200
                            for chunk in resp.iter_bytes():
                                received += len(chunk)
                                newlines += chunk.count(b"\n")
                        sizes[fmt], lines[fmt] = received, newlines
                finally:
                    stop.set()
                    sampler.join()
            growth = peak[0] - before
            print(f"export sizes {sizes}, controller RSS {before / 2**20:.0f} MiB, growth {growth / 2**20:.1f} MiB")
            assert lines["csv"] == OBJECTS + 1  # header and every object: the whole export went out
            assert min(sizes.values()) > max(OBJECTS * len(TEXT), 4 * GROWTH_LIMIT)
            assert growth < GROWTH_LIMIT, f"controller grew by {growth / 2**20:.1f} MiB exporting {sizes}"
        finally:
            proc.terminate()
            proc.wait(30)
            log.close()
            db.client.close()
