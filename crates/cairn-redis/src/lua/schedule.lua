-- ARGV: prefix, action (put|fire), site, name, then for put: cron, kind,
-- args, priority, next_run; for fire: the next_run it was seen with, now,
-- the next run after it. A schedule fires once per due time: only a
-- caller that still sees the due run it read moves it on.
local action, site, name = ARGV[2], ARGV[3], ARGV[4]
local k = P .. 'sched:' .. site .. ':' .. name
local member = site .. '\n' .. name
if action == 'put' then
  local old_cron, old_next = unpack(redis.call('HMGET', k, 'cron', 'next_run'))
  -- The same cron keeps its next run: a restart must not skip a due run.
  local next_run = ARGV[9]
  if old_cron == ARGV[5] and old_next then next_run = old_next end
  redis.call('HSET', k, 'site', site, 'name', name, 'cron', ARGV[5], 'kind', ARGV[6], 'args', ARGV[7],
    'priority', ARGV[8], 'next_run', next_run)
  redis.call('SADD', P .. 'scheds:' .. site, name)
  redis.call('ZADD', P .. 'due', next_run, member)
  return 1
end
local kind, args, prio, seen = unpack(redis.call('HMGET', k, 'kind', 'args', 'priority', 'next_run'))
local now, following = ARGV[6], ARGV[7]
-- Read after another caller moved it on, the next run is no longer due.
if seen ~= ARGV[5] or tonumber(seen) > tonumber(now) then return 0 end
-- One waiting run per schedule: a stalled queue does not pile up copies.
add(site, kind, prio, args, '5', now, 'schedule:' .. name, name, now)
redis.call('HSET', k, 'next_run', following, 'last_run', now)
redis.call('ZADD', P .. 'due', following, member)
return 1
