-- Shared by every operation script (prepended to it).

-- Every field of the hash with its value, as record.rs read_all reads it.
local function fields(op)
  return redis.call('HGETALL', op)
end

-- A batch of input items (each a JSON object as stored) as one JSON array.
local function joined(items)
  return '[' .. table.concat(items, ',') .. ']'
end

-- The record as the store reads it back: its fields and its per-item errors.
local function record(op, errors)
  return {fields(op), redis.call('LRANGE', errors, 0, -1)}
end

-- Ends an operation as `status` at `now`, writing the fields and values of `changes` (a
-- list, or nil) in the same step: its input items go, its hash and errors are kept for
-- `retention` seconds, and its revision advances. Returns the new revision.
local function end_operation(op, items, errors, status, now, retention, changes)
  redis.call('HSET', op, F.status, status, F.updated, now, F.completed, now, unpack(changes or {}))
  local revision = redis.call('HINCRBY', op, F.revision, 1)
  redis.call('DEL', items)
  redis.call('EXPIRE', op, retention)
  redis.call('EXPIRE', errors, retention)
  return revision
end
