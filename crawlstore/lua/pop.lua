-- Lease up to ARGV[4] requests for ARGV[5] ms: expired leases first go back to the queue,
-- then re-expansion tasks, then requests of hosts that are due, round-robin.
-- maxToCrawl and maxToProcess (and their per-subdomain forms) are exact: leases in flight
-- count against them. A page whose host used up its per-subdomain processing budget is
-- leased as crawl-only.
-- Returns {snapshot, members, ms until the next scheduled host is due (-1: none scheduled), round}:
-- every member belongs to that round (a new round drops the leases of the previous one).
local status = load()
if not status then return {{-1}, {}, -1, 0} end
if tonumber(status) ~= 7 then return {snapshot(), {}, -1, ROUND} end
reap(200)

local want = tonumber(ARGV[4])
local deadline = NOW + tonumber(ARGV[5])
local v = redis.call('HMGET', JOB, 'max_crawl', 'crawled', 'max_proc', 'processed', 'pres')
local budget = num(v[1]) - num(v[2]) - redis.call('ZCARD', key('leases'))
local proc_budget = num(v[3]) - num(v[4]) - num(v[5])
local n = math.min(want, budget)
local out = {}

while n > 0 do
  local m = redis.call('LPOP', key('xq'))
  if not m then break end
  redis.call('ZADD', key('leases'), deadline, m)
  redis.call('HINCRBY', JOB, 'q', -1)
  out[#out + 1] = m
  n = n - 1
end

if n > 0 then
  local hosts = redis.call('ZRANGEBYSCORE', key('sched'), '-inf', NOW, 'LIMIT', 0, n)
  for _, host in ipairs(hosts) do
    if n <= 0 then break end
    local qk = key('q:' .. host)
    local delay = host_delay(host)
    local inflight = num(redis.call('HGET', key('hinf'), host))
    local room = math.min(n, host_cap(host, delay) - inflight, host_budget(host, inflight))
    local sub_proc = 1e15
    if SUB_PROC >= 0 then
      sub_proc = SUB_PROC - num(redis.call('HGET', key('hpr'), host)) - num(redis.call('HGET', key('hpres'), host))
    end
    local taken = 0
    while taken < room do
      local p = redis.call('LPOP', qk)
      if not p then break end
      if string.sub(p, 1, 1) == 'P' then
        if sub_proc <= 0 then
          p = 'C' .. string.sub(p, 2)  -- this host may not have more pages processed
        elseif proc_budget <= 0 then
          redis.call('LPUSH', qk, p)
          break
        else
          proc_budget = proc_budget - 1
          sub_proc = sub_proc - 1
          redis.call('HINCRBY', JOB, 'pres', 1)
          if SUB_PROC >= 0 then redis.call('HINCRBY', key('hpres'), host, 1) end
        end
      end
      local m = host .. ' ' .. p
      redis.call('ZADD', key('leases'), deadline, m)
      out[#out + 1] = m
      taken = taken + 1
    end
    if taken > 0 then
      redis.call('HINCRBY', key('hinf'), host, taken)
      redis.call('HINCRBY', JOB, 'q', -taken)
      n = n - taken
    end
    if host_budget(host, inflight + taken) <= 0 then
      schedule(host)  -- used up its per-subdomain budget: parked, or its queue dropped
    elseif redis.call('LLEN', qk) == 0 or inflight + taken >= host_cap(host, delay) then
      redis.call('ZREM', key('sched'), host)
    elseif taken > 0 then
      redis.call('ZADD', key('sched'), NOW, host)  -- rotate: other due hosts go first next time
    end
  end
end

local next_due = -1
if #out == 0 then
  local first = redis.call('ZRANGE', key('sched'), 0, 0, 'WITHSCORES')
  if first[2] then next_due = math.max(0, tonumber(first[2]) - NOW) end
end
return finish({snapshot(), out, next_due, ROUND})
