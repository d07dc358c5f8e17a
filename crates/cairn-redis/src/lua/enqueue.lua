-- ARGV: prefix, site, now, n, then n groups of (kind, priority, args,
-- max_attempts, run_at, dedupe, relay): relay names a job handed over from
-- the database (its id there); one already handed over is not added twice.
local site, now, n = ARGV[2], ARGV[3], tonumber(ARGV[4])
local added = 0
for i = 0, n - 1 do
  local b = 5 + i * 7
  local relay = ARGV[b + 6]
  local fresh = relay == '' or redis.call('SET', P .. 'relayed:' .. relay, '1', 'NX', 'EX', 86400)
  if fresh and add(site, ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5], '', now) then
    added = added + 1
  end
end
return added
