-- Shared by every operation script (prepended to it).

-- The record as the store reads it back: the hash and the per-item errors.
local function record(op, errors)
  return {redis.call('HGETALL', op), redis.call('LRANGE', errors, 0, -1)}
end

-- Ends an operation as `status` at `now`: its input items go, its hash and errors are
-- kept for `retention` seconds, and its revision advances.
local function end_operation(op, items, errors, status, now, retention)
  redis.call('HSET', op, F.status, status, F.updated, now, F.completed, now)
  redis.call('HINCRBY', op, F.revision, 1)
  redis.call('DEL', items)
  redis.call('EXPIRE', op, retention)
  redis.call('EXPIRE', errors, retention)
end
