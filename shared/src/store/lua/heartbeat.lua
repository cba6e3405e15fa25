-- Advances updatedAt of a running operation while its attempt still owns it.
-- KEYS[1] operation hash; ARGV[1] attempt, ARGV[2] now (unix ms)
-- Returns 1 when recorded, 0 when the attempt no longer owns a running operation.
local h = redis.call('HMGET', KEYS[1], 'status', 'attempt')
if h[1] ~= 'running' or tonumber(h[2]) ~= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'updated', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'rev', 1)
return 1
