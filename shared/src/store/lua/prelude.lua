-- Shared by every operation script (prepended to it).

-- Every field of the hash, in the order of record.rs field::ALL, as the store reads it.
local function fields(op)
  return redis.call('HMGET', op, F.tenant, F.kind, F.status, F.cancel, F.current, F.total, F.succeeded, F.failed, F.error, F.workflow_id, F.workflow_step, F.workflow_name, F.org, F.actor, F.correlation, F.attempt, F.owner, F.created, F.started, F.updated, F.completed, F.revision, F.callback_url, F.callback_events, F.callback_status, F.callback_attempts, F.callback_error, F.traceparent, F.compensates, F.compensation)
end

-- The record as the store reads it back: its fields and its per-item errors.
local function record(op, errors)
  return {fields(op), redis.call('LRANGE', errors, 0, -1)}
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
