-- Records the outcome of items [start, start + count) and advances progress, in one step.
-- Refused unless the caller's delivery still owns the running operation and the checkpoint
-- is exactly where the record says it is, so progress never goes backwards and no item is
-- counted twice. Ends the operation when these were the last items (completed) or when a
-- cancel was requested (cancelled, keeping the partial result).
-- KEYS[1] operation hash, KEYS[2] errors list, KEYS[3] items list
-- ARGV[1] owner, ARGV[2] start, ARGV[3] count, ARGV[4] succeeded, ARGV[5] failed,
-- ARGV[6] now (unix ms), ARGV[7] '1' when these are the last items, ARGV[8] retention (s),
-- ARGV[9] how many of the next items to return while it goes on, ARGV[10..] per-item errors
-- as JSON
-- Returns {outcome, fields, list}: 'ok' with the fields a checkpoint changes (status, cur,
-- succ, fail, updated, completed, rev, cancel: record.rs CHECKPOINTED, as this step leaves
-- them: known here without reading them back; joined by commas, as record.rs unjoin reads
-- them) and the errors once it has ended, else the next items as one JSON array; 'stale'
-- (another delivery owns it), 'not_running', 'out_of_step' (these items were already
-- recorded).
local h = redis.call('HMGET', KEYS[1], F.status, F.owner, F.current, F.cancel, F.succeeded,
  F.failed, F.revision)
if h[1] ~= 'running' then
  return {'not_running', {}, {}}
end
if h[2] ~= ARGV[1] then
  return {'stale', {}, {}}
end
if tonumber(h[3]) ~= tonumber(ARGV[2]) then
  return {'out_of_step', {}, {}}
end
-- The new counts are computed here and written with one HSET (a command costs about as
-- much in a script as from a client).
local cur = tonumber(ARGV[2]) + tonumber(ARGV[3])
local succeeded = (tonumber(h[5]) or 0) + tonumber(ARGV[4])
local failed = (tonumber(h[6]) or 0) + tonumber(ARGV[5])
local counts = {F.current, cur, F.succeeded, succeeded, F.failed, failed}
if #ARGV > 9 then
  redis.call('RPUSH', KEYS[2], unpack(ARGV, 10))
end
local function checkpointed(status, completed, revision)
  return table.concat({status, cur, succeeded, failed, ARGV[6], completed, revision, h[4]}, ',')
end
local ending = nil
if ARGV[7] == '1' then
  ending = 'completed'
elseif h[4] == '1' then
  ending = 'cancelled'
end
if not ending then
  local revision = (tonumber(h[7]) or 0) + 1
  redis.call('HSET', KEYS[1], F.updated, ARGV[6], F.revision, revision, unpack(counts))
  local next = tonumber(ARGV[9])
  local items = {}
  if next > 0 then
    items = redis.call('LRANGE', KEYS[3], cur, cur + next - 1)
  end
  return {'ok', checkpointed('running', '', revision), joined(items)}
end
local revision = end_operation(KEYS[1], KEYS[3], KEYS[2], ending, ARGV[6], ARGV[8], counts)
return {'ok', checkpointed(ending, ARGV[6], revision), redis.call('LRANGE', KEYS[2], 0, -1)}
