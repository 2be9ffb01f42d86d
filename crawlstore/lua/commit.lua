-- Record the results of leased requests, after their output is stored in MongoDB.
-- ARGV[4] = number of results; then per result 10 values:
--   member, kind, ok, processed, proc_ok, objects, delay_ms, fingerprint, content fingerprint,
--   number of links
-- and per link 5 values: fingerprint, url as a JSON string, host, flag, hop delta.
-- kind: 'f' fetched or finally failed (counts toward maxToCrawl), 'b' blocked (robots.txt, or a
-- private address), 'r' retry later (download error), 'x' re-expansion done, 'u' unstarted
-- (the worker is shutting down: the request goes back as it was, no try counted).
-- A processed page whose content (fingerprint) an earlier page of the round already had is a
-- duplicate: it counts as crawled, not as processed, and its index is returned with the page
-- that owns the content, so the worker can remove its object.
-- A result whose lease is gone (reaped as expired, or a restart) changes no counter.
-- Returns {snapshot, lost leases, {index, hop} corrections, {index, owner fingerprint} duplicates,
-- dedupe hits (links the seen store knew already)}.
local status = load()
if not status then return {{-1}, 0, {}, {}, 0} end

local n = tonumber(ARGV[4])
local i = 5
local lost = 0
local corrections = {}
local duplicates = {}
for r = 1, n do
  local m, kind = ARGV[i], ARGV[i + 1]
  local ok, processed, proc_ok = ARGV[i + 2] == '1', ARGV[i + 3] == '1', ARGV[i + 4] == '1'
  local objects, delay_ms, fp = tonumber(ARGV[i + 5]), tonumber(ARGV[i + 6]), ARGV[i + 7]
  local content, nlinks = ARGV[i + 8], tonumber(ARGV[i + 9])
  i = i + 10
  local host, payload = split_member(m)
  local sent_hop = payload_hop(payload)
  local hop = known_hop(fp) or sent_hop
  if hop < sent_hop then corrections[#corrections + 1] = {r, hop} end

  if redis.call('ZREM', key('leases'), m) == 1 then
    if content ~= '' and kind == 'f' then
      local ck = key('c:' .. ROUND)
      local owner = redis.call('HGET', ck, content)
      if not owner then
        redis.call('HSET', ck, content, fp)
      elseif owner ~= fp then
        duplicates[#duplicates + 1] = {r, owner}
        processed, proc_ok, objects = false, false, 0
      end
    end
    if kind == 'r' then
      requeue(host, payload, false)
    elseif kind == 'u' then
      if string.sub(payload, 1, 1) == 'X' then
        redis.call('RPUSH', key('xq'), m)
        redis.call('HINCRBY', JOB, 'q', 1)
      else
        enqueue(host, payload, true)
      end
    elseif kind == 'f' then
      redis.call('HINCRBY', JOB, 'crawled', 1)
      redis.call('HINCRBY', JOB, 'attempts', 1)
      if SUB_CRAWL >= 0 then redis.call('HINCRBY', key('hcr'), host, 1) end
      if ok then
        redis.call('HINCRBY', JOB, 'crawl_ok', 1)
        redis.call('HINCRBY', JOB, 'crawl_ok_round', 1)
        if hop == 0 then redis.call('HINCRBY', JOB, 'seeds_ok', 1) end
      end
      if processed then
        redis.call('HINCRBY', JOB, 'processed', 1)
        redis.call('HINCRBY', JOB, 'proc_attempts', 1)
        if SUB_PROC >= 0 then redis.call('HINCRBY', key('hpr'), host, 1) end
        if fp ~= '' then redis.call('HSET', processed_key(fp), fp, 1) end
      end
      if proc_ok then
        redis.call('HINCRBY', JOB, 'proc_ok', 1)
        redis.call('HINCRBY', JOB, 'proc_ok_round', 1)
      end
      if objects > 0 then redis.call('HINCRBY', JOB, 'objects', objects) end
    end
    if (kind == 'f' or kind == 'b') and MODE ~= 'b' and fp ~= '' then
      redis.call('HSET', seen_key(fp), fp, hop * 2 + 1)
    end
    release(host, payload, delay_ms)  -- last: its rescheduling sees this result's counts
  else
    lost = lost + 1
  end

  for _ = 1, nlinks do
    if kind == 'f' or kind == 'x' then
      discover(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], hop + tonumber(ARGV[i + 4]))
    end
    i = i + 5
  end
end
return finish({snapshot(), lost, corrections, duplicates, SEEN_HITS})
