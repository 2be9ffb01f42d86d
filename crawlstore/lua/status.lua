-- Compare-and-set the crawl's status: when it is one of ARGV[4] (comma-separated codes),
-- set it to ARGV[5] and set the field/value pairs that follow. Returns the status found
-- (-1 when the crawl does not exist); the caller compares it with what it expected.
local current = redis.call('HGET', JOB, 'status')
if not current then return -1 end
for code in string.gmatch(ARGV[4], '[^,]+') do
  if code == current then
    redis.call('HSET', JOB, 'status', ARGV[5])
    for i = 6, #ARGV, 2 do redis.call('HSET', JOB, ARGV[i], ARGV[i + 1]) end
    if ARGV[5] == '7' then redis.call('PUBLISH', CHANNEL, BASE) end
    return tonumber(current)
  end
end
return tonumber(current)
