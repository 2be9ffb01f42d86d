-- Record the results of leased requests, after their output is stored in MongoDB.
-- ARGV[4] = number of results; then per result 9 values:
--   member, kind, ok, processed, proc_ok, objects, delay_ms, fingerprint, number of links
-- and per link 5 values: fingerprint, url as a JSON string, host, flag, hop delta.
-- kind: 'f' fetched or finally failed (counts toward maxToCrawl), 'b' blocked by robots.txt,
-- 'r' retry later (download error), 'x' re-expansion done, 'u' unstarted (the worker is
-- shutting down: the request goes back as it was, no try counted).
-- A result whose lease is gone (reaped as expired) changes no counter: another try owns it.
-- Returns {snapshot, lost leases, {index, hop} for pages whose hop turned out smaller}.
local status = load()
if not status then return {{-1}, 0, {}} end

local n = tonumber(ARGV[4])
local i = 5
local lost = 0
local corrections = {}
for r = 1, n do
  local m, kind = ARGV[i], ARGV[i + 1]
  local ok, processed, proc_ok = ARGV[i + 2] == '1', ARGV[i + 3] == '1', ARGV[i + 4] == '1'
  local objects, delay_ms, fp, nlinks = tonumber(ARGV[i + 5]), tonumber(ARGV[i + 6]), ARGV[i + 7], tonumber(ARGV[i + 8])
  i = i + 9
  local host, payload = split_member(m)
  local sent_hop = payload_hop(payload)
  local hop = known_hop(fp) or sent_hop
  if hop < sent_hop then corrections[#corrections + 1] = {r, hop} end

  if redis.call('ZREM', key('leases'), m) == 1 then
    release(host, payload, delay_ms)
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
      if ok then
        redis.call('HINCRBY', JOB, 'crawl_ok', 1)
        redis.call('HINCRBY', JOB, 'crawl_ok_round', 1)
        if hop == 0 then redis.call('HINCRBY', JOB, 'seeds_ok', 1) end
      end
      if processed then
        redis.call('HINCRBY', JOB, 'processed', 1)
        redis.call('HINCRBY', JOB, 'proc_attempts', 1)
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
return finish({snapshot(), lost, corrections})
