-- ARGV: prefix, action (absorb|prune), then for absorb: site, kind, into,
-- now (the queued jobs of a kind merged into a running one; returns their
-- arguments); for prune: before, limit (finished jobs ended before it).
local action = ARGV[2]
if action == 'absorb' then
  local site, kind, into, now = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
  local taken = {}
  for prio = 0, 2 do
    for _, m in ipairs(redis.call('ZRANGE', qk(kind, prio), 0, -1)) do
      local id = tostring(tonumber(m))
      local owner, args = unpack(redis.call('HMGET', jk(id), 'site', 'args'))
      if id ~= into and owner == site then
        table.insert(taken, args)
        redis.call('HSET', jk(id), 'result', '{"merged_into":' .. into .. '}')
        final(id, 'done', now)
      end
    end
  end
  return taken
end
local gone = 0
for _, m in ipairs(redis.call('ZRANGEBYSCORE', P .. 'finished', '-inf', '(' .. ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))) do
  drop(tostring(tonumber(m)))
  gone = gone + 1
end
return gone
