-- Shared by every script (prepended): ARGV[1] is the key prefix. Numbers
-- travel as strings and are stored as given, so millisecond times and
-- i64::MAX keep every digit; ids are padded in sorted sets so equal
-- scores order by id.
local P = ARGV[1]
local function pad(id) return string.format('%020d', tonumber(id)) end
local function jk(id) return P .. 'job:' .. id end
local function qk(kind, prio) return P .. 'q:' .. kind .. ':' .. prio end
local function dk(site, key) return P .. 'dedupe:' .. site .. ':' .. key end

-- Out of its queue, its dedupe key freed (a queued job only).
local function unqueue(id)
  local kind, prio, site, dd = unpack(redis.call('HMGET', jk(id), 'kind', 'priority', 'site', 'dedupe'))
  redis.call('ZREM', qk(kind, prio), pad(id))
  if dd and redis.call('GET', dk(site, dd)) == tostring(id) then
    redis.call('DEL', dk(site, dd))
  end
end

-- Gone entirely, from every index.
local function drop(id)
  local j = jk(id)
  local state, site = unpack(redis.call('HMGET', j, 'state', 'site'))
  if state == 'queued' then unqueue(id) end
  redis.call('ZREM', P .. 'running', pad(id))
  redis.call('ZREM', P .. 'finished', pad(id))
  if site then redis.call('ZREM', P .. 'site:' .. site, pad(id)) end
  redis.call('DEL', j)
end

-- Back in its queue at run_at; a waiting twin (same dedupe key) gives way.
local function requeue(id, run_at)
  local j = jk(id)
  local kind, prio, site, dd = unpack(redis.call('HMGET', j, 'kind', 'priority', 'site', 'dedupe'))
  if dd then
    local twin = redis.call('GET', dk(site, dd))
    if twin and twin ~= tostring(id) then drop(twin) end
    redis.call('SET', dk(site, dd), id)
  end
  redis.call('HSET', j, 'state', 'queued', 'run_at', run_at)
  redis.call('HDEL', j, 'lease_until', 'finished')
  redis.call('ZREM', P .. 'running', pad(id))
  redis.call('ZREM', P .. 'finished', pad(id))
  redis.call('ZADD', qk(kind, prio), run_at, pad(id))
end

-- Ended in a final state (done, dead, cancelled).
local function final(id, state, now)
  local j = jk(id)
  if redis.call('HGET', j, 'state') == 'queued' then unqueue(id) end
  redis.call('HSET', j, 'state', state, 'finished', now)
  redis.call('HDEL', j, 'lease_until')
  redis.call('ZREM', P .. 'running', pad(id))
  redis.call('ZADD', P .. 'finished', now, pad(id))
end

-- A new queued job, unless one with its dedupe key ('' for none) waits;
-- returns its id or false.
local function add(site, kind, prio, args, max_attempts, run_at, dd, schedule, now)
  if dd ~= '' and redis.call('EXISTS', dk(site, dd)) == 1 then return false end
  local id = redis.call('INCR', P .. 'seq')
  local j = jk(id)
  redis.call('HSET', j, 'site', site, 'kind', kind, 'priority', prio, 'args', args, 'state', 'queued',
    'attempts', '0', 'max_attempts', max_attempts, 'run_at', run_at, 'created', now)
  if dd ~= '' then
    redis.call('HSET', j, 'dedupe', dd)
    redis.call('SET', dk(site, dd), id)
  end
  if schedule ~= '' then redis.call('HSET', j, 'schedule', schedule) end
  redis.call('ZADD', qk(kind, prio), run_at, pad(id))
  redis.call('ZADD', P .. 'site:' .. site, id, pad(id))
  return id
end
