-- Shared by every frontier script. Each script touches the keys of ONE crawl only:
-- KEYS[1] is the crawl's job hash; every other key is built from ARGV[1], the crawl's
-- key base "prefix:{crawl-id}:", so all of them share the crawl's hash tag.
-- ARGV[2] is the wake-up channel, ARGV[3] the cluster-wide per-host concurrency.
-- Payloads are crawlcore.wire requests: a flag byte (P, C or X) then compact JSON.
-- A lease member is "host payload". A "host" is also what per-subdomain limits count.

local JOB = KEYS[1]
local BASE = ARGV[1]
local CHANNEL = ARGV[2]
local CONC = tonumber(ARGV[3])

local NOW = 0          -- epoch ms (Redis server time: one clock for every worker)
local NOW_S = 0
local CRAWL_DELAY = 0  -- ms
local MAXHOPS = -1
local MODE = 'e'       -- 'e' exact, 'b' bloom
local BITS = 0         -- leading fingerprint bits that pick an exact-store bucket
local BLOOM_M = 0
local BLOOM_K = 0
local ROUND = 0        -- the round being crawled
local SEEN_ROUND = 0   -- the round whose seen store dedupes (a seeds-only round keeps the last one)
local ROBOTS = false   -- the crawl obeys robots.txt
local ONLY_NEW = false -- onlyProcessIfNew: later rounds process only pages never processed
local SUB_CRAWL = -1   -- maxToCrawlPerSubdomain (-1: no limit)
local SUB_PROC = -1    -- maxToProcessPerSubdomain
local WAKE = false
local SEEN_HITS = 0   -- links of this call the seen store knew already (dedupe hits)

local function key(suffix) return BASE .. suffix end
local function num(v) return tonumber(v) or 0 end

local function load()
  local t = redis.call('TIME')
  NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  NOW_S = tonumber(t[1])
  local v = redis.call('HMGET', JOB, 'status', 'delay_ms', 'max_hops', 'dm', 'db', 'bm', 'bk', 'round', 'robots',
                       'sr', 'only_new', 'max_crawl_sub', 'max_proc_sub')
  CRAWL_DELAY = num(v[2])
  MAXHOPS = tonumber(v[3]) or -1
  MODE = v[4] or 'e'
  BITS = num(v[5])
  BLOOM_M = num(v[6])
  BLOOM_K = num(v[7])
  ROUND = num(v[8])
  ROBOTS = v[9] == '1'
  SEEN_ROUND = tonumber(v[10]) or ROUND
  ONLY_NEW = v[11] == '1'
  SUB_CRAWL = tonumber(v[12]) or -1
  SUB_PROC = tonumber(v[13]) or -1
  return v[1]
end

local function snapshot()
  local v = redis.call('HMGET', JOB, 'status', 'crawled', 'processed', 'q', 'seeds_ok', 'max_crawl', 'max_proc')
  return {num(v[1]), num(v[2]), num(v[3]), num(v[4]), redis.call('ZCARD', key('leases')),
          num(v[5]), num(v[6]), num(v[7])}
end

local function host_delay(host)
  return math.max(CRAWL_DELAY, num(redis.call('HGET', key('hdelay'), host)))
end

-- With a delay, one request of a host is in flight at a time, cluster-wide. So too while
-- the host's robots.txt Crawl-delay is unknown (no result of the host committed yet).
local function host_cap(host, delay)
  if delay > 0 then return 1 end
  if ROBOTS and redis.call('HEXISTS', key('hdelay'), host) == 0 then return 1 end
  return CONC
end

-- Requests of a host that maxToCrawlPerSubdomain still allows (crawled + in flight count).
local function host_budget(host, inflight)
  if SUB_CRAWL < 0 then return 1e15 end
  return SUB_CRAWL - num(redis.call('HGET', key('hcr'), host)) - inflight
end

-- Put a host in the schedule when it has queued work and a free slot; park it otherwise.
-- A host that used up its per-subdomain budget with nothing in flight drops its queue,
-- so that the crawl can finish.
local function schedule(host)
  local qk = key('q:' .. host)
  local queued = redis.call('LLEN', qk)
  if queued == 0 then
    redis.call('ZREM', key('sched'), host)
    return
  end
  local inflight = num(redis.call('HGET', key('hinf'), host))
  if host_budget(host, inflight) <= 0 then
    redis.call('ZREM', key('sched'), host)
    if inflight == 0 then
      redis.call('DEL', qk)
      redis.call('HINCRBY', JOB, 'q', -queued)
      redis.call('HINCRBY', JOB, 'sub_dropped', queued)
    end
    return
  end
  if inflight >= host_cap(host, host_delay(host)) then
    redis.call('ZREM', key('sched'), host)
    return
  end
  local at = math.max(NOW, num(redis.call('HGET', key('hnext'), host)))
  if redis.call('ZCARD', key('sched')) == 0 then WAKE = true end
  redis.call('ZADD', key('sched'), at, host)
end

local function enqueue(host, payload, front)
  local qk = key('q:' .. host)
  local len
  if front then len = redis.call('LPUSH', qk, payload) else len = redis.call('RPUSH', qk, payload) end
  redis.call('HINCRBY', JOB, 'q', 1)
  if len == 1 then
    redis.call('SADD', key('hosts'), host)
    schedule(host)
  end
end

local function u32(s, i)
  local a, b, c, d = string.byte(s, i, i + 3)
  return ((a * 256 + b) * 256 + c) * 256 + d
end

local function bucket_of(fp)
  if BITS > 0 then
    return string.format('%x', math.floor((string.byte(fp, 1) * 256 + string.byte(fp, 2)) / 2 ^ (16 - BITS)))
  end
  return '0'
end

local function seen_key(fp)
  return key('s:' .. SEEN_ROUND .. ':' .. bucket_of(fp))
end

-- Pages processed in any round (onlyProcessIfNew), bucketed like the exact seen store.
local function processed_key(fp)
  return key('pe:' .. bucket_of(fp))
end

-- Bloom mode: set the fingerprint's bits; true when at least one was unset (a new URL).
local function bloom_add(fp)
  local h1 = u32(fp, 1)
  local h2 = u32(fp, 5)
  if h2 % 2 == 0 then h2 = h2 + 1 end
  local bk = key('b:' .. SEEN_ROUND)
  local new = false
  for i = 0, BLOOM_K - 1 do
    if redis.call('SETBIT', bk, (h1 + i * h2) % BLOOM_M, 1) == 0 then new = true end
  end
  return new
end

-- The best known hop of a crawled or queued URL (exact mode), or nil.
local function known_hop(fp)
  if MODE == 'b' or fp == '' then return nil end
  local v = redis.call('HGET', seen_key(fp), fp)
  if v then return math.floor(tonumber(v) / 2) end
  return nil
end

-- In rounds after the first, with onlyProcessIfNew, a page processed before is only crawled.
local function process_flag(fp, flag)
  if flag == 'P' and ONLY_NEW and ROUND > 0 and redis.call('HEXISTS', processed_key(fp), fp) == 1 then
    return 'C'
  end
  return flag
end

local function payload_for(urljson, hop, flag)
  return flag .. '{"u":' .. urljson .. ',"h":' .. hop .. ',"d":' .. NOW_S .. '}'
end

-- A URL was found at `hop`. New URLs are queued; in exact mode a shorter path to a
-- known URL lowers its hop and, when it was already crawled, queues a re-expansion so
-- its links get their shorter hop counts too.
local function discover(fp, urljson, host, flag, hop)
  if MAXHOPS >= 0 and hop > MAXHOPS then return end
  if MODE == 'b' then
    if not bloom_add(fp) then
      SEEN_HITS = SEEN_HITS + 1
      return
    end
  else
    local sk = seen_key(fp)
    local v = redis.call('HGET', sk, fp)
    if v then
      SEEN_HITS = SEEN_HITS + 1
      v = tonumber(v)
      if hop < math.floor(v / 2) then
        local crawled = v % 2
        redis.call('HSET', sk, fp, hop * 2 + crawled)
        if crawled == 1 then
          redis.call('RPUSH', key('xq'), host .. ' X{"u":' .. urljson .. ',"h":' .. hop .. '}')
          redis.call('HINCRBY', JOB, 'q', 1)
          WAKE = true
        end
      end
      return
    end
    redis.call('HSET', sk, fp, hop * 2)
  end
  redis.call('HINCRBY', JOB, 'harvested', 1)
  enqueue(host, payload_for(urljson, hop, process_flag(fp, flag)), false)
end

local function split_member(m)
  local sp = string.find(m, ' ', 1, true)
  return string.sub(m, 1, sp - 1), string.sub(m, sp + 1)
end

-- The hop count written in a payload.
local function payload_hop(payload)
  return tonumber(string.match(payload, '"h":(%d+)')) or 0
end

-- A lease ends without a result: the request goes back, its try count one higher.
-- (String surgery instead of cjson: cjson would escape every '/' in the URL.)
local function requeue(host, payload, front)
  local again, found = string.gsub(payload, '"t":(%d+)', function(t) return '"t":' .. (tonumber(t) + 1) end, 1)
  if found == 0 then again = string.sub(payload, 1, -2) .. ',"t":1}' end
  if string.sub(payload, 1, 1) == 'X' then
    redis.call('RPUSH', key('xq'), host .. ' ' .. again)
    redis.call('HINCRBY', JOB, 'q', 1)
    WAKE = true
  else
    enqueue(host, again, front)
  end
end

-- Give back what a lease held: the host slot (and its politeness delay) and a processing slot.
-- delay_ms is the host's robots.txt Crawl-delay as the worker found it (-1: not consulted).
local function release(host, payload, delay_ms)
  local flag = string.sub(payload, 1, 1)
  if flag == 'X' then return end
  if flag == 'P' then
    redis.call('HINCRBY', JOB, 'pres', -1)
    if SUB_PROC >= 0 then redis.call('HINCRBY', key('hpres'), host, -1) end
  end
  redis.call('HINCRBY', key('hinf'), host, -1)
  if delay_ms >= 0 then redis.call('HSET', key('hdelay'), host, delay_ms) end
  local delay = host_delay(host)
  if delay > 0 then redis.call('HSET', key('hnext'), host, NOW + delay) end
  schedule(host)
end

local function reap(limit)
  local expired = redis.call('ZRANGEBYSCORE', key('leases'), '-inf', NOW, 'LIMIT', 0, limit)
  for _, m in ipairs(expired) do
    redis.call('ZREM', key('leases'), m)
    local host, payload = split_member(m)
    release(host, payload, -1)
    requeue(host, payload, true)
    redis.call('HINCRBY', JOB, 'reaped', 1)
  end
  return #expired
end

-- A Bloom filter is allocated whole: grown bit by bit, Redis would over-allocate it.
local function allocate_bloom()
  if MODE == 'b' and redis.call('EXISTS', key('b:' .. SEEN_ROUND)) == 0 then
    redis.call('SET', key('b:' .. SEEN_ROUND), string.rep('\0', math.ceil(BLOOM_M / 8)))
  end
end

local function finish(result)
  if WAKE then redis.call('PUBLISH', CHANNEL, BASE) end
  return result
end
