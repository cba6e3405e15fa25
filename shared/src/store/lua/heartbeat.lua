-- Advances updatedAt of a running operation while the caller's delivery owns it.
-- KEYS[1] operation hash; ARGV[1] owner, ARGV[2] now (unix ms)
-- Returns 1 when recorded, 0 when the delivery no longer owns a running operation.
local h = redis.call('HMGET', KEYS[1], F.status, F.owner)
if h[1] ~= 'running' or h[2] ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], F.updated, ARGV[2])
redis.call('HINCRBY', KEYS[1], F.revision, 1)
return 1
