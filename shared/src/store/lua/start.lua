-- Claims an operation for one delivery attempt of its job.
-- KEYS[1] operation hash, KEYS[2] items list, KEYS[3] errors list
-- ARGV[1] delivery attempt, ARGV[2] now (unix ms), ARGV[3] how many items to return
-- Returns {outcome, record, items-or-errors}:
--   'missing'  no record (expired or never written)
--   'terminal' already ended; the record and its errors, so the terminal event can be re-sent
--   'stale'    a later attempt owns the operation
--   'run'      now running under this attempt; the record and the first items from the checkpoint
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  return {'missing', {}, {}}
end
if status ~= 'accepted' and status ~= 'running' then
  return {'terminal', redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[3], 0, -1)}
end
local attempt = tonumber(ARGV[1])
if tonumber(redis.call('HGET', KEYS[1], 'attempt')) > attempt then
  return {'stale', {}, {}}
end
if status == 'accepted' then
  redis.call('HSET', KEYS[1], 'started', ARGV[2])
end
redis.call('HSET', KEYS[1], 'status', 'running', 'attempt', ARGV[1], 'updated', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'rev', 1)
local cur = tonumber(redis.call('HGET', KEYS[1], 'cur'))
local items = redis.call('LRANGE', KEYS[2], cur, cur + tonumber(ARGV[3]) - 1)
return {'run', redis.call('HGETALL', KEYS[1]), items}
