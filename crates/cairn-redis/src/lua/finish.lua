-- ARGV: prefix, id, attempt, now, outcome (done|retry|dead), result or
-- retry time, error. Only the claim holding the job may end it.
local id, now, outcome = ARGV[2], ARGV[4], ARGV[5]
local state, attempts = unpack(redis.call('HMGET', jk(id), 'state', 'attempts'))
if state ~= 'running' or attempts ~= ARGV[3] then return 0 end
if outcome == 'done' then
  redis.call('HSET', jk(id), 'result', ARGV[6])
  final(id, 'done', now)
elseif outcome == 'retry' then
  redis.call('HSET', jk(id), 'error', ARGV[7])
  requeue(id, ARGV[6])
else
  redis.call('HSET', jk(id), 'error', ARGV[7])
  final(id, 'dead', now)
end
return 1
