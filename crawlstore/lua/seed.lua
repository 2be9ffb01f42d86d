-- Create a crawl (ARGV[4] > 0: that many field/value pairs for its job hash, which must
-- not exist yet) or add seeds to an existing one (ARGV[4] = 0), atomically.
-- Then per seed 4 values: fingerprint, url as a JSON string, host, flag. Seeds have hop 0.
-- Returns {snapshot} or an error reply 'exists' / 'gone'.
local nfields = tonumber(ARGV[4])
local exists = redis.call('EXISTS', JOB) == 1
if nfields > 0 and exists then return redis.error_reply('exists') end
if nfields == 0 and not exists then return redis.error_reply('gone') end
local i = 5
if nfields > 0 then
  local fields = {}
  for f = 1, nfields * 2 do fields[f] = ARGV[i + f - 1] end
  redis.call('HSET', JOB, unpack(fields))
  i = i + nfields * 2
end
load()
allocate_bloom()
while i <= #ARGV do
  discover(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], 0)
  i = i + 4
end
return finish({snapshot()})
