-- Start the next round. ARGV[4] is 'full' (a fresh seen store: every reachable page is crawled
-- again) or 'seeds' (the seen store is kept: the seeds are fetched again and only URLs never
-- seen before are crawled from them); ARGV[5] is the round's start time (the caller's clock,
-- epoch seconds); then per seed 4 values: fingerprint, url as a JSON string, host, flag.
-- The previous round's frontier is dropped (queues, schedule, leases: results still in flight
-- count for nothing) and the per-round counters restart.
-- Returns {snapshot, the seen round that a full round leaves behind (-1: none)}.
local status = load()
if not status then return redis.error_reply('gone') end
local full = ARGV[4] == 'full'
for _, host in ipairs(redis.call('SMEMBERS', key('hosts'))) do redis.call('DEL', key('q:' .. host)) end
redis.call('DEL', key('sched'), key('xq'), key('leases'), key('hinf'), key('hcr'), key('hpr'), key('hpres'),
           key('c:' .. ROUND))
local left_behind = -1
ROUND = ROUND + 1
if full then
  left_behind = SEEN_ROUND
  SEEN_ROUND = ROUND
end
redis.call('HSET', JOB, 'round', ROUND, 'sr', SEEN_ROUND, 'round_start', ARGV[5], 'q', 0, 'pres', 0,
           'crawled', 0, 'processed', 0, 'crawl_ok_round', 0, 'proc_ok_round', 0, 'seeds_ok', 0)
allocate_bloom()
local i = 6
while i <= #ARGV do
  local fp, urljson, host, flag = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if full then
    discover(fp, urljson, host, flag, 0)
  else
    if MODE ~= 'b' then
      redis.call('HSET', seen_key(fp), fp, 0)  -- hop 0, not crawled yet: fetched again
    else
      bloom_add(fp)
    end
    enqueue(host, payload_for(urljson, 0, process_flag(fp, flag)), false)
  end
  i = i + 4
end
return finish({snapshot(), left_behind})
