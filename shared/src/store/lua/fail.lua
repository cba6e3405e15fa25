-- Ends an operation as failed, unless it already ended or a later delivery owns it.
-- KEYS[1] operation hash, KEYS[2] items list, KEYS[3] errors list
-- ARGV[1] delivery count of the caller (0: the intake, before any delivery),
-- ARGV[2] now (unix ms), ARGV[3] the error as an RFC 9457 problem in JSON,
-- ARGV[4] retention (s)
-- Returns {outcome, record, errors}: 'ok', 'missing', 'terminal', 'stale'.
local h = redis.call('HMGET', KEYS[1], 'status', 'attempt')
if not h[1] then
  return {'missing', {}, {}}
end
if h[1] ~= 'accepted' and h[1] ~= 'running' then
  return {'terminal', {}, {}}
end
if tonumber(h[2]) > tonumber(ARGV[1]) then
  return {'stale', {}, {}}
end
redis.call('HSET', KEYS[1], 'status', 'failed', 'error', ARGV[3], 'updated', ARGV[2], 'completed', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('DEL', KEYS[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[4])
return {'ok', redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[3], 0, -1)}
