-- ARGV: prefix, action (cancel|retry|set_args), site, id, now or args.
local action, site, id = ARGV[2], ARGV[3], ARGV[4]
local j = jk(id)
local state, owner = unpack(redis.call('HMGET', j, 'state', 'site'))
if not state or (site ~= '' and owner ~= site) then return 0 end
if action == 'cancel' and (state == 'queued' or state == 'running') then
  final(id, 'cancelled', ARGV[5])
  return 1
elseif action == 'retry' and (state == 'dead' or state == 'cancelled') then
  redis.call('HSET', j, 'attempts', '0')
  requeue(id, ARGV[5])
  return 1
elseif action == 'set_args' then
  redis.call('HSET', j, 'args', ARGV[5])
  return 1
end
return 0
