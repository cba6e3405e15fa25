-- Cancels an operation of the caller's tenant, best effort.
-- accepted -> cancelled at once; running -> cancel requested (the owning worker ends it at
-- its next checkpoint); cancelled -> unchanged; completed or failed -> refused.
-- KEYS[1] operation hash, KEYS[2] items list, KEYS[3] errors list
-- ARGV[1] tenant, ARGV[2] now (unix ms), ARGV[3] retention (s)
-- Returns {outcome, record, errors}: 'cancelled', 'requested', 'already', 'conflict',
-- 'missing' (unknown, or another tenant's).
local h = redis.call('HMGET', KEYS[1], F.status, F.tenant, F.cancel)
if not h[1] or h[2] ~= ARGV[1] then
  return {'missing', {}, {}}
end
local status = h[1]
if status == 'completed' or status == 'failed' then
  return {'conflict', unpack(record(KEYS[1], KEYS[3]))}
end
if status == 'cancelled' then
  return {'already', unpack(record(KEYS[1], KEYS[3]))}
end
if status == 'running' then
  if h[3] ~= '1' then
    redis.call('HSET', KEYS[1], F.cancel, '1', F.updated, ARGV[2])
    redis.call('HINCRBY', KEYS[1], F.revision, 1)
  end
  return {'requested', fields(KEYS[1]), {}}
end
redis.call('HSET', KEYS[1], F.cancel, '1')
end_operation(KEYS[1], KEYS[2], KEYS[3], 'cancelled', ARGV[2], ARGV[3])
return {'cancelled', unpack(record(KEYS[1], KEYS[3]))}
