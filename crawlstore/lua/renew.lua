-- Extend leases still held by a live worker to now + ARGV[4] ms; returns the members
-- that are no longer leased (expired and handed to another worker).
if redis.call('EXISTS', JOB) == 0 then return {} end
load()
local deadline = NOW + tonumber(ARGV[4])
local lost = {}
for i = 5, #ARGV do
  if redis.call('ZSCORE', key('leases'), ARGV[i]) then
    redis.call('ZADD', key('leases'), 'XX', deadline, ARGV[i])
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
