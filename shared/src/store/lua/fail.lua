-- Ends an operation as failed, unless it already ended or a later delivery owns it.
-- KEYS[1] operation hash, KEYS[2] items list, KEYS[3] errors list
-- ARGV[1] delivery count of the caller (0: the intake, before any delivery),
-- ARGV[2] now (unix ms), ARGV[3] the error as an RFC 9457 problem in JSON,
-- ARGV[4] retention (s)
-- Returns {outcome, record, errors}: 'ok', 'missing', 'terminal', 'stale'.
local h = redis.call('HMGET', KEYS[1], F.status, F.attempt)
if not h[1] then
  return {'missing', {}, {}}
end
if h[1] ~= 'accepted' and h[1] ~= 'running' then
  return {'terminal', {}, {}}
end
if tonumber(h[2]) > tonumber(ARGV[1]) then
  return {'stale', {}, {}}
end
redis.call('HSET', KEYS[1], F.error, ARGV[3])
end_operation(KEYS[1], KEYS[2], KEYS[3], 'failed', ARGV[2], ARGV[4])
return {'ok', unpack(record(KEYS[1], KEYS[3]))}
