"""Every Redis key and channel name, in one place.

All keys of one crawl share the hash tag `{crawl-id}`, so a Redis Cluster keeps a crawl on
one slot and every script (which touches only one crawl's keys) is cluster-safe:

    >>> keys = CrawlKeys("cf", "0123abcd")
    >>> keys.job, keys.queue("example.com")
    ('cf:{0123abcd}:job', 'cf:{0123abcd}:q:example.com')

Global keys (never used in the same command as a crawl's keys):

- `{prefix}:active`   set of crawl ids workers serve (status 7)
- `{prefix}:admin:paused` string, present while an administrator has paused every crawl
- `{prefix}:crawls`   set of every crawl id (for reconciliation)
- `{prefix}:purges`   sorted set "crawl-id@restart time" -> when to remove a restart's late documents
- `{prefix}:rounds`   sorted set crawl id -> when its next round is due
- `{prefix}:tok:{id}` hash crawl name -> crawl id, per token
- `{prefix}:wake`     pub/sub channel that wakes idle workers
- `{prefix}:workers`  hash worker id -> heartbeat JSON

Shared state of /api/v1 (`V1Keys`, `{prefix}:v1:` + suffix):

- `rl:{bucket}:{window}`  string: requests counted in one rate-limit window (crawlstore.ratelimit)
- `guest:{address}`       sorted set: crawls a guest address made in the last day (crawlstore.ratelimit)
- `jwt-revoked:{jti}`     string: a logged-out login token, until it would have expired (crawlstore.sessions)
- `watcher`               string: the housekeeper that watches crawl statuses, a lock (crawlstore.watch)
- `seen`                  hash: crawl id -> the status name the watcher last saw (crawlstore.watch)

Per crawl (`{prefix}:{{cid}}:` + suffix):

- `job`            hash: definition JSON, status, counters, limits mirrored for Lua
- `sched`          sorted set: host -> epoch ms when it may be fetched next (hosts with work)
- `q:{host}`       list: queued requests of one host (crawlcore.wire payloads)
- `hosts`          set: every host that ever had a queue (to delete them)
- `hinf`/`hnext`/`hdelay` hashes: per host in-flight count, next allowed fetch (ms), delay (ms)
- `leases`         sorted set: "host payload" -> lease deadline (ms)
- `xq`             list: re-expansion tasks (no politeness: nothing is fetched)
- `hcr`/`hpr`/`hpres` hashes: per host pages crawled, processed and reserved this round
  (per-subdomain limits)
- `s:{round}:{b}`  hash: exact seen store bucket b, fingerprint -> hop*2 + crawled
- `b:{round}`      string: Bloom filter bitmap of a round
- `pe:{b}`         hash: fingerprints of pages processed in any round (onlyProcessIfNew)
- `c:{round}`      hash: content fingerprint -> fingerprint of the first page with that content
"""

from __future__ import annotations

__all__ = ["CrawlKeys", "GlobalKeys", "V1Keys", "slot_tag"]


def slot_tag(key: str) -> str:
    """The part of a key Redis Cluster hashes: the first non-empty `{...}`, else the whole key."""
    start = key.find("{")
    if start >= 0:
        end = key.find("}", start + 1)
        if end > start + 1:
            return key[start + 1 : end]
    return key


class GlobalKeys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.active = f"{prefix}:active"
        self.admin_paused = f"{prefix}:admin:paused"
        self.crawls = f"{prefix}:crawls"
        self.purges = f"{prefix}:purges"
        self.rounds = f"{prefix}:rounds"
        self.wake = f"{prefix}:wake"
        self.workers = f"{prefix}:workers"

    def token_names(self, token_id: str) -> str:
        return f"{self.prefix}:tok:{token_id}"


class V1Keys:
    """Key names of /api/v1's shared state.

        >>> keys = V1Keys("cf")
        >>> keys.base, keys.watcher, keys.jwt_revoked("abc")
        ('cf:v1', 'cf:v1:watcher', 'cf:v1:jwt-revoked:abc')
    """

    def __init__(self, prefix: str) -> None:
        self.base = f"{prefix}:v1"  # the prefix of the rate limiter's and the guest quota's keys
        self.watcher = f"{self.base}:watcher"
        self.seen = f"{self.base}:seen"

    def jwt_revoked(self, jti: str) -> str:
        return f"{self.base}:jwt-revoked:{jti}"


class CrawlKeys:
    """Key names of one crawl. `base` is what the Lua scripts receive to build the rest."""

    def __init__(self, prefix: str, crawl_id: str) -> None:
        self.crawl_id = crawl_id
        self.base = f"{prefix}:{{{crawl_id}}}:"
        self.job = self.base + "job"
        self.sched = self.base + "sched"
        self.hosts = self.base + "hosts"
        self.hinf = self.base + "hinf"
        self.hnext = self.base + "hnext"
        self.hdelay = self.base + "hdelay"
        self.leases = self.base + "leases"
        self.xq = self.base + "xq"
        self.per_host = [self.base + name for name in ("hcr", "hpr", "hpres")]

    def queue(self, host: str) -> str:
        return f"{self.base}q:{host}"

    def seen(self, round_: int, bucket: int) -> str:
        return f"{self.base}s:{round_}:{bucket:x}"

    def bloom(self, round_: int) -> str:
        return f"{self.base}b:{round_}"

    def processed(self, bucket: int) -> str:
        return f"{self.base}pe:{bucket:x}"

    def content(self, round_: int) -> str:
        return f"{self.base}c:{round_}"

    def fixed(self) -> list[str]:
        """Keys whose names do not depend on hosts, rounds or buckets."""
        return [self.job, self.sched, self.hosts, self.hinf, self.hnext, self.hdelay, self.leases, self.xq,
                *self.per_host]

    def seen_round(self, round_: int, bits: int) -> list[str]:
        """Every key of one round's seen store (exact buckets and Bloom filter)."""
        return [self.bloom(round_), *(self.seen(round_, b) for b in range(1 << bits))]
