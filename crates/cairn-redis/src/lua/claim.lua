-- ARGV: prefix, now, lease_until, kinds... Returns the claimed job's
-- fields (HGETALL) and its id, or false.
local now, lease = ARGV[2], ARGV[3]
-- A job whose worker died is due again, or dead once out of attempts.
for _, m in ipairs(redis.call('ZRANGEBYSCORE', P .. 'running', '-inf', '(' .. now)) do
  local id = tostring(tonumber(m))
  local j = jk(id)
  redis.call('HSET', j, 'error', 'the worker running it stopped before it ended')
  local attempts, max, run_at = unpack(redis.call('HMGET', j, 'attempts', 'max_attempts', 'run_at'))
  if tonumber(attempts) >= tonumber(max) then final(id, 'dead', now) else requeue(id, run_at) end
end
-- The most important queue first; in it the earliest due, then the oldest.
for prio = 0, 2 do
  local best, best_score
  for k = 4, #ARGV do
    local r = redis.call('ZRANGEBYSCORE', qk(ARGV[k], prio), '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
    if r[1] then
      local s = tonumber(r[2])
      if not best or s < best_score or (s == best_score and r[1] < best) then best, best_score = r[1], s end
    end
  end
  if best then
    local id = tostring(tonumber(best))
    local j = jk(id)
    unqueue(id)
    redis.call('HINCRBY', j, 'attempts', 1)
    redis.call('HSET', j, 'state', 'running', 'started', now, 'lease_until', lease)
    redis.call('ZADD', P .. 'running', lease, best)
    local all = redis.call('HGETALL', j)
    table.insert(all, 'id')
    table.insert(all, id)
    return all
  end
end
return false
